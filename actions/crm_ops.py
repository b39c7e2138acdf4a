"""The CRM reads and writes of the conversation flows. Each function takes a SQLAlchemy Session
(from :func:`actions.services.crm_session`, in a worker thread) and never commits.

Privacy: a name is returned only when the customer consented to personalisation, and only for
the customer the website verified (``conversations.customer_id``). An order number typed in
the chat links a ticket to the order's customer but never reveals anything about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.parsing import first_name
from crm.models import Conversation, Customer, Ticket
from crm.orm.base import utcnow
from crm.repo import tickets as repo
from crm.repo.customers import find_order, owns_order, recent_orders
from recovery.policy import Option


@dataclass
class Profile:
    customer_id: int | None = None
    name: str | None = None  # how to address them; None without consent
    tier: str | None = None
    lifetime_value: Decimal = Decimal("0")
    currency: str = "TWD"


def customer_profile(session: Session, customer_id: int | None, *, verified: bool) -> Profile:
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None or customer.anonymised_at is not None:
        return Profile()
    currency = (customer.preferences or {}).get("currency") or "TWD"
    name = None
    if verified and customer.consent_personalisation:
        name = first_name(customer.name, customer.preferred_language)
    return Profile(customer.id, name, customer.tier, Decimal(customer.lifetime_value or 0), currency)


def conversation_profile(session: Session, conversation_id: int | None) -> Profile:
    """The website-verified customer of this chat (anonymous: an empty profile)."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    if conversation is None or conversation.customer_id is None:
        return Profile()
    return customer_profile(session, conversation.customer_id, verified=True)


def lookup_order(session: Session, number: str, verified_customer_id: int | None) -> dict[str, Any] | None:
    """The order, or None when unknown or when it belongs to someone else than the verified
    customer (so nobody learns whether another customer's order number exists)."""
    order = find_order(session, number)
    if order is None:
        return None
    if verified_customer_id is not None and order.customer_id != verified_customer_id:
        return None
    return {
        "id": order.id,
        "number": order.order_number,
        "customer_id": order.customer_id,
        "total": str(order.total),
        "currency": order.currency,
        "status": order.status,
    }


def order_choices(session: Session, customer_id: int | None) -> list[dict[str, Any]]:
    """The verified customer's recent orders, for buttons (number, date, total, status)."""
    if customer_id is None:
        return []
    return [
        {
            "number": o.order_number,
            "placed_at": o.placed_at.date().isoformat(),
            "total": str(o.total),
            "currency": o.currency,
            "status": o.status,
            "carrier": o.carrier,
            "tracking": o.tracking_number,
            "expected_at": o.expected_at.isoformat() if o.expected_at else None,
        }
        for o in recent_orders(session, customer_id)
    ]


def verify_order_owner(
    session: Session, number: str, *, email: str | None, phone_last4: str | None
) -> dict[str, Any] | None:
    """The order when the e-mail or the phone's last four digits match its owner; None for an
    unknown order and a wrong proof alike, so a guess reveals nothing."""
    order = find_order(session, number)
    if order is None or not owns_order(order, email=email, phone_last4=phone_last4):
        return None
    return lookup_order(session, number, None)


def waiting_count(session: Session) -> int:
    """Chats currently waiting for an agent (drives the announced wait)."""
    return int(
        session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == "waiting_agent")
        )
        or 0
    )


def had_recent_compensation(
    session: Session, customer_id: int, days: int, now: datetime | None = None
) -> bool:
    since = (now or utcnow()) - timedelta(days=days)
    return bool(repo.recent_compensations(session, customer_id, since))


def open_ticket(
    session: Session,
    *,
    subject: str,
    category: str,
    severity: str,
    customer_id: int | None,
    conversation_id: int | None,
    order_id: int | None,
    description: str,
    due_at: datetime,
    promise: repo.Promise,
    follow_up_at: datetime,
) -> int:
    """The complaint ticket with its due date, plus the follow-up that checks the promise (also
    for an anonymous customer: then an agent follows up, see the gateway's follow-up worker)."""
    ticket = repo.create_ticket(
        session,
        subject=subject[:200],
        category=category,
        severity=severity,
        customer_id=customer_id,
        conversation_id=conversation_id,
        order_id=order_id,
        description=description,
        due_at=due_at,
        actor="bot",
        promise=promise,
        follow_up_at=follow_up_at,
    )
    return ticket.id


def record_offers(
    session: Session, *, customer_id: int, ticket_id: int | None, options: list[Option]
) -> list[int]:
    """One ``offered`` CompensationOffer per option shown to the customer."""
    return [
        repo.offer_compensation(
            session,
            customer_id=customer_id,
            ticket_id=ticket_id,
            type=option.crm_type,
            amount=option.amount,
            currency=option.currency,
        ).id
        for option in options
    ]


def settle_offers(session: Session, offer_ids: list[int], chosen_id: int | None, *, grant: bool) -> None:
    """The chosen offer becomes ``chosen`` (then ``approved`` + ``granted`` when the bot may grant
    it on its own); every other offer shown is ``rejected``."""
    for offer_id in offer_ids:
        if offer_id == chosen_id:
            repo.set_offer_status(session, offer_id, "chosen")
            if grant:
                repo.set_offer_status(session, offer_id, "approved")
                repo.set_offer_status(session, offer_id, "granted")
        else:
            repo.set_offer_status(session, offer_id, "rejected")


class DueFollowUp(TypedDict):
    """A due follow-up the greeting asks about: what was promised, and the ticket's state."""

    id: int
    ticket_id: int
    promised_resolution: str | None
    complaint_category: str | None
    ticket_status: str
    overdue: bool
    due_at: datetime | None


def due_follow_up(session: Session, customer_id: int, now: datetime | None = None) -> DueFollowUp | None:
    """The oldest due follow-up of the customer, with its ticket (overdue flag included)."""
    now = now or utcnow()
    for follow_up in repo.due_follow_ups(session, customer_id, now):
        ticket = session.get(Ticket, follow_up.ticket_id) if follow_up.ticket_id else None
        if ticket is None or ticket.status == "closed":
            continue
        overdue = (
            ticket.status in repo.OPEN_TICKET_STATUSES and ticket.due_at is not None and ticket.due_at < now
        )
        return {
            "id": follow_up.id,
            "ticket_id": ticket.id,
            "promised_resolution": follow_up.promised_resolution,
            "complaint_category": follow_up.complaint_category,
            "ticket_status": ticket.status,
            "overdue": overdue,
            "due_at": ticket.due_at,
        }
    return None


def finish_follow_up(session: Session, follow_up_id: int, *, kept: bool) -> int | None:
    """Record the customer's answer. A broken promise puts the ticket back in progress with a
    note for the agents; returns the ticket id."""
    follow_up = repo.complete_follow_up(session, follow_up_id, "kept" if kept else "not_kept")
    if not kept and follow_up.ticket_id is not None:
        ticket = session.get(Ticket, follow_up.ticket_id)
        note = "Customer says the promise was not kept (bot follow-up)."
        if ticket is not None and ticket.status != "in_progress":
            repo.change_ticket_status(session, ticket.id, "in_progress", actor="bot", note=note)
        elif ticket is not None:
            ticket.description = ((ticket.description or "") + "\n" + note).strip()
    return follow_up.ticket_id


def save_csat(session: Session, conversation_id: int, score: int, comment: str | None) -> None:
    """One rating per chat (:func:`crm.repo.tickets.record_csat`): a second one, here or from the
    widget, replaces the first."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        repo.record_csat(session, conversation, score, comment)
