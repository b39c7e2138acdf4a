"""Tickets (with status history), compensation offers, follow-ups and CSAT feedback.

Sending due follow-ups (across customers, claimed once) is in :mod:`crm.repo.follow_ups`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.errors import CRMNotFound
from crm.models import CompensationOffer, Conversation, Feedback, FollowUp, Ticket, TicketStatusChange
from crm.orm.base import OFFER_STATUSES, TICKET_STATUSES, utcnow

#: Allowed offer transitions (anything may still be rejected before it is granted).
OFFER_FLOW = {
    "offered": {"chosen", "approved", "rejected"},
    "chosen": {"approved", "rejected"},
    "approved": {"granted", "rejected"},
    "rejected": set(),
    "granted": set(),
}


@dataclass(frozen=True)
class Promise:
    """What a follow-up checks: the ``resolution`` promised and the ``complaint`` category (keys
    of ``compensation_policy.yml``), stored in ``FollowUp.promised_resolution`` and
    ``FollowUp.complaint_category``."""

    resolution: str
    complaint: str


def create_ticket(
    session: Session,
    *,
    subject: str,
    category: str = "other",
    severity: str = "medium",
    customer_id: int | None = None,
    conversation_id: int | None = None,
    order_id: int | None = None,
    description: str | None = None,
    assignee_id: int | None = None,
    due_at: datetime | None = None,
    actor: str | None = None,
    created_at: datetime | None = None,
    promise: Promise | None = None,
    follow_up_at: datetime | None = None,
    follow_up: bool = True,
) -> Ticket:
    """Open a ticket; its first history row records ``None -> open``.

    Every promise gets a follow-up: a ticket with a deadline (``due_at``) gets the
    :class:`FollowUp` that asks whether it was kept, due at ``follow_up_at`` (default: the
    deadline), recording ``promise`` (what it checks), for the same customer and chat (an
    anonymous one goes to an agent, see the follow-up worker). ``follow_up=False`` only for
    callers that schedule that follow-up themselves (tests of the follow-up machinery).
    """
    now = created_at or utcnow()
    ticket = Ticket(
        subject=subject,
        category=category,
        severity=severity,
        status="open",
        customer_id=customer_id,
        conversation_id=conversation_id,
        order_id=order_id,
        description=description,
        assignee_id=assignee_id,
        due_at=due_at,
        created_at=now,
        updated_at=now,
    )
    ticket.history.append(
        TicketStatusChange(from_status=None, to_status="open", changed_by=actor, changed_at=now)
    )
    session.add(ticket)
    session.flush()
    if due_at is not None and follow_up:
        add_follow_up(
            session,
            due_at=follow_up_at or due_at,
            customer_id=customer_id,
            ticket_id=ticket.id,
            conversation_id=conversation_id,
            promise=promise,
            created_by=actor,
            created_at=now,
        )
    return ticket


def ticket_follow_ups(session: Session, ticket_id: int) -> list[FollowUp]:
    """The follow-ups of a ticket, the earliest due first."""
    return list(
        session.scalars(
            select(FollowUp).where(FollowUp.ticket_id == ticket_id).order_by(FollowUp.due_at, FollowUp.id)
        )
    )


def change_ticket_status(
    session: Session,
    ticket_id: int,
    status: str,
    *,
    actor: str | None = None,
    note: str | None = None,
    resolution: str | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Move a ticket to ``status`` and append the transition to its history."""
    if status not in TICKET_STATUSES:
        raise ValueError(f"unknown ticket status {status!r}")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise CRMNotFound(f"ticket {ticket_id} not found")
    now = at or utcnow()
    if status != ticket.status:
        ticket.history.append(
            TicketStatusChange(
                from_status=ticket.status,
                to_status=status,
                changed_by=actor,
                changed_at=now,
                note=note,
            )
        )
        ticket.status = status
        ticket.updated_at = now
    if resolution is not None:
        ticket.resolution = resolution
    if status in ("resolved", "closed") and ticket.resolved_at is None:
        ticket.resolved_at = now
    session.flush()
    return ticket


def offer_compensation(
    session: Session,
    *,
    customer_id: int,
    type: str,
    amount: Decimal | str | int,
    currency: str,
    ticket_id: int | None = None,
    offered_at: datetime | None = None,
) -> CompensationOffer:
    offer = CompensationOffer(
        customer_id=customer_id,
        ticket_id=ticket_id,
        type=type,
        amount=Decimal(str(amount)),
        currency=currency,
        status="offered",
        offered_at=offered_at or utcnow(),
    )
    session.add(offer)
    session.flush()
    return offer


