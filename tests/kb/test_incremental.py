"""Incremental index update (kb/incremental.py): reuse, tombstones, classifier refit, fallbacks, publish."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from kb.faq import Entry, KnowledgeBase, kb_hash
from kb.incremental import base_vectors, describe, update_and_publish, update_classifier, update_index
from kb.index import IndexMismatchError, build_index, current_index_dir, load_index, question_rows, row_texts
from kb.normalize import normalize
from kb.search import KBSearcher

from .conftest import ENCODER

NEW_PHRASE = "Do you sell purple elephant stickers for laptops?"
ADDED = Entry(
    "sticker-shop",
    "shop",
    {
        "zh-Hant": ["你們有賣紫色大象貼紙嗎？"],
        "zh-Hans": ["你们有卖紫色大象贴纸吗？"],
        "en": ["Do you sell purple elephant stickers?", "Purple elephant sticker availability"],
    },
    {"zh-Hant": "有。", "zh-Hans": "有。", "en": "Yes."},
)


class CountingEncoder:
    """Wraps the real encoder and records every text it is asked to encode."""

    def __init__(self):
        from kb.encoder import load_encoder

        self.model, self.texts = load_encoder(ENCODER), []

    def encode(self, texts, **kwargs):
        self.texts += list(texts)
        return self.model.encode(texts, **kwargs)


def replace_entry(kb: KnowledgeBase, entry_id: str, **changes) -> KnowledgeBase:
    entries = [dataclasses.replace(e, **changes) if e.id == entry_id else e for e in kb.entries]
    return dataclasses.replace(kb, entries=entries)


def without(kb: KnowledgeBase, *entry_ids: str) -> KnowledgeBase:
    return dataclasses.replace(kb, entries=[e for e in kb.entries if e.id not in entry_ids])


def with_new_phrase(kb: KnowledgeBase, entry_id: str) -> KnowledgeBase:
    """The entry's first English question replaced by :data:`NEW_PHRASE`."""
    entry = kb.get(entry_id)
    return replace_entry(
        kb, entry_id, questions={**entry.questions, "en": [NEW_PHRASE] + entry.questions["en"][1:]}
    )


def row_vectors(index_dir) -> dict[tuple, np.ndarray]:
    loaded = load_index(index_dir)
    vectors = base_vectors(loaded)
    return {
        (r["entry_id"], r["language"], r["question"]): vectors[r["row"]]
        for r in loaded.rows
        if not r.get("deleted")
    }


def hit_ids(searcher: KBSearcher, text: str, k: int = 10) -> list[str]:
    return [h.entry_id for h in searcher.search(text, k=k).hits]


@pytest.fixture(scope="module")
def small_kb(reference_kb) -> KnowledgeBase:
    """The first 15 reference entries: one changed entry is under the 20 % full-build limit."""
    return dataclasses.replace(reference_kb, entries=reference_kb.entries[:15])


@pytest.fixture(scope="module")
def hnsw_base(small_kb, tmp_path_factory):
    return build_index(small_kb, ENCODER, tmp_path_factory.mktemp("inc") / "hnsw", hnsw_min_rows=5)


def test_edited_entry_encodes_only_its_new_question(reference_index, reference_kb, tmp_path, monkeypatch):
    from kb.classifier import encode_extra

    target = reference_kb.entries[10].id
    kb = with_new_phrase(reference_kb, target)
    encoder = CountingEncoder()
    second_encoder_texts = []
    monkeypatch.setattr(
        "kb.incremental.encode_extra",
        lambda config, norms, *a, **k: (
            second_encoder_texts.extend(norms) or encode_extra(config, norms, *a, **k)
        ),
    )
    out = update_index(reference_index, kb, ENCODER, tmp_path / "up", encoder=encoder)
    assert encoder.texts == [normalize(NEW_PHRASE)]
    assert second_encoder_texts == [normalize(NEW_PHRASE)]  # the classifier's second encoder too
    loaded = load_index(out, expected_encoder=ENCODER, expected_kb_hash=kb_hash(kb))
    record = loaded.manifest["incremental"]
    assert record["base"] == reference_index.name and record["changed_entries"] == [target]
    assert record["encoded_rows"] == 1 and record["retrained_classes"] == 1 and record["index"] == "rebuilt"
    assert record["reused_rows"] == loaded.manifest["row_count"] - 1 and "deleted_rows" not in loaded.manifest
    old_question = reference_kb.get(target).questions["en"][0]
    assert old_question not in [r["question"] for r in loaded.rows if r["entry_id"] == target]
    assert hit_ids(KBSearcher(loaded), "purple elephant stickers for my laptop", k=1) == [target]
    before, after = row_vectors(reference_index), row_vectors(out)
    unchanged = [key for key in after if key in before]
    assert len(unchanged) == len(after) - 1
    assert all(np.array_equal(before[key], after[key]) for key in unchanged)  # bit-identical, not re-encoded


