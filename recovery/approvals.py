"""How much compensation each role may approve, per currency or in points (``PTS``); admin: no limit.

The amounts are a business decision; they live here, in one place, until they move to settings.
"""

from __future__ import annotations

from decimal import Decimal

APPROVAL_LIMITS: dict[str, dict[str, Decimal]] = {
    "agent": {"TWD": Decimal("1000"), "HKD": Decimal("250"), "CNY": Decimal("250"), "PTS": Decimal("2000")},
    "manager": {
        "TWD": Decimal("10000"),
        "HKD": Decimal("2500"),
        "CNY": Decimal("2500"),
        "PTS": Decimal("20000"),
    },
}


def approval_limit(role: str, currency: str) -> Decimal | None:
    """The most ``role`` may approve in ``currency``; None means unlimited."""
    if role == "admin":
        return None
    return APPROVAL_LIMITS.get(role, {}).get(currency.upper(), Decimal("0"))


def can_approve(role: str, amount: Decimal | str, currency: str) -> bool:
    limit = approval_limit(role, currency)
    return limit is None or Decimal(str(amount)) <= limit
