"""Back-office users (argon2 password hashes), their console sessions and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.models import AuditLog, ConsoleSession, User
from crm.orm.base import ROLES, utcnow

CONSOLE_SESSION_LIFETIME = timedelta(hours=12)  # absolute: not extended by activity
CONSOLE_SESSION_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, *, username: str, password: str, role: str, display_name: str | None = None
) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if len(password) < 12:
        raise ValueError("password must have at least 12 characters")
    user = User(
        username=username, password_hash=hash_password(password), role=role, display_name=display_name
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password with the current hasher's cost, for unknown users."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        import secrets

        _dummy_hashes[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user if the password matches (re-hashing outdated hashes). An unknown or
    inactive user costs the same password check, so timing does not tell which names exist."""
    user = get_user_by_username(session, username)
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(actor=actor, action=action, target=target, details=details)
    session.add(entry)
    session.flush()
    return entry


# ------------------------------------------------------------------------------ console sessions


def console_session_id(token: str) -> str:
    """The stored id of a session token: its SHA-256 in hex (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_console_session(
    session: Session,
    *,
    user_id: int,
    client_ip: str | None = None,
    user_agent: str | None = None,
    lifetime: timedelta = CONSOLE_SESSION_LIFETIME,
    now: datetime | None = None,
) -> tuple[str, ConsoleSession]:
    """Start a session; return ``(token, row)``. Only the caller ever sees ``token``."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        id=console_session_id(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        client_ip=(client_ip or "")[:45] or None,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(row)
    session.flush()
    return token, row


def load_active_console_session(
    session: Session, token: str, *, now: datetime | None = None
) -> tuple[ConsoleSession, User] | None:
    """The session of ``token`` and its user, unless unknown, revoked, expired or the user is
    inactive."""
    if not token:
        return None
    now = now or utcnow()
    found = session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(
            ConsoleSession.id == console_session_id(token),
            ConsoleSession.revoked_at.is_(None),
            ConsoleSession.expires_at > now,
            User.active.is_(True),
        )
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def touch_console_session(
    session: Session,
    row: ConsoleSession,
    *,
    now: datetime | None = None,
    every: timedelta = CONSOLE_SESSION_TOUCH_EVERY,
) -> bool:
    """Record activity, at most once per ``every``; True when ``last_seen_at`` was written."""
    now = now or utcnow()
    if row.last_seen_at is not None and now - row.last_seen_at < every:
        return False
    written = rowcount(
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == row.id, ConsoleSession.last_seen_at < now - every)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if written:
        row.last_seen_at = now
    return bool(written)


def revoke_console_session(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """End the session of ``token``; False when it was unknown or already revoked."""
    written = rowcount(
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == console_session_id(token), ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    return bool(written)


def revoke_user_console_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """End every open session of a user (e.g. after a password reset); return how many."""
    now = now or utcnow()
    return rowcount(
        session.execute(
            update(ConsoleSession)
            .where(
                ConsoleSession.user_id == user_id,
                ConsoleSession.revoked_at.is_(None),
                ConsoleSession.expires_at > now,
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    )


def purge_console_sessions(
    session: Session,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    keep: timedelta = timedelta(days=7),
) -> int:
    """Delete sessions that expired or were revoked more than ``keep`` ago; return how many."""
    cutoff = (now or utcnow()) - keep
    stmt = delete(ConsoleSession).where(
        or_(ConsoleSession.expires_at < cutoff, ConsoleSession.revoked_at < cutoff)
    )
    if user_id is not None:
        stmt = stmt.where(ConsoleSession.user_id == user_id)
    return rowcount(session.execute(stmt.execution_options(synchronize_session=False)))
