"""The English encoder tuned on the KB's own English questions (kb/tuning.py)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kb import tuning
from kb.encoder import encode, load_encoder
from kb.index import IndexMismatchError, load_index

MINILM = "all-minilm-l6-v2"

# Three phrasings per entry; the pairs the tuning sees are drawn from these.
QUESTIONS = {
    "refund": ["when do i get my money back", "how long does a refund take", "refund still not received"],
    "track": ["where is my parcel", "track my order", "has my package shipped yet"],
    "invoice": [
        "i need a receipt for my purchase",
        "can you send an invoice",
        "get a tax invoice for my order",
    ],
    "store": ["what time does the shop open", "store opening hours", "are you open on sunday"],
}


def _pairs():
    norms, labels = [], []
    for entry, texts in QUESTIONS.items():
        norms += texts
        labels += [entry] * len(texts)
    return norms, labels


def _separation(model, norms, labels) -> float:
    """Mean cosine between questions of the same entry minus the mean between questions of different ones."""
    v = encode(model, norms)
    sim, same = v @ v.T, np.equal.outer(labels, labels)
    off = ~np.eye(len(norms), dtype=bool)
    return float(sim[same & off].mean() - sim[~same].mean())


def test_planned_steps_follow_epochs_within_the_bounds():
    assert tuning.planned_steps(1000, 1, {}) == 0  # one entry: nothing to contrast
    assert tuning.planned_steps(1000, 80, {"enabled": False}) == 0
    assert tuning.planned_steps(15000, 150, {"epochs": 1, "min_steps": 0}) == 117  # 15000 / (2 x 64)
    assert tuning.planned_steps(237, 80, {"epochs": 1, "min_steps": 10}) == 10
    assert tuning.planned_steps(10**6, 500, {"max_steps": 200}) == 200


def test_tuning_pulls_paraphrases_together_and_leaves_the_shared_encoder_alone():
    norms, labels = _pairs()
    base = load_encoder(MINILM)
    before = encode(base, norms)
    tuned = tuning.tune(MINILM, norms, labels, {"min_steps": 15, "lr": 1e-4})
    assert tuned is not None and tuned is not base and tuned.tuned_steps == 15
    assert _separation(tuned, norms, labels) > _separation(base, norms, labels) + 0.02
    assert np.array_equal(encode(base, norms), before)  # the cached pretrained model is untouched
    assert tuning.tune(MINILM, ["only one entry", "has questions"], ["a", "a"]) is None


def test_saved_tuning_loads_to_the_same_encoder_and_a_changed_file_is_refused(tmp_path):
    norms, labels = _pairs()
    tuned = tuning.tune(MINILM, norms, labels, {"min_steps": 3})
    record = tuning.save(tuned, tmp_path, MINILM, {"min_steps": 3})
    assert record["base"] == MINILM and record["steps"] == 3 and (tmp_path / tuning.TUNED_FILE).is_file()
    again = tuning.load(tmp_path, record)
    assert np.allclose(encode(again, norms), encode(tuned, norms), atol=1e-6)
    with pytest.raises(tuning.TunedEncoderMismatchError):
        tuning.load(tmp_path, {**record, "sha256": "0" * 64})
    with pytest.raises(tuning.TunedEncoderMismatchError):
        tuning.load(tmp_path, {**record, "base": "use-multilingual-v3"})  # another encoder's parameters


def test_index_records_its_tuned_encoder_and_refuses_a_tampered_one(reference_index, tmp_path):
    loaded = load_index(reference_index)
    record = loaded.manifest["classifier"]["tuned"]
    assert record["base"] == MINILM and record["steps"] >= 10
    assert set(loaded.classifier.tuned) == {MINILM}
    copy = tmp_path / "copy"
    shutil.copytree(reference_index, copy)
    path = copy / tuning.TUNED_FILE
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(IndexMismatchError, match="checksum"):
        load_index(copy)
    path.unlink()
    with pytest.raises(IndexMismatchError, match="missing"):
        load_index(copy)
