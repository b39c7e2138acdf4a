"""One scripted customer through the real gateway's WebSocket.

The customer sends its opening messages, then answers what the bot is asking. What is asked
is read from Rasa's tracker (``active_loop``, ``requested_slot``, ``flow_stage``,
``csat_done``; GET /conversations/<id>/tracker with the Rasa token) and from the buttons of
the bot's last message. Answers come from the conversation's facts, typed in words unless the
facts say ``clicks: true`` (a click sends the button's payload, as the widget does). A
conversation ends when the chat goes to an agent, when nothing is asked after the closing
message, when the same question comes a fourth time in a row, or at ``MAX_TURNS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.convsim.customer import Customer
from bench.convsim.loader import Conversation
from bench.convsim.world import Context
from common.identity import sign_identity
from tests.e2e.chat_client import ChatClient
from tests.e2e.stack import Stack

MAX_TURNS = 16
MAX_REPEATS = 3
HUMAN = ("waiting_agent", "agent")


@dataclass
class Outcome:
    token: str = ""
    conversation_id: int | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    end: str = ""  # handoff | done | stuck | turn_cap | error
    picked_offer: str | None = None  # the compensation the customer chose (type)
    seconds: float = 0.0


def asked_from(tracker: dict[str, Any], buttons: list[dict]) -> str | None:
    slots = tracker.get("slots") or {}
    loop = (tracker.get("active_loop") or {}).get("name")
    if loop in ("complaint_form", "csat_form") and slots.get("requested_slot"):
        return f"{'form' if loop == 'complaint_form' else 'csat'}:{slots['requested_slot']}"
    stage = slots.get("flow_stage")
    if stage and not (stage == "wrapped_up" and slots.get("csat_done")):
        return f"stage:{stage}"
    if any((b.get("payload") or "").startswith("/inquiry") for b in buttons):
        return "kb:clarify"
    return None


class Driver:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=30)
        self.engine = create_engine(stack.database_url)

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()

    def tracker(self, conversation_id: int) -> dict[str, Any]:
        """Rasa's tracker; one retry on a transport error (a kept-alive connection the server
        closed at the same moment is not a failure of the conversation)."""
        for attempt in (1, 2):
            try:
                response = self.http.get(
                    f"{self.stack.rasa_url}/conversations/{conversation_id}/tracker",
                    params={"token": self.stack.rasa_token, "include_events": "NONE"},
                )
                response.raise_for_status()
                return response.json()
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def conversation_id(self, token: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT id FROM conversations WHERE token = :t"), {"t": token}).scalar()

    def run(self, conv: Conversation, ctx: Context) -> Outcome:
        started = time.monotonic()
        out = Outcome()
        customer = Customer(conv, ctx)
        identity = sign_identity(self.stack.identity_secret, ctx.customer_ref) if conv.identified else None
        url = self.stack.ws_url + (f"?identity={identity}" if identity else "")
        try:
            with ChatClient(url) as client:
                out.token = client.token
                asked, slots, buttons, last, repeats = None, {}, [], None, 0
                while len(out.turns) < MAX_TURNS:
                    message = customer.next_message(asked, slots, buttons)
                    if message is None:
                        out.end = "done" if asked is None else "stuck"
                        break
                    reply = client.ask(message)
                    if reply["type"] == "error":
                        out.turns.append({"customer": message, "error": reply.get("code")})
                        out.end = "error"
                        break
                    messages = reply.get("messages") or []
                    buttons = next(
                        (m.get("buttons") or [] for m in reversed(messages) if m.get("buttons")), []
                    )
                    out.conversation_id = out.conversation_id or self.conversation_id(out.token)
                    tracker = self.tracker(out.conversation_id)
                    slots = tracker.get("slots") or {}
                    asked = asked_from(tracker, buttons)
                    out.turns.append(
                        {
                            "customer": message,
                            "bot": [m.get("text", "") for m in messages],
                            "asked": asked,
                            "status": reply.get("status"),
                        }
                    )
                    if reply.get("status") in HUMAN:
                        out.end = "handoff"
                        break
                    repeats = repeats + 1 if asked is not None and asked == last else 0
                    last = asked
                    if repeats >= MAX_REPEATS:
                        out.end = "stuck"
                        break
                else:
                    out.end = "turn_cap"
        except Exception as exc:  # a broken conversation is a failed conversation, not a crash
            out.end = f"error: {type(exc).__name__}: {exc}"[:300]
        out.picked_offer = customer.picked_offer
        out.seconds = round(time.monotonic() - started, 2)
        return out
