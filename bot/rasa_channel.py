"""Token-protected input channel through which the gateway talks to the Rasa server.

Rasa's stock REST channel is unauthenticated and returns only the bot's messages. This channel
checks a shared bearer token and returns, beside the messages, what the gateway records in the
CRM for the turn: the parsed intent, its confidence, the language and the knowledge-base hit.
Imported by the Rasa server (Python 3.10), so it uses only Rasa's own dependencies.
"""
from __future__ import annotations

import hmac
import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TURN_SLOTS = (
    "kb_entry_id", "kb_score", "kb_decision", "language", "handoff_reason", "handoff_summary",
)


def turn_summary(events: List[Any]) -> Dict[Text, Any]:
    """Summarise the last user turn of a tracker's events (newest user message onwards)."""
    last_user = None
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            last_user = index
            break
    if last_user is None:
        return {}
    user = events[last_user]
    intent = user.intent or {}
    summary: Dict[Text, Any] = {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value")} for e in user.entities or []
        ],
        "slots": {},
    }
    for event in events[last_user + 1 :]:
        if isinstance(event, SlotSet) and event.key in TURN_SLOTS:
            summary["slots"][event.key] = event.value
    return summary


class GatewayInput(InputChannel):
    """``POST /webhooks/gateway/webhook`` with ``Authorization: Bearer <token>`` and a JSON body
    (``Content-Type: application/json``; anything else is 415)."""

    @classmethod
    def name(cls) -> Text:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GatewayInput":
        token = (credentials or {}).get("token")
        if not token:
            raise ValueError("credentials.yml: the gateway channel needs a non-empty 'token'")
        return cls(str(token))

    def __init__(self, token: Text) -> None:
        self._token = token.encode()

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, supplied = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            supplied.strip().encode(), self._token
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint("gateway_webhook", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if media != "application/json":
                return response.json({"error": "only application/json is accepted"}, status=415)
            body = request.json if isinstance(request.json, dict) else None
            if not body or not isinstance(body.get("sender"), str) or not isinstance(
                body.get("message"), str
            ):
                return response.json(
                    {"error": "body must be JSON with string 'sender' and 'message'"},
                    status=400,
                )
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    body["message"],
                    collector,
                    body["sender"],
                    input_channel=self.name(),
                    metadata=body.get("metadata") or None,
                    message_id=body.get("message_id"),
                )
            )
            agent = request.app.ctx.agent
            tracker = await agent.tracker_store.retrieve(body["sender"])
            summary = turn_summary(list(tracker.events)) if tracker else {}
            return response.json({"messages": collector.messages, "turn": summary})

        return webhook
