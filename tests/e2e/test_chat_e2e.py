"""End to end through the real gateway, Rasa server, action server, FAISS index and CRM file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.e2e.chat_client import ChatClient

ROOT = Path(__file__).resolve().parents[2]
FAQ = yaml.safe_load((ROOT / "kb" / "data" / "reference_faq.yml").read_text(encoding="utf-8"))
RETURNS = next(e for e in FAQ["entries"] if e["id"] == "returns-policy")

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "question, language",
    [
        ("退貨要幾天內申請？", "zh-Hant"),
        ("退货期限是多久", "zh-Hans"),
        ("How long do I have to return an item?", "en"),
    ],
)
def test_returns_question_answered_in_its_script_and_logged(stack, question, language):
    with ChatClient(stack.ws_url) as client:
        reply = client.ask(question, client_id=f"q-{language}")
        token = client.token
    assert reply["type"] == "reply"
    assert [m["text"] for m in reply["messages"]] == [RETURNS["answer"][language]]

    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT m.direction, m.text, m.language, m.intent, m.confidence, m.kb_entry_id,"
                    " m.kb_score, m.latency_ms FROM messages m JOIN conversations c"
                    " ON c.id = m.conversation_id WHERE c.token = :t ORDER BY m.id"
                ),
                {"t": token},
            )
            .mappings()
            .all()
        )
    engine.dispose()
    customer, bot = rows
    assert customer["direction"] == "customer" and customer["text"] == question
    assert customer["language"] == language
    assert customer["intent"] in ("inquiry", "nlu_fallback")
    assert customer["confidence"] is not None
    assert bot["direction"] == "bot" and bot["text"] == RETURNS["answer"][language]
    assert bot["kb_entry_id"] == "returns-policy"
    assert bot["kb_score"] > 0 and bot["latency_ms"] is not None


def test_bad_input_gets_clear_errors_and_connection_stays_usable(stack):
    with ChatClient(stack.ws_url) as client:
        empty = client.ask("   ")
        assert empty["type"] == "error" and empty["code"] == "empty_message"

        client.send_raw("{not json")
        assert client.until("error")["code"] == "invalid_json"

        client.send_raw(json.dumps({"type": "subscribe"}))
        assert client.until("error")["code"] == "unknown_type"

        client.send_raw(json.dumps({"type": "message", "id": "x" * 100, "text": "hi"}))
        assert client.until("error")["code"] == "invalid_id"

        huge = client.ask("退貨" * 5000)
        assert huge["type"] == "reply" and "shortened" in huge["notice"]

        ok = client.ask("How long do I have to return an item?")
        assert ok["type"] == "reply" and ok["messages"][0]["text"] == RETURNS["answer"]["en"]


def test_resend_of_same_client_id_is_not_answered_twice(stack):
    with ChatClient(stack.ws_url) as client:
        first = client.ask("退货期限是多久", client_id="dup-1")
        again = client.ask("退货期限是多久", client_id="dup-1")
        token = client.token
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in first["messages"]]
    history = httpx.get(f"{stack.base_url}/api/conversations/{token}/messages").json()["messages"]
    assert [m["direction"] for m in history] == ["customer", "bot"]


def test_history_survives_reconnect_and_http_fallback_works(stack):
    with ChatClient(stack.ws_url) as client:
        client.ask("hello")
        token = client.token
    with ChatClient(stack.ws_url, token=token) as again:
        assert again.token == token
        assert [m["direction"] for m in again.history][:1] == ["customer"]
        assert len(again.history) >= 2

    reply = httpx.post(
        f"{stack.base_url}/api/conversations/{token}/messages",
        json={"id": "http-1", "text": "How long do I have to return an item?"},
        timeout=60,
    )
    assert reply.status_code == 200
    assert reply.json()["messages"][0]["text"] == RETURNS["answer"]["en"]

    bad = httpx.post(
        f"{stack.base_url}/api/conversations/{token}/messages",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"
    unknown = httpx.get(f"{stack.base_url}/api/conversations/not-a-token/messages")
    assert unknown.status_code == 404
