"""Issue 22, what a customer sees of the agent besides messages (gateway/presence.py), through the
real app and a stub Rasa: the acknowledgement with the expected wait, the agent's display name on
messages (live, in the history and in the agent's transcript), the agent's typing and read state
both ways; and what hostile callers get (another chat's ids, someone else's chat, bad names)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from crm.db import session_scope
from crm.models import Conversation
from tests.console.conftest import PASSWORD, build_client
from tests.gateway.stub_rasa import StubRasa, turn


def script(text: str) -> dict:
    if text in ("a person please", "我要找真人客服"):
        language = "en" if text.startswith("a") else "zh-Hant"
        return turn(
            "A colleague will take over.",
            language=language,
            intent="request_human",
            handoff="explicit_request",
        )
    return turn("OK.", language=None, intent="inquiry")


@pytest.fixture
def rasa(settings):
    stub = StubRasa(script, token=settings.rasa_token)
    yield stub
    stub.close()


@pytest.fixture
def client(settings, users, rasa):
    with build_client(dataclasses.replace(settings, rasa_url=rasa.url)) as test_client:
        yield test_client


class Agent:
    """A console user signed in on the test's own client (one event loop for sockets and calls)."""

    def __init__(self, client: Any, username: str) -> None:
        self.client = client
        client.cookies.clear()
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf": token, "next": ""},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.csrf = client.get("/api/console/me").json()["csrf"]

    def post(self, url: str, body: Any = None) -> Any:
        return self.client.post(url, json=body, headers={"X-CSRF-Token": self.csrf})

    def get(self, url: str) -> Any:
        return self.client.get(url)


def say(client, token: str, client_id: str, text: str) -> dict:
    reply = client.post(f"/api/conversations/{token}/messages", json={"id": client_id, "text": text})
    assert reply.status_code == 200, reply.text
    return reply.json()


def conversation_id(factory, token: str) -> int:
    with session_scope(factory) as session:
        return session.query(Conversation).filter_by(token=token).one().id


def waiting_chat(client, text: str = "a person please") -> str:
    token = client.post("/api/conversations").json()["token"]
    assert say(client, token, "c1", text)["status"] == "waiting_agent"
    return token


def held_chat(client, factory, agent: Agent) -> tuple[str, int]:
    token = waiting_chat(client)
    cid = conversation_id(factory, token)
    assert agent.post(f"/api/agent/conversations/{cid}/claim").status_code == 200
    return token, cid


def frames_until(socket, kind: str, limit: int = 20) -> dict:
    for _ in range(limit):
        frame = socket.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


# ------------------------------------------------------------------ the wait


def test_a_message_sent_while_waiting_is_acknowledged_with_position_and_wait(client):
    first = waiting_chat(client)
    second = waiting_chat(client, "我要找真人客服")
    reply = say(client, first, "c2", "hello? anyone there?")
    assert reply["status"] == "waiting_agent" and reply["messages"] == []
    assert "number 1 in the queue" in reply["notice"] and re.search(r"about \d+ min", reply["notice"])
    reply = say(client, second, "c2", "請問還要等多久？")
    assert "第 2 位" in reply["notice"], reply  # behind the first chat, in the customer's language
    assert "notice" not in say(client, first, "c3", "still here")  # not on every message


def test_no_wait_is_announced_once_an_agent_has_the_chat(client, factory):
    token, _ = held_chat(client, factory, Agent(client, "agent1"))
    assert "notice" not in say(client, token, "c2", "hi")


# ------------------------------------------------------------------ agent names


