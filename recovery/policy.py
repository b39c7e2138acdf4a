"""The service-recovery policy (``compensation_policy.yml``): load, validate, and apply it.

Pure functions, no Rasa and no database: resolutions per category, compensation options for
category x severity x tier x lifetime value with caps, the bot's approval limit, due dates.
The file's ``approval_limits`` (what each console role may approve) are read by
:mod:`recovery.approvals`. That each option's ``crm_type`` is a type the CRM accepts is checked
by the test suite (the rules import nothing of the CRM).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

POLICY_PATH = Path(__file__).resolve().parent.parent / "compensation_policy.yml"
CATEGORIES = (
    "late_delivery",
    "damaged_defective",
    "wrong_missing_item",
    "billing_error",
    "staff_attitude",
    "repair_delay",
    "other",
)
SEVERITIES = ("low", "medium", "high", "critical")
RESOLUTIONS = ("replacement", "repair", "refund", "redelivery", "review")
OPTION_TYPES = ("points", "coupon", "shipping_refund", "expedited_replacement", "partial_refund")


class PolicyError(ValueError):
    """The policy file is malformed."""


@dataclass(frozen=True)
class Option:
    """One compensation option the customer may choose."""

    type: str
    amount: Decimal  # points for `points`, money in `currency` otherwise
    currency: str  # "PTS" for points
    value_twd: Decimal  # what it costs, compared with the bot's limit
    percent: int | None = None

    @property
    def crm_type(self) -> str:
        return str(load_policy()["options"][self.type]["crm_type"])

    def needs_approval(self, policy: dict[str, Any] | None = None) -> bool:
        return self.value_twd > Decimal(str((policy or load_policy())["bot_limit"]))


def _check(policy: dict[str, Any]) -> dict[str, Any]:
    for key in (
        "fx",
        "bot_limit",
        "repeat_window_days",
        "top_tiers",
        "options",
        "categories",
        "tier_multiplier",
        "lifetime_value_multiplier",
        "severity_due_factor",
        "approval_limits",
        "frustration_threshold",
    ):
        if key not in policy:
            raise PolicyError(f"compensation policy: missing key {key!r}")
    if set(policy["options"]) != set(OPTION_TYPES):
        raise PolicyError(f"compensation policy: options must be exactly {OPTION_TYPES}")
    for name, spec in policy["options"].items():
        crm_type = (spec or {}).get("crm_type")
        if not isinstance(crm_type, str) or not crm_type:
            raise PolicyError(f"compensation policy: option {name}: crm_type must name a CRM offer type")
        bad = [
            r for r in [*(spec.get("only_with") or ()), *(spec.get("not_with") or ())] if r not in RESOLUTIONS
        ]
        if bad:
            raise PolicyError(f"compensation policy: option {name}: unknown resolutions {bad}")
    if set(policy["categories"]) != set(CATEGORIES):
        raise PolicyError(f"compensation policy: categories must be exactly {CATEGORIES}")
    for name, cat in policy["categories"].items():
        bad = [r for r in cat.get("resolutions", []) if r not in RESOLUTIONS]
        if bad or not cat.get("resolutions"):
            raise PolicyError(f"compensation policy: {name}: bad resolutions {bad}")
        if set(cat.get("compensation", {})) != set(SEVERITIES):
            raise PolicyError(f"compensation policy: {name}: compensation needs {SEVERITIES}")
        for severity, table in cat["compensation"].items():
            unknown = set(table or {}) - set(OPTION_TYPES)
            if unknown:
                raise PolicyError(f"compensation policy: {name}/{severity}: unknown {unknown}")
    _check_approval_limits(policy)
    _check_service_targets(policy)
    return policy


SERVICE_TARGET_KEYS = ("first_response_minutes", "resolution_hours")


def _check_service_targets(policy: dict[str, Any]) -> None:
    """Optional ``service_targets``: per tier, positive ``first_response_minutes`` and ``resolution_hours``."""
    targets = policy.get("service_targets") or {}
    if not isinstance(targets, dict):
        raise PolicyError("compensation policy: service_targets must map tiers to targets")
    for tier, spec in targets.items():
        for key in SERVICE_TARGET_KEYS:
            value = (spec or {}).get(key) if isinstance(spec, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise PolicyError(
                    f"compensation policy: service_targets.{tier}.{key} must be a positive number"
                )


def _check_approval_limits(policy: dict[str, Any]) -> None:
    """``approval_limits``: per role, ``null`` (no limit) or amounts per currency of ``fx`` or ``PTS``."""
    limits = policy["approval_limits"]
    if not isinstance(limits, dict) or not limits:
        raise PolicyError("compensation policy: approval_limits must map roles to limits")
    currencies = {*policy["fx"], "PTS"}
    for role, table in limits.items():
        if table is None:
            continue
        if not isinstance(table, dict):
            raise PolicyError(f"compensation policy: approval_limits.{role} must be null or per currency")
        for currency, amount in table.items():
            if currency not in currencies or isinstance(amount, bool) or not isinstance(amount, int | float):
                raise PolicyError(f"compensation policy: approval_limits.{role}.{currency}: bad limit")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return _check(yaml.safe_load(fh))


def load_policy() -> dict[str, Any]:
    """The policy (cached). ``COMPENSATION_POLICY`` may point at another file (tests)."""
    return _load(os.environ.get("COMPENSATION_POLICY") or str(POLICY_PATH))


def service_targets() -> dict[str, dict[str, float]]:
    """Per tier: ``first_response_minutes`` and ``resolution_hours`` (empty without the section)."""
    targets = load_policy().get("service_targets") or {}
    return {
        str(tier): {key: float(spec[key]) for key in SERVICE_TARGET_KEYS} for tier, spec in targets.items()
    }


def resolutions_for(category: str | None) -> list[str]:
    return list(load_policy()["categories"][category if category in CATEGORIES else "other"]["resolutions"])


def needs_order(category: str | None) -> bool:
    """Whether a complaint of ``category`` is about an order (a store visit or staff is not)."""
    spec = load_policy()["categories"].get(category or "other", {})
    return bool(spec.get("needs_order", True))


def propose_resolution(category: str | None, desired: str | None) -> str:
    """The customer's wish when the policy allows it for the category, else the first allowed."""
    allowed = resolutions_for(category)
    return desired if desired in allowed else allowed[0]


