"""Answer passages (kb/answers.py): splitting, scoring, storage, fusion and the incremental path."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from kb.answers import AnswerPassages, builds_passages, entry_passages, sentences
from kb.index import IndexMismatchError, build_index, load_index
from kb.normalize import normalize
from kb.search import KBSearcher, RawScores, fuse

from .conftest import ENCODER, tiny_kb


def test_sentences_keep_urls_and_decimals_whole():
    text = "Visit https://lumen.example/orders for details. It costs 7.5 dollars! 請在7天內申請。逾期恕不受理；謝謝"
    assert sentences(text) == [
        "Visit https://lumen.example/orders for details.",
        "It costs 7.5 dollars!",
        "請在7天內申請。",
        "逾期恕不受理；",
        "謝謝",
    ]


def test_entry_passages_fold_scripts_drop_short_sentences_and_fall_back_to_the_whole_answer():
    answers = {
        "zh-Hant": "退貨請在7天內申請。謝謝。",
        "zh-Hans": "退货请在7天内申请。谢谢。",
        "en": "Returns within 7 days. Thx.",
    }
    assert entry_passages(answers) == [normalize("退貨請在7天內申請。"), normalize("Returns within 7 days.")]
    assert entry_passages({"en": "Yes.", "zh-Hant": "有。"}) == ["yes", "有"]
    assert entry_passages({"en": "🙂"}) == []


def test_builds_passages_only_for_kbs_within_the_limit():
    assert builds_passages({"max_entries": 10}, 10) and not builds_passages({"max_entries": 10}, 11)
    assert not builds_passages({"enabled": False}, 3) and not builds_passages({}, 0)


def test_scores_are_the_best_passage_cosine_of_each_requested_entry():
    rng = np.random.default_rng(0)
    texts = [["a1", "a2", "a3"], [], ["c1"], ["d1", "d2"]]
    vectors = rng.normal(size=(6, 8)).astype(np.float32)
    passages = AnswerPassages(["a", "b", "c", "d"], texts, vectors)
    query = rng.normal(size=8).astype(np.float32)
    sims = vectors @ query
    got = passages.scores(query, ["d", "a", "b", "unknown"])
    assert set(got) == {"a", "d"}  # b has no passage, unknown is not an entry
    assert got["a"] == pytest.approx(sims[:3].max(), rel=1e-6) and got["d"] == pytest.approx(
        sims[4:].max(), rel=1e-6
    )
    assert passages.scores(query, []) == {}


def test_build_reuses_known_vectors_and_encodes_each_new_text_once():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.eye(4, dtype=np.float32)[: len(texts)]

    known = {"returns within 7 days": np.full(4, 0.5, np.float32)}
    passages = AnswerPassages.build(
        [
            ("r", {"en": "Returns within 7 days."}),
            ("s", {"en": "Shipping is free."}),
            ("t", {"en": "Shipping is free."}),
        ],
        encode,
        4,
        known,
    )
    assert calls == [["shipping is free"]]
    assert np.array_equal(passages.vectors[0], known["returns within 7 days"])
    assert np.array_equal(passages.vectors[1], passages.vectors[2])
    empty = AnswerPassages.build([("e", {"en": "🙂"})], encode, 4)
    assert empty.vectors.shape == (0, 4) and empty.scores(np.ones(4, np.float32), ["e"]) == {}


def test_reference_index_stores_the_passages_of_every_entry(reference_index, reference_kb):
    loaded = load_index(reference_index)
    manifest = loaded.manifest["answers"]
    assert loaded.answers.entry_ids == [e.id for e in reference_kb.entries]
    assert manifest["shape"] == [loaded.answers.encoded_count, 512]
    assert all(
        loaded.answers.texts[i] == entry_passages(e.answers) for i, e in enumerate(reference_kb.entries)
    )
    assert all(texts for texts in loaded.answers.texts)


def test_searcher_mixes_the_best_passage_cosine_in(reference_index):
    from kb.encoder import encode

    reference_searcher = KBSearcher(load_index(reference_index), config={"answer_weight": 0.5})
    query = normalize("If I cancel before it ships, does the coupon I used come back?")
    aw = reference_searcher.answer_weight
    assert aw == 0.5
    raw = reference_searcher.raw_scores([query])[0]
    assert raw.answer and set(raw.answer) <= set(raw.dense) | set(raw.lexical) | set(raw.classifier)
    passages = reference_searcher.answers.texts[reference_searcher.answers.entry_ids.index("order-cancel")]
    expected = float(
        np.max(encode(reference_searcher.encoder, passages) @ encode(reference_searcher.encoder, [query])[0])
    )
    assert raw.answer["order-cancel"] == pytest.approx(expected, abs=1e-5)
    with_answers = fuse(
        raw,
        reference_searcher.lexical_weight,
        reference_searcher.classifier_weight,
        reference_searcher.centroid_weight,
        aw,
    )
    without = fuse(
        raw,
        reference_searcher.lexical_weight,
        reference_searcher.classifier_weight,
        reference_searcher.centroid_weight,
        0.0,
    )
    for entry, (score, _) in with_answers.items():
        f = without[entry][0]
        assert score == pytest.approx(f + aw * max(raw.answer[entry] - f, 0.0), abs=1e-9)
    assert any(with_answers[e][0] > without[e][0] for e in with_answers)
    assert any(with_answers[e][0] == without[e][0] for e in with_answers)


def test_answers_only_raise_scores_and_entries_without_passages_get_the_lowest_answer_score():
    raw = RawScores(
        {"a": (0.8, 1), "b": (0.3, 2), "c": (0.5, 3)}, {}, 0.3, answer={"a": 0.4, "c": 0.9, "d": 0.95}
    )
    fused = fuse(raw, 0.0, answer_weight=0.5)
    assert fused["a"][0] == pytest.approx(0.8)  # an answer worded otherwise does not lower an entry
    assert fused["c"][0] == pytest.approx(0.5 + 0.5 * (0.9 - 0.5))
    assert fused["b"][0] == pytest.approx(0.3 + 0.5 * (0.4 - 0.3))  # no passages: the lowest answer score
    assert "d" not in fused  # the answer score adds no candidates


def test_index_without_passages_ignores_the_answer_weight(tmp_path):
    out = build_index(tiny_kb(), ENCODER, tmp_path / "idx", answer_passages_enabled=False)
    loaded = load_index(out)
    assert loaded.manifest["answers"] is None and loaded.answers is None
    searcher = KBSearcher(loaded, config={"answer_weight": 0.5})
    assert searcher.answer_weight == 0.0
    assert searcher.search("How long do I have to return an item?").hits[0].entry_id == "returns"


def test_tampered_or_foreign_passages_are_refused(tmp_path, reference_index):
    copy = tmp_path / "copy"
    shutil.copytree(reference_index, copy)
    np.save(copy / "answers.npy", np.zeros((3, 512), np.float32))
    with pytest.raises(IndexMismatchError, match="answers.npy: missing or checksum differs"):
        load_index(copy)
    shutil.rmtree(copy)
    shutil.copytree(reference_index, copy)
    stored = json.loads((copy / "answers.json").read_text())
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "answers.json").write_text(json.dumps({**stored, "entries": stored["entries"][::-1]}))
    from kb.index import file_sha256

    manifest["answers"]["texts_sha256"] = file_sha256(copy / "answers.json")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="entries differ"):
        load_index(copy)


def test_incremental_answer_edit_reuses_every_other_passage(reference_index, reference_kb, tmp_path):
    from kb.incremental import update_index

    from .test_incremental import replace_entry

    target = reference_kb.entries[3]
    kb = replace_entry(reference_kb, target.id, answers={**target.answers, "en": "A brand new answer."})
    out = update_index(reference_index, kb, ENCODER, tmp_path / "up")
    base, new = load_index(reference_index).answers, load_index(out).answers
    assert new.texts[3] == entry_passages(kb.get(target.id).answers)
    old, fresh = base.by_text(), new.by_text()
    assert all(np.array_equal(old[t], v) for t, v in fresh.items() if t in old)
    unchanged = dataclasses.replace(kb, entries=[e for e in kb.entries if e.id != target.id])
    assert all(
        new.texts[new.entry_ids.index(e.id)] == base.texts[base.entry_ids.index(e.id)]
        for e in unchanged.entries
    )
