"""A local stand-in for the Rasa server's two endpoints the gateway calls: the token-protected
gateway channel (one scripted turn per message) and the HTTP API's ``POST /model/parse``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Turn = Callable[[str], dict[str, Any]]


def turn(
    *texts: str,
    buttons: list[dict[str, str]] | None = None,
    language: str | None = None,
    intent: str | None = None,
    handoff: str | None = None,
) -> dict[str, Any]:
    """A channel reply: bot messages (``buttons`` on the last one) and the turn summary."""
    messages = [{"recipient_id": "x", "text": t} for t in texts]
    if buttons and messages:
        messages[-1]["buttons"] = buttons
    slots: dict[str, Any] = {"language": language}
    if handoff:
        slots.update(handoff_reason=handoff, handoff_summary={"reason": handoff})
    return {
        "messages": messages,
        "turn": {"intent": intent, "confidence": 0.9 if intent else None, "slots": slots},
    }


@dataclass
class StubRasa:
    """``reply(text)`` scripts each channel turn; ``intents`` maps a text to the parsed intent."""

    reply: Turn
    intents: dict[str, str] = field(default_factory=dict)
    token: str = "test-token"
    webhook_texts: list[str] = field(default_factory=list)
    parsed: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._send(200, {"status": "ok"})

            def do_POST(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if url.path == "/model/parse":
                    if parse_qs(url.query).get("token") != [stub.token]:
                        return self._send(401, {"error": "NotAuthenticated"})
                    stub.parsed.append(body)
                    text = body["text"]
                    name = (
                        text[1:].split("{")[0] if text.startswith("/") else stub.intents.get(text, "inquiry")
                    )
                    return self._send(
                        200, {"text": text, "intent": {"name": name, "confidence": 0.87}, "entities": []}
                    )
                if url.path == "/webhooks/gateway/webhook":
                    if self.headers.get("Authorization") != f"Bearer {stub.token}":
                        return self._send(401, {"error": "unauthorised"})
                    stub.webhook_texts.append(body["message"])
                    return self._send(200, stub.reply(body["message"]))
                self._send(404, {})

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
