"""Delivery of follow-ups across all customers (the gateway's follow-up worker).

Scheduling and answers are in :mod:`crm.repo.tickets` (``add_follow_up``,
``complete_follow_up``, ``due_follow_ups`` of one customer). Here: which follow-ups are due to
be sent, the claim that makes a send happen once even with several gateway processes, and the
recorded result of each attempt. Functions take a Session and never commit; the worker commits
after each step so no transaction stays open while it talks to the outside world.

Life of a row (``FollowUp.status``)::

    pending ──claim──► sending ──► sent ──(answer)──► done
       ▲                  │ └────► needs_agent / skipped
       └──failure (backoff)┘
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.models import Conversation, Customer, FollowUp, Ticket
from crm.orm.base import utcnow

MAX_ERROR_CHARS = 500


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def follow_ups_to_send(session: Session, now: datetime | None = None, *, limit: int = 20) -> list[int]:
    """Ids of ``pending`` follow-ups due at ``now`` whose retry time (if any) has come, oldest
    first. Served by ``ix_follow_ups_status_due``."""
    now = _now(now)
    stmt = (
        select(FollowUp.id)
        .where(
            FollowUp.status == "pending",
            FollowUp.due_at <= now,
            or_(FollowUp.next_attempt_at.is_(None), FollowUp.next_attempt_at <= now),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(max(1, limit))
    )
    return list(session.scalars(stmt))


def claim_follow_up(session: Session, follow_up_id: int, now: datetime | None = None) -> bool:
    """Take a due ``pending`` follow-up for sending (``status = sending``).

    One conditional UPDATE (like ``transition_conversation``): of two workers claiming the same
    row only one changes it; the other gets False. Returns whether this call won the claim.
    """
    now = _now(now)
    stmt = (
        update(FollowUp)
        .where(
            FollowUp.id == follow_up_id,
            FollowUp.status == "pending",
            FollowUp.due_at <= now,
            or_(FollowUp.next_attempt_at.is_(None), FollowUp.next_attempt_at <= now),
        )
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt)) == 1


def release_stale_claims(session: Session, claimed_before: datetime) -> int:
    """Give claims older than ``claimed_before`` back (their worker died mid-send); returns how
    many. The send is then retried, so a notifier must be idempotent per follow-up id."""
    stmt = (
        update(FollowUp)
        .where(FollowUp.status == "sending", FollowUp.claimed_at < claimed_before)
        .values(status="pending", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


def _finish_claim(session: Session, follow_up_id: int, **values: Any) -> bool:
    """Move a claimed (``sending``) row on; False when the claim was lost meanwhile (answered,
    or taken back as stale)."""
    stmt = (
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.status == "sending")
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt)) == 1


def mark_sent(session: Session, follow_up_id: int, *, channel: str, at: datetime | None = None) -> bool:
    return _finish_claim(
        session,
        follow_up_id,
        status="sent",
        sent_at=_now(at),
        channel=channel,
        next_attempt_at=None,
        last_error=None,
    )


def mark_not_sent(session: Session, follow_up_id: int, *, status: str, reason: str) -> bool:
    """``needs_agent`` (an agent follows up instead) or ``skipped`` (nothing to ask)."""
    if status not in ("needs_agent", "skipped"):
        raise ValueError(f"not a final unsent status: {status!r}")
    return _finish_claim(session, follow_up_id, status=status, reason=reason[:40], next_attempt_at=None)


def record_failure(session: Session, follow_up_id: int, *, error: str, retry_at: datetime) -> bool:
    """A failed send: back to ``pending``, one more attempt, retried from ``retry_at``."""
    return _finish_claim(
        session,
        follow_up_id,
        status="pending",
        attempts=FollowUp.attempts + 1,
        next_attempt_at=retry_at,
        last_error=" ".join(str(error).split())[:MAX_ERROR_CHARS],
    )


@dataclass
class DeliveryContext:
    """What a notifier needs to know about one claimed follow-up."""

    follow_up: FollowUp
    customer: Customer | None
    ticket: Ticket | None
    conversation: Conversation | None  # the customer's latest conversation


def latest_conversation(session: Session, customer_id: int) -> Conversation | None:
    """The customer's most recently started conversation (``ix_conversations_customer_started``)."""
    stmt = (
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def delivery_context(session: Session, follow_up_id: int) -> DeliveryContext | None:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        return None
    customer = session.get(Customer, follow_up.customer_id) if follow_up.customer_id else None
    ticket = session.get(Ticket, follow_up.ticket_id) if follow_up.ticket_id else None
    conversation = latest_conversation(session, customer.id) if customer is not None else None
    return DeliveryContext(follow_up, customer, ticket, conversation)