def ticket_category(category: str | None) -> str:
    return str(
        load_policy()["categories"][category if category in CATEGORIES else "other"]["ticket_category"]
    )


def due_at(category: str | None, severity: str, now: datetime) -> datetime:
    policy = load_policy()
    hours = policy["categories"][category if category in CATEGORIES else "other"]["due_hours"]
    factor = policy["severity_due_factor"].get(severity, 1.0)
    return now + timedelta(hours=max(2.0, float(hours) * float(factor)))


def _multiplier(tier: str | None, lifetime_value_twd: Decimal) -> Decimal:
    policy = load_policy()
    mult = Decimal(str(policy["tier_multiplier"].get(tier or "standard", 1.0)))
    band = Decimal("1")
    for row in sorted(policy["lifetime_value_multiplier"], key=lambda r: r["min"]):
        if lifetime_value_twd >= Decimal(str(row["min"])):
            band = Decimal(str(row["multiplier"]))
    return mult * band


def _round10(value: Decimal) -> Decimal:
    return (value / 10).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 10


def fx(currency: str | None) -> Decimal:
    return Decimal(str(load_policy()["fx"].get(currency or "TWD", 1.0)))


def compensation_options(
    category: str | None,
    severity: str,
    *,
    tier: str | None = None,
    lifetime_value: Decimal | int | str = 0,
    currency: str | None = "TWD",
    order_total: Decimal | int | str | None = None,
    resolution: str | None = None,
) -> list[Option]:
    """Options allowed for this complaint, scaled by tier and lifetime value and capped.

    ``lifetime_value`` and ``order_total`` are in ``currency``; options that need an order
    (shipping refund, partial refund) are left out without one, and so are options that would
    contradict the agreed ``resolution`` (the option's ``only_with`` / ``not_with`` lists: no
    express replacement after choosing a refund).
    """
    policy = load_policy()
    currency = currency if currency is not None and currency in policy["fx"] else "TWD"
    rate = fx(currency)
    ltv_twd = Decimal(str(lifetime_value or 0)) / rate
    mult = _multiplier(tier, ltv_twd)
    table = policy["categories"][category if category in CATEGORIES else "other"]["compensation"]
    options: list[Option] = []
    for kind, base in (table.get(severity if severity in SEVERITIES else "medium") or {}).items():
        spec = policy["options"][kind]
        if spec.get("needs_order") and order_total is None:
            continue
        if not fits_resolution(spec, resolution):
            continue
        if kind == "points":
            points = min(_round10(Decimal(str(base)) * mult), Decimal(str(spec["cap"])))
            options.append(Option(kind, points, "PTS", points * Decimal(str(spec["twd_per_unit"]))))
        elif kind == "coupon":
            twd = min(_round10(Decimal(str(base)) * mult), Decimal(str(spec["cap"])))
            options.append(Option(kind, _money(twd * rate), currency, twd))
        elif kind == "partial_refund":
            percent = min(int(Decimal(str(base)) * mult), int(spec["cap_percent"]))
            total = Decimal(str(order_total))
            amount = min(total * percent / 100, Decimal(str(spec["cap"])) * rate)
            options.append(Option(kind, _money(amount), currency, _money(amount / rate), percent))
        else:  # fixed-value options
            twd = Decimal(str(spec["fixed"]))
            options.append(Option(kind, _money(twd * rate), currency, twd))
    return options


def fits_resolution(spec: dict[str, Any], resolution: str | None) -> bool:
    only, never = spec.get("only_with") or (), spec.get("not_with") or ()
    return (not only or resolution in only) and resolution not in never


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def is_top_tier(tier: str | None) -> bool:
    return bool(tier) and tier in load_policy()["top_tiers"]


def handoff_wait_minutes(waiting: int, *, priority: bool = False) -> int:
    spec = load_policy()["handoff_wait_minutes"]
    base = spec["priority_base"] if priority else spec["base"]
    return int(min(spec["max"], base + spec["per_waiting"] * max(0, waiting)))
