"""Back-office users (argon2 password hashes) and the audit log."""
from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import AuditLog, User
from crm.orm.base import ROLES, utcnow

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
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name)
    session.add(user)
    session.flush()
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user if the password matches (re-hashing outdated hashes)."""
    user = get_user_by_username(session, username)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def audit(
    session: Session, *, actor: str, action: str, target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(actor=actor, action=action, target=target, details=details)
    session.add(entry)
    session.flush()
    return entry
