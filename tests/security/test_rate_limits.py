"""Defect 8: rate limits on the customer endpoints; a burst on one socket is slowed, not
dropped, and nothing is stored twice."""

from __future__ import annotations

import json
import time

from crm.db import session_scope
from crm.models import Conversation, Feedback, Message
from tests.security.conftest import chat_socket, open_chat


def _count(factory, model, **where) -> int:
    with session_scope(factory) as session:
        return session.query(model).filter_by(**where).count()


def test_new_chats_are_limited_per_address_with_retry_after(client, factory):
    replies = [client.post("/api/conversations") for _ in range(40)]
    created = [r for r in replies if r.status_code == 201]
    limited = [r for r in replies if r.status_code == 429]
    assert len(created) == 20 and len(limited) == 20
    assert int(limited[0].headers["Retry-After"]) >= 1 and limited[0].json()["error"] == "rate_limited"
    assert _count(factory, Conversation) == 20  # nothing created for a refused call
    with chat_socket(client) as ws:  # a socket without a token would create one more: refused too
        error = ws.receive_json()
        assert error["code"] == "rate_limited" and error["retry_after"] >= 1


def test_ratings_are_limited_and_stored_once(client, factory):
    token = client.post("/api/conversations").json()["token"]
    statuses = [
        client.post(f"/api/conversations/{token}/csat", json={"score": 1 + i % 5}).status_code
        for i in range(50)
    ]
    assert statuses[:3] == [200, 200, 200] and set(statuses[3:]) == {429}
    with session_scope(factory) as session:
        cid = session.query(Conversation).filter_by(token=token).one().id
    assert _count(factory, Feedback, conversation_id=cid) == 1


def test_http_messages_are_limited_per_conversation(client, factory):
    token = client.post("/api/conversations").json()["token"]
    replies = [
        client.post(f"/api/conversations/{token}/messages", json={"id": f"m{i}", "text": f"hello {i}"})
        for i in range(12)
    ]
    statuses = [r.status_code for r in replies]
    assert statuses[:8] == [200] * 8 and set(statuses[8:]) == {429}
    assert "Retry-After" in replies[-1].headers
    assert _count(factory, Message, direction="customer") == 8


def test_a_burst_on_one_socket_is_slowed_not_dropped(client, factory):
    from gateway.ratelimit import Policy, RateLimiter

    client.app.state.rate_limiter = RateLimiter(Policy(messages_per_conversation="5/1 second"))
    burst = 15
    with chat_socket(client) as ws:
        open_chat(ws)
        started = time.monotonic()
        for i in range(burst):
            ws.send_text(json.dumps({"type": "message", "id": f"b{i}", "text": f"burst {i}"}))
        ws.send_text(json.dumps({"type": "message", "id": "b0", "text": "burst 0"}))  # a resend
        replies = []
        while len(replies) < burst + 1:
            frame = ws.receive_json()
            assert frame["type"] != "error", frame
            if frame["type"] == "reply":
                replies.append(frame["in_reply_to"])
        elapsed = time.monotonic() - started
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}
    assert replies == [f"b{i}" for i in range(burst)] + ["b0"]  # all answered, in order
    assert elapsed >= 2.0  # 15 messages at 5 a second: slowed down
    assert _count(factory, Message, direction="customer") == burst  # the resend is not stored twice


class HandoffRasa:
    """Stands in for Rasa: every turn hands the chat to a person."""

    async def send(self, sender, text, *, metadata, message_id):
        from gateway.rasa_client import RasaTurn

        return RasaTurn(
            messages=[{"text": "A colleague will take over."}],
            intent="request_human",
            confidence=0.99,
            language="en",
            handoff_reason="explicit_request",
            handoff_summary={"reason": "explicit_request"},
        )


def test_one_address_cannot_flood_the_agent_queue_with_hand_overs(client, factory, monkeypatch):
    monkeypatch.setattr(client.app.state.chat, "_rasa", HandoffRasa())
    statuses, notices = [], []
    for _i in range(9):
        token = client.post("/api/conversations").json()["token"]
        reply = client.post(
            f"/api/conversations/{token}/messages", json={"id": "h", "text": "a person please"}
        )
        assert reply.status_code == 200
        statuses.append(reply.json()["status"])
        notices.append(reply.json().get("notice"))
    assert statuses == ["waiting_agent"] * 5 + ["bot"] * 4
    assert all("Too many chats from your network" in n for n in notices[5:])
    assert _count(factory, Conversation, status="waiting_agent") == 5


def test_limits_off_lets_a_benchmark_open_many_chats(settings, users):
    import dataclasses

    from tests.console.conftest import build_client

    with build_client(dataclasses.replace(settings, rate_limits=False)) as client:
        assert all(client.post("/api/conversations").status_code == 201 for _ in range(30))
