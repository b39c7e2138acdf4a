"""Managers' metrics (loyalty, per-agent performance, service-target attainment, drill-down) on a
small history whose expected values are worked out by hand in the comments (SQLite, and
PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from crm.db import session_scope
from crm.models import Conversation, Customer, Feedback, Order, User
from crm.repo import conversations as conv
from crm.repo import drilldown, team_metrics
from crm.repo.analytics import Filters
from tests.crm.conftest import db_url, engine, migrated_url, session_factory  # noqa: F401  (fixtures)

ALL = Filters.for_days(date(2025, 3, 1), date(2025, 3, 10))
TARGETS = {
    "platinum": {"first_response_minutes": 2.0, "resolution_hours": 4.0},
    "gold": {"first_response_minutes": 5.0, "resolution_hours": 8.0},
    "standard": {"first_response_minutes": 15.0, "resolution_hours": 48.0},
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=timezone.utc)


def _chat(s, token, customer, lines, *, agent=None, handoff=None, ended=None, language="en"):
    c = conv.create_conversation(
        s, token=token, language=language, customer_id=customer, started_at=lines[0][1]
    )
    for n, (direction, when) in enumerate(lines):
        conv.add_message(
            s,
            conversation_id=c.id,
            client_id=f"{token}-{n}",
            direction=direction,
            text=f"{direction} {n}",
            created_at=when,
        )
    row = s.get(Conversation, c.id)
    row.assigned_agent_id, row.handoff_at, row.ended_at = agent, handoff, ended
    row.status = "closed" if ended else ("agent" if agent else "bot")
    s.flush()
    return c.id


@pytest.fixture
def team(session_factory):  # noqa: F811
    """Ann handles k1 (platinum P) and k2 (gold G); Bob handles k3 (G again, still open); k4 is
    an anonymous chat the bot contained."""
    old = at(1, 1, 0)
    with session_scope(session_factory) as s:
        ann = User(username="ann", password_hash="x", role="agent", display_name="Ann")
        bob = User(username="bob", password_hash="x", role="agent")
        p = Customer(name="P", preferred_language="zh-Hant", tier="platinum", created_at=old)
        g = Customer(name="G", preferred_language="en", tier="gold", created_at=old)
        x = Customer(name="X", preferred_language="en", tier="silver", created_at=old)
        s.add_all([ann, bob, p, g, x])
        s.flush()
        ids = {
            # reply 1 min after the hand-over, closed 31 min after it
            "k1": _chat(
                s,
                "k1",
                p.id,
                [("customer", at(3, 2, 9, 58)), ("bot", at(3, 2, 10)), ("agent", at(3, 2, 10, 1))],
                agent=ann.id,
                handoff=at(3, 2, 10),
                ended=at(3, 2, 10, 31),
                language="zh-Hant",
            ),
            # reply 10 min after, closed 10 h after
            "k2": _chat(
                s,
                "k2",
                g.id,
                [("customer", at(3, 3, 8, 59)), ("bot", at(3, 3, 9)), ("agent", at(3, 3, 9, 10))],
                agent=ann.id,
                handoff=at(3, 3, 9),
                ended=at(3, 3, 19),
            ),
            # reply 3 min after, not closed
            "k3": _chat(
                s,
                "k3",
                g.id,
                [("customer", at(3, 5, 11, 59)), ("bot", at(3, 5, 12)), ("agent", at(3, 5, 12, 3))],
                agent=bob.id,
                handoff=at(3, 5, 12),
            ),
            "k4": _chat(s, "k4", None, [("customer", at(3, 6, 8)), ("bot", at(3, 6, 8, 1))]),
        }
        s.add_all(
            [
                Feedback(conversation_id=ids["k1"], customer_id=p.id, csat=5, created_at=at(3, 2, 10, 32)),
                Feedback(conversation_id=ids["k2"], customer_id=g.id, csat=3, created_at=at(3, 3, 19, 1)),
            ]
        )
        plan = [  # window 1-10 March; the previous window of the same length: 19-28 February
            (p.id, at(2, 25, 12), "1000", "TWD", "delivered"),
            (p.id, at(3, 4, 12), "3000", "TWD", "delivered"),
            (p.id, at(3, 9, 12), "2000", "TWD", "shipped"),
            (g.id, at(2, 20, 12), "200", "HKD", "delivered"),
            (x.id, at(3, 6, 12), "500", "TWD", "paid"),
            (x.id, at(3, 8, 12), "9999", "TWD", "cancelled"),
        ]
        for n, (cid, when, total, currency, status) in enumerate(plan):
            s.add(
                Order(
                    order_number=f"LM{n + 70000000:08d}",
                    customer_id=cid,
                    placed_at=when,
                    total=Decimal(total),
                    currency=currency,
                    status=status,
                )
            )
        s.flush()
        ids["ann"], ids["bob"] = ann.id, bob.id
    return ids


def test_loyalty_from_the_customer_metrics(session_factory, team):  # noqa: F811
    with session_scope(session_factory) as s:
        ly = team_metrics.loyalty(s, ALL)
        en = team_metrics.loyalty(s, Filters.for_days(date(2025, 3, 1), date(2025, 3, 10), "en"))
    assert ly["retention"] == 0.5 and ly["churn"] == 0.5  # P and G ordered before; only P again
    assert ly["purchase_frequency"] == 1.5  # 3 kept orders (X's cancelled one is out) by P and X
    assert ly["average_order_value"] == {"TWD": "1833.33"}  # (3000 + 2000 + 500) / 3
    assert ly["lifetime_value"] == {"HKD": "200.00", "TWD": "3250.00"}  # P 6000, X 500
    assert [(r["tier"], r["customers"], r["lifetime_value"]) for r in ly["tiers"]] == [
        ("platinum", 1, {"TWD": "6000.00"}),
        ("gold", 1, {"HKD": "200.00"}),
        ("silver", 1, {"TWD": "500.00"}),
        ("standard", 0, {}),
    ]
    assert en["retention"] == 0.0 and en["churn"] == 1.0  # G ordered before, not again; X is new
    assert en["average_order_value"] == {"TWD": "500.00"}


def test_agent_performance_medians_counts_csat_and_fcr(session_factory, team):  # noqa: F811
    with session_scope(session_factory) as s:
        rows = team_metrics.agent_performance(s, ALL)
    ann, bob = rows
    assert (ann["agent"], ann["conversations"]) == ("Ann", 2)
    assert (ann["first_response_s"], ann["first_responses"]) == (330.0, 2)  # median of 60 s and 600 s
    assert (ann["resolution_s"], ann["resolutions"]) == (18930.0, 2)  # median of 31 min and 10 h
    assert (ann["csat"], ann["ratings"]) == (4.0, 2)
    # k1 resolved at first contact; G came back (k3) within 7 days of k2
    assert (ann["fcr_rate"], ann["fcr_resolved"], ann["fcr_conversations"]) == (0.5, 1, 2)
    assert (bob["agent"], bob["conversations"], bob["first_response_s"]) == ("bob", 1, 180.0)
    assert (bob["resolution_s"], bob["resolutions"], bob["csat"], bob["ratings"]) == (None, 0, None, 0)
    assert (bob["fcr_rate"], bob["fcr_resolved"]) == (1.0, 1)


def test_target_attainment_per_tier(session_factory, team):  # noqa: F811
    with session_scope(session_factory) as s:
        later = {r["tier"]: r for r in team_metrics.target_attainment(s, ALL, TARGETS, at(3, 6, 12))}
        early = {r["tier"]: r for r in team_metrics.target_attainment(s, ALL, TARGETS, at(3, 5, 14))}
    assert list(later) == ["platinum", "gold", "standard"]
    assert (later["platinum"]["first_response_met"], later["platinum"]["resolution_met"]) == (1, 1)
    gold = later["gold"]  # k2: 10 min (> 5) and 10 h (> 8); k3: 3 min, open 24 h by then
    assert (gold["first_response_met"], gold["first_response_missed"], gold["first_response_rate"]) == (
        1,
        1,
        0.5,
    )
    assert (gold["resolution_met"], gold["resolution_missed"], gold["resolution_rate"]) == (0, 2, 0.0)
    assert (early["gold"]["resolution_missed"], early["gold"]["resolution_rate"]) == (
        1,
        0.0,
    )  # k3 still inside 8 h
    assert later["standard"]["first_response_rate"] is None


def _drill(s, kind, key="", now=None):
    return sorted(r["id"] for r in drilldown.conversations(s, ALL, kind, key, TARGETS, now or at(3, 6, 12)))


def test_drill_down_lists_the_conversations_behind_each_number(session_factory, team):  # noqa: F811
    k = team
    with session_scope(session_factory) as s:
        assert _drill(s, "all") == sorted([k["k1"], k["k2"], k["k3"], k["k4"]])
        assert _drill(s, "contained") == [k["k4"]]
        assert _drill(s, "agent", str(k["ann"])) == sorted([k["k1"], k["k2"]])
        assert _drill(s, "agent_rated", str(k["bob"])) == []
        assert _drill(s, "tier", "platinum") == [k["k1"]]
        assert _drill(s, "tier", "standard") == [k["k4"]]
        assert _drill(s, "first_response_missed", "gold") == [k["k2"]]
        assert _drill(s, "resolution_missed", "gold") == sorted([k["k2"], k["k3"]])
        assert _drill(s, "resolution_missed", "gold", now=at(3, 5, 14)) == [k["k2"]]
        assert _drill(s, "repeat") == [k["k2"]]
        assert _drill(s, "fcr") == sorted([k["k1"], k["k3"]])
        assert _drill(s, "day", "2025-03-05") == [k["k3"]]
        row = drilldown.conversations(s, ALL, "agent", str(k["ann"]))[0]
        assert (row["id"], row["customer"], row["tier"], row["agent"]) == (
            k["k2"],
            "G",
            "gold",
            "Ann",
        )  # newest first
        with pytest.raises(drilldown.UnknownDrill):
            drilldown.conversations(s, ALL, "nonsense")
        with pytest.raises(drilldown.UnknownDrill):
            drilldown.conversations(s, ALL, "agent", "x")
        transcript = drilldown.transcript(s, k["k1"])
        assert [m["direction"] for m in transcript["messages"]] == ["customer", "bot", "agent"]
        assert drilldown.transcript(s, 999999) is None
