"""The customer chat path: validate, record, ask Rasa, record the replies.

Both the WebSocket and the HTTP fallback call :class:`ChatService`; they only translate frames.
Every customer message is stored before Rasa is asked, and a message re-sent with the same
client id (a reconnecting widget) gets the stored replies instead of a second answer.
"""
from __future__ import annotations

import asyncio
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot.lang import detect_language
from bot.gateway.rasa_client import RasaClient, RasaUnavailable
from bot.gateway.store import ChatStore, ConversationRef

MAX_CLIENT_ID = 64


class ChatError(ValueError):
    """A customer input problem, reported to the customer with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ChatReply:
    client_id: str
    messages: list[dict[str, Any]]
    notice: str | None = None
    duplicate: bool = False


def clean_text(text: Any, max_chars: int) -> tuple[str, str | None]:
    """Return the text to process and a notice when it had to be shortened."""
    if not isinstance(text, str):
        raise ChatError("invalid_text", "'text' must be a string")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t")
    text = text.strip()
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
    def __init__(self, store: ChatStore, rasa: RasaClient, max_chars: int) -> None:
        self._store = store
        self._rasa = rasa
        self._max_chars = max_chars
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def open(self, token: str | None) -> ConversationRef:
        """Resume the conversation of ``token``, or start a new one when it is absent or unknown."""
        if token:
            found = await asyncio.to_thread(self._store.find_conversation, token)
            if found:
                return found
        return await asyncio.to_thread(self._store.create_conversation)

    async def find(self, token: str) -> ConversationRef | None:
        return await asyncio.to_thread(self._store.find_conversation, token)

    async def history(self, conversation: ConversationRef) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._store.history, conversation.id)

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
        message_id, created = await asyncio.to_thread(
            self._store.record_customer_message, conversation.id, client_id, text, language
        )
        if on_recorded is not None:
            await on_recorded(client_id)
        if not created:
            replies = await asyncio.to_thread(self._store.replies_to, conversation.id, client_id)
            if replies:
                return ChatReply(client_id, replies, notice, duplicate=True)
        conversation.language = language
        started = time.perf_counter()
        try:
            turn = await self._rasa.send(
                str(conversation.id),
                text,
                metadata={"language_hint": language},
                message_id=client_id,
            )
        except RasaUnavailable as exc:
            replies = await asyncio.to_thread(
                self._store.record_system_reply, conversation.id, client_id, language, str(exc)
            )
            return ChatReply(client_id, replies, notice)
        latency_ms = (time.perf_counter() - started) * 1000
        replies = await asyncio.to_thread(
            self._store.record_bot_turn, conversation.id, message_id, client_id, turn, latency_ms
        )
        return ChatReply(client_id, replies, notice)
