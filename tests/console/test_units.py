"""Pure helpers: queue priority, inbox clustering, KB diffs, approval limits, analytics filters."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from gateway.console.inbox import cluster
from gateway.console.kbdiff import text_diff, tokens, version_diff
from gateway.console.routes_analytics import parse_filters
from recovery import priority
from recovery.approvals import can_approve

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def signals(**kw):
    base = {
        "id": 1,
        "status": "waiting_agent",
        "waiting_since": (NOW - timedelta(minutes=2)).isoformat(),
        "customer": None,
        "customer_texts": ["hello"],
        "customer_intents": [],
        "kb_fallbacks": 0,
        "offers_awaiting": 0,
        "handoff_reason": None,
    }
    return {**base, **kw}


def test_frustration_reads_words_shouting_intents_and_failed_answers():
    assert priority.frustration(signals()) == 0
    assert priority.frustration(signals(customer_texts=["太離譜了！！"])) == 1
    assert priority.frustration(signals(customer_texts=["THIS IS UNACCEPTABLE!!!"])) == 2
    assert priority.frustration(signals(customer_texts=["THIS IS UNACCEPTABLE!!!"], kb_fallbacks=3)) == 3
    assert priority.frustration(signals(handoff_reason="frustration")) == 1


def test_frustration_prefers_the_score_stored_on_each_message():
    """The gateway stores each message's score (recovery.frustration, the one scorer); the queue
    reads it instead of scoring the text a second way."""
    from recovery.frustration import frustration_score

    text = "垃圾！！這是第三次了"
    assert priority.peak_message_frustration(signals(customer_texts=[text])) == frustration_score(text).score
    assert priority.frustration(signals(customer_texts=["ok", "fine"], customer_frustration=[0.0, 0.8])) == 2
    assert priority.frustration(signals(customer_texts=["垃圾！！"], customer_frustration=[0.1])) == 0


def test_priority_orders_by_wait_frustration_tier_and_approvals():
    calm = signals(id=1)
    long_wait = signals(id=2, waiting_since=(NOW - timedelta(minutes=30)).isoformat())
    vip = signals(id=3, customer={"tier": "platinum"}, offers_awaiting=1)
    held = signals(id=4, status="agent", customer_texts=["垃圾！！"])
    ranked = priority.rank([calm, long_wait, vip, held], NOW)
    assert [i["id"] for i in ranked] == [3, 2, 1, 4]  # held chats come after waiting ones
    assert ranked[0]["priority"]["reasons"] == ["tier_platinum", "approval_needed"]
    assert ranked[1]["priority"]["waited_min"] == 30.0 and ranked[1]["priority"]["reasons"] == ["long_wait"]


def test_cluster_by_text_then_by_meaning():
    texts = [
        "退貨運費誰付？",
        "退货运费谁付",
        "How do I reset my password?",
        "forgot my password",
        "退貨運費誰付",
    ]
    assert cluster(texts) == [[0, 1, 4], [2], [3]]
    vectors = {
        "退货运费谁付": [1, 0],
        "how do i reset my password": [0, 1],
        "forgot my password": [0.1, 0.99],
    }

    def embed(keys):
        rows = np.array([vectors[k] for k in keys], dtype="float32")
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    assert cluster(texts, embed) == [[0, 1, 4], [2, 3]]


def test_diff_tokens_and_answer_changes():
    assert tokens("退貨 7 days!") == ["退", "貨", " ", "7", " ", "days", "!"]
    assert text_diff("每件NT$50", "每件NT$60") == [["=", "每件NT$"], ["-", "50"], ["+", "60"]]
    d = version_diff({"en": ["a", "b"]}, {"en": "x"}, {"en": ["b", "c"]}, {"en": "x"})
    assert d["languages"]["en"]["questions"] == {"added": ["c"], "removed": ["a"], "kept": ["b"]}
    assert d["changed"] and not d["languages"]["en"]["answer_changed"]


def test_approval_limits_by_role_and_currency():
    assert can_approve("agent", "1000", "TWD") and not can_approve("agent", "1000.01", "TWD")
    assert can_approve("manager", "2500", "HKD") and not can_approve("manager", "1", "EUR")
    assert can_approve("agent", "1500", "PTS") and can_approve("admin", "999999", "TWD")


def test_analytics_filters_default_to_30_days_and_cap_the_range():
    f = parse_filters("", "", "xx", today=date(2025, 3, 1))
    assert (f.start.date(), f.end.date(), f.language) == (date(2025, 1, 31), date(2025, 3, 2), None)
    f = parse_filters("2025-03-05", "2025-03-01", "en")
    assert (f.start.date(), f.end.date(), f.language) == (date(2025, 3, 1), date(2025, 3, 6), "en")
    assert len(parse_filters("2000-01-01", "2025-01-01", "").days()) == 366
