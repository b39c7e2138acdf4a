"""End to end (real gateway, Rasa, action server, CRM file): a returning customer with an overdue
promise is asked about it at greeting and answers with a button, which is stored and shown by
its title in the chat's language; after a handoff, what the customer writes is understood for
the record (real Rasa /model/parse) while the bot stays quiet."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from common.identity import sign_identity
from crm.models import Customer, FollowUp
from crm.orm.base import utcnow
from crm.repo import tickets as tk
from tests.e2e.chat_client import ChatClient

pytestmark = pytest.mark.e2e


def test_overdue_promise_asked_at_greeting_click_stored_by_title_and_agent_wait_parsed(stack):
    engine = create_engine(stack.database_url)
    with Session(engine) as session, session.begin():
        customer = Customer(
            name="陳美玲",
            external_ref="E2E-PROMISE",
            preferred_language="zh-Hant",
            consent_personalisation=True,
        )
        session.add(customer)
        session.flush()
        ticket = tk.create_ticket(
            session,
            subject="Parcel delayed",
            category="delivery",
            customer_id=customer.id,
            due_at=utcnow() - timedelta(days=1),
            actor="bot",
            promise=tk.Promise("redelivery", "late_delivery"),
        )
        ticket_id = ticket.id
    identity = sign_identity(stack.identity_secret, "E2E-PROMISE")

    with ChatClient(f"{stack.ws_url}?identity={identity}") as client:
        greeting = client.ask("你好", client_id="hello")
        asked = greeting["messages"][-1]
        assert f"#{ticket_id}" in asked["text"] and "優先重新配送" in asked["text"] and "前" in asked["text"]
        assert [(b["title"], b["payload"]) for b in asked["buttons"]] == [("是", "/affirm"), ("否", "/deny")]
        client.ws.send(json.dumps({"type": "message", "id": "click", "text": "/deny", "title": "否"}))
        answer = client.until("reply", "error")
        assert answer["type"] == "reply" and answer["language"] == "zh-Hant"
        assert answer["messages"] and f"#{ticket_id}" in answer["messages"][0]["text"]
        handoff = client.ask("我要找真人客服", client_id="person")
        assert handoff["status"] == "waiting_agent"
        waiting = client.ask("你們太離譜了！！到底有沒有人處理？", client_id="angry")
        assert waiting["messages"] == [] and waiting["status"] == "waiting_agent"
        token = client.token

    with ChatClient(stack.ws_url, token=token) as again:  # a reload
        shown = [m["text"] for m in again.history if m["direction"] == "customer"]
    assert shown == ["你好", "否", "我要找真人客服", "你們太離譜了！！到底有沒有人處理？"]

    with engine.connect() as conn:
        rows = {
            r.client_id: r
            for r in conn.execute(
                text(
                    "SELECT m.client_id, m.direction, m.text, m.language, m.intent, m.frustration, m.payload"
                    " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.token = :t"
                ),
                {"t": token},
            )
        }
    with Session(engine) as session:
        follow_up = session.scalars(select(FollowUp).where(FollowUp.ticket_id == ticket_id)).one()
        assert (follow_up.status, follow_up.outcome) == ("done", "not_kept")
    engine.dispose()
    click = rows["click"]
    payload = click.payload if isinstance(click.payload, dict) else json.loads(click.payload)
    assert (click.text, click.language, click.intent, payload) == (
        "否",
        "zh-Hant",
        "deny",
        {"button": {"payload": "/deny"}},
    )
    assert {r.language for r in rows.values() if r.direction == "bot"} == {"zh-Hant"}
    angry = rows["angry"]
    assert angry.intent and angry.language == "zh-Hant" and angry.frustration >= 0.3
    assert not [r for r in rows.values() if r.client_id.startswith("angry:")]  # no bot reply
