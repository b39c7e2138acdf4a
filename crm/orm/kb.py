"""Knowledge-base entries with an immutable, per-edit version history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.orm.base import KB_STATUSES, Base, JSONType, one_of, utcnow


class KBEntry(Base):
    """``key`` is the stable id used by the KB source file (e.g. ``order-status``)."""

    __tablename__ = "kb_entries"
    __table_args__ = (one_of("status", KB_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="published")
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[KBEntryVersion]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by=lambda: KBEntryVersion.version,
    )


class KBEntryVersion(Base):
    """``questions``: ``{lang: [question, ...]}``; ``answers``: ``{lang: answer}``."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id", ondelete="CASCADE"))
    version: Mapped[int]
    questions: Mapped[dict[str, list[str]]] = mapped_column(JSONType, default=dict)
    answers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    author: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[KBEntry] = relationship(back_populates="versions")
