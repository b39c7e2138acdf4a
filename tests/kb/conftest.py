"""Shared fixtures: the reference-FAQ index is built once per session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.faq import Entry, KnowledgeBase, load_kb

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "kb" / "data" / "reference_faq.yml"
ENCODER = "use-multilingual-v3"


@pytest.fixture(scope="session")
def reference_kb() -> KnowledgeBase:
    return load_kb(REFERENCE)


@pytest.fixture(scope="session")
def reference_index(reference_kb, tmp_path_factory) -> Path:
    from kb.index import build_index

    return build_index(reference_kb, ENCODER, tmp_path_factory.mktemp("ref") / "index")


@pytest.fixture(scope="session")
def reference_searcher(reference_index):
    from kb.search import KBSearcher

    return KBSearcher.from_dir(reference_index)


def tiny_kb(answer_suffix: str = "") -> KnowledgeBase:
    """Three-entry KB for fast lifecycle tests."""

    def entry(eid, zh_t, zh_s, en, ans):
        return Entry(
            eid,
            "test",
            {"zh-Hant": [zh_t], "zh-Hans": [zh_s], "en": [en]},
            {"zh-Hant": ans + answer_suffix, "zh-Hans": ans + answer_suffix, "en": ans + answer_suffix},
        )

    return KnowledgeBase(
        [
            entry(
                "returns",
                "退貨期限是幾天？",
                "退货期限是几天？",
                "How long do I have to return an item?",
                "7 days",
            ),
            entry(
                "hours",
                "客服幾點上班？",
                "客服几点上班？",
                "What are your customer service hours?",
                "9 to 18",
            ),
            entry(
                "payment", "可以用信用卡付款嗎？", "可以用信用卡付款吗？", "Can I pay by credit card?", "Yes"
            ),
        ],
        "1",
        "Test Co",
    )
