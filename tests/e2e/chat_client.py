"""A tiny WebSocket client speaking the widget's protocol, for tests and benchmarks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.sync.client import connect


class ChatClient:
    def __init__(self, ws_url: str, token: str | None = None, timeout: float = 60) -> None:
        url = ws_url + (f"?token={token}" if token else "")
        self.ws = connect(url, open_timeout=timeout)
        self.timeout = timeout
        session = self.recv()
        assert session["type"] == "session"
        self.token: str = session["token"]
        history = self.recv()
        assert history["type"] == "history"
        self.history: list[dict[str, Any]] = history["messages"]
        self.skipped: list[dict[str, Any]] = []

    def recv(self) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=self.timeout))

    def send_raw(self, raw: str) -> None:
        self.ws.send(raw)

    def until(self, *types: str) -> dict[str, Any]:
        """The next frame of one of ``types``; other frames are kept in ``skipped``."""
        for index, frame in enumerate(self.skipped):
            if frame["type"] in types:
                return self.skipped.pop(index)
        while True:
            frame = self.recv()
            if frame["type"] in types:
                return frame
            self.skipped.append(frame)

    def ask(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        """Send one message and return the ``reply`` (or ``error``) frame."""
        client_id = client_id or uuid.uuid4().hex[:16]
        self.ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
        return self.until("reply", "error")

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