def set_offer_status(
    session: Session,
    offer_id: int,
    status: str,
    *,
    approved_by_id: int | None = None,
    at: datetime | None = None,
) -> CompensationOffer:
    """Advance an offer along :data:`OFFER_FLOW`; ``ValueError`` on an illegal transition."""
    if status not in OFFER_STATUSES:
        raise ValueError(f"unknown offer status {status!r}")
    offer = session.get(CompensationOffer, offer_id)
    if offer is None:
        raise CRMNotFound(f"compensation offer {offer_id} not found")
    if status not in OFFER_FLOW[offer.status]:
        raise ValueError(f"offer {offer_id}: cannot go from {offer.status} to {status}")
    offer.status = status
    if status in ("approved", "rejected"):
        offer.approved_by_id = approved_by_id
        offer.decided_at = at or utcnow()
    session.flush()
    return offer


def add_follow_up(
    session: Session,
    *,
    due_at: datetime,
    customer_id: int | None = None,
    ticket_id: int | None = None,
    conversation_id: int | None = None,
    note: str | None = None,
    promise: Promise | None = None,
    created_by: str | None = None,
    created_at: datetime | None = None,
) -> FollowUp:
    """A follow-up: the bot's check of a ``promise``, or an agent's reminder with a ``note``."""
    fu = FollowUp(
        due_at=due_at,
        customer_id=customer_id,
        ticket_id=ticket_id,
        conversation_id=conversation_id,
        note=note,
        promised_resolution=promise.resolution if promise else None,
        complaint_category=promise.complaint if promise else None,
        created_by=created_by,
        created_at=created_at or utcnow(),
    )
    session.add(fu)
    session.flush()
    return fu


def complete_follow_up(session: Session, follow_up_id: int, outcome: str) -> FollowUp:
    """Record the answer (``status = done``): the worker never sends it after this, and the
    greeting no longer asks about it."""
    fu = session.get(FollowUp, follow_up_id)
    if fu is None:
        raise CRMNotFound(f"follow-up {follow_up_id} not found")
    fu.outcome, fu.done_at, fu.status = outcome, utcnow(), "done"
    fu.claimed_at = fu.next_attempt_at = None
    session.flush()
    return fu


def add_feedback(
    session: Session,
    *,
    conversation_id: int,
    csat: int,
    comment: str | None = None,
    customer_id: int | None = None,
    created_at: datetime | None = None,
) -> Feedback:
    if not 1 <= int(csat) <= 5:
        raise ValueError("csat must be between 1 and 5")
    fb = Feedback(
        conversation_id=conversation_id,
        customer_id=customer_id,
        csat=int(csat),
        comment=comment,
        created_at=created_at or utcnow(),
    )
    session.add(fb)
    session.flush()
    return fb


def latest_feedback(session: Session, conversation_id: int) -> Feedback | None:
    stmt = (
        select(Feedback)
        .where(Feedback.conversation_id == conversation_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def record_csat(session: Session, conversation: Conversation, score: int, comment: str | None) -> Feedback:
    """The chat's rating, from the bot's question or the widget alike: one per chat, a second
    one replaces the first (score and comment)."""
    if not 1 <= int(score) <= 5:
        raise ValueError("csat must be between 1 and 5")
    existing = latest_feedback(session, conversation.id)
    if existing is None:
        return add_feedback(
            session,
            conversation_id=conversation.id,
            csat=score,
            comment=comment,
            customer_id=conversation.customer_id,
        )
    existing.csat, existing.comment = score, comment
    session.flush()
    return existing


#: Offer statuses that count as "compensation given or promised" for the repeat rule.
COMPENSATED_STATUSES = ("chosen", "approved", "granted")
OPEN_TICKET_STATUSES = ("open", "in_progress", "waiting_customer")


def recent_compensations(session: Session, customer_id: int, since: datetime) -> list[CompensationOffer]:
    """Offers chosen, approved or granted for the customer at or after ``since``, newest first."""
    stmt = (
        select(CompensationOffer)
        .where(
            CompensationOffer.customer_id == customer_id,
            CompensationOffer.status.in_(COMPENSATED_STATUSES),
            CompensationOffer.offered_at >= since,
        )
        .order_by(CompensationOffer.offered_at.desc(), CompensationOffer.id.desc())
    )
    return list(session.scalars(stmt))


def due_follow_ups(session: Session, customer_id: int, now: datetime | None = None) -> list[FollowUp]:
    """Open follow-ups of the customer that are due, oldest first."""
    stmt = (
        select(FollowUp)
        .where(
            FollowUp.customer_id == customer_id,
            FollowUp.done_at.is_(None),
            FollowUp.due_at <= (now or utcnow()),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    return list(session.scalars(stmt))


def overdue_tickets(session: Session, now: datetime | None = None, *, limit: int = 200) -> list[Ticket]:
    """Tickets still open past their due date, most overdue first (flagged to agents)."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_TICKET_STATUSES),
            Ticket.due_at.is_not(None),
            Ticket.due_at < (now or utcnow()),
        )
        .order_by(Ticket.due_at, Ticket.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
