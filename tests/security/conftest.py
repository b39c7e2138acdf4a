"""Hostile-input and security tests (issue 18): the real gateway app on a temporary SQLite CRM
(the console fixtures), without Rasa (the gateway's Rasa URL points at a closed port, so each
customer message gets the stored "temporarily unavailable" reply)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import (  # noqa: F401
    FAST_HASHER,
    PASSWORD,
    Console,
    FakeKB,
    app_client,
    as_user,
    build_client,
    factory,
    fast_password_hashing,
    login,
    make_settings,
    settings,
    template_db,
    users,
)


@pytest.fixture
def client(app_client) -> TestClient:  # noqa: F811 - wraps the imported fixture
    return app_client


def chat_socket(client: TestClient, token: str | None = None) -> Any:
    return client.websocket_connect("/ws" + (f"?token={token}" if token else ""))


def open_chat(ws: Any) -> dict[str, Any]:
    session = ws.receive_json()
    assert session["type"] == "session", session
    assert ws.receive_json()["type"] == "history"
    return session


def still_usable(ws: Any) -> None:
    ws.send_text('{"type":"ping"}')
    assert ws.receive_json() == {"type": "pong"}


@pytest.fixture
def tokens(client) -> Iterator[list[str]]:
    yield []
