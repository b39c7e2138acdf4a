"""The one chat path shared by customers, the bot and agents.

Customer messages (WebSocket or HTTP fallback) go through :meth:`ChatService.handle`: validate,
store, then either ask Rasa (status ``bot``) or leave them for the agent holding the chat. Agent
replies go through :meth:`ChatService.agent_reply`. Both store first and then push the stored
message to every live widget and console through the :class:`~gateway.hub.Hub`.
A message re-sent with the same client id (a reconnecting widget) gets the stored replies
instead of a second answer.

A button click arrives as its payload ("/affirm", '/choose_option{"option": "coupon"}'), which
is what Rasa receives, and optionally the title the widget showed. It is stored and shown by the
title of the button the bot actually offered in this chat (a title that matches no offered
button is not trusted; no offered button at all: a neutral label), in the conversation's
language, with the payload beside it. While a person has the chat, each customer message is
still understood for the record and the queue: intent by Rasa's NLU alone (``/model/parse``,
the tracker does not move), language by :mod:`common.lang`, frustration by :mod:`recovery.frustration`.

While Rasa or the action server is down, a customer message gets a "one moment" notice and
waits (:attr:`ChatService.waiting`, marked in the store too); it is answered, once and in order,
as soon as they are back: pushed to the widget by the worker of :mod:`gateway.waiting`, or
before the conversation's next message, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from common.lang import DEFAULT_LANGUAGE, detect_language
from gateway.hub import Hub
from gateway.notices import chosen_option_text, queue_busy_text, status_notice
from gateway.presence import Presence
from gateway.rasa_client import Assistant, RasaUnavailable
from gateway.store import ChatStore, ConversationRef, MessageView
from recovery.frustration import frustration_score

logger = logging.getLogger(__name__)
MAX_CLIENT_ID = 64
MAX_TITLE = 200
HUMAN_STATUSES = ("waiting_agent", "agent")
# Rasa's form of a button payload: "/intent" with optional JSON entities.
PAYLOAD = re.compile(r"^/[A-Za-z_][\w.-]*(\{.*\})?$", re.DOTALL)


def is_payload(text: str) -> bool:
    return PAYLOAD.match(text) is not None


def payload_intent(payload: str) -> str:
    """``'/choose_option{"option": "coupon"}'`` -> ``choose_option``."""
    return payload[1:].split("{", 1)[0]


_WORDS = re.compile(r"[A-Za-z]{2,}")


def for_customer(views: list[MessageView]) -> list[MessageView]:
    """Drop internal records (the handoff summary for agents) from what a widget receives."""
    return [v for v in views if "handoff" not in v]


class ChatError(ValueError):
    """An input problem, reported to the sender with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Waiting:
    """A customer message the bot could not answer yet."""

    conversation: ConversationRef
    client_id: str
    text: str
    language: str
    keep_language: bool = False  # a button click: the chat keeps its language
    may_hand_off: Callable[[], bool] | None = None  # the sender's hand-over rate limit


@dataclass
class ChatReply:
    client_id: str
    messages: list[MessageView]
    notice: str | None = None
    duplicate: bool = False
    status: str = "bot"
    language: str | None = None


def clean_text(text: object, max_chars: int) -> tuple[str, str | None]:
    """Return the text to process and a notice when it had to be shortened."""
    if not isinstance(text, str):
        raise ChatError("invalid_text", "'text' must be a string")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t").strip()
    if not text:
        raise ChatError("empty_message", "The message is empty.")
    if len(text) > max_chars:
        return text[:max_chars], f"Your message was longer than {max_chars} characters and was shortened."
    return text, None


def safe_client_id(client_id: object) -> TypeGuard[str]:
    """A string of 1 to MAX_CLIENT_ID characters, printable as UTF-8 (no surrogates, controls)."""
    return (
        isinstance(client_id, str)
        and 0 < len(client_id) <= MAX_CLIENT_ID
        and not any(unicodedata.category(ch) in ("Cs", "Cc") for ch in client_id)
    )


def message_language(text: str, current: str | None) -> str:
    """The conversation's language after this customer message.

    A button payload (``/choose_option{…}``) or a few Latin characters in a Chinese chat (an
    order number, "OK") say nothing about the customer's language, so the chat keeps its
    language; a real English sentence (two words or more) switches it, as Chinese text does."""
    if text.startswith("/") and current:
        return current
    detected = detect_language(text, default=current)
    if detected == "en" and current in ("zh-Hant", "zh-Hans") and len(_WORDS.findall(text)) < 2:
        return current
    return detected


def check_client_id(client_id: object) -> str:
    if not safe_client_id(client_id):
        raise ChatError("invalid_id", f"'id' must be a string of 1 to {MAX_CLIENT_ID} printable characters")
    return client_id


