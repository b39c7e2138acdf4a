"""What the gateway records of each customer message, through the real app and a stub Rasa:
button clicks by their title in the chat's language (payload kept beside it), and messages sent
while a person has the chat understood for the record and the queue without a bot reply."""

from __future__ import annotations

import dataclasses

import pytest

from crm.db import session_scope
from crm.models import Conversation, Message
from crm.repo import conversations as conv_repo
from recovery.frustration import frustration_score
from tests.console.conftest import Console, build_client
from tests.gateway.stub_rasa import StubRasa, turn

YES_NO = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]


def script(text: str) -> dict:
    if text == "我想退貨，可以幫我處理嗎？":
        return turn("好的，要為您辦理退貨嗎？", buttons=YES_NO, language="zh-Hant", intent="inquiry")
    if text == "a person please":
        return turn(
            "A colleague will take over.", language="en", intent="request_human", handoff="explicit_request"
        )
    return turn(
        "好的，已為您記錄。", language=None, intent=text[1:].split("{")[0] if text.startswith("/") else None
    )


@pytest.fixture
def rasa(settings):
    stub = StubRasa(
        script, intents={"WHERE IS MY REFUND?? THIS IS RIDICULOUS!!!": "complaint"}, token=settings.rasa_token
    )
    yield stub
    stub.close()


@pytest.fixture
def client(settings, users, rasa):
    with build_client(dataclasses.replace(settings, rasa_url=rasa.url)) as test_client:
        yield test_client


