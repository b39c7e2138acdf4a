"""Messages that arrive while Rasa or the action server is down (gateway/chat.py, waiting.py):
a "one moment" notice at once, then the bot's answer exactly once, in order, pushed to the widget
as soon as the assistant is back; a restarted gateway picks the waiting messages up from the
store. Real CRM store (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set), stand-in Rasa."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm.db import session_scope
from crm.models import Message
from crm.orm.base import utcnow
from crm.outbox import Outbox
from crm.repo.waiting import settle
from gateway.chat import ChatService
from gateway.hub import Hub
from gateway.notices import one_moment_text
from gateway.rasa_client import RasaTurn, RasaUnavailable
from gateway.store import ChatStore


class FakeRasa:
    def __init__(self) -> None:
        self.up = False
        self.seen: list[str] = []

    async def send(self, sender: str, text: str, *, metadata: dict, message_id: str) -> RasaTurn:
        if not self.up:
            raise RasaUnavailable("Rasa server answered HTTP 503")
        self.seen.append(message_id)
        return RasaTurn(
            messages=[{"text": f"answer to {text}"}], intent="inquiry", confidence=0.9, language="en"
        )

    async def ready(self, deep: bool = False) -> bool:
        return self.up


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)


def service(session_factory, tmp_path, rasa: FakeRasa) -> ChatService:
    return ChatService(ChatStore(session_factory, Outbox(tmp_path / "outbox.jsonl")), rasa, Hub(), 2000)


def client_ids(session_factory, conversation_id: int) -> list[tuple[str, str]]:
    with session_scope(session_factory) as s:
        return [
            (m.client_id, m.direction)
            for m in s.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            )
        ]


def test_waiting_messages_are_answered_once_in_order_when_the_assistant_is_back(session_factory, tmp_path):
    async def scenario() -> None:
        rasa = FakeRasa()
        chat = service(session_factory, tmp_path, rasa)
        conversation = await chat.open(None)
        socket = Socket()
        chat.hub.join(conversation.id, socket)
        first = await chat.handle(conversation, "m1", "hello there")
        assert [m["text"] for m in first.messages] == [one_moment_text("en")]
        assert [m["client_id"] for m in first.messages] == ["m1:wait"]
        second = await chat.handle(conversation, "m2", "where is my parcel")
        assert [m["client_id"] for m in second.messages] == ["m2:wait"]
        again = await chat.handle(conversation, "m1", "hello there")  # a resent message
        assert [m["client_id"] for m in again.messages] == ["m1:wait"]
        assert await chat.retry_waiting() == 2  # still down: nothing answered
        rasa.up = True
        assert await chat.retry_waiting() == 0
        assert await chat.retry_waiting() == 0
        assert rasa.seen == ["m1", "m2"]
        pushes = [f for f in socket.frames if f["type"] == "push"]
        assert [(p["in_reply_to"], [m["client_id"] for m in p["messages"]]) for p in pushes] == [
            ("m1", ["m1:r0"]),
            ("m2", ["m2:r0"]),
        ]
        third = await chat.handle(conversation, "m3", "thanks")
        assert [m["client_id"] for m in third.messages] == ["m3:r0"]
        assert client_ids(session_factory, conversation.id) == [
            ("m1", "customer"),
            ("m1:waited", "system"),
            ("m2", "customer"),
            ("m2:waited", "system"),
            ("m1:r0", "bot"),
            ("m2:r0", "bot"),
            ("m3", "customer"),
            ("m3:r0", "bot"),
        ]

    asyncio.run(scenario())


def test_a_new_message_answers_the_waiting_ones_first(session_factory, tmp_path):
    async def scenario() -> None:
        rasa = FakeRasa()
        chat = service(session_factory, tmp_path, rasa)
        conversation = await chat.open(None)
        await chat.handle(conversation, "m1", "hello there")
        rasa.up = True
        reply = await chat.handle(conversation, "m2", "where is my parcel")
        assert [m["client_id"] for m in reply.messages] == ["m2:r0"]
        assert rasa.seen == ["m1", "m2"] and chat.waiting == {}

    asyncio.run(scenario())


def test_a_restarted_gateway_picks_up_what_was_left_waiting(session_factory, tmp_path):
    async def scenario() -> None:
        rasa = FakeRasa()
        before = service(session_factory, tmp_path, rasa)
        conversation = await before.open(None)
        await before.handle(conversation, "m1", "hello there")
        after = service(session_factory, tmp_path, rasa)  # a new process: empty memory
        await after.load_waiting(utcnow() - timedelta(hours=1))
        assert [w.client_id for w in after.waiting[conversation.id]] == ["m1"]
        rasa.up = True
        assert await after.retry_waiting() == 0
        assert ("m1:r0", "bot") in client_ids(session_factory, conversation.id)
        await after.load_waiting(utcnow() - timedelta(hours=1))
        assert after.waiting == {}

    asyncio.run(scenario())


def test_settling_a_waiting_message_succeeds_once(session_factory, tmp_path):
    async def scenario() -> int:
        chat = service(session_factory, tmp_path, FakeRasa())
        conversation = await chat.open(None)
        await chat.handle(conversation, "m1", "hello there")
        return conversation.id

    conversation_id = asyncio.run(scenario())
    with session_scope(session_factory) as s:
        assert settle(s, conversation_id, "m1") is True
    with session_scope(session_factory) as s:
        assert settle(s, conversation_id, "m1") is False
