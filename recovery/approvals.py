"""How much compensation each console role may approve, per currency or in points (``PTS``).

The amounts are a business decision: ``approval_limits`` in ``compensation_policy.yml``, read
with the rest of the policy (:func:`recovery.policy.load_policy`). A role listed as ``null``
(admin) has no limit; a role or currency not listed may approve nothing.
"""

from __future__ import annotations

from decimal import Decimal

from recovery.policy import load_policy


def approval_limits() -> dict[str, dict[str, Decimal] | None]:
    """Every role's limits as in the policy file (``None``: no limit)."""
    return {
        role: None if table is None else {cur.upper(): Decimal(str(amount)) for cur, amount in table.items()}
        for role, table in load_policy()["approval_limits"].items()
    }


def approval_limit(role: str, currency: str) -> Decimal | None:
    """The most ``role`` may approve in ``currency``; None means unlimited."""
    limits = approval_limits()
    if role in limits and limits[role] is None:
        return None
    return (limits.get(role) or {}).get(currency.upper(), Decimal("0"))


def can_approve(role: str, amount: Decimal | str, currency: str) -> bool:
    limit = approval_limit(role, currency)
    return limit is None or Decimal(str(amount)) <= limit
