"""Conversation (widget session), Message, Feedback (CSAT) and UnansweredQuestion."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.orm.base import (
    CONVERSATION_STATUSES,
    DIRECTIONS,
    LANGUAGES,
    UNANSWERED_STATUSES,
    Base,
    JSONType,
    one_of,
    utcnow,
)

if TYPE_CHECKING:
    from crm.orm.admin import User
    from crm.orm.customer import Customer


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        one_of("status", CONVERSATION_STATUSES),
        Index("ix_conversations_customer_started", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    status: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    handoff_reason: Mapped[str | None] = mapped_column(Text)
    # The latest escalation (see crm.repo.conversations.transition_conversation): when the chat
    # last entered the human queue, and when an agent took that escalation (None while it waits).
    # Both stay after the chat is handed back to the bot; a new escalation starts them over.
    handoff_at: Mapped[datetime | None]
    agent_joined_at: Mapped[datetime | None]
    # When the latest escalation first passed its first-response / resolution target (migration
    # 0009b, recorded by crm.repo.routing.record_breaches); a new escalation starts them over.
    first_response_breached_at: Mapped[datetime | None]
    resolution_breached_at: Mapped[datetime | None]
    # Read state (crm.repo.read_state): the latest message id each side has seen.
    customer_read_id: Mapped[int | None]
    agent_read_id: Mapped[int | None]

    customer: Mapped[Customer | None] = relationship(back_populates="conversations")
    assigned_agent: Mapped[User | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        order_by=lambda: [Message.created_at, Message.id],
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Message(Base):
    """One utterance. ``client_id`` is unique per conversation, which makes inserts idempotent.

    A button click is stored by the button's title (``text``, as the customer saw it) with
    the payload the bot received beside it: ``payload = {"button": {"payload": "/affirm"}}``.

    ``kb_entry_id`` (like ``UnansweredQuestion.best_entry_id``) holds the KB's own string id
    (``KBEntry.key``, e.g. ``"order-status"``) without a foreign key: the KB source file, not
    this database, is authoritative for which entries exist.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at", "id"),
        one_of("direction", DIRECTIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None]
    kb_entry_id: Mapped[str | None] = mapped_column(String(100))  # KB id, e.g. "order-status"
    kb_score: Mapped[float | None]
    # Customer messages: recovery.frustration's score in [0, 1] (migration 0005), also while an agent
    # holds the chat, when the bot does not answer (then intent and language come from a parse).
    frustration: Mapped[float | None]
    latency_ms: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(20), default="web")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Feedback(Base):
    """Post-chat CSAT (1-5) with an optional comment."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("csat BETWEEN 1 AND 5", name="csat_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    csat: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """A customer question the KB could not answer well, queued for trainer review."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (one_of("status", UNANSWERED_STATUSES), one_of("language", LANGUAGES))

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    best_score: Mapped[float | None]
    best_entry_id: Mapped[str | None] = mapped_column(String(100))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    resolved_entry_id: Mapped[str | None] = mapped_column(String(100))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
