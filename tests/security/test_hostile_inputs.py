"""Defect 5: inputs that gave 500s or dropped the socket get a clear 4xx or error frame."""

from __future__ import annotations

import json

import pytest

from crm.db import session_scope
from crm.repo.kb import save_kb_version
from tests.security.conftest import chat_socket, open_chat, still_usable

LONE = "\ud800"
BIG = 2**63
JSON = {"Content-Type": "application/json"}


def test_a_stored_lone_surrogate_does_not_break_the_trainer_list(as_user, factory):
    with session_scope(factory) as session:  # stored before input was checked (or by another tool)
        save_kb_version(
            session,
            key="bad-entry",
            category="misc",
            author="import",
            questions={"en": [f"broken {LONE} question"]},
            answers={"en": f"answer {LONE}"},
        )
    trainer = as_user("trainer1")
    listing = trainer.get("/api/trainer/entries")
    assert listing.status_code == 200
    assert any(item["key"] == "bad-entry" for item in listing.json()["items"])
    assert trainer.get("/api/trainer/entries/bad-entry").status_code == 200
    trainer.post("/api/trainer/entries/bad-entry/status", json={"status": "archived"})
    assert trainer.get("/api/trainer/entries?status=archived").status_code == 200


def test_lone_surrogates_are_refused_on_input(as_user):
    trainer = as_user("trainer1")
    body = {
        "key": "surrogate-entry",
        "category": "misc",
        "questions": {"en": [f"q {LONE}"]},
        "answers": {"en": "a", "zh-Hant": "a", "zh-Hans": "a"},
    }
    reply = trainer.post("/api/trainer/entries", content=json.dumps(body), headers=JSON)
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_request"
    assert (
        trainer.post("/api/trainer/try", content=json.dumps({"text": LONE}), headers=JSON).status_code == 422
    )
    assert trainer.get("/api/trainer/entries/surrogate-entry").status_code == 404


def test_lone_surrogate_message_id_gets_an_error_and_the_socket_stays(client):
    with chat_socket(client) as ws:
        open_chat(ws)
        ws.send_text('{"type":"message","id":"\\ud800","text":"hello"}')
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "invalid_id" and "id" not in error
        still_usable(ws)
    token = client.post("/api/conversations").json()["token"]
    reply = client.post(
        f"/api/conversations/{token}/messages",
        content=b'{"id":"\\udfff","text":"hi"}',
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_id"


def test_binary_frames_and_deep_json_on_the_socket(client):
    with chat_socket(client) as ws:
        open_chat(ws)
        ws.send_bytes(b"\x00\xff binary")
        assert ws.receive_json()["code"] == "binary_frame"
        still_usable(ws)
        ws.send_text("[" * 30_000 + "]" * 30_000)
        assert ws.receive_json()["code"] == "invalid_json"
        still_usable(ws)


def test_deeply_nested_json_is_a_400_everywhere(client, as_user):
    token = client.post("/api/conversations").json()["token"]
    nested = ("[" * 20_000 + "]" * 20_000).encode()
    headers = {"Content-Type": "application/json"}
    assert (
        client.post(f"/api/conversations/{token}/messages", content=nested, headers=headers).status_code
        == 400
    )
    assert (
        client.post(f"/api/conversations/{token}/csat", content=b"[" * 5000, headers=headers).status_code
        == 422
    )
    trainer = as_user("trainer1")
    deep = trainer.post("/api/trainer/try", content=nested, headers=headers)
    assert deep.status_code in (400, 422), deep.text


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01&to=0001-01-03",
        "to=0001-01-05",
        "from=9999-12-30&to=9999-12-31",
        "from=2024-01-01&to=9999-12-31",
    ],
)
def test_dates_near_year_1_or_9999_in_analytics(as_user, query):
    reply = as_user("manager1").get(f"/api/analytics?{query}")
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_date"


@pytest.mark.parametrize("due", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01"])
def test_follow_up_dates_near_year_1_or_9999(as_user, client, factory, due):
    token = client.post("/api/conversations").json()["token"]
    from crm.models import Conversation

    with session_scope(factory) as session:
        cid = session.query(Conversation).filter_by(token=token).one().id
    reply = as_user("agent1").post(f"/api/agent/conversations/{cid}/follow-ups", json={"due_at": due})
    assert reply.status_code == 422, reply.text


@pytest.mark.parametrize(
    "url",
    [
        f"/api/agent/conversations/{BIG}",
        f"/api/agent/conversations/{BIG * 4}",
        f"/api/agent/conversations/{BIG}/suggestions",
    ],
)
def test_ids_above_2_63_in_paths(as_user, url):
    assert as_user("manager1").get(url).status_code == 422


def test_ids_above_2_63_in_bodies_and_queries(as_user):
    agent, trainer = as_user("agent1"), as_user("trainer1")
    assert agent.post(f"/api/agent/conversations/{BIG}/claim").status_code == 422
    assert agent.post(f"/api/agent/offers/{BIG}/decision", json={"decision": "approve"}).status_code == 422
    assert agent.post(f"/api/agent/tickets/{BIG}/resolve", json={"resolution": "x"}).status_code == 422
    assert agent.post(f"/api/agent/follow-ups/{BIG}/done", json={"outcome": "resolved"}).status_code == 422
    assert trainer.post("/api/trainer/inbox/dismiss", json={"ids": [BIG]}).status_code == 422
    assert trainer.get(f"/api/trainer/entries/x/diff?a={BIG}&b=1").status_code == 422


def test_binary_frames_on_the_console_socket_are_ignored(as_user):
    agent = as_user("agent1")
    with agent.client.websocket_connect("/ws/console") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_bytes(b"\x00\x01binary")
        ws.send_text("not json")
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}
