"""Console sessions, role checks and CSRF protection.

* Sessions live on the server (``console_sessions``, see :mod:`crm.repo.admin`). The cookie
  holds only the session's random token, signed (``itsdangerous``, key ``settings.session_secret``
  from ``var/secrets``); the table stores the token's SHA-256, never the token. The cookie is
  HttpOnly and SameSite=Lax (and Secure in production). Every request loads the session and its
  user: logout (which revokes the row), the absolute 12 h expiry, deactivating the user or a
  changed role take effect at once, and a copied cookie is worthless after logout. Open console
  WebSockets re-check their session every ``SOCKET_RECHECK_S`` seconds and close (code 4401).
* Every state-changing call (any method but GET/HEAD/OPTIONS) must send the session's CSRF token
  in the ``X-CSRF-Token`` header (pages read it from ``<meta name="csrf-token">``), and a
  cross-site ``Origin`` is refused. The login form uses its own double-submit token.
* Roles: ``agent``, ``trainer``, ``manager``, ``admin``; admin may do everything.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, WebSocket
from itsdangerous import BadSignature, URLSafeTimedSerializer

from common.settings import Settings
from crm.repo.admin import CONSOLE_SESSION_LIFETIME
from gateway.console import users
from gateway.state import session_factory_of, settings_of

COOKIE = "lumen_console"
LOGIN_COOKIE = "lumen_login_csrf"
SESSION_MAX_AGE_S = int(CONSOLE_SESSION_LIFETIME.total_seconds())
SOCKET_RECHECK_S = 15.0
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HOME = {"agent": "/agent", "trainer": "/trainer", "manager": "/analytics", "admin": "/agent"}


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    username: str
    role: str
    display_name: str
    csrf: str

    def can(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "role": self.role, "name": self.label}


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret, salt=f"lumen-console-{purpose}")


class CookieOptions(TypedDict):
    """Keyword arguments of ``Response.set_cookie`` shared by the console's cookies."""

    httponly: bool
    samesite: Literal["lax", "strict"]
    secure: bool
    path: str


def cookie_options(settings: Settings) -> CookieOptions:
    return {"httponly": True, "samesite": "lax", "secure": settings.is_production, "path": "/"}


def session_cookie(settings: Settings, token: str) -> str:
    """The cookie value for a server-side session: its random token, signed."""
    return _serializer(settings, "session").dumps(token)


def read_session(settings: Settings, cookie: str | None) -> str | None:
    """The session token of a cookie with a valid signature (not yet checked against the DB)."""
    if not cookie:
        return None
    try:
        token = _serializer(settings, "session").loads(cookie, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    return token if isinstance(token, str) and 0 < len(token) <= 128 else None


def login_token(settings: Settings) -> tuple[str, str]:
    """(cookie value, form value) of the login form's double-submit CSRF token."""
    nonce = secrets.token_urlsafe(24)
    return nonce, _serializer(settings, "login").dumps(nonce)


def check_login_token(settings: Settings, cookie: str | None, form_value: str | None) -> bool:
    if not cookie or not form_value:
        return False
    try:
        nonce = _serializer(settings, "login").loads(form_value, max_age=3600)
    except BadSignature:
        return False
    return isinstance(nonce, str) and hmac.compare_digest(nonce, cookie)


async def current_user(conn: Request | WebSocket) -> ConsoleUser | None:
    """The signed-in console user of this request or WebSocket, or None."""
    settings = settings_of(conn)
    token = read_session(settings, conn.cookies.get(COOKIE))
    if token is None:
        return None
    row = await asyncio.to_thread(users.load_session, session_factory_of(conn), token)
    if row is None or not users.may_sign_in(settings, row["username"]):
        return None
    return ConsoleUser(row["id"], row["username"], row["role"], row["display_name"] or "", row["csrf"])


def same_origin(conn: Request | WebSocket) -> bool:
    """False when the browser says the call comes from another site."""
    origin = conn.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = conn.headers.get("host", "")
    return urlsplit(origin).netloc == host


def check_csrf(request: Request, user: ConsoleUser) -> None:
    sent = request.headers.get("x-csrf-token", "")
    if not same_origin(request) or not user.csrf or not hmac.compare_digest(sent, user.csrf):
        raise HTTPException(
            status_code=403, detail={"error": "csrf", "message": "Missing or invalid CSRF token."}
        )


def require(*roles: str) -> Callable[[Request], Coroutine[Any, Any, ConsoleUser]]:
    """FastAPI dependency for JSON APIs: 401 when signed out, 403 for another role or bad CSRF."""

    async def dependency(request: Request) -> ConsoleUser:
        user = await current_user(request)
        if user is None:
            raise HTTPException(status_code=401, detail={"error": "login_required"})
        if not user.can(*roles):
            raise HTTPException(status_code=403, detail={"error": "forbidden", "role": user.role})
        if request.method not in SAFE_METHODS:
            check_csrf(request, user)
        return user

    return dependency


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
