"""Console users: sign-in (with a small brute-force throttle) and per-request loading.

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


def load_user(factory: sessionmaker[Session], user_id: int) -> dict[str, Any] | None:
    with session_scope(factory) as session:
        user = session.get(User, user_id)
        return _row(user) if user is not None and user.active else None


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
            client: str = "") -> tuple[dict[str, Any] | None, str]:
    """Return ``(user row, "")`` or ``(None, reason)``; every attempt is audited."""
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
        admin.audit(session, actor=username, action="console.login" if user else "console.login_failed",
                    details={"client": client})
        row = _row(user) if user is not None else None
    if row is None:
        _note_failure(username)
        return None, "invalid"
    with _failures_lock:
        _failures.pop(username.lower(), None)
    return row, ""
