"""The agent desk's own rows (migration 0009a): private notes and labels on conversations, and
the canned replies agents insert into their answers.

Notes and labels are staff-only: they live in their own tables, never in ``messages``, so no
customer-facing path (widget history, socket frames, exports of the transcript) can carry them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.orm.base import Base, utcnow


class ConversationNote(Base):
    """A private note an agent wrote on a conversation (``author``: the username at the time)."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index("ix_conversation_notes_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationLabel(Base):
    """One label on one conversation (labels are free text, normalised by the repository)."""

    __tablename__ = "conversation_labels"
    __table_args__ = (
        UniqueConstraint("conversation_id", "label", name="uq_conversation_labels_conversation_label"),
        Index("ix_conversation_labels_label", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A reply template in the three languages; ``{customer_name}``, ``{order_number}`` and
    ``{agent_name}`` are filled when an agent inserts it (see :mod:`crm.repo.canned`)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    body_zh_hant: Mapped[str] = mapped_column(Text)
    body_zh_hans: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
