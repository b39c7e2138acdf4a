"""Back-office users, their console sessions and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from crm.orm.base import ROLES, Base, JSONType, one_of, utcnow


class User(Base):
    """``password_hash`` is an argon2 hash (see :mod:`crm.repo.users`)."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    display_name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Routing (migration 0009b, recovery/routing.py): the languages and skills this agent takes
    # chats in (None: not set, no chat is routed to them), how many chats at once (None: the
    # policy's default) and whether they take new chats now.
    languages: Mapped[list[str] | None] = mapped_column(JSONType)
    skills: Mapped[list[str] | None] = mapped_column(JSONType)
    capacity: Mapped[int | None]
    available: Mapped[bool] = mapped_column(server_default=false())


class ConsoleSession(Base):
    """A console sign-in (one browser), ended by logout, expiry or deactivating the user.

    The browser holds a random token (signed, in the ``lumen_console`` cookie); only its SHA-256
    (hex) is stored, as ``id``, so a copy of this table cannot be replayed as a cookie.
    ``expires_at`` is absolute (12 h after sign-in); ``revoked_at`` is set by logout.
    See :mod:`crm.repo.admin` and ``gateway/console/auth.py``.
    """

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class AuditLog(Base):
    """Who did what to which row; ``target`` is ``"<kind>:<id>"`` (e.g. ``customer:12``)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target_at", "target", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
