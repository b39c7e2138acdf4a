from __future__ import annotations

import pytest

from kb.segments import clauses, combine, query_windows


def test_clauses_split_on_sentence_and_clause_punctuation_of_either_width():
    assert clauses("Hi there, I bought shoes. They are size 7.5, too small! Can I send them back?") == [
        "Hi there,",
        "I bought shoes.",
        "They are size 7.5,",
        "too small!",
        "Can I send them back?",
    ]
    assert clauses("你好，我上個月買咗部咖啡機。想問下保養點計？") == [
        "你好,",
        "我上個月買咗部咖啡機。",
        "想問下保養點計?",
    ]


@pytest.mark.parametrize("text", ["", "   ", "!!! ... ???", "😀, 🎉."])
def test_clauses_without_content_are_dropped(text):
    assert clauses(text) == []


def test_windows_are_clauses_and_adjacent_pairs():
    assert query_windows("Hello. Where is my order? Thanks") == [
        "Hello.",
        "Where is my order?",
        "Thanks",
        "Hello. Where is my order?",
        "Where is my order? Thanks",
    ]


def test_no_windows_for_one_clause_or_short_text():
    assert query_windows("where is my order") == []
    assert query_windows("hi, where is my order?", min_chars=40) == []


def test_only_the_last_clauses_are_kept():
    text = " ".join(f"Sentence {i}." for i in range(20))
    windows = query_windows(text, max_clauses=3)
    assert windows[:3] == ["Sentence 17.", "Sentence 18.", "Sentence 19."] and len(windows) == 5


def test_combine_mixes_the_best_window_per_entry():
    whole = {"a": (0.4, 1), "b": (0.3, 2)}
    windows = [{"a": (0.5, 7), "c": (0.9, 8)}, {"a": (0.6, 9), "c": (0.2, 3)}]
    out = combine(whole, windows, 0.5)
    assert out["a"] == pytest.approx((0.5, 1))  # (0.4 + best window 0.6) / 2, whole query's row
    assert out["b"] == pytest.approx((0.3 * 0.5 + 0.2 * 0.5, 2))  # missing from windows: their floor 0.2
    assert out["c"] == pytest.approx((0.3 * 0.5 + 0.9 * 0.5, 8))  # missing from the whole: its floor 0.3
    assert combine(whole, windows, 0.0) is whole and combine(whole, [], 0.7) is whole
