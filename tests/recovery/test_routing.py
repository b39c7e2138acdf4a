"""recovery/routing.py: the skill a chat needs, who fits it, the plan, profiles, targets and clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from recovery import routing as r
from recovery.policy import CATEGORIES, PolicyError, _load

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def agent(id: int, langs=("en",), skills=("general",), capacity=2, available=True, load=0) -> r.Agent:
    return r.Agent(id, frozenset(langs), frozenset(skills), capacity, available, load)


def test_every_complaint_category_and_ticket_category_maps_to_a_known_skill():
    from crm.orm.base import TICKET_CATEGORIES

    rules = r.load_routing()
    for category in (*CATEGORIES, *TICKET_CATEGORIES):
        assert r.required_skill(category, (), rules) in rules.skills
    assert r.required_skill("billing_error") == "billing"
    assert r.required_skill("damaged_defective") == "repairs"
    assert r.required_skill("late_delivery") == "orders"


def test_skill_falls_back_to_the_latest_intent_that_names_one_then_the_default():
    assert r.required_skill(None, ["greet", "order_status", "complaint"]) == "orders"
    assert r.required_skill("unknown-category", ["greet"]) == "general"
    assert r.required_skill("payment", ["order_status"]) == "billing"  # the ticket wins


def test_fits_needs_availability_room_language_and_skill():
    assert r.fits(agent(1, skills=("orders",)), "en", "orders")
    assert not r.fits(agent(1, available=False, skills=("orders",)), "en", "orders")
    assert not r.fits(agent(1, load=2, skills=("orders",)), "en", "orders")
    assert not r.fits(agent(1, skills=("orders",)), "zh-Hant", "orders")
    assert not r.fits(agent(1, skills=("billing",)), "en", "orders")
    assert r.fits(agent(1, skills=("orders",)), None, "orders")  # language unknown: anyone
    assert not r.fits(agent(1, capacity=0), "en", "general")


def test_pick_agent_takes_the_least_busy_share_then_the_lowest_id():
    busy = agent(1, capacity=4, load=2)  # half full
    calm = agent(2, capacity=4, load=1)
    small = agent(3, capacity=1, load=0)
    assert r.pick_agent([busy, calm, small], "en", "general") == small
    assert r.pick_agent([busy, calm], "en", "general") == calm
    assert r.pick_agent([agent(5), agent(4)], "en", "general").id == 4
    assert r.pick_agent([agent(1, langs=("zh-Hans",))], "en", "general") is None


def test_plan_follows_queue_order_and_counts_each_assignment_against_capacity():
    team = [agent(1, langs=("en", "zh-Hant"), skills=("orders", "general"), capacity=1), agent(2, capacity=2)]
    waiting = [
        (10, "zh-Hant", "orders"),
        (11, "en", "orders"),
        (12, "en", "general"),
        (13, "en", "general"),
        (14, "en", "general"),
    ]
    assert r.plan(waiting, team) == [(10, 1), (12, 2), (13, 2)]  # 11 waits: agent 1 is full


def test_clean_profile_orders_and_refuses_bad_values():
    assert r.clean_profile(["en", "zh-Hant", "en"], ["general", "orders"], 3) == (
        ["zh-Hant", "en"],
        ["orders", "general"],
        3,
    )
    for bad in ((["fr"], [], 1), ([], ["cooking"], 1), ([], [], -1), ([], [], 21), ([], [], True)):
        with pytest.raises(r.ProfileError):
            r.clean_profile(*bad)


def test_targets_are_stricter_for_higher_tiers_and_unknown_tiers_are_standard():
    standard, gold, platinum = r.targets("standard"), r.targets("gold"), r.targets("platinum")
    assert platinum[0] < gold[0] < standard[0] and platinum[1] < gold[1] < standard[1]
    assert r.targets("diamond") == standard == r.targets(None)


def test_clock_warns_from_eighty_percent_then_breaches_and_ends_met_or_missed():
    assert r.clock(T0, None, 10, T0 + timedelta(minutes=7), 0.8)["state"] == "ok"
    warned = r.clock(T0, None, 10, T0 + timedelta(minutes=8), 0.8)
    assert warned["state"] == "warning" and warned["elapsed_min"] == 8.0
    assert warned["due_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert r.clock(T0, None, 10, T0 + timedelta(minutes=10, seconds=1), 0.8)["state"] == "breached"
    assert r.clock(T0, T0 + timedelta(minutes=9), 10, T0 + timedelta(hours=5), 0.8)["state"] == "met"
    assert r.clock(T0, T0 + timedelta(minutes=11), 10, T0 + timedelta(hours=5), 0.8)["state"] == "missed"


def test_sla_uses_the_tier_targets_for_both_clocks():
    now = T0 + timedelta(minutes=4, seconds=30)
    gold = r.sla("gold", T0, None, None, now)  # gold: 5 min first response
    assert gold["first_response"]["state"] == "warning" and gold["first_response"]["target_min"] == 5
    assert gold["resolution"]["state"] == "ok"
    assert r.sla("standard", T0, None, None, now)["first_response"]["state"] == "ok"
    replied = r.sla("gold", T0, T0 + timedelta(minutes=1), None, now)
    assert replied["first_response"]["state"] == "met"


def test_a_broken_routing_section_fails_loudly(tmp_path, monkeypatch):
    from recovery.policy import POLICY_PATH

    text = POLICY_PATH.read_text(encoding="utf-8")
    for broken in (
        text.replace("default_skill: general", "default_skill: cooking"),
        text.replace("    order_status: orders", "    order_status: cooking"),
        text.replace("warn_at: 0.8", "warn_at: 1.5"),
        text.replace("  standard: {first_response_minutes: 15, resolution_hours: 48}\n", ""),
        text.replace("routing:", "routing_off:"),
    ):
        path = tmp_path / "policy.yml"
        path.write_text(broken, encoding="utf-8")
        monkeypatch.setenv("COMPENSATION_POLICY", str(path))
        _load.cache_clear()
        with pytest.raises(PolicyError):
            r.load_routing()
    _load.cache_clear()
