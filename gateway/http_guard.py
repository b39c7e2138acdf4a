"""ASGI middleware in front of every gateway route (issue 18): request body limits and the
response headers every answer gets.

* **Body limits**, by path prefix (:data:`BODY_LIMITS`): a declared ``Content-Length`` over the
  limit is answered 413 at once, before routing, the login check or reading a byte; a body
  without a length (chunked) is counted while the route reads it and refused with 413 as soon
  as it passes the limit.
* **Headers**: ``X-Content-Type-Options: nosniff`` on everything; ``Cache-Control: no-store`` on
  every ``/api/`` answer (chat history, customer and console data are personal); routes that
  set their own ``Cache-Control`` or CSP keep them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
DEFAULT_BODY_LIMIT = 64 * KIB
BODY_LIMITS: tuple[tuple[str, int], ...] = (  # first matching prefix wins
    ("/api/conversations/", 64 * KIB),  # chat messages (a frame is at most 64 KiB)
    ("/api/trainer/", 1024 * KIB),  # knowledge-base entries with many variants
    ("/api/agent/", 64 * KIB),
    ("/api/", 16 * KIB),
    ("/login", 8 * KIB),
    ("/logout", 8 * KIB),
)
CSAT_BODY_LIMIT = 8 * KIB
#: An image (gateway/attachments.py refuses more than 5 MiB with a clear message; the guard
#: stops anything far beyond it before it is read).
UPLOAD_BODY_LIMIT = 5 * 1024 * KIB + 64 * KIB


def body_limit(path: str) -> int:
    if path.startswith("/api/conversations/") and path.endswith("/csat"):
        return CSAT_BODY_LIMIT
    if path.startswith("/api/conversations/") and path.endswith("/attachments"):
        return UPLOAD_BODY_LIMIT
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a route reads; FastAPI re-raises HTTPExceptions."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, {"error": "body_too_large", "message": f"The body exceeds {limit} bytes."})


async def _send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = body_limit(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_json(
                send, 413, b'{"error":"body_too_large","message":"The body exceeds %d bytes."}' % limit
            )
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _with_headers(path, list(message.get("headers", [])))}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if started:
                raise
            await _send_json(
                send, 413, b'{"error":"body_too_large","message":"The body exceeds %d bytes."}' % limit
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _with_headers(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {name.lower() for name, _ in headers}
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    if path.startswith("/api/") and b"cache-control" not in names:
        headers.append((b"cache-control", b"no-store"))
    return headers


def safe_host(request: HTTPConnection) -> str:
    """The request's ``Host`` for a CSP source (the page's own WebSocket); a value that is not a
    plain host[:port] becomes a name that matches nothing."""
    host = request.headers.get("host", "")
    return (
        host
        if re.fullmatch(r"[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?|\[[0-9a-fA-F:.]+\](:[0-9]{1,5})?", host)
        else "invalid.invalid"
    )