def test_answer_only_edit_encodes_only_the_new_answer_sentence_and_keeps_the_classifier(
    reference_index, reference_kb, tmp_path
):
    target = reference_kb.entries[0]
    kb = replace_entry(reference_kb, target.id, answers={**target.answers, "en": "A brand new answer."})
    encoder = CountingEncoder()
    out = update_index(reference_index, kb, ENCODER, tmp_path / "up", encoder=encoder)
    assert encoder.texts == [normalize("A brand new answer.")]  # its answer passage (kb/answers.py), no row
    base, new = load_index(reference_index), load_index(out)
    assert new.manifest["incremental"]["retrained_classes"] == 0 and new.manifest["incremental"][
        "edited"
    ] == [target.id]
    assert new.entries[target.id].answers["en"] == "A brand new answer."
    assert np.array_equal(base.classifier.coef_sparse, new.classifier.coef_sparse)
    assert np.array_equal(base.centroids, new.centroids)


def test_deleted_entry_never_appears_and_added_entry_is_found(reference_index, reference_kb, tmp_path):
    gone = reference_kb.get("returns-policy")
    kb = without(reference_kb, gone.id)
    kb = dataclasses.replace(kb, entries=kb.entries + [ADDED])
    out = update_index(reference_index, kb, ENCODER, tmp_path / "up")
    loaded = load_index(out, expected_kb_hash=kb_hash(kb))
    assert loaded.manifest["incremental"]["deleted"] == [gone.id] and loaded.manifest["incremental"][
        "added"
    ] == [ADDED.id]
    assert gone.id not in loaded.classifier.classes and loaded.classifier.classes[-1] == ADDED.id
    assert loaded.centroids.shape == (len(kb.entries), loaded.manifest["dimension"])
    searcher = KBSearcher(loaded)
    for question in [q for qs in gone.questions.values() for q in qs]:
        assert gone.id not in hit_ids(searcher, question)
    assert hit_ids(searcher, "purple elephant stickers", k=1) == [ADDED.id]
    assert hit_ids(searcher, "紫色大象貼紙", k=1) == [ADDED.id]


def test_hnsw_base_keeps_its_index_and_tombstones_removed_rows(hnsw_base, small_kb, tmp_path):
    gone, edited = small_kb.entries[2], small_kb.entries[5]
    kb = with_new_phrase(without(small_kb, gone.id), edited.id)
    base = load_index(hnsw_base)
    assert base.manifest["index_type"].startswith("IDMap2,HNSW")
    out = update_index(hnsw_base, kb, ENCODER, tmp_path / "up", hnsw_min_rows=5)
    loaded = load_index(out, expected_kb_hash=kb_hash(kb))
    assert (
        loaded.manifest["index_type"].startswith("IDMap2,HNSW")
        and loaded.manifest["incremental"]["index"] == "appended"
    )
    deleted = [r for r in loaded.rows if r.get("deleted")]
    gone_rows = sum(len(q) for q in gone.questions.values())
    assert len(deleted) == loaded.manifest["deleted_rows"] == gone_rows + 1  # + the replaced English question
    assert loaded.vector_index.size == base.vector_index.size + 1 == len(loaded.rows)
    assert loaded.rows[-1]["question"] == NEW_PHRASE and loaded.rows[-1]["row"] == base.vector_index.size
    searcher = KBSearcher(loaded)
    dead = {r["row"] for r in deleted}
    for question in [q for qs in gone.questions.values() for q in qs]:
        assert gone.id not in hit_ids(searcher, question)
        assert not dead & set(searcher.dense_scores([normalize(question)])[0])
    assert hit_ids(searcher, "purple elephant stickers for my laptop", k=1) == [edited.id]
    # a chained update on top of the tombstoned index keeps working
    again = update_index(
        out, replace_entry(kb, edited.id, category="renamed"), ENCODER, tmp_path / "again", hnsw_min_rows=5
    )
    chained = load_index(again)
    assert chained.manifest["incremental"]["base"] == "up" and chained.manifest["deleted_rows"] == len(
        deleted
    )


