"""Defect 7: request bodies are limited while they are read; a declared size over the limit is
refused before anything is read, console ones before the login is checked."""

from __future__ import annotations

from typing import Any

import pytest

CHUNK = 64 * 1024
STREAM_CAP = 8 * 1024 * 1024


def raw_post(
    client: Any, path: str, declared: int | None, content_type: str = "application/json"
) -> tuple[int, int]:
    """POST a long body (up to ``STREAM_CAP``) straight to the ASGI app; (status, bytes the app read)."""
    app = client.app
    read = 0

    async def receive() -> dict:
        nonlocal read
        if read >= STREAM_CAP:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("192.0.2.50", 1234),
        "server": ("testserver", 80),
        "extensions": {},
    }

    async def call() -> None:
        await app(scope, receive, send)

    client.portal.call(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], read


@pytest.fixture
def token(client) -> str:
    return client.post("/api/conversations").json()["token"]


def test_chat_refuses_a_declared_50_mb_body_without_reading_it(client, token):
    assert raw_post(client, f"/api/conversations/{token}/messages", 50 * 1024 * 1024) == (413, 0)


def test_chat_stops_reading_an_undeclared_body_at_the_limit(client, token):
    status, read = raw_post(client, f"/api/conversations/{token}/messages", None)
    assert status == 413 and read <= 64 * 1024 + CHUNK


def test_rating_bodies_are_limited(client, token):
    assert raw_post(client, f"/api/conversations/{token}/csat", 1024 * 1024) == (413, 0)
    status, read = raw_post(client, f"/api/conversations/{token}/csat", None)
    assert status == 413 and read <= CHUNK


@pytest.mark.parametrize(
    "path, limit",
    [
        ("/api/trainer/entries", 1024 * 1024),
        ("/api/agent/conversations/1/claim", 64 * 1024),
        ("/api/agent/conversations/1/reply", 64 * 1024),
        ("/login", 8 * 1024),
        ("/logout", 8 * 1024),
    ],
)
def test_console_bodies_are_refused_before_the_login_check(client, path, limit):
    content_type = (
        "application/x-www-form-urlencoded" if path in ("/login", "/logout") else "application/json"
    )
    assert raw_post(client, path, 20 * 1024 * 1024, content_type) == (413, 0)
    status, read = raw_post(client, path, None, content_type)
    assert status in (413, 401, 403) and read <= limit + CHUNK


def test_normal_bodies_still_pass(client, token):
    reply = client.post(f"/api/conversations/{token}/messages", json={"id": "m1", "text": "hello " * 1000})
    assert reply.status_code == 200