class ChatService:
    def __init__(self, store: ChatStore, rasa: Assistant, hub: Hub, max_chars: int) -> None:
        self.store = store
        self._rasa = rasa
        self.hub = hub
        self._max_chars = max_chars
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.waiting: dict[int, list[Waiting]] = {}
        self.presence = Presence(store, hub)

    async def open(self, token: str | None, customer_ref: str | None = None) -> ConversationRef:
        """Resume the conversation of ``token``, or start a new one when it is absent or unknown.
        ``customer_ref`` comes from a verified identity token only."""
        conversation = None
        if token:
            conversation = await asyncio.to_thread(self.store.find_conversation, token)
        if conversation is None:
            conversation = await asyncio.to_thread(self.store.create_conversation)
        if customer_ref:
            customer_id = await asyncio.to_thread(self.store.attach_customer, conversation.id, customer_ref)
            if customer_id:
                refreshed = await asyncio.to_thread(self.store.find_conversation, conversation.token)
                conversation = refreshed or conversation
        return conversation

    async def find(self, token: str) -> ConversationRef | None:
        return await asyncio.to_thread(self.store.find_conversation, token)

    async def history(self, conversation: ConversationRef) -> list[MessageView]:
        return for_customer(await asyncio.to_thread(self.store.history, conversation.id))

    async def handle(
        self,
        conversation: ConversationRef,
        client_id: object,
        text: object,
        on_recorded: Callable[[str], Awaitable[None]] | None = None,
        title: object = None,
        may_hand_off: Callable[[], bool] | None = None,
    ) -> ChatReply:
        """Answer one customer message; ``on_recorded`` runs once it is safely stored.
        ``title``: the button title the widget showed when ``text`` is a button payload.
        ``may_hand_off`` (the sender's hand-over rate limit) is asked before the chat joins the
        agents' queue; when it says no, the chat stays with the bot and the reply says why."""
        checked_id = check_client_id(client_id)
        cleaned, notice = clean_text(text, self._max_chars)
        shown_title = title.strip()[:MAX_TITLE] if isinstance(title, str) and title.strip() else None
        async with self._locks[conversation.id]:
            return await self._handle_locked(
                conversation, checked_id, cleaned, notice, on_recorded, shown_title, may_hand_off
            )

    async def _handle_locked(
        self,
        conversation: ConversationRef,
        client_id: str,
        text: str,
        notice: str | None,
        on_recorded: Callable[[str], Awaitable[None]] | None,
        title: str | None = None,
        may_hand_off: Callable[[], bool] | None = None,
    ) -> ChatReply:
        button = text if is_payload(text) else None
        if button:
            shown = await asyncio.to_thread(self.store.button_title, conversation.id, button, title)
            language = conversation.language or (detect_language(shown) if shown else DEFAULT_LANGUAGE)
            shown = shown or chosen_option_text(language)
        else:
            shown, language = text, message_language(text, conversation.language)
        view, created, status = await asyncio.to_thread(
            self.store.record_customer_message,
            conversation,
            client_id,
            shown,
            language,
            button=button,
            frustration=frustration_score(shown).score,
        )
        conversation.language, conversation.status = language, status
        if on_recorded is not None:
            await on_recorded(client_id)
        if not created:
            replies = await asyncio.to_thread(self.store.replies_to, conversation.id, client_id)
            if replies or status in HUMAN_STATUSES:
                return ChatReply(
                    client_id, for_customer(replies), notice, duplicate=True, status=status, language=language
                )
        await self._to_consoles(conversation, [view])
        if status in HUMAN_STATUSES:
            await self._understand_for_record(conversation, client_id, text)
            notice = notice or await self.presence.wait_notice(conversation, status, language)
            return ChatReply(client_id, [], notice, status=status, language=language)
        item = Waiting(
            conversation,
            client_id,
            text,
            language,
            keep_language=button is not None,
            may_hand_off=may_hand_off,
        )
        if conversation.id in self.waiting and not await self._catch_up(conversation.id):
            return await self._wait(item, notice, "earlier messages are still waiting")
        try:
            replies, status, busy = await self._answer(item)
        except RasaUnavailable as exc:
            return await self._wait(item, notice, str(exc))
        return ChatReply(client_id, for_customer(replies), busy or notice, status=status, language=language)

    async def _understand_for_record(self, conversation: ConversationRef, client_id: str, text: str) -> None:
        """A message a person will answer: store its intent (Rasa's NLU only, so the bot neither
        answers nor moves on) and let the consoles re-rank the queue. Language and frustration
        were stored with the message."""
        try:
            parsed = await self._rasa.parse(text)
            intent, confidence = parsed.intent, parsed.confidence
        except RasaUnavailable as exc:
            logger.warning("intent of a message to an agent not parsed: %s", exc)
            intent, confidence = (payload_intent(text), 1.0) if is_payload(text) else (None, None)
        if intent is not None:
            await asyncio.to_thread(self.store.record_parse, conversation.id, client_id, intent, confidence)
        await self.hub.to_consoles({"type": "queue_changed", "conversation_id": conversation.id})

    async def _answer(self, item: Waiting) -> tuple[list[MessageView], str, str | None]:
        """One bot turn for ``item``, stored and shown to consoles: (replies, chat status, a notice
        when the hand-over limit kept the chat with the bot)."""
        conversation = item.conversation
        started = time.perf_counter()
        turn = await self._rasa.send(
            str(conversation.id),
            item.text,
            metadata={"language_hint": item.language},
            message_id=item.client_id,
        )
        latency_ms = (time.perf_counter() - started) * 1000
        replies = await asyncio.to_thread(
            self.store.record_bot_turn,
            conversation,
            item.client_id,
            turn,
            latency_ms,
            item.language,
            keep_language=item.keep_language,
        )
        await self._to_consoles(conversation, replies)
        status, busy = "bot", None
        if turn.handoff_reason and item.may_hand_off is not None and not item.may_hand_off():
            busy = queue_busy_text(item.language)
        elif turn.handoff_reason:
            moved = await asyncio.to_thread(
                self.store.transition,
                conversation.id,
                ("bot",),
                "waiting_agent",
                reason=turn.handoff_reason,
            )
            if moved:
                status = conversation.status = "waiting_agent"
                await self.hub.to_consoles({"type": "queue_changed", "conversation_id": conversation.id})
        return replies, status, busy

    async def _wait(self, item: Waiting, notice: str | None, reason: str) -> ChatReply:
        replies = await asyncio.to_thread(
            self.store.record_wait_reply, item.conversation, item.client_id, item.language, reason
        )
        queue = self.waiting.setdefault(item.conversation.id, [])
        if all(w.client_id != item.client_id for w in queue):
            queue.append(item)
        await self._to_consoles(item.conversation, replies)
        return ChatReply(item.client_id, replies, notice, language=item.language)

    async def _catch_up(self, conversation_id: int) -> bool:
        """Answer the conversation's waiting messages in order (its lock held); False when the
        assistant is still down."""
        queue = self.waiting.get(conversation_id, [])
        while queue:
            item = queue[0]
            replies: list[MessageView]
            current = await asyncio.to_thread(self.store.conversation_status, conversation_id)
            if current in HUMAN_STATUSES:  # an agent has the chat and sees these messages
                replies, status = [], current
            else:
                try:
                    replies, status, _ = await self._answer(item)
                except RasaUnavailable:
                    return False
            queue.pop(0)
            await asyncio.to_thread(self.store.settle_waiting, conversation_id, item.client_id)
            if replies:
                await self.hub.to_customer(
                    conversation_id,
                    {
                        "type": "push",
                        "in_reply_to": item.client_id,
                        "messages": for_customer(replies),
                        "status": status,
                    },
                )
        self.waiting.pop(conversation_id, None)
        return True

    async def retry_waiting(self) -> int:
        """Answer waiting messages, conversation by conversation, while the assistant answers;
        returns how many still wait."""
        for conversation_id in list(self.waiting):
            async with self._locks[conversation_id]:
                if not await self._catch_up(conversation_id):
                    break
        return sum(len(queue) for queue in self.waiting.values())

    async def load_waiting(self, since: datetime) -> None:
        """Pick up messages left waiting by an earlier run of the gateway."""
        for conversation, client_id, text, language in await asyncio.to_thread(
            self.store.list_waiting, since
        ):
            queue = self.waiting.setdefault(conversation.id, [])
            if all(w.client_id != client_id for w in queue):
                queue.append(Waiting(conversation, client_id, text, language))

    async def agent_reply(
        self,
        conversation_id: int,
        agent_id: int,
        text: object,
        client_id: str | None = None,
        agent_name: str | None = None,
    ) -> MessageView:
        """Store an agent's message (signed with ``agent_name``) and push it live to the widget."""
        cleaned, _ = clean_text(text, self._max_chars)
        view = await asyncio.to_thread(
            self.store.record_agent_message,
            conversation_id,
            check_client_id(client_id or f"agent-{uuid.uuid4().hex[:16]}"),
            cleaned,
            agent_id,
            agent_name,
        )
        await self.presence.agent_typing(conversation_id, False)
        await self.hub.to_customer(conversation_id, {"type": "push", "messages": [view]})
        await self.hub.to_consoles(
            {"type": "messages", "conversation_id": conversation_id, "messages": [view]}
        )
        return view

    async def claim(self, conversation_id: int, agent_id: int) -> bool:
        """Give the chat to this agent; only one agent can win a waiting chat."""
        won = await asyncio.to_thread(
            self.store.transition, conversation_id, ("waiting_agent",), "agent", agent_id=agent_id
        )
        if won:
            await self._announce(conversation_id, "agent")
        return won

    async def hand_back(self, conversation_id: int) -> bool:
        """Return the chat to the bot."""
        done = await asyncio.to_thread(self.store.transition, conversation_id, HUMAN_STATUSES, "bot")
        if done:
            await self._announce(conversation_id, "bot")
        return done

    async def _announce(self, conversation_id: int, status: str) -> None:
        await self.hub.to_customer(
            conversation_id, {"type": "status", "status": status, "notice": status_notice(status)}
        )
        await self.hub.to_consoles(
            {"type": "queue_changed", "conversation_id": conversation_id, "status": status}
        )

    async def _to_consoles(self, conversation: ConversationRef, views: list[MessageView]) -> None:
        if views:
            await self.hub.to_consoles(
                {"type": "messages", "conversation_id": conversation.id, "messages": views}
            )
