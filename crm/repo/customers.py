"""Customers and orders, including the agent-facing 360° view."""

from __future__ import annotations

import hmac
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm.errors import CRMNotFound
from crm.models import CompensationOffer, Conversation, Customer, Feedback, Message, Order, Ticket
from crm.repo._serialize import Row, columns, iso


class Consent(TypedDict):
    """One kind of consent (personalisation or marketing): whether, when and where it was given."""

    granted: bool
    at: str | None
    source: str | None


class CsatSummary(TypedDict):
    average: float | None
    count: int
    recent: list[Row]


class Customer360(TypedDict):
    """:func:`customer_360`: the profile (with ``consent``) and the customer's related rows."""

    profile: Row
    orders: list[Row]
    conversations: list[Row]
    tickets: list[Row]
    compensation: list[Row]
    csat: CsatSummary


PROFILE_FIELDS = [
    "id",
    "external_ref",
    "name",
    "email",
    "phone",
    "preferred_language",
    "tier",
    "lifetime_value",
    "birthday",
    "preferences",
    "notes",
    "created_at",
    "anonymised_at",
]
ORDER_FIELDS = ["id", "order_number", "status", "placed_at", "total", "currency"]
ITEM_FIELDS = ["sku", "name", "qty", "unit_price"]
CONVERSATION_FIELDS = ["id", "channel", "language", "status", "started_at", "ended_at", "handoff_reason"]
TICKET_FIELDS = [
    "id",
    "category",
    "severity",
    "status",
    "subject",
    "order_id",
    "conversation_id",
    "assignee_id",
    "created_at",
    "due_at",
    "resolution",
    "resolved_at",
]
HISTORY_FIELDS = ["from_status", "to_status", "changed_by", "changed_at", "note"]
OFFER_FIELDS = ["id", "ticket_id", "type", "amount", "currency", "status", "offered_at", "decided_at"]
IN_CHUNK = 5000  # ids per IN (...) list: well below SQLite's bound-parameter limit


def get_customer(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def find_customer_by_email(session: Session, email: str) -> Customer | None:
    stmt = select(Customer).where(func.lower(Customer.email) == email.strip().lower())
    return session.scalars(stmt.order_by(Customer.id).limit(1)).first()


def find_customer_by_external_ref(session: Session, external_ref: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.external_ref == external_ref)).first()


def normalise_order_number(order_number: str) -> str:
    """``" lm 1234-5678 "`` -> ``"LM12345678"`` (customers type them loosely)."""
    return "".join(ch for ch in order_number.upper() if ch.isalnum())


def find_order(session: Session, order_number: str) -> Order | None:
    """Order by number (case/space/dash-insensitive), with its items loaded."""
    stmt = (
        select(Order)
        .options(selectinload(Order.items))
        .where(Order.order_number == normalise_order_number(order_number))
    )
    return session.scalars(stmt).one_or_none()


def recent_orders(session: Session, customer_id: int, limit: int = 4) -> list[Order]:
    """The customer's latest orders, newest first."""
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def owns_order(order: Order, *, email: str | None = None, phone_last4: str | None = None) -> bool:
    """Whether ``email`` is the address on the order's customer, or ``phone_last4`` the last four
    digits of their phone (how an anonymous visitor shows an order is theirs)."""
    customer = order.customer
    if customer is None or customer.anonymised_at is not None:
        return False
    if email:
        known = (customer.email or "").strip().lower()
        return bool(known) and hmac.compare_digest(email.strip().lower().encode(), known.encode())
    phone = "".join(ch for ch in (customer.phone or "") if ch.isdigit())
    if not phone_last4 or len(phone) < 4:
        return False
    return hmac.compare_digest(phone_last4.encode(), phone[-4:].encode())


def order_dict(order: Order) -> Row:
    data = columns(order, ORDER_FIELDS)
    data["items"] = [columns(item, ITEM_FIELDS) for item in order.items]
    return data


def consent_dict(customer: Customer) -> dict[str, Consent]:
    return {
        kind: {
            "granted": getattr(customer, f"consent_{kind}"),
            "at": iso(getattr(customer, f"consent_{kind}_at")),
            "source": getattr(customer, f"consent_{kind}_source"),
        }
        for kind in ("personalisation", "marketing")
    }


def count_messages(session: Session, conversation_ids: list[int]) -> dict[int, int]:
    """``{conversation_id: number of messages}`` for these conversations (absent: none).

    Counts only the given conversations (an index range scan each), never the whole table.
    """
    counts: dict[int, int] = {}
    for start in range(0, len(conversation_ids), IN_CHUNK):
        chunk = conversation_ids[start : start + IN_CHUNK]
        counts.update(
            session.execute(
                select(Message.conversation_id, func.count())
                .where(Message.conversation_id.in_(chunk))
                .group_by(Message.conversation_id)
            )
            .tuples()
            .all()
        )
    return counts


def customer_360(
    session: Session,
    customer_id: int,
    *,
    max_orders: int | None = 20,
    max_conversations: int | None = 10,
) -> Customer360:
    """Everything an agent needs about one customer, as a JSON-safe dict.

    ``max_orders`` / ``max_conversations`` cap the newest orders / conversations returned
    (``None``: all of them, as the data export needs). Every query is driven by an index on
    the customer (or on the few conversations shown), so the cost follows the size of this
    customer's record, not of the store (see ``bench/crm_scale.py``).

    Keys: ``profile`` (incl. ``consent``), ``orders`` (newest first, with ``items``),
    ``conversations`` (recent, with ``message_count``; public tokens are never included),
    ``tickets`` (with status ``history``), ``compensation`` and ``csat``
    (``average``, ``count``, ``recent``). Money values are strings like ``"120.00"``.
    """
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CRMNotFound(f"customer {customer_id} not found")
    profile = columns(customer, PROFILE_FIELDS)
    profile["consent"] = consent_dict(customer)

    orders = session.scalars(
        select(Order)
        .options(selectinload(Order.items))
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(max_orders)
    ).all()

    conversations = session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(max_conversations)
    ).all()
    message_counts = count_messages(session, [c.id for c in conversations])

    tickets = session.scalars(
        select(Ticket)
        .options(selectinload(Ticket.history))
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).all()
    offers = session.scalars(
        select(CompensationOffer)
        .where(CompensationOffer.customer_id == customer_id)
        .order_by(CompensationOffer.offered_at.desc(), CompensationOffer.id.desc())
    ).all()
    csat_count, csat_sum = session.execute(
        select(func.count(Feedback.id), func.coalesce(func.sum(Feedback.csat), 0)).where(
            Feedback.customer_id == customer_id
        )
    ).one()
    recent_feedback = session.scalars(
        select(Feedback)
        .where(Feedback.customer_id == customer_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(5)
    ).all()

    return {
        "profile": profile,
        "orders": [order_dict(o) for o in orders],
        "conversations": [
            {**columns(c, CONVERSATION_FIELDS), "message_count": message_counts.get(c.id, 0)}
            for c in conversations
        ],
        "tickets": [
            {**columns(t, TICKET_FIELDS), "history": [columns(h, HISTORY_FIELDS) for h in t.history]}
            for t in tickets
        ],
        "compensation": [columns(o, OFFER_FIELDS) for o in offers],
        "csat": {
            "average": round(int(csat_sum) / csat_count, 2) if csat_count else None,
            "count": int(csat_count),
            "recent": [
                columns(f, ["conversation_id", "csat", "comment", "created_at"]) for f in recent_feedback
            ],
        },
    }
