"""Pure helpers: the compensation policy, frustration/severity cues, free-text parsing, labels."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from actions.parsing import (
    category_from_text,
    correction_field_from_text,
    first_name,
    order_number_from_text,
    outcome_from_text,
    parse_csat,
)
from recovery import policy
from recovery.frustration import estimate_severity, frustration_score, is_shouting
from recovery.labels import deadline, money, option_label


# ------------------------------------------------------------------ policy
def test_policy_file_is_complete_and_valid():
    data = policy.load_policy()
    assert set(data["categories"]) == set(policy.CATEGORIES)
    assert data["bot_limit"] > 0 and data["repeat_window_days"] == 30


def test_offers_are_recorded_under_the_options_own_crm_types():
    from copy import deepcopy

    from crm.orm.base import OFFER_TYPES

    data = policy.load_policy()
    assert {name: spec["crm_type"] for name, spec in data["options"].items()} == {
        name: name for name in policy.OPTION_TYPES
    }
    # The rules import nothing of the CRM: that the CRM accepts every type the policy records
    # (its CHECK constraint on CompensationOffer.type) is this test's job.
    assert set(policy.OPTION_TYPES) <= set(OFFER_TYPES)
    assert {spec["crm_type"] for spec in data["options"].values()} <= set(OFFER_TYPES)
    assert {
        policy.Option(kind, Decimal(1), "TWD", Decimal(1)).crm_type for kind in policy.OPTION_TYPES
    } <= set(OFFER_TYPES)
    broken = deepcopy(data)
    broken["options"]["shipping_refund"]["crm_type"] = None
    with pytest.raises(policy.PolicyError, match="shipping_refund: crm_type"):
        policy._check(broken)


def test_resolution_follows_the_wish_only_when_the_policy_allows_it():
    assert policy.propose_resolution("damaged_defective", "repair") == "repair"
    assert policy.propose_resolution("billing_error", "replacement") == "refund"
    assert policy.propose_resolution("staff_attitude", None) == "review"
    assert policy.propose_resolution("nonsense", "refund") == "review"


def test_compensation_scales_with_tier_and_lifetime_value_and_respects_caps():
    standard = policy.compensation_options("late_delivery", "medium", tier="standard", order_total=1000)
    gold = policy.compensation_options(
        "late_delivery", "medium", tier="gold", lifetime_value=200000, order_total=1000
    )
    points = {o.type: o.amount for o in standard}["points"]
    gold_points = {o.type: o.amount for o in gold}["points"]
    assert points == 200 and gold_points == Decimal("310")  # 200 x 1.3 x 1.2 = 312 -> 310
    critical = policy.compensation_options(
        "late_delivery", "critical", tier="platinum", lifetime_value=500000, order_total=100000
    )
    refund = next(o for o in critical if o.type == "partial_refund")
    assert refund.percent == 30 and refund.amount == Decimal("3000")  # percent and money caps


def test_options_that_need_an_order_are_dropped_without_one():
    types = {o.type for o in policy.compensation_options("late_delivery", "high", order_total=None)}
    assert "shipping_refund" not in types and "partial_refund" not in types and "points" in types


def test_amounts_are_converted_to_the_order_currency():
    hkd = policy.compensation_options("billing_error", "high", currency="HKD", order_total=800)
    coupon = next(o for o in hkd if o.type == "coupon")
    assert coupon.currency == "HKD" and coupon.amount == Decimal("75") and coupon.value_twd == 300


def test_bot_limit_decides_approval():
    options = policy.compensation_options(
        "damaged_defective", "critical", tier="platinum", lifetime_value=200000, order_total=30000
    )
    assert any(o.needs_approval() for o in options)
    low = policy.compensation_options("damaged_defective", "low")
    assert not any(o.needs_approval() for o in low)


def test_due_dates_shorten_with_severity_and_wait_grows_with_queue():
    now = datetime(2025, 1, 15, tzinfo=timezone.utc)
    assert policy.due_at("late_delivery", "medium", now) > policy.due_at("late_delivery", "critical", now)
    assert policy.handoff_wait_minutes(0) == 3 and policy.handoff_wait_minutes(100) == 30
    assert policy.handoff_wait_minutes(0, priority=True) < policy.handoff_wait_minutes(0)
    assert policy.is_top_tier("platinum") and not policy.is_top_tier("gold")


# ------------------------------------------------------------------ frustration / severity
@pytest.mark.parametrize(
    "text, handoff",
    [
        ("my order is late", False),
        ("氣死我了！！！", False),  # one strong word + bangs: not yet
        ("太扯了吧 垃圾公司！！！", True),  # two strong words + bangs
        ("THIS IS RIDICULOUS, WHERE IS MY ORDER!!!", True),  # shouting + word + bangs
        ("这也太离谱了吧，气死我了！！！", True),
        ("點解張單等咗兩個禮拜都未到，好嬲！！", False),
    ],
)
def test_frustration_score(text, handoff):
    assert (frustration_score(text).score >= 0.7) is handoff


def test_repeated_complaints_and_failures_raise_frustration():
    assert frustration_score("still not here", previous_complaints=1).score == pytest.approx(0.55)
    assert frustration_score("late", previous_complaints=2).score >= 0.7
    assert "failed_answers:2" in frustration_score("hm", failed_answers=2).cues


def test_shouting_ignores_order_numbers_and_short_caps():
    assert not is_shouting("LM20240512 OK")
    assert is_shouting("WHY IS NOBODY ANSWERING")


@pytest.mark.parametrize(
    "text, severity",
    [
        ("the charger started to smoke", "critical"),
        ("充電器冒煙了", "critical"),
        ("第三次了 又延遲", "high"),
        ("waited two weeks for the repair", "high"),
        ("a minor scratch on the box", "low"),
        ("the colour is wrong", "medium"),
    ],
)
def test_severity(text, severity):
    assert estimate_severity(text) == severity


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    "text, category",
    [
        ("包裹到現在還沒到", "late_delivery"),
        ("耳机有杂音 坏了", "damaged_defective"),
        ("you sent the wrong colour", "wrong_missing_item"),
        ("I was charged twice", "billing_error"),
        ("the courier was really rude", "staff_attitude"),
        ("送修一個月了", "repair_delay"),
        ("hello there", None),
    ],
)
def test_category_from_text(text, category):
    assert category_from_text(text) == category


def test_outcome_order_and_field_parsing():
    assert outcome_from_text("I want my money back") == "refund"
    assert outcome_from_text("換一台新的") == "replacement"
    assert order_number_from_text("it's lm 2024-0512") == "LM20240512"
    assert order_number_from_text("訂單20240512") == "LM20240512"
    assert order_number_from_text("no idea") is None
    assert correction_field_from_text("the order number is wrong") == "order_number"


@pytest.mark.parametrize(
    "text, score",
    [
        ("5", 5),
        ("4/5", 4),
        ("i'd give you 4 stars", 4),
        ("給你三分", 3),
        ("五星好评", 5),
        ("⭐⭐⭐", 3),
        ("滿分", 5),
        ("zero stars", 1),
        ("10/10", 5),
        ("whatever", None),
    ],
)
def test_parse_csat(text, score):
    assert parse_csat(text) == score


def test_first_name():
    assert first_name("Amelia Clarke", "en") == "Amelia"
    assert first_name("陳大文", "zh-Hant") == "陳大文"
    assert first_name("", "en") is None


# ------------------------------------------------------------------ labels
def test_money_deadline_and_option_labels_in_each_language():
    assert money(Decimal("150"), "TWD") == "NT$150" and money(38, "HKD") == "HK$38"
    when = datetime(2025, 1, 17, 2, 0, tzinfo=timezone.utc)  # 10:00 in UTC+8
    assert deadline(when, "en", now=when) == "Fri 17 Jan, 10:00"
    assert deadline(when, "zh-Hant", now=when) == "1月17日（週五）10:00"
    assert deadline(when, "zh-Hans", now=when) == "1月17日（周五）10:00"
    later = datetime(2026, 3, 1, tzinfo=timezone.utc)  # a promise from another year names the year
    assert deadline(when, "en", now=later) == "Fri 17 Jan 2025, 10:00"
    assert deadline(when, "zh-Hant", now=later) == "2025年1月17日（週五）10:00"
    coupon = {"type": "coupon", "amount": "150", "currency": "TWD"}
    assert option_label(coupon, "en") == "a NT$150 coupon"
    assert option_label(coupon, "zh-Hant") == "NT$150 折價券"
    points = {"type": "points", "amount": "200", "currency": "PTS"}
    assert option_label(points, "zh-Hans") == "200 点流明积分"
