"""Customer-value metrics from the source documents: retention, churn, purchase frequency and
average order value. Each takes a Session and a time window and returns a plain number.

* *retention* over ``[start, end)``: of the customers who ordered in the window of the same
  length just before ``start``, the share who ordered again within ``[start, end)``;
* *churn* = 1 - retention (same population);
* *purchase frequency*: orders per ordering customer within ``[start, end)``;
* *average order value*: mean order total within ``[start, end)``, per currency (totals in
  different currencies are never added together);
* *customer lifetime value*: per currency, the mean of each customer's order totals placed before
  ``end`` (customers with orders in that currency);
* *tier pyramid*: customers (not anonymised) per loyalty tier, with their lifetime value.

Cancelled orders are left out throughout. ``language`` (optional) keeps the customers whose
preferred language it is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm.models import Customer, Order
from crm.orm.base import TIERS
from crm.repo.analytics_types import TierCount

EXCLUDED_STATUSES = ("cancelled",)
CENT = Decimal("0.01")


def _kept(start: datetime | None, end: datetime, language: str | None) -> list[ColumnElement[bool]]:
    """Conditions on orders: placed in ``[start, end)``, not cancelled, of a customer in ``language``."""
    where = [Order.placed_at < end, Order.status.not_in(EXCLUDED_STATUSES)]
    if start is not None:
        where.append(Order.placed_at >= start)
    if language:
        where.append(
            Order.customer_id.in_(select(Customer.id).where(Customer.preferred_language == language))
        )
    return where


def _ordering_customers(session: Session, start: datetime, end: datetime, language: str | None) -> set[int]:
    return set(session.scalars(select(Order.customer_id).where(*_kept(start, end, language)).distinct()))


def retention_rate(
    session: Session, start: datetime, end: datetime, language: str | None = None
) -> float | None:
    """``None`` when nobody ordered in the previous window."""
    previous = _ordering_customers(session, start - (end - start), start, language)
    if not previous:
        return None
    return len(previous & _ordering_customers(session, start, end, language)) / len(previous)


def churn_rate(session: Session, start: datetime, end: datetime, language: str | None = None) -> float | None:
    retention = retention_rate(session, start, end, language)
    return None if retention is None else 1.0 - retention


def purchase_frequency(
    session: Session, start: datetime, end: datetime, language: str | None = None
) -> float | None:
    orders, customers = session.execute(
        select(func.count(Order.id), func.count(func.distinct(Order.customer_id))).where(
            *_kept(start, end, language)
        )
    ).one()
    return None if not customers else orders / customers


def _customer_totals(session: Session, end: datetime, language: str | None) -> dict[tuple[int, str], Decimal]:
    """(customer id, currency) -> order total placed before ``end``."""
    rows = session.execute(
        select(Order.customer_id, Order.currency, func.sum(Order.total))
        .where(*_kept(None, end, language))
        .group_by(Order.customer_id, Order.currency)
    ).all()
    return {(cid, currency): Decimal(total) for cid, currency, total in rows}


def _means(values: dict[str, list[Decimal]]) -> dict[str, Decimal]:
    return {c: (sum(v, Decimal(0)) / len(v)).quantize(CENT) for c, v in sorted(values.items()) if v}


def customer_lifetime_value(
    session: Session, end: datetime, language: str | None = None
) -> dict[str, Decimal]:
    by_currency: dict[str, list[Decimal]] = defaultdict(list)
    for (_, currency), total in _customer_totals(session, end, language).items():
        by_currency[currency].append(total)
    return _means(by_currency)


def tier_pyramid(session: Session, end: datetime, language: str | None = None) -> list[TierCount]:
    """Every tier, the top one first, with its customers created before ``end``."""
    stmt = select(Customer.id, Customer.tier).where(
        Customer.anonymised_at.is_(None), Customer.created_at < end
    )
    if language:
        stmt = stmt.where(Customer.preferred_language == language)
    tiers = dict(session.execute(stmt).tuples().all())
    values: dict[str, dict[str, list[Decimal]]] = {tier: defaultdict(list) for tier in TIERS}
    for (cid, currency), total in _customer_totals(session, end, language).items():
        if cid in tiers:
            values[tiers[cid]][currency].append(total)
    counts = {tier: sum(1 for t in tiers.values() if t == tier) for tier in TIERS}
    return [
        {
            "tier": tier,
            "customers": counts[tier],
            "lifetime_value": {c: f"{v}" for c, v in _means(values[tier]).items()},
        }
        for tier in reversed(TIERS)
    ]


def average_order_value(
    session: Session, start: datetime, end: datetime, language: str | None = None
) -> dict[str, Decimal]:
    rows = session.execute(
        select(Order.currency, func.sum(Order.total), func.count(Order.id))
        .where(*_kept(start, end, language))
        .group_by(Order.currency)
    ).all()
    return {
        currency: (Decimal(total) / count).quantize(Decimal("0.01"))
        for currency, total, count in rows
        if count
    }
