"""The one chat path shared by customers, the bot and agents.

Customer messages (WebSocket or HTTP fallback) go through :meth:`ChatService.handle`: validate,
store, then either ask Rasa (status ``bot``) or leave them for the agent holding the chat. Agent
replies go through :meth:`ChatService.agent_reply`. Both store first and then push the stored
message to every live widget and console through the :class:`~bot.gateway.hub.Hub`.
A message re-sent with the same client id (a reconnecting widget) gets the stored replies
instead of a second answer.

While Rasa or the action server is down, a customer message gets a "one moment" notice and
waits (:attr:`ChatService.waiting`, marked in the store too); it is answered, once and in order,
as soon as they are back: pushed to the widget by the worker of :mod:`bot.gateway.waiting`, or
before the conversation's next message, whichever comes first.
"""
from __future__ import annotations

import asyncio
import time
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable

from bot.gateway.hub import Hub
from bot.gateway.notices import status_notice
from bot.gateway.rasa_client import RasaClient, RasaUnavailable
from bot.gateway.store import ChatStore, ConversationRef
from bot.lang import detect_language

MAX_CLIENT_ID = 64
HUMAN_STATUSES = ("waiting_agent", "agent")


def for_customer(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


@dataclass
class ChatReply:
    client_id: str
    messages: list[dict[str, Any]]
    notice: str | None = None
    duplicate: bool = False
    status: str = "bot"
    language: str | None = None


def clean_text(text: Any, max_chars: int) -> tuple[str, str | None]:
    """Return the text to process and a notice when it had to be shortened."""
    if not isinstance(text, str):
        raise ChatError("invalid_text", "'text' must be a string")
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t"
    ).strip()
    if not text:
        raise ChatError("empty_message", "The message is empty.")
    if len(text) > max_chars:
        return text[:max_chars], f"Your message was longer than {max_chars} characters and was shortened."
    return text, None


def check_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID:
        raise ChatError("invalid_id", f"'id' must be a string of 1 to {MAX_CLIENT_ID} characters")
    return client_id


class ChatService:
    def __init__(self, store: ChatStore, rasa: RasaClient, hub: Hub, max_chars: int) -> None:
        self.store = store
        self._rasa = rasa
        self.hub = hub
        self._max_chars = max_chars
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.waiting: dict[int, list[Waiting]] = {}

    async def open(self, token: str | None, customer_ref: str | None = None) -> ConversationRef:
        """Resume the conversation of ``token``, or start a new one when it is absent or unknown.
        ``customer_ref`` comes from a verified identity token only."""
        conversation = None
        if token:
            conversation = await asyncio.to_thread(self.store.find_conversation, token)
        if conversation is None:
            conversation = await asyncio.to_thread(self.store.create_conversation)
        if customer_ref and await asyncio.to_thread(
            self.store.attach_customer, conversation.id, customer_ref
        ):
            conversation = await asyncio.to_thread(self.store.find_conversation, conversation.token)
        return conversation

    async def find(self, token: str) -> ConversationRef | None:
        return await asyncio.to_thread(self.store.find_conversation, token)

    async def history(self, conversation: ConversationRef) -> list[dict[str, Any]]:
        return for_customer(await asyncio.to_thread(self.store.history, conversation.id))

    async def handle(
        self,
        conversation: ConversationRef,
        client_id: Any,
        text: Any,
        on_recorded: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChatReply:
        """Answer one customer message; ``on_recorded`` runs once it is safely stored."""
        client_id = check_client_id(client_id)
        text, notice = clean_text(text, self._max_chars)
        async with self._locks[conversation.id]:
            return await self._handle_locked(conversation, client_id, text, notice, on_recorded)

    async def _handle_locked(
        self,
        conversation: ConversationRef,
        client_id: str,
        text: str,
        notice: str | None,
        on_recorded: Callable[[str], Awaitable[None]] | None,
    ) -> ChatReply:
        language = detect_language(text, default=conversation.language)
        view, created, status = await asyncio.to_thread(
            self.store.record_customer_message, conversation, client_id, text, language
        )
        conversation.language, conversation.status = language, status
        if on_recorded is not None:
            await on_recorded(client_id)
        if not created:
            replies = await asyncio.to_thread(self.store.replies_to, conversation.id, client_id)
            if replies or status in HUMAN_STATUSES:
                return ChatReply(client_id, for_customer(replies), notice, duplicate=True,
                                 status=status, language=language)
        await self._to_consoles(conversation, [view])
        if status in HUMAN_STATUSES:
            return ChatReply(client_id, [], notice, status=status, language=language)
        item = Waiting(conversation, client_id, text, language)
        if conversation.id in self.waiting and not await self._catch_up(conversation.id):
            return await self._wait(item, notice, "earlier messages are still waiting")
        try:
            replies, status = await self._answer(item)
        except RasaUnavailable as exc:
            return await self._wait(item, notice, str(exc))
        return ChatReply(client_id, for_customer(replies), notice, status=status, language=language)

    async def _answer(self, item: Waiting) -> tuple[list[dict[str, Any]], str]:
        """One bot turn for ``item``, stored and shown to consoles: (replies, chat status)."""
        conversation = item.conversation
        started = time.perf_counter()
        turn = await self._rasa.send(
            str(conversation.id), item.text, metadata={"language_hint": item.language},
            message_id=item.client_id,
        )
        latency_ms = (time.perf_counter() - started) * 1000
        replies = await asyncio.to_thread(
            self.store.record_bot_turn, conversation, item.client_id, turn, latency_ms
        )
        await self._to_consoles(conversation, replies)
        status = "bot"
        if turn.handoff_reason and await asyncio.to_thread(
            self.store.transition, conversation.id, ("bot",), "waiting_agent",
            reason=turn.handoff_reason,
        ):
            status = conversation.status = "waiting_agent"
            await self.hub.to_consoles({"type": "queue_changed", "conversation_id": conversation.id})
        return replies, status

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
            current = await asyncio.to_thread(self.store.conversation_status, conversation_id)
            if current in HUMAN_STATUSES:  # an agent has the chat and sees these messages
                replies, status = [], current
            else:
                try:
                    replies, status = await self._answer(item)
                except RasaUnavailable:
                    return False
            queue.pop(0)
            await asyncio.to_thread(self.store.settle_waiting, conversation_id, item.client_id)
            if replies:
                await self.hub.to_customer(conversation_id, {
                    "type": "push", "in_reply_to": item.client_id,
                    "messages": for_customer(replies), "status": status,
                })
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
        self, conversation_id: int, agent_id: int, text: Any, client_id: str | None = None
    ) -> dict[str, Any]:
        """Store an agent's message and push it live to the customer's widget."""
        text, _ = clean_text(text, self._max_chars)
        view = await asyncio.to_thread(
            self.store.record_agent_message,
            conversation_id,
            check_client_id(client_id or f"agent-{uuid.uuid4().hex[:16]}"),
            text,
            agent_id,
        )
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
        done = await asyncio.to_thread(
            self.store.transition, conversation_id, HUMAN_STATUSES, "bot"
        )
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

    async def _to_consoles(self, conversation: ConversationRef, views: list[dict[str, Any]]) -> None:
        if views:
            await self.hub.to_consoles(
                {"type": "messages", "conversation_id": conversation.id, "messages": views}
            )
