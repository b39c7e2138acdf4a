"""Console users: sign-in (throttled per client address and per user name), server-side
sessions and per-request loading.

A successful sign-in creates a ``console_sessions`` row (see :mod:`crm.repo.admin`) and returns
its random token, which goes (signed) into the session cookie; every request loads the session
by the token's hash, so logout, expiry and deactivating the user end it at once.

Blocking functions over the CRM; routes call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common.settings import Settings
from crm.db import session_scope
from crm.models import User
from crm.repo import admin


class LoginThrottle:
    """Growing delays after failed sign-ins, per user name and per client address; no lockout.

    Each key may fail ``free`` times; after that each further attempt must wait
    ``BASE_DELAY_S * 2**(failures - free)`` seconds (at most ``cap``) after the last failure, so
    a guesser is slowed down exponentially while the real user can still sign in once the delay
    has passed. Failures are forgotten ``FORGET_AFTER_S`` after the last one.

    An attempt is counted *before* its password is checked (under one lock), and a success
    takes its count back: parallel attempts cannot slip past the limit. The state lives in the
    process; the gateway runs one (``python -m gateway``), several workers would need it in
    a shared store.
    """

    BASE_DELAY_S = 1.0
    FORGET_AFTER_S = 900.0
    RULES = {"user": (3, 60.0), "address": (10, 300.0)}  # kind: (free failures, longest delay)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[int, float]] = {}

    def _delay(self, kind: str, failures: int) -> float:
        free, cap = self.RULES[kind]
        return 0.0 if failures < free else min(cap, self.BASE_DELAY_S * 2 ** min(failures - free, 30))

    def reserve(self, keys: list[tuple[str, str]], now: float | None = None) -> float:
        """0 and the attempt counted, or the seconds to wait (nothing counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = 0.0
            for key in keys:
                failures, last = self._state.get(key, (0, now))
                if now - last > self.FORGET_AFTER_S:
                    failures = 0
                    self._state.pop(key, None)
                wait = max(wait, last + self._delay(key[0], failures) - now)
            if wait > 0:
                return wait
            for key in keys:
                failures, last = self._state.get(key, (0, now))
                self._state[key] = (failures + 1, now)
            return 0.0

    def succeeded(self, keys: list[tuple[str, str]]) -> None:
        """The user's count is cleared; the address only gets its own attempt back (a valid
        account must not wipe a password spray from the same address)."""
        self.take_back([k for k in keys if k[0] != "user"])
        with self._lock:
            for key in keys:
                if key[0] == "user":
                    self._state.pop(key, None)

    def take_back(self, keys: list[tuple[str, str]]) -> None:
        """Undo the count of one attempt (it succeeded, or the store failed)."""
        with self._lock:
            for key in keys:
                failures, last = self._state.get(key, (1, 0.0))
                if failures <= 1:
                    self._state.pop(key, None)
                else:
                    self._state[key] = (failures - 1, last)

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


throttle = LoginThrottle()


def _row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "active": user.active,
    }


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
            admin.audit(
                session,
                actor=username,
                action="console.logout",
                details={"client": client, "session": admin.console_session_id(token)[:16]},
            )
        return revoked


def may_sign_in(settings: Settings, username: str) -> bool:
    """Development accounts are refused when the app runs in production mode."""
    if not settings.is_production:
        return True
    from gateway.console.devusers import dev_usernames

    return username not in dev_usernames(settings)


def sign_in(
    factory: sessionmaker[Session],
    settings: Settings,
    username: str,
    password: str,
    client: str = "",
    user_agent: str = "",
) -> tuple[dict[str, Any] | None, str]:
    """Return ``(user row, "")`` or ``(None, reason)``; every checked attempt is audited. A
    throttled attempt (reason ``"throttled:<seconds>"``) checks no password.

    On success the row also carries ``token``: the new session's secret, for the cookie only.
    """
    username = (username or "").strip()[:64]
    if not username or not password:
        return None, "missing"
    keys = [("user", username.lower()), ("address", client)]
    wait = throttle.reserve(keys)
    if wait > 0:
        return None, f"throttled:{max(1, round(wait + 0.49))}"
    try:
        row, reason = _check(factory, settings, username, password, client, user_agent)
    except Exception:
        throttle.take_back(keys)  # the store failed, not the password
        raise
    if row is not None:
        throttle.succeeded(keys)
    return row, reason


def _check(
    factory: sessionmaker[Session],
    settings: Settings,
    username: str,
    password: str,
    client: str,
    user_agent: str,
) -> tuple[dict[str, Any] | None, str]:
    if not may_sign_in(settings, username):
        with session_scope(factory) as session:
            admin.audit(
                session,
                actor=username,
                action="console.login_refused",
                details={"reason": "development account in production", "client": client},
            )
        return None, "dev_account"
    with session_scope(factory) as session:
        user = admin.authenticate(session, username, password)
        details: dict[str, Any] = {"client": client}
        row = None
        if user is not None:
            admin.purge_console_sessions(session, user_id=user.id)
            token, console_session = admin.create_console_session(
                session, user_id=user.id, client_ip=client, user_agent=user_agent
            )
            details["session"] = console_session.id[:16]
            row = {**_row(user), "token": token}
        admin.audit(
            session,
            actor=username,
            action="console.login" if user else "console.login_failed",
            details=details,
        )
    if row is None:
        return None, "invalid"
    return row, ""
