"""Customer-value metrics from the source documents: retention, churn, purchase frequency and
average order value. Each takes a Session and a time window and returns a plain number.

* *retention* over ``[start, end)``: of the customers who ordered in the window of the same
  length just before ``start``, the share who ordered again within ``[start, end)``;
* *churn* = 1 - retention (same population);
* *purchase frequency*: orders per ordering customer within ``[start, end)``;
* *average order value*: mean order total within ``[start, end)``, per currency (totals in
  different currencies are never added together). Cancelled orders are left out throughout.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Order

EXCLUDED_STATUSES = ("cancelled",)


def _ordering_customers(session: Session, start: datetime, end: datetime) -> set[int]:
    stmt = (
        select(Order.customer_id)
        .where(Order.placed_at >= start, Order.placed_at < end, Order.status.not_in(EXCLUDED_STATUSES))
        .distinct()
    )
    return set(session.scalars(stmt))


def retention_rate(session: Session, start: datetime, end: datetime) -> float | None:
    """``None`` when nobody ordered in the previous window."""
    previous = _ordering_customers(session, start - (end - start), start)
    if not previous:
        return None
    return len(previous & _ordering_customers(session, start, end)) / len(previous)


def churn_rate(session: Session, start: datetime, end: datetime) -> float | None:
    retention = retention_rate(session, start, end)
    return None if retention is None else 1.0 - retention


def purchase_frequency(session: Session, start: datetime, end: datetime) -> float | None:
    orders, customers = session.execute(
        select(func.count(Order.id), func.count(func.distinct(Order.customer_id))).where(
            Order.placed_at >= start, Order.placed_at < end, Order.status.not_in(EXCLUDED_STATUSES)
        )
    ).one()
    return None if not customers else orders / customers


def average_order_value(session: Session, start: datetime, end: datetime) -> dict[str, Decimal]:
    rows = session.execute(
        select(Order.currency, func.sum(Order.total), func.count(Order.id))
        .where(Order.placed_at >= start, Order.placed_at < end, Order.status.not_in(EXCLUDED_STATUSES))
        .group_by(Order.currency)
    ).all()
    return {
        currency: (Decimal(total) / count).quantize(Decimal("0.01"))
        for currency, total, count in rows
        if count
    }
