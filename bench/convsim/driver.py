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

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.convsim.loader import Conversation
from bench.convsim.words import word
from bench.convsim.world import Context
from bot.identity import sign_identity
from tests.e2e.chat_client import ChatClient
from tests.e2e.stack import Stack

MAX_TURNS = 16
MAX_REPEATS = 3
HUMAN = ("waiting_agent", "agent")
FACT_WORDS = {"yes": "yes_words", "no": "no_words"}  # YAML reads a bare yes / no key as a boolean


@dataclass
class Outcome:
    token: str = ""
    conversation_id: int | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    end: str = ""                      # handoff | done | stuck | turn_cap | error
    picked_offer: str | None = None    # the compensation the customer chose (type)
    seconds: float = 0.0


def _fill(template: str, ctx: Context) -> str:
    return template.format_map({**ctx.values()}) if "{" in template else template


def _payload_value(payload: str, key: str) -> str | None:
    match = re.search(r"\{.*\}", payload or "")
    if not match:
        return None
    try:
        return json.loads(match.group(0)).get(key)
    except ValueError:
        return None


class Customer:
    """Decides the next message from the facts and what the bot is asking."""

    def __init__(self, conv: Conversation, ctx: Context) -> None:
        self.conv, self.ctx, self.facts = conv, ctx, conv.facts
        self.pending = [_fill(t, ctx) for t in conv.opening]
        self.used_wrong = not self.facts.get("wrong_order")
        self.closed = False
        self.corrections = 0
        self.correcting: list[str] = []
        self.interjected: set[int] = set()
        self.picked_offer: str | None = None

    def w(self, key: str) -> str:
        """The facts' words for ``key`` (``yes`` -> ``yes_words``), else the language's usual ones."""
        value = self.facts.get(FACT_WORDS.get(key, key))
        return _fill(str(value), self.ctx) if value not in (None, "") else word(self.conv.language, key)

    def click(self, buttons: list[dict], test) -> str | None:
        return next((b["payload"] for b in buttons if test(b.get("payload") or "")), None)

    def yes_no(self, yes: bool, buttons: list[dict], words_key: str) -> str:
        if self.facts.get("clicks"):
            found = self.click(buttons, lambda p: p == ("/affirm" if yes else "/deny"))
            if found:
                return found
        return self.w(words_key)

    def next_message(self, asked: str | None, slots: dict[str, Any], buttons: list[dict]) -> str | None:
        if self.pending:
            return self.pending.pop(0)
        interjects = self.facts.get("interject") or []
        for i, item in enumerate(interjects if isinstance(interjects, list) else [interjects]):
            if i not in self.interjected and item.get("at") == asked:
                self.interjected.add(i)
                return _fill(item["text"], self.ctx)
        if asked is None:
            if self.closed or slots.get("csat_done"):
                return None
            self.closed = True
            return self.w("closing")
        handler = getattr(self, "_" + asked.replace(":", "_"), None)
        return handler(slots, buttons) if handler else None

    # --- complaint form
    def _form_complaint_description(self, slots, buttons):
        """The facts' description, else the customer's longest opening message, said again."""
        return _fill(self.facts.get("description") or max(self.conv.opening, key=len), self.ctx)

    def _form_complaint_category(self, slots, buttons):
        if self.facts.get("category_words"):
            return self.w("category_words")
        wanted = self.facts.get("category", "other")
        return (self.click(buttons, lambda p: _payload_value(p, "complaint_category") == wanted)
                or wanted.replace("_", " "))

    def order_number(self) -> str | None:
        which = self.facts.get("order", "order" if self.ctx.orders else "none")
        if which == "none":
            return None
        index = 0 if which == "order" else int(str(which)[5:] or 1) - 1
        return self.ctx.orders[index][0]

    def _form_order_number(self, slots, buttons):
        if not self.used_wrong:
            self.used_wrong = True
            return _fill(str(self.facts["wrong_order"]), self.ctx)
        number = self.order_number()
        if number is None:
            if self.facts.get("clicks"):
                found = self.click(buttons, lambda p: p == "/deny")
                if found:
                    return found
            return self.w("no_order")
        template = self.facts.get("order_text") or "{number}"
        return template.replace("{number}", number).replace("{digits}", number[2:])

    def _form_desired_outcome(self, slots, buttons):
        if self.facts.get("outcome_words"):
            return self.w("outcome_words")
        wanted = self.facts.get("outcome")
        return (self.click(buttons, lambda p: _payload_value(p, "desired_outcome") == wanted)
                or self.click(buttons, lambda p: "desired_outcome" in p) or "")

    def wrong_fields(self, slots: dict[str, Any]) -> list[str]:
        wrong = []
        if self.facts.get("category") and slots.get("complaint_category") != self.facts["category"]:
            wrong.append("complaint_category")
        number = self.order_number()
        if (slots.get("order_number") or "none") != (number or "none"):
            wrong.append("order_number")
        if self.facts.get("outcome") and slots.get("desired_outcome") != self.facts["outcome"]:
            wrong.append("desired_outcome")
        return wrong

    def _form_complaint_confirmed(self, slots, buttons):
        self.correcting = self.wrong_fields(slots) if self.corrections < 2 else []
        if self.correcting:
            self.corrections += 1
        return self.yes_no(not self.correcting, buttons, "no" if self.correcting else "yes")

    def _form_correction_field(self, slots, buttons):
        field_name = (self.correcting or ["complaint_description"])[0]
        if self.facts.get("clicks"):
            found = self.click(buttons, lambda p: _payload_value(p, "correction_field") == field_name)
            if found:
                return found
        return word(self.conv.language, field_name)

    # --- resolution, compensation, wrap-up
    def _stage_resolution_proposed(self, slots, buttons):
        wanted = self.facts.get("outcome")
        ok = self.facts.get("accept", wanted is None or slots.get("resolution") == wanted)
        return self.yes_no(bool(ok), buttons, "accept" if ok else "reject")

    def _stage_resolution_alternatives(self, slots, buttons):
        wanted = self.facts.get("outcome")
        return (self.click(buttons, lambda p: _payload_value(p, "resolution_choice") == wanted)
                or self.click(buttons, lambda p: "resolution_choice" in p) or self.w("reject"))

    def _stage_compensation_offered(self, slots, buttons):
        wanted = self.facts.get("compensation")
        if wanted == "none":
            self.picked_offer = "none"
            return self.yes_no(False, buttons, "decline") if self.facts.get("clicks") else self.w(
                "compensation_words" if self.facts.get("compensation_words") else "decline")
        offered = [_payload_value(b.get("payload"), "compensation_choice") for b in buttons]
        offered = [o for o in offered if o]
        if self.facts.get("compensation_words") and (wanted in offered or not offered):
            self.picked_offer = wanted
            return self.w("compensation_words")
        pick = wanted if wanted in offered else (offered[0] if offered else None)
        self.picked_offer = pick
        return self.click(buttons, lambda p: _payload_value(p, "compensation_choice") == pick) or self.w("decline")

    def _stage_wrapped_up(self, slots, buttons):
        return self.w("more")

    def _stage_follow_up_asked(self, slots, buttons):
        kept = self.facts.get("follow_up", "kept") == "kept"
        if self.facts.get("follow_up_words"):
            return self.w("follow_up_words")
        return self.yes_no(kept, buttons, "kept" if kept else "not_kept")

    # --- CSAT and knowledge base
    def _csat_csat_score(self, slots, buttons):
        if self.facts.get("rating_words"):
            return self.w("rating_words")
        rating = str(self.facts.get("rating", 4))
        return self.click(buttons, lambda p: _payload_value(p, "csat_score") == rating) or rating

    def _csat_csat_comment(self, slots, buttons):
        if self.facts.get("comment"):
            return self.w("comment")
        return self.click(buttons, lambda p: p == "/deny") or self.w("decline")

    def _kb_clarify(self, slots, buttons):
        wanted = self.conv.goal.get("kb_entry")
        return (self.click(buttons, lambda p: _payload_value(p, "kb_entry_id") == wanted)
                or self.click(buttons, lambda p: p.startswith("/inquiry")))


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
                    buttons = next((m.get("buttons") or [] for m in reversed(messages) if m.get("buttons")), [])
                    out.conversation_id = out.conversation_id or self.conversation_id(out.token)
                    tracker = self.tracker(out.conversation_id)
                    slots = tracker.get("slots") or {}
                    asked = asked_from(tracker, buttons)
                    out.turns.append({"customer": message, "bot": [m.get("text", "") for m in messages],
                                      "asked": asked, "status": reply.get("status")})
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
