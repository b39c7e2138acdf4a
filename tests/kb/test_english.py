"""English rows (kb/english.py): built from the classifier's English block, scored for English queries only."""

from __future__ import annotations

import numpy as np
import pytest

from kb.classifier import has_chinese
from kb.encoder import encode
from kb.english import english_columns, english_rows
from kb.index import load_index, question_rows
from kb.normalize import normalize
from kb.search import KBSearcher, RawScores, fuse

from .conftest import ENCODER, tiny_kb
from .test_incremental import with_new_phrase

MINILM = "all-minilm-l6-v2"


def _english_texts(loaded, entry_id):
    rows = [loaded.rows[i] for i in question_rows(loaded.rows)]
    return [
        r["question"] for r in rows if r["entry_id"] == entry_id and not has_chinese(normalize(r["question"]))
    ]


def test_rows_are_the_english_questions_of_each_entry_with_their_english_encoder_vectors(reference_index):
    loaded = load_index(reference_index)
    searcher = KBSearcher(loaded)
    rows = searcher.english
    assert rows is not None and rows.entry_ids == list(loaded.entries)
    for entry_id in ("returns-policy", "membership-points-redeem"):
        texts = rows.texts[rows.entry_ids.index(entry_id)]
        assert texts == _english_texts(loaded, entry_id) and texts
        start = rows.starts[rows.entry_ids.index(entry_id)]
        expected = encode(loaded.classifier.tuned[MINILM], [normalize(t) for t in texts])
        assert np.allclose(rows.vectors[start : start + len(texts)], expected, atol=1e-4)
    assert all(not has_chinese(normalize(t)) for group in rows.texts for t in group)


def test_english_query_gets_the_english_encoder_best_row_and_chinese_query_none(reference_index):
    searcher = KBSearcher(load_index(reference_index), config={"english_weight": 0.5})
    english, chinese = normalize("my repair is ready, how do i pick it up"), normalize("維修好了去哪裡拿")
    raw_en, raw_zh = searcher.raw_scores([english, chinese])
    assert raw_zh.english == {}
    assert set(raw_en.english) == set(raw_en.dense) | set(raw_en.lexical) | set(raw_en.classifier)
    tuned = searcher.classifier.tuned[MINILM]  # the index's English encoder, tuned on its questions
    query = encode(tuned, [english])[0]
    texts = searcher.english.texts[searcher.english.entry_ids.index("repair-collect")]
    expected = float(np.max(encode(tuned, [normalize(t) for t in texts]) @ query))
    assert raw_en.english["repair-collect"] == pytest.approx(expected, abs=1e-4)
    ew = searcher.english_weight
    mixed = fuse(
        raw_en,
        searcher.lexical_weight,
        searcher.classifier_weight,
        searcher.centroid_weight,
        searcher.answer_weight,
        ew,
    )
    plain = fuse(
        raw_en,
        searcher.lexical_weight,
        searcher.classifier_weight,
        searcher.centroid_weight,
        searcher.answer_weight,
        0.0,
    )
    assert mixed != plain
    assert fuse(raw_zh, 0.0, english_weight=ew) == fuse(raw_zh, 0.0)


def test_fusion_mixes_the_best_row_cosine_and_entries_without_english_rows_get_the_floor():
    raw = RawScores({"a": (0.8, 1), "b": (0.4, 2)}, {}, 0.2, english={"a": 0.5, "c": 0.9})
    fused = fuse(raw, 0.0, english_weight=0.5)
    assert fused["a"][0] == pytest.approx(0.5 * 0.8 + 0.5 * 0.5)
    assert fused["b"][0] == pytest.approx(0.5 * 0.4 + 0.5 * 0.5)  # no English rows: the lowest English score
    assert "c" not in fused  # English rows add no candidates
    with_centroid = fuse(
        RawScores({"a": (0.8, 1)}, {}, 0.2, centroid={"a": 0.6}, english={"a": 0.4}),
        0.0,
        centroid_weight=0.5,
        english_weight=0.5,
    )
    assert with_centroid["a"][0] == pytest.approx(0.5 * (0.5 * 0.8 + 0.5 * 0.4) + 0.5 * 0.6)


def test_english_offset_shifts_an_english_querys_scores_only_and_keeps_their_order(reference_index):
    raw = RawScores({"a": (0.8, 1), "b": (0.4, 2)}, {}, 0.2, english={"a": 0.5, "b": 0.3})
    plain, shifted = (
        fuse(raw, 0.0, english_weight=0.5),
        fuse(raw, 0.0, english_weight=0.5, english_offset=0.06),
    )
    assert {e: s + 0.06 for e, (s, _) in plain.items()} == pytest.approx(
        {e: s for e, (s, _) in shifted.items()}
    )
    no_rows = RawScores({"a": (0.8, 1)}, {}, 0.2)
    assert fuse(no_rows, 0.0, english_weight=0.5, english_offset=0.06) == fuse(no_rows, 0.0)

    loaded = load_index(reference_index)
    base = KBSearcher(loaded, config={"english_offset": 0.0})
    moved = KBSearcher(loaded, config={"english_offset": 0.05})
    english, chinese = "How long do I have to return an item?", "退貨要幾天內申請？"
    en0, en1 = base.search(english, k=5), moved.search(english, k=5)
    assert [h.entry_id for h in en0.hits] == [h.entry_id for h in en1.hits]
    assert [h.score + 0.05 for h in en0.hits] == pytest.approx([h.score for h in en1.hits], abs=2e-4)
    assert base.search(chinese, k=5) == moved.search(chinese, k=5)


def test_index_without_classifier_or_english_block_has_no_english_rows(tmp_path, reference_index):
    from kb.index import build_index

    one_entry = tiny_kb()
    one_entry = type(one_entry)(one_entry.entries[:1], "1", "Test Co")
    loaded = load_index(build_index(one_entry, ENCODER, tmp_path / "one"))
    assert loaded.classifier is None
    searcher = KBSearcher(loaded, config={"english_weight": 1.0})
    assert searcher.english is None and searcher.english_weight == 0.0
    assert searcher.search("How long do I have to return an item?").hits[0].entry_id == "returns"
    classifier = load_index(reference_index).classifier
    assert english_columns({**classifier.config, "english_encoder": ""}) is None
    assert english_rows(classifier, load_index(reference_index).rows, ["x"], None) is None


def test_misaligned_classifier_rows_turn_english_rows_off(reference_index):
    loaded = load_index(reference_index)
    rows = loaded.rows[:-3]
    assert (
        english_rows(loaded.classifier, rows, list(loaded.entries), english_columns(loaded.classifier.config))
        is None
    )


def test_incremental_update_gives_the_edited_entry_its_new_english_row(
    reference_index, reference_kb, tmp_path
):
    from kb.incremental import update_index

    from .test_incremental import NEW_PHRASE

    target = reference_kb.entries[5].id
    out = update_index(reference_index, with_new_phrase(reference_kb, target), ENCODER, tmp_path / "up")
    loaded = load_index(out)
    rows = KBSearcher(loaded).english
    texts = rows.texts[rows.entry_ids.index(target)]
    assert NEW_PHRASE in texts and texts == _english_texts(loaded, target)
    start = rows.starts[rows.entry_ids.index(target)] + texts.index(NEW_PHRASE)
    tuned = loaded.classifier.tuned[MINILM]  # the base index's tuned encoder, carried over
    assert np.allclose(rows.vectors[start], encode(tuned, [normalize(NEW_PHRASE)])[0], atol=1e-4)
