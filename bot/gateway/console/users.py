"""Console users: sign-in (with a small brute-force throttle), server-side sessions and
per-request loading.

A successful sign-in creates a ``console_sessions`` row (see :mod:`crm.repo.admin`) and returns
its random token, which goes (signed) into the session cookie; every request loads the session
by the token's hash, so logout, expiry and deactivating the user end it at once.

Blocking functions over the CRM; routes call them through ``asyncio.to_thread``.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import User
from crm.repo import admin

MAX_FAILURES = 5
FAILURE_WINDOW_S = 300
_failures: dict[str, deque[float]] = defaultdict(deque)
_failures_lock = threading.Lock()


def _row(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "role": user.role,
            "display_name": user.display_name, "active": user.active}


def load_session(factory: sessionmaker[Session], token: str) -> dict[str, Any] | None:
    """The user of an active session plus the session's ``csrf`` token, or None; notes activity
    (``last_seen_at``, at most once a minute)."""
    with session_scope(factory) as session:
        found = admin.load_active_console_session(session, token)
        if found is None:
            return None
        row, user = found
        admin.touch_console_session(session, row)
        return {**_row(user), "csrf": row.csrf_token}


def end_session(factory: sessionmaker[Session], token: str, username: str, client: str = "") -> bool:
    """Revoke the session of ``token`` (logout) and audit it; False if it was not active."""
    with session_scope(factory) as session:
        revoked = admin.revoke_console_session(session, token)
        if revoked:
            admin.audit(session, actor=username, action="console.logout",
                        details={"client": client, "session": admin.console_session_id(token)[:16]})
        return revoked


def may_sign_in(settings: Any, username: str) -> bool:
    """Development accounts are refused when the app runs in production mode."""
    if not settings.is_production:
        return True
    from bot.gateway.console.devusers import dev_usernames

    return username not in dev_usernames(settings)


def throttled(username: str, now: float | None = None) -> bool:
    now = now or time.monotonic()
    with _failures_lock:
        times = _failures[username.lower()]
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return len(times) >= MAX_FAILURES


def _note_failure(username: str) -> None:
    with _failures_lock:
        _failures[username.lower()].append(time.monotonic())


def sign_in(factory: sessionmaker[Session], settings: Any, username: str, password: str,
            client: str = "", user_agent: str = "") -> tuple[dict[str, Any] | None, str]:
    """Return ``(user row, "")`` or ``(None, reason)``; every attempt is audited.

    On success the row also carries ``token``: the new session's secret, for the cookie only.
    """
    username = (username or "").strip()[:64]
    if not username or not password:
        return None, "missing"
    if throttled(username):
        return None, "throttled"
    if not may_sign_in(settings, username):
        with session_scope(factory) as session:
            admin.audit(session, actor=username, action="console.login_refused",
                        details={"reason": "development account in production", "client": client})
        return None, "dev_account"
    with session_scope(factory) as session:
        user = admin.authenticate(session, username, password)
        details: dict[str, Any] = {"client": client}
        row = None
        if user is not None:
            admin.purge_console_sessions(session, user_id=user.id)
            token, console_session = admin.create_console_session(
                session, user_id=user.id, client_ip=client, user_agent=user_agent)
            details["session"] = console_session.id[:16]
            row = {**_row(user), "token": token}
        admin.audit(session, actor=username, action="console.login" if user else "console.login_failed",
                    details=details)
    if row is None:
        _note_failure(username)
        return None, "invalid"
    with _failures_lock:
        _failures.pop(username.lower(), None)
    return row, ""