def test_classifier_refit_matches_the_full_one_vs_rest_fit(reference_index):
    base = load_index(reference_index)
    vectors = base_vectors(base)
    kb = KnowledgeBase(
        [base.entries[c] for c in base.classifier.classes], "1", "", ("zh-Hant", "zh-Hans", "en")
    )
    target = base.classifier.classes[7]
    texts = row_texts(base.rows)
    base_texts = [texts[i] for i in question_rows(base.rows)]
    clf = update_classifier(base.classifier, kb, base.rows, texts, vectors, [target], base_texts)
    i = clf.classes.index(target)
    assert np.allclose(clf.coef_sparse[i], base.classifier.coef_sparse[i], atol=1e-4)
    assert np.allclose(clf.coef_dense[i], base.classifier.coef_dense[i], atol=1e-4)
    assert np.allclose(clf.coef_extra[i], base.classifier.coef_extra[i], atol=1e-4)
    assert np.array_equal(clf.extra_rows, base.classifier.extra_rows)  # reused, not re-encoded
    assert abs(clf.intercept[i] - base.classifier.intercept[i]) < 1e-4
    others = [j for j in range(len(clf.classes)) if j != i]
    assert np.array_equal(clf.coef_sparse[others], base.classifier.coef_sparse[others])


def test_base_from_another_encoder_is_refused(reference_index, reference_kb, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(reference_index, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "encoder": "other-model"}))
    with pytest.raises(IndexMismatchError, match="other-model"):
        update_index(other, with_new_phrase(reference_kb, "returns-policy"), ENCODER, tmp_path / "up")
    assert not (tmp_path / "up" / "manifest.json").exists()


def test_full_build_when_too_much_changed(hnsw_base, small_kb, tmp_path):
    kb = small_kb
    for entry in small_kb.entries[:4]:  # 4 of 15 entries > 20 %
        kb = replace_entry(
            kb, entry.id, questions={**entry.questions, "en": entry.questions["en"] + ["one more way"]}
        )
    out = update_index(hnsw_base, kb, ENCODER, tmp_path / "up", hnsw_min_rows=5)
    loaded = load_index(out, expected_kb_hash=kb_hash(kb))
    record = loaded.manifest["incremental"]
    assert record["base"] == "hnsw" and "changed since the last full build" in record["full_build"]
    assert "deleted_rows" not in loaded.manifest and not any(r.get("deleted") for r in loaded.rows)
    assert describe(out).startswith("full build (")


def test_update_and_publish_lifecycle(small_kb, tmp_path):
    root = tmp_path / "root"
    first = update_and_publish(small_kb, ENCODER, root)  # nothing published yet: a full build
    assert "incremental" not in load_index(first).manifest
    kb = with_new_phrase(small_kb, small_kb.entries[1].id)
    second = update_and_publish(kb, ENCODER, root)
    assert current_index_dir(root).resolve() == second.resolve() != first.resolve()
    assert load_index(second, expected_kb_hash=kb_hash(kb)).manifest["incremental"]["base"] == first.name
    assert describe(second).startswith("incremental update of " + first.name)
    assert not list((root / "builds").glob(".partial-*"))


def test_cli_build_incremental(small_kb, tmp_path, capsys):
    from kb.cli import main
    from kb.io import export_kb

    root = tmp_path / "root"
    source = export_kb(small_kb, tmp_path / "kb.yml", "yaml")
    assert main(["build", "--source", str(source), "--root", str(root)]) == 0
    export_kb(with_new_phrase(small_kb, small_kb.entries[3].id), source, "yaml")
    assert main(["build", "--incremental", "--source", str(source), "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "1 encoded" in out and " s\n" in out and "incremental update of" in out
    assert main(["build", "--incremental", "--source", str(source), "--out", str(tmp_path / "o")]) == 2


def test_hnsw_index_is_compacted_when_tombstones_pile_up(hnsw_base, small_kb, tmp_path):
    kb = without(small_kb, *[e.id for e in small_kb.entries[:5]])  # a third of the rows go away
    encoder = CountingEncoder()
    out = update_index(
        hnsw_base, kb, ENCODER, tmp_path / "up", hnsw_min_rows=5, max_changed=0.5, encoder=encoder
    )
    loaded = load_index(out, expected_kb_hash=kb_hash(kb))
    assert loaded.manifest["incremental"]["index"] == "compacted" and encoder.texts == []
    assert loaded.manifest["index_type"].startswith("IDMap2,HNSW") and "deleted_rows" not in loaded.manifest
    assert (
        loaded.vector_index.size
        == len(loaded.rows)
        == sum(len(q) for e in kb.entries for q in e.questions.values())
    )
    assert hit_ids(KBSearcher(loaded), kb.entries[0].questions["en"][0], k=1) == [kb.entries[0].id]
