"""What each side of a human chat sees of the other besides messages (issue 22): the agent's
typing, read state both ways, and the acknowledgement with the expected wait.

Frames (JSON, through the :class:`~gateway.hub.Hub`):

- to the customer: ``{"type": "typing", "on": bool, "who": "agent"}`` (no text, ever: the
  agent console only says whether the agent is typing) and ``{"type": "read", "by": "agent",
  "message_id": n, "client_id": "..."}`` (the latest customer message the agent has seen);
- to the consoles: ``{"type": "read", "by": "customer", "conversation_id": n, "message_id": n}``.

Typing frames are throttled per conversation (:data:`TYPING_EVERY_S`): a console that reports
every keystroke reaches the customer at most once a second or so; "off" always passes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TypedDict

from sqlalchemy.orm import Session

from common.texts import text
from crm.models import Message
from crm.orm.base import utcnow
from crm.outbox import DB_DOWN_ERRORS
from crm.repo import queue_wait
from crm.repo import read_state as reads
from gateway.hub import Broadcaster
from gateway.store import ChatStore, ConversationRef
from recovery.wait import estimate_wait_minutes

TYPING_EVERY_S = 1.5
#: Message ids are 32-bit integers in the CRM; a larger "read up to" means "everything".
MAX_ID = 2**31 - 1
#: One acknowledgement with the wait per conversation at most this often (seconds).
ACK_EVERY_S = 60.0
#: Above this many remembered chats, entries older than their window are forgotten.
PRUNE_ABOVE = 10_000
#: First responses this recent feed the estimate.
RECENT = timedelta(days=7)


class ReadMark(TypedDict):
    message_id: int
    client_id: str


def _prune(stamps: dict[int, float], now: float, window: float) -> None:
    if len(stamps) > PRUNE_ABOVE:
        for key in [k for k, at in stamps.items() if now - at >= window]:
            del stamps[key]


class Presence:
    def __init__(self, store: ChatStore, hub: Broadcaster) -> None:
        self._store = store
        self._hub = hub
        self._typing_sent: dict[int, float] = {}
        self._acked: dict[int, float] = {}

    # ------------------------------------------------------------------ typing
    async def agent_typing(self, conversation_id: int, on: bool, now: float | None = None) -> bool:
        """Tell the customer whether the agent is typing; False when throttled (not sent)."""
        now = time.monotonic() if now is None else now
        if on:
            last = self._typing_sent.get(conversation_id)
            if last is not None and now - last < TYPING_EVERY_S:
                return False
            self._typing_sent[conversation_id] = now
            _prune(self._typing_sent, now, TYPING_EVERY_S)
        else:
            self._typing_sent.pop(conversation_id, None)
        await self._hub.to_customer(conversation_id, {"type": "typing", "on": on, "who": "agent"})
        return True

    # ------------------------------------------------------------------ read state
    async def customer_read(self, conversation_id: int, up_to: object) -> int | None:
        """The customer has seen the agent's messages up to ``up_to``; tell the consoles."""
        if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to <= 0:
            return None
        marker = await asyncio.to_thread(self._mark, conversation_id, "customer", min(up_to, MAX_ID))
        if marker is not None:
            await self._hub.to_consoles(
                {"type": "read", "by": "customer", "conversation_id": conversation_id, "message_id": marker}
            )
        return marker

    async def agent_read(self, conversation_id: int, up_to: int) -> int | None:
        """The agent has seen the customer's messages up to ``up_to``; tell the widget."""
        marker = await asyncio.to_thread(self._mark, conversation_id, "agent", min(up_to, MAX_ID))
        if marker is not None:
            mark = await asyncio.to_thread(self._client_id, conversation_id, marker)
            await self._hub.to_customer(conversation_id, {"type": "read", "by": "agent", **mark})
            await self._hub.to_consoles(
                {"type": "read", "by": "agent", "conversation_id": conversation_id, "message_id": marker}
            )
        return marker

    def _mark(self, conversation_id: int, reader: reads.Reader, up_to: int) -> int | None:
        try:
            return self._store.run(lambda s: reads.mark_read(s, conversation_id, reader, up_to))
        except DB_DOWN_ERRORS:
            return None

    def _client_id(self, conversation_id: int, message_id: int) -> ReadMark:
        def work(session: Session) -> ReadMark:
            message = session.get(Message, message_id)
            client_id = message.client_id if message and message.conversation_id == conversation_id else ""
            return {"message_id": message_id, "client_id": client_id}

        return self._store.run(work)

    def state(self, conversation_id: int) -> reads.ReadState:
        return self._store.run(lambda s: reads.read_state(s, conversation_id))

    def agent_read_mark(self, conversation_id: int) -> ReadMark | None:
        """For the widget's history: the latest customer message the agent has seen."""
        try:
            marker = self.state(conversation_id)["agent_read_id"]
            return None if marker is None else self._client_id(conversation_id, marker)
        except DB_DOWN_ERRORS:
            return None

    # ------------------------------------------------------------------ the wait
    async def wait_notice(
        self, conversation: ConversationRef, status: str, language: str, now: float | None = None
    ) -> str | None:
        """The acknowledgement of a message sent while waiting for an agent (position and
        expected wait, in the customer's language); None when an agent has the chat or one
        was sent to this conversation within :data:`ACK_EVERY_S`."""
        if status != "waiting_agent":
            return None
        now = time.monotonic() if now is None else now
        last = self._acked.get(conversation.id)
        if last is not None and now - last < ACK_EVERY_S:
            return None
        try:
            position, recent = await asyncio.to_thread(self._queue_facts, conversation.id)
        except DB_DOWN_ERRORS:
            return None
        if position is None:
            return None
        self._acked[conversation.id] = now
        _prune(self._acked, now, ACK_EVERY_S)
        minutes = estimate_wait_minutes(position, recent)
        return text("notice.waiting_ack", language, position=position, minutes=minutes)

    def _queue_facts(self, conversation_id: int) -> tuple[int | None, list[float]]:
        def work(session: Session) -> tuple[int | None, list[float]]:
            position = queue_wait.queue_position(session, conversation_id)
            return position, queue_wait.recent_first_responses(session, utcnow() - RECENT)

        return self._store.run(work)
