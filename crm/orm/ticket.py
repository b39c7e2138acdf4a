"""Ticket (+ status history), CompensationOffer and FollowUp."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.orm.base import (
    FOLLOW_UP_STATUSES,
    OFFER_STATUSES,
    OFFER_TYPES,
    TICKET_CATEGORIES,
    TICKET_SEVERITIES,
    TICKET_STATUSES,
    Base,
    one_of,
    utcnow,
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        one_of("category", TICKET_CATEGORIES),
        one_of("severity", TICKET_SEVERITIES),
        one_of("status", TICKET_STATUSES),
        Index("ix_tickets_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(20), default="other")
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    status: Mapped[str] = mapped_column(String(20), default="open")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    due_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]

    history: Mapped[list[TicketStatusChange]] = relationship(
        back_populates="ticket",
        cascade="all, delete-orphan",
        order_by=lambda: [TicketStatusChange.changed_at, TicketStatusChange.id],
    )
    offers: Mapped[list[CompensationOffer]] = relationship(back_populates="ticket")


class TicketStatusChange(Base):
    """One transition in a ticket's life; the first row has ``from_status = NULL``."""

    __tablename__ = "ticket_status_changes"
    __table_args__ = (one_of("to_status", TICKET_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="history")


class CompensationOffer(Base):
    __tablename__ = "compensation_offers"
    __table_args__ = (one_of("type", OFFER_TYPES), one_of("status", OFFER_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="offered")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship(back_populates="offers")


class FollowUp(Base):
    """A promise to check back with the customer (service recovery, step 6).

    Delivery (since 0004, see :mod:`crm.repo.follow_ups`): the gateway's follow-up worker claims
    a due ``pending`` row (``sending``, ``claimed_at``), sends it through its notifier and marks
    it ``sent`` (``sent_at``, ``channel``), or ``needs_agent`` / ``skipped`` with ``reason``;
    a failed send goes back to ``pending`` with ``attempts``, ``last_error`` and
    ``next_attempt_at`` (backoff). Recording the answer (``complete_follow_up``) sets
    ``outcome``, ``done_at`` and ``status = done``.

    What a follow-up checks (since 0007): ``promised_resolution`` and ``complaint_category``, the
    keys of ``compensation_policy.yml`` (``resolution`` / ``category`` labels) the bot promised and
    the customer complained about; NULL for an agent's own reminder. ``note`` is an agent's free
    text ("what to check").
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        one_of("status", FOLLOW_UP_STATUSES),
        Index("ix_follow_ups_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(index=True)
    note: Mapped[str | None] = mapped_column(Text)
    promised_resolution: Mapped[str | None] = mapped_column(String(32))
    complaint_category: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
