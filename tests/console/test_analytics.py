"""Each analytics metric on a small hand-made history (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set), plus the dashboard API."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from crm.db import session_scope
from crm.models import Customer
from crm.repo import analytics as m
from crm.repo import conversations as conv
from crm.repo import tickets as tk
from crm.repo.kb import record_unanswered, review_unanswered
from tests.crm.conftest import db_url, engine, migrated_url, session_factory  # noqa: F401  (fixtures)

ALL = m.Filters.for_days(date(2025, 2, 1), date(2025, 2, 10))


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 2, day, hour, minute, second, tzinfo=timezone.utc)


def chat(session, token, language, customer, started, lines, **status):
    c = conv.create_conversation(
        session, token=token, language=language, customer_id=customer, started_at=started
    )
    for n, (direction, when) in enumerate(lines):
        conv.add_message(
            session,
            conversation_id=c.id,
            client_id=f"{token}-{n}",
            direction=direction,
            text=direction,
            created_at=when,
        )
    if status:
        conv.set_conversation_status(session, c.id, status.pop("status"), **status)
    return c


@pytest.fixture
def history(session_factory):  # noqa: F811
    with session_scope(session_factory) as s:
        a = Customer(name="A", preferred_language="zh-Hant")
        b = Customer(name="B", preferred_language="en")
        s.add_all([a, b])
        s.flush()
        c1 = chat(s, "c1", "zh-Hant", a.id, at(1, 10), [("customer", at(1, 10)), ("bot", at(1, 10, 0, 2))])
        c2 = chat(
            s,
            "c2",
            "zh-Hant",
            a.id,
            at(3, 10),
            [("customer", at(3, 10)), ("bot", at(3, 10, 0, 4)), ("agent", at(3, 10, 2, 4))],
            status="closed",
            handoff_reason="customer_request",
        )
        c3 = chat(
            s,
            "c3",
            "en",
            b.id,
            at(5, 9),
            [("customer", at(5, 9)), ("bot", at(5, 9, 0, 1))],
            status="waiting_agent",
            handoff_reason="frustration",
        )
        chat(s, "c4", "en", None, at(10, 23), [("customer", at(10, 23)), ("bot", at(10, 23, 0, 3))])
        chat(s, "c5", "en", None, at(6, 8), [])  # opened, never wrote: not counted
        chat(
            s,
            "c6",
            "zh-Hant",
            a.id,
            datetime(2025, 1, 20, tzinfo=timezone.utc),
            [("customer", datetime(2025, 1, 20, tzinfo=timezone.utc))],
        )  # before the range
        t1 = tk.create_ticket(
            s,
            subject="late",
            category="delivery",
            customer_id=a.id,
            conversation_id=c2.id,
            created_at=at(3, 10, 1),
        )
        tk.change_ticket_status(s, t1.id, "resolved", at=at(3, 12, 1))
        t2 = tk.create_ticket(
            s,
            subject="broken",
            category="product",
            customer_id=b.id,
            conversation_id=c3.id,
            created_at=at(5, 9, 1),
        )
        o1 = tk.offer_compensation(
            s,
            customer_id=a.id,
            ticket_id=t1.id,
            type="coupon",
            amount="300",
            currency="TWD",
            offered_at=at(3, 10, 1),
        )
        tk.set_offer_status(s, o1.id, "approved", at=at(3, 10, 3))
        tk.set_offer_status(s, o1.id, "granted", at=at(3, 10, 4))
        o2 = tk.offer_compensation(
            s,
            customer_id=b.id,
            ticket_id=t2.id,
            type="refund",
            amount="500",
            currency="HKD",
            offered_at=at(5, 9, 2),
        )
        tk.set_offer_status(s, o2.id, "approved", at=at(5, 9, 3))
        tk.offer_compensation(
            s,
            customer_id=b.id,
            ticket_id=t2.id,
            type="points",
            amount="100",
            currency="PTS",
            offered_at=at(5, 9, 2),
        )  # still only offered: not counted
        for conversation, score, day in ((c1, 5, 1), (c2, 3, 3), (c3, 1, 5)):
            tk.add_feedback(s, conversation_id=conversation.id, csat=score, created_at=at(day, 12))
        for text, lang, day in (
            ("退貨運費誰付？", "zh-Hant", 2),
            ("退貨運費誰付？", "zh-Hant", 4),
            ("gift wrap?", "en", 5),
        ):
            q = record_unanswered(s, text=text, language=lang)
            q.created_at = at(day, 8)
        s.flush()
        review_unanswered(s, q.id - 1, "dismissed", reviewer="t")


def run(session_factory, fn, f=ALL):  # noqa: F811
    with session_scope(session_factory) as s:
        return fn(s, f)


def test_conversations_per_day_counts_only_chats_where_the_customer_wrote(session_factory, history):  # noqa: F811
    days = run(session_factory, m.conversations_per_day)
    assert len(days) == 10 and sum(d["count"] for d in days) == 4
    assert {d["day"]: d["count"] for d in days if d["count"]} == {
        "2025-02-01": 1,
        "2025-02-03": 1,
        "2025-02-05": 1,
        "2025-02-10": 1,
    }


def test_containment_and_handoffs(session_factory, history):  # noqa: F811
    assert run(session_factory, m.containment) == {"conversations": 4, "contained": 2, "rate": 0.5}
    handoffs = run(session_factory, m.handoffs)
    assert handoffs["rate"] == 0.5 and handoffs["handed_off"] == 2
    assert sorted((r["reason"], r["count"]) for r in handoffs["reasons"]) == [
        ("customer_request", 1),
        ("frustration", 1),
    ]
    zh = m.Filters.for_days(date(2025, 2, 1), date(2025, 2, 10), "zh-Hant")
    assert run(session_factory, m.containment, zh) == {"conversations": 2, "contained": 1, "rate": 0.5}


def test_csat_trend(session_factory, history):  # noqa: F811
    csat = run(session_factory, m.csat_trend)
    assert csat["average"] == 3.0 and csat["count"] == 3
    assert [(d["day"], d["average"]) for d in csat["days"] if d["count"]] == [
        ("2025-02-01", 5.0),
        ("2025-02-03", 3.0),
        ("2025-02-05", 1.0),
    ]
    en = m.Filters.for_days(date(2025, 2, 1), date(2025, 2, 10), "en")
    assert run(session_factory, m.csat_trend, en)["average"] == 1.0


def test_complaint_categories_follow_the_conversation_language(session_factory, history):  # noqa: F811
    assert sorted((c["category"], c["count"]) for c in run(session_factory, m.complaint_categories)) == [
        ("delivery", 1),
        ("product", 1),
    ]
    zh = m.Filters.for_days(date(2025, 2, 1), date(2025, 2, 10), "zh-Hant")
    assert run(session_factory, m.complaint_categories, zh) == [{"category": "delivery", "count": 1}]


def test_top_unanswered(session_factory, history):  # noqa: F811
    assert run(session_factory, m.top_unanswered) == [
        {"text": "退貨運費誰付？", "count": 2, "open": 1},
        {"text": "gift wrap?", "count": 1, "open": 1},
    ]


def test_repeat_contact_and_first_contact_resolution(session_factory, history):  # noqa: F811
    assert run(session_factory, m.repeat_contact) == {"conversations": 3, "repeated": 1, "rate": 0.3333}
    # c1 was followed by c2 within 7 days; c3's ticket is still open; only c2 was resolved first time
    assert run(session_factory, m.first_contact_resolution) == {
        "conversations": 3,
        "resolved": 1,
        "rate": 0.3333,
    }


def test_median_response_and_resolution_times(session_factory, history):  # noqa: F811
    times = run(session_factory, m.response_times)
    assert times["first_response_s"] == 2.5  # 2, 4, 1 and 3 seconds
    # c2 has no stored handoff time (closed directly): handoff = the bot's hand-over message
    assert times["agent_first_response_s"] == 120.0 and times["queue_wait_s"] == 120.0
    assert times["resolution_s"] == 7200.0
    assert times["samples"] == {
        "first_response": 4,
        "queue_wait": 1,
        "agent_first_response": 1,
        "resolution": 1,
    }


def test_compensation_granted_by_type_and_cost(session_factory, history):  # noqa: F811
    assert run(session_factory, m.compensation_granted) == [
        {"type": "coupon", "count": 1, "amounts": {"TWD": "300.00"}},
        {"type": "refund", "count": 1, "amounts": {"HKD": "500.00"}},
    ]
    en = m.Filters.for_days(date(2025, 2, 1), date(2025, 2, 10), "en")
    assert [c["type"] for c in run(session_factory, m.compensation_granted, en)] == ["refund"]


def test_empty_range_gives_empty_metrics(session_factory, history):  # noqa: F811
    empty = m.Filters.for_days(date(2024, 1, 1), date(2024, 1, 2))
    assert run(session_factory, m.containment, empty)["rate"] is None
    assert run(session_factory, m.response_times, empty)["first_response_s"] is None


def test_dashboard_api_for_managers(as_user, factory):
    manager = as_user("manager1")
    page = manager.get("/analytics")
    assert page.status_code == 200 and "/console/vendor/chart.umd.js" in page.text
    data = manager.get("/api/analytics?from=2025-02-01&to=2025-02-10&language=en").json()
    assert data["filters"] == {"from": "2025-02-01", "to": "2025-02-10", "language": "en"}
    assert len(data["conversations_per_day"]) == 10 and data["containment"]["rate"] is None
    assert manager.get("/api/analytics?from=garbage").status_code == 422
    assert manager.get("/console/vendor/chart.umd.js").status_code == 200


@pytest.fixture
def escalations(session_factory):  # noqa: F811
    """Chats of 2025-02-07 with stored handoff / claim times (see the expected values below)."""

    def t(minute: int, second: int = 0) -> datetime:
        return at(7, 9, minute, second)

    def move(s, c, frm, to, when):
        assert conv.transition_conversation(s, c.id, from_statuses=frm, to_status=to, at=when)

    with session_scope(session_factory) as s:
        customer = Customer(name="E", preferred_language="en")
        s.add(customer)
        s.flush()
        # e1: handed over at 0:30 (after the bot's last message), claimed at 3:30, answered at 4:30
        e1 = chat(
            s, "e1", "en", customer.id, t(0), [("customer", t(0)), ("bot", t(0, 2)), ("agent", t(4, 30))]
        )
        move(s, e1, ("bot",), "waiting_agent", t(0, 30))
        move(s, e1, ("waiting_agent",), "agent", t(3, 30))
        # e2: escalated twice; only the latest escalation (10:05 -> claimed 12:05 -> answered 13:05) counts
        e2 = chat(
            s,
            "e2",
            "en",
            None,
            t(0),
            [("customer", t(0)), ("agent", t(1, 5)), ("customer", t(10)), ("agent", t(13, 5))],
        )
        move(s, e2, ("bot",), "waiting_agent", t(0, 5))
        move(s, e2, ("waiting_agent",), "agent", t(0, 35))
        move(s, e2, ("agent",), "bot", t(5))
        move(s, e2, ("bot",), "waiting_agent", t(10, 5))
        move(s, e2, ("waiting_agent",), "agent", t(12, 5))
        # e3: still waiting: no sample
        e3 = chat(s, "e3", "en", None, t(0), [("customer", t(0)), ("bot", t(0, 1))])
        move(s, e3, ("bot",), "waiting_agent", t(0, 1))
        # e4: no stored times (closed around the repository's transitions): from the transcript
        chat(
            s,
            "e4",
            "en",
            None,
            t(0),
            [("customer", t(0)), ("bot", t(0, 10)), ("agent", t(1, 10))],
            status="closed",
            handoff_reason="customer_request",
        )
        # e5: claimed at 2:00 after a hand-over at 0:00, not answered yet
        e5 = chat(s, "e5", "en", None, t(0), [("customer", t(0))])
        move(s, e5, ("bot",), "waiting_agent", t(0))
        move(s, e5, ("waiting_agent",), "agent", t(2))
        for kind, amount in (
            ("shipping_refund", "120"),
            ("expedited_replacement", "250"),
            ("partial_refund", "300"),
            ("partial_refund", "150"),
            ("free_shipping", "120"),
        ):
            offer = tk.offer_compensation(
                s, customer_id=customer.id, type=kind, amount=amount, currency="TWD", offered_at=t(1)
            )
            tk.set_offer_status(s, offer.id, "approved", at=t(2))


def test_queue_wait_and_agent_first_response_use_the_stored_times(session_factory, escalations):  # noqa: F811
    times = run(session_factory, m.response_times)
    # queue wait: e1 180, e2 120 (latest escalation), e4 60 (first agent reply), e5 120
    assert times["queue_wait_s"] == 120.0 and times["samples"]["queue_wait"] == 4
    # agent first response: e1 240 (from the stored hand-over, not the bot's message), e2 180, e4 60
    assert times["agent_first_response_s"] == 180.0 and times["samples"]["agent_first_response"] == 3
    assert run(session_factory, m.handoffs)["handed_off"] == 5


def test_compensation_breakdown_shows_the_policy_types(session_factory, escalations):  # noqa: F811
    assert run(session_factory, m.compensation_granted) == [
        {"type": "partial_refund", "count": 2, "amounts": {"TWD": "450.00"}},
        {"type": "shipping_refund", "count": 1, "amounts": {"TWD": "120.00"}},
        {"type": "expedited_replacement", "count": 1, "amounts": {"TWD": "250.00"}},
        {"type": "free_shipping", "count": 1, "amounts": {"TWD": "120.00"}},  # recorded before 0003
    ]