def say(client, token: str, client_id: str, text: str, title: str | None = None) -> dict:
    body = {"id": client_id, "text": text, **({"title": title} if title is not None else {})}
    reply = client.post(f"/api/conversations/{token}/messages", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def rows(factory, token: str) -> list[Message]:
    with session_scope(factory) as session:
        conv = session.query(Conversation).filter_by(token=token).one()
        found = conv_repo.list_messages(session, conv.id)
        session.expunge_all()
        return found


def test_button_clicks_are_stored_and_shown_by_the_offered_title_in_the_chat_language(
    client, rasa, factory, settings
):
    token = client.post("/api/conversations").json()["token"]
    first = say(client, token, "c1", "我想退貨，可以幫我處理嗎？")
    assert first["messages"][0]["buttons"] == YES_NO
    say(client, token, "c2", "/affirm", title="是")
    say(client, token, "c3", "/deny", title="Approve a refund of NT$99,999")  # a forged title
    say(client, token, "c4", '/give_feedback{"score": 5}', title="5 stars")  # never offered

    assert rasa.webhook_texts[1:] == ["/affirm", "/deny", '/give_feedback{"score": 5}']  # Rasa gets payloads
    stored = {m.client_id: m for m in rows(factory, token)}
    clicks = [stored[c] for c in ("c2", "c3", "c4")]
    assert [m.text for m in clicks] == ["是", "否", "（已選擇選項）"]
    assert [m.payload["button"]["payload"] for m in clicks] == [
        "/affirm",
        "/deny",
        '/give_feedback{"score": 5}',
    ]
    assert {m.language for m in clicks} == {"zh-Hant"}
    assert [m.intent for m in clicks] == ["affirm", "deny", "give_feedback"]
    bot = [m for m in stored.values() if m.direction == "bot"]
    assert len(bot) == 4 and {m.language for m in bot} == {"zh-Hant"}  # Rasa's slot was empty

    history = client.get(f"/api/conversations/{token}/messages").json()["messages"]
    customer = [m["text"] for m in history if m["direction"] == "customer"]
    assert customer == ["我想退貨，可以幫我處理嗎？", "是", "否", "（已選擇選項）"]
    assert history[2]["button"] == {"payload": "/affirm"}
    with session_scope(factory) as session:
        cid = session.query(Conversation).filter_by(token=token).one().id
    agent = Console(settings, client.app, "agent1")
    transcript = agent.get(f"/api/agent/conversations/{cid}").json()["messages"]
    assert not any(m["text"].startswith("/") for m in transcript)
    assert [m["text"] for m in transcript if m["direction"] == "customer"] == customer


def test_the_widget_socket_passes_the_button_title(client, factory):
    with client.websocket_connect("/ws") as socket:
        token = socket.receive_json()["token"]
        socket.receive_json()  # history
        socket.send_json({"type": "message", "id": "w1", "text": "我想退貨，可以幫我處理嗎？"})
        while socket.receive_json()["type"] != "reply":
            pass
        socket.send_json({"type": "message", "id": "w2", "text": "/deny", "title": "否"})
        while (frame := socket.receive_json())["type"] != "reply":
            pass
    assert frame["language"] == "zh-Hant"
    assert [m.text for m in rows(factory, token) if m.direction == "customer"] == [
        "我想退貨，可以幫我處理嗎？",
        "否",
    ]


def test_messages_sent_while_a_person_has_the_chat_are_understood_not_answered(
    client, rasa, factory, settings
):
    token = client.post("/api/conversations").json()["token"]
    assert say(client, token, "c1", "a person please")["status"] == "waiting_agent"
    agent = Console(settings, client.app, "agent1")
    with session_scope(factory) as session:
        cid = session.query(Conversation).filter_by(token=token).one().id

    def queued() -> dict:
        return next(i for i in agent.get("/api/agent/queue").json()["items"] if i["id"] == cid)

    assert queued()["priority"]["frustration"] == 0
    angry = "WHERE IS MY REFUND?? THIS IS RIDICULOUS!!!"
    reply = say(client, token, "c2", angry)
    assert reply["messages"] == [] and reply["status"] == "waiting_agent"
    say(client, token, "c3", "怎么还没有人回复")
    assert rasa.webhook_texts == ["a person please"]  # the bot was not asked to answer
    assert [p["text"] for p in rasa.parsed] == [angry, "怎么还没有人回复"]  # only understood
    stored = {m.client_id: m for m in rows(factory, token)}
    assert (stored["c2"].intent, stored["c2"].confidence, stored["c2"].language) == ("complaint", 0.87, "en")
    assert stored["c2"].frustration == frustration_score(angry).score >= 0.7
    assert (stored["c3"].intent, stored["c3"].language) == ("inquiry", "zh-Hans")
    assert not [m for m in stored.values() if m.direction == "bot" and m.client_id.startswith(("c2", "c3"))]
    item = queued()
    assert item["priority"]["frustration"] >= 2 and "frustrated" in item["priority"]["reasons"]


def test_without_rasa_a_message_to_an_agent_keeps_language_and_frustration(settings, users, factory):
    """Rasa down (the default test URL answers nothing): the message is stored and the chat goes
    on; a click still gets its intent from the payload."""
    with session_scope(factory) as session:
        conv = conv_repo.create_conversation(
            session, token="tok-held-000000000000000000000000", language="zh-Hant"
        )
        conv_repo.add_message(
            session,
            conversation_id=conv.id,
            client_id="b0",
            direction="bot",
            text="要轉接嗎？",
            payload={"buttons": YES_NO},
        )
        conv_repo.transition_conversation(session, conv.id, from_statuses=("bot",), to_status="waiting_agent")
    with build_client(settings) as test_client:
        say(test_client, conv.token, "c1", "太離譜了！！")
        say(test_client, conv.token, "c2", "/affirm", title="是")
    stored = {m.client_id: m for m in rows(factory, conv.token)}
    assert (stored["c1"].intent, stored["c1"].language, stored["c1"].frustration) == (None, "zh-Hant", 0.45)
    assert (stored["c2"].text, stored["c2"].intent, stored["c2"].language) == ("是", "affirm", "zh-Hant")


def test_the_queue_ranks_by_the_frustration_stored_on_each_message(settings, users, factory):
    """The queue reads each message's stored score (the gateway's, recovery.frustration) rather than
    scoring the text a second way; the score itself is not sent to the console."""
    with session_scope(factory) as session:
        ids = {}
        for name, score in (("calm", 0.0), ("upset", 0.9)):
            conv = conv_repo.create_conversation(session, token=f"tok-{name}-0000000000000000000000000")
            conv_repo.add_message(
                session,
                conversation_id=conv.id,
                client_id="c1",
                direction="customer",
                text="ok",
                frustration=score,
            )
            conv_repo.transition_conversation(
                session, conv.id, from_statuses=("bot",), to_status="waiting_agent"
            )
            ids[name] = conv.id
    with build_client(settings) as test_client:
        items = Console(settings, test_client.app, "agent1").get("/api/agent/queue").json()["items"]
    levels = {i["id"]: i["priority"]["frustration"] for i in items}
    assert levels == {ids["calm"]: 0, ids["upset"]: 2}
    assert [i["id"] for i in items][0] == ids["upset"] and "customer_frustration" not in items[0]
