"""Token-protected input channel through which the gateway talks to the Rasa server.

Rasa's stock REST channel is unauthenticated and returns only the bot's messages. This channel
checks a shared bearer token and returns, beside the messages, what the gateway records in the
CRM for the turn: the parsed intent, its confidence, the language and the knowledge-base hit.
Imported by the Rasa server (Python 3.10), so it uses only Rasa's own dependencies.

A turn is processed at most once per ``message_id``: a message whose id the tracker already holds
gets the replies stored for it instead of a second turn. A turn in which a custom action could
not run (the action server down or failing) is rewound and answered ``503 actions_unavailable``,
so the gateway can send the same message again later and it is processed exactly once; the same
503 comes straight away when the action server's health check fails before the turn.
``GET /webhooks/gateway/?deep=1`` answers 200 only while the action server is healthy too.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUtteranceReverted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TURN_SLOTS = (
    "kb_entry_id",
    "kb_score",
    "kb_decision",
    "language",
    "handoff_reason",
    "handoff_summary",
)
ACTION_FAILURE_LOG = "Encountered an exception while running action"
HEALTH_TIMEOUT_S = 2.0
REWIND_REASON = "custom action failed"  # in the rewind event's metadata
_turn_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "turn_failures", default=None
)


class _ActionFailureSpy(logging.Handler):
    """Notes, for the turn being handled in this task, that Rasa dropped a custom action's run
    (Rasa logs it and carries on without the action's events)."""

    def emit(self, record: logging.LogRecord) -> None:
        failures = _turn_failures.get()
        if failures is not None and str(record.msg).startswith(ACTION_FAILURE_LOG):
            failures.append(str(record.msg)[:200])


def _install_spy() -> None:
    processor_logger = logging.getLogger("rasa.core.processor")
    if not any(isinstance(h, _ActionFailureSpy) for h in processor_logger.handlers):
        processor_logger.addHandler(_ActionFailureSpy(level=logging.ERROR))


def _last_user_index(events: list[Any], message_id: str | None = None) -> int | None:
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and (message_id is None or event.message_id == message_id):
            return index
    return None


def replies_after(events: list[Any], index: int, recipient: str) -> list[dict[str, Any]]:
    """The bot messages of the turn that starts at ``events[index]``, as a channel sends them."""
    replies = []
    for event in events[index + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            message: dict[str, Any] = {"recipient_id": recipient, "text": event.text}
            message.update({k: v for k, v in (event.data or {}).items() if v})
            replies.append(message)
    return replies


def turn_summary(events: list[Any], index: int | None = None) -> dict[str, Any]:
    """Summarise a user turn of a tracker's events (by default the newest user message on)."""
    last_user = _last_user_index(events) if index is None else index
    if last_user is None:
        return {}
    user = events[last_user]
    intent = user.intent or {}
    summary: dict[str, Any] = {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in user.entities or []],
        "slots": {},
    }
    for event in events[last_user + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, SlotSet) and event.key in TURN_SLOTS:
            summary["slots"][event.key] = event.value
    return summary


class GatewayInput(InputChannel):
    """``POST /webhooks/gateway/webhook`` with ``Authorization: Bearer <token>`` and a JSON body
    (``Content-Type: application/json``; anything else is 415)."""

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayInput:
        token = (credentials or {}).get("token")
        if not token:
            raise ValueError("credentials.yml: the gateway channel needs a non-empty 'token'")
        return cls(str(token))

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, supplied = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), self._token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint("gateway_webhook", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if request.args.get("deep") and not await _actions_healthy(request):
                return response.json({"status": "actions_unavailable"}, status=503)
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if media != "application/json":
                return response.json({"error": "only application/json is accepted"}, status=415)
            body = request.json if isinstance(request.json, dict) else None
            if (
                not body
                or not isinstance(body.get("sender"), str)
                or not isinstance(body.get("message"), str)
            ):
                return response.json(
                    {"error": "body must be JSON with string 'sender' and 'message'"},
                    status=400,
                )
            agent = request.app.ctx.agent
            sender, message_id = body["sender"], body.get("message_id")

            async def repeated() -> HTTPResponse | None:
                """The stored answer when the tracker already holds this message id."""
                if not (isinstance(message_id, str) and message_id):
                    return None
                tracker = await agent.tracker_store.retrieve(sender)
                events = tracker.applied_events() if tracker else []
                index = _last_user_index(events, message_id)
                if index is None:
                    return None
                return response.json(
                    {
                        "messages": replies_after(events, index, sender),
                        "turn": turn_summary(events, index),
                        "repeated": True,
                    }
                )

            if (stored := await repeated()) is not None:
                return stored
            if not await _actions_healthy(request):
                return response.json({"error": "actions_unavailable"}, status=503)
            collector = CollectingOutputChannel()
            failures: list[str] = []
            reset = _turn_failures.set(failures)
            message = UserMessage(
                body["message"],
                collector,
                sender,
                input_channel=self.name(),
                metadata=body.get("metadata") or None,
                message_id=message_id,
            )
            try:
                if agent.processor is None:  # no model loaded: Rasa's handler ignores it
                    await on_new_message(message)
                else:
                    # What ``Agent.handle_message`` does, with the message id checked again under
                    # the conversation's lock: the same message may have been sent again (a
                    # gateway retrying after a timeout, through another Rasa server) while the
                    # first request was still in its turn.
                    async with agent.lock_store.lock(sender):
                        if (stored := await repeated()) is not None:
                            return stored
                        await agent.processor.handle_message(message)
            finally:
                _turn_failures.reset(reset)
            if failures:
                await _rewind(agent, sender)
                logger.warning("turn of %s rewound: a custom action could not run", sender)
                return response.json({"error": "actions_unavailable"}, status=503)
            tracker = await agent.tracker_store.retrieve(sender)
            summary = turn_summary(list(tracker.events)) if tracker else {}
            return response.json({"messages": collector.messages, "turn": summary})

        _install_spy()
        return webhook


def _health_url(agent: Any) -> str | None:
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", None)
    if not url:
        return None
    return url.rsplit("/webhook", 1)[0].rstrip("/") + "/health"


async def _actions_healthy(request: Request) -> bool:
    """True when the action server answers its health check (or none is configured)."""
    url = _health_url(request.app.ctx.agent)
    if url is None:
        return True
    try:
        timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url) as reply:
                return reply.status == 200
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        return False


async def _rewind(agent: Any, sender: str) -> None:
    """Undo the conversation's last user turn, as if the message had never arrived."""
    async with agent.lock_store.lock(sender):
        tracker = await agent.tracker_store.retrieve(sender)
        if tracker is not None:
            tracker.update(UserUtteranceReverted(metadata={"reason": REWIND_REASON}))
            await agent.tracker_store.save(tracker)