def test_the_customer_sees_the_agents_display_name_live_and_after_a_reload(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    with client.websocket_connect(f"/ws?token={token}") as socket:
        frames_until(socket, "history")
        sent = agent.post(f"/api/agent/conversations/{cid}/reply", {"text": "Hi, I'm on it."})
        assert sent.status_code == 200 and sent.json()["message"]["agent_name"] == "Agent One"
        push = frames_until(socket, "push")
    assert push["messages"][0]["agent_name"] == "Agent One"
    assert "agent_id" not in push["messages"][0]  # the staff id stays inside
    history = client.get(f"/api/conversations/{token}/messages").json()["messages"]
    assert [m["agent_name"] for m in history if m["direction"] == "agent"] == ["Agent One"]
    transcript = agent.get(f"/api/agent/conversations/{cid}").json()["messages"]
    assert [m.get("agent_name") for m in transcript if m["direction"] == "agent"] == ["Agent One"]


def test_agents_change_their_own_display_name_and_bad_names_are_refused(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    assert agent.post("/api/console/display-name", {"display_name": "  Mei   Chan "}).json() == {
        "display_name": "Mei Chan"
    }
    assert agent.get("/api/console/me").json()["name"] == "Mei Chan"
    message = agent.post(f"/api/agent/conversations/{cid}/reply", {"text": "Hello"}).json()["message"]
    assert message["agent_name"] == "Mei Chan"
    for bad in ("", "   ", "<img src=x onerror=alert(1)>", "x" * 61):
        response = agent.post("/api/console/display-name", {"display_name": bad})
        assert response.status_code == 422, bad
    assert agent.post("/api/console/display-name", {"display_name": 7}).status_code == 422
    no_csrf = client.post("/api/console/display-name", json={"display_name": "Eve"})
    assert no_csrf.status_code == 403
    client.cookies.clear()
    assert client.post("/api/console/display-name", json={"display_name": "Eve"}).status_code == 401


# ------------------------------------------------------------------ typing


def test_the_agents_typing_reaches_the_customer_throttled_and_without_text(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    with client.websocket_connect(f"/ws?token={token}") as socket:
        frames_until(socket, "history")
        url = f"/api/agent/conversations/{cid}/typing"
        assert agent.post(url, {"on": True, "text": "the secret draft"}).json() == {"ok": True, "sent": True}
        assert agent.post(url, {"on": True}).json()["sent"] is False  # throttled
        assert agent.post(url, {"on": False}).json()["sent"] is True  # "off" always passes
        on, off = socket.receive_json(), socket.receive_json()
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}  # nothing else was sent in between
    assert on == {"type": "typing", "on": True, "who": "agent"}
    assert off == {"type": "typing", "on": False, "who": "agent"}
    assert agent.post(url, {"on": "yes please"}).status_code == 422


def test_only_the_agent_holding_the_chat_can_type_or_mark_it_read(client, factory):
    token, cid = held_chat(client, factory, Agent(client, "agent1"))
    other = Agent(client, "agent2")
    assert other.post(f"/api/agent/conversations/{cid}/typing", {"on": True}).status_code == 409
    assert other.post(f"/api/agent/conversations/{cid}/read", {"message_id": 1}).status_code == 409
    assert other.post("/api/agent/conversations/999999/typing", {"on": True}).status_code == 404
    client.cookies.clear()
    assert client.post(f"/api/agent/conversations/{cid}/typing", json={"on": True}).status_code == 401


# ------------------------------------------------------------------ read state


def test_read_state_both_ways_live_and_after_a_reload(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    say(client, token, "c2", "my order is late")
    history = client.get(f"/api/conversations/{token}/messages").json()["messages"]
    question = next(m for m in history if m["client_id"] == "c2")
    with client.websocket_connect(f"/ws?token={token}") as socket:
        assert "read_by_agent" not in frames_until(socket, "history")
        marked = agent.post(f"/api/agent/conversations/{cid}/read", {"message_id": question["id"]})
        assert marked.json() == {"agent_read_id": question["id"]}
        read = frames_until(socket, "read")
        assert read == {"type": "read", "by": "agent", "message_id": question["id"], "client_id": "c2"}
        answer = agent.post(f"/api/agent/conversations/{cid}/reply", {"text": "Checking."}).json()["message"]
        frames_until(socket, "push")
        assert agent.get(f"/api/agent/conversations/{cid}/read").json()["customer_read_id"] is None
        socket.send_json({"type": "read", "id": answer["id"]})
        socket.send_json({"type": "ping"})
        frames_until(socket, "pong")
    assert agent.get(f"/api/agent/conversations/{cid}/read").json()["customer_read_id"] == answer["id"]
    with client.websocket_connect(f"/ws?token={token}") as socket:  # a reload
        history_frame = frames_until(socket, "history")
    assert history_frame["read_by_agent"] == {"message_id": question["id"], "client_id": "c2"}
    # marking an older message again changes nothing
    assert agent.post(f"/api/agent/conversations/{cid}/read", {"message_id": 1}).json() == {
        "agent_read_id": None
    }


def test_a_customer_cannot_mark_another_chats_messages_or_their_own_as_read(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    other_token, other_cid = held_chat(client, factory, agent)
    theirs = agent.post(f"/api/agent/conversations/{other_cid}/reply", {"text": "For the other chat"}).json()
    mine = next(
        m
        for m in client.get(f"/api/conversations/{token}/messages").json()["messages"]
        if m["client_id"] == "c1"
    )
    with client.websocket_connect(f"/ws?token={token}") as socket:
        frames_until(socket, "history")
        for hostile in (theirs["message"]["id"], mine["id"], -5, "7", None, True, 10**30):
            socket.send_json({"type": "read", "id": hostile})
        socket.send_json({"type": "ping"})
        frames_until(socket, "pong")  # still open, no error for any of them
    assert agent.get(f"/api/agent/conversations/{cid}/read").json()["customer_read_id"] is None
    assert agent.get(f"/api/agent/conversations/{other_cid}/read").json()["customer_read_id"] is None
    for bad in ({"message_id": 0}, {"message_id": "x"}, {"message_id": 10**30}, {}):
        assert agent.post(f"/api/agent/conversations/{cid}/read", bad).status_code == 422


def test_development_users_get_display_names_and_old_placeholders_are_replaced(factory):
    from crm.repo import admin
    from gateway.console.devusers import DEV_DISPLAY_NAMES, ensure_dev_users

    creds = {"agent": {"username": "demo-agent", "password": "pw-one-123456"}}
    with session_scope(factory) as session:
        admin.create_user(
            session, username="demo-agent", password="pw-one-123456", role="agent", display_name="Demo agent"
        )
    ensure_dev_users(factory, creds)
    with session_scope(factory) as session:
        assert admin.get_user_by_username(session, "demo-agent").display_name == DEV_DISPLAY_NAMES["agent"]
        admin.get_user_by_username(session, "demo-agent").display_name = "Mei"
    ensure_dev_users(factory, creds)
    with session_scope(factory) as session:
        assert (
            admin.get_user_by_username(session, "demo-agent").display_name == "Mei"
        )  # the user's choice stays
    creds = {"manager": {"username": "demo-manager", "password": "pw-two-123456"}}
    ensure_dev_users(factory, creds)
    with session_scope(factory) as session:
        assert admin.get_user_by_username(session, "demo-manager").display_name == "Alex Wong"


def test_presence_forgets_old_chats_once_it_remembers_many():
    import asyncio

    from gateway import presence as presence_module

    class Hub:
        async def to_customer(self, conversation_id: int, frame: dict) -> None:
            pass

        async def to_consoles(self, frame: dict) -> None:
            pass

    tracker = presence_module.Presence(store=None, hub=Hub())  # type: ignore[arg-type]

    async def many() -> None:
        for cid in range(presence_module.PRUNE_ABOVE + 1):
            await tracker.agent_typing(cid, True, now=0.0)
        await tracker.agent_typing(-1, True, now=100.0)

    asyncio.run(many())
    assert tracker._typing_sent == {-1: 100.0}
    assert asyncio.run(tracker.agent_typing(-1, True, now=100.5)) is False  # the recent one is kept
