"""Agent desk API (issue 22, "Missing" → Agents): search over open and closed chats, private notes
(never reaching the customer), labels and the queue's label filter, canned replies in three
languages with variables (managers manage, agents use), and the customer's earlier chats."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from crm.db import session_scope
from crm.models import AuditLog, Customer, Order
from crm.orm.base import utcnow
from crm.repo import conversations as conv_repo
from crm.repo import tickets as tk

NOTE = "VIP: refund already approved by Mei, do not offer a coupon"


class Recorder:
    def __init__(self) -> None:
        self.frames: list[dict] = []

    async def send_json(self, data: dict) -> None:
        self.frames.append(data)


def _chat(
    session, token: str, customer_id: int | None, lines, *, status="bot", days_ago=0, language="zh-Hant"
):
    conv = conv_repo.create_conversation(
        session,
        token=token.ljust(32, "0"),
        language=language,
        customer_id=customer_id,
        started_at=utcnow() - timedelta(days=days_ago, minutes=10),
    )
    for n, (direction, text) in enumerate(lines):
        conv_repo.add_message(
            session,
            conversation_id=conv.id,
            client_id=f"m{n}",
            direction=direction,
            text=text,
            created_at=utcnow() - timedelta(days=days_ago, minutes=9 - n),
        )
    if status != "bot":
        conv_repo.transition_conversation(session, conv.id, from_statuses=("bot",), to_status="waiting_agent")
    if status == "closed":
        conv_repo.transition_conversation(
            session, conv.id, from_statuses=("waiting_agent",), to_status="closed"
        )
    return conv


@pytest.fixture
def desk(factory):
    """Mei (gold, an order LM20260001 and a ticket on it) has a waiting chat and a closed one from
    last week; an anonymous visitor has another open chat."""
    with session_scope(factory) as session:
        mei = Customer(
            name="陳美玲",
            email="mei@example.com",
            tier="gold",
            preferred_language="zh-Hant",
            external_ref="C-77",
        )
        session.add(mei)
        session.flush()
        order = Order(order_number="LM20260001", customer_id=mei.id, status="delivered", currency="TWD")
        session.add(order)
        session.flush()
        old = _chat(session, "tok-old", mei.id, [("customer", "鍋子的把手鬆了")], status="closed", days_ago=7)
        now = _chat(
            session,
            "tok-now",
            mei.id,
            [("customer", "我的耳機壞了，要換貨"), ("bot", "好的，正在為您轉接專人。")],
            status="waiting_agent",
        )
        tk.create_ticket(
            session,
            subject="耳機故障",
            category="product",
            customer_id=mei.id,
            conversation_id=now.id,
            order_id=order.id,
        )
        anon = _chat(
            session, "tok-anon", None, [("customer", "Where is my parcel? It is late")], language="en"
        )
        return {"mei": mei.id, "old": old.id, "now": now.id, "anon": anon.id, "token": now.token}


def _raw(user, url: str, body: str):
    headers = {"X-CSRF-Token": user.csrf, "Content-Type": "application/json"}
    return user.client.post(url, content=body.encode(), headers=headers)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# ------------------------------------------------------------------------------ search


def test_search_finds_open_and_closed_chats_by_customer_order_and_text(as_user, desk):
    agent = as_user("agent1")
    both = [desk["now"], desk["old"]]  # newest first, the closed one included
    assert _ids(agent.get("/api/agent/search", params={"q": "陳美"})) == both
    assert _ids(agent.get("/api/agent/search", params={"q": "MEI@example"})) == both
    assert _ids(agent.get("/api/agent/search", params={"q": "c-77"})) == both
    assert _ids(agent.get("/api/agent/search", params={"q": "lm20260001"})) == both
    assert _ids(agent.get("/api/agent/search", params={"q": "把手"})) == [desk["old"]]
    found = agent.get("/api/agent/search", params={"q": "parcel"}).json()["items"]
    assert [f["id"] for f in found] == [desk["anon"]] and "parcel" in found[0]["snippet"]
    assert found[0]["customer"] is None and found[0]["status"] == "bot"
    closed = agent.get("/api/agent/search", params={"q": "把手"}).json()["items"][0]
    assert closed["status"] == "closed" and closed["customer"]["name"] == "陳美玲"
    assert _ids(agent.get("/api/agent/search", params={"q": "100%"})) == []  # LIKE wildcards are literal
    assert _ids(agent.get("/api/agent/search", params={"q": "_"})) == []
    assert _ids(agent.get("/api/agent/search", params={"q": f"#{desk['anon']}"})) == [desk["anon"]]
    view = agent.get(f"/api/agent/conversations/{desk['old']}").json()  # a result opens, read-only
    assert view["status"] == "closed" and view["held_by_me"] is False
    assert agent.post(f"/api/agent/conversations/{desk['old']}/reply", json={"text": "hi"}).status_code == 409


def test_search_refuses_bad_input_and_other_roles(as_user, desk):
    agent = as_user("agent1")
    assert agent.get("/api/agent/search", params={"q": "  "}).status_code == 422
    assert agent.get("/api/agent/search", params={"q": "x" * 101}).status_code == 422
    assert agent.get("/api/agent/search", params={"label": "a\x00b"}).status_code == 422
    assert agent.get("/api/agent/search", params={"label": "bad/label"}).status_code == 422
    assert as_user("trainer1").get("/api/agent/search", params={"q": "陳"}).status_code == 403
    assert as_user("manager1").get("/api/agent/search", params={"q": "陳"}).status_code == 200
    assert (
        agent.client.cookies.clear() or agent.get("/api/agent/search", params={"q": "陳"}).status_code == 401
    )


# ------------------------------------------------------------------------------ notes


def test_private_notes_are_kept_with_author_and_time_and_never_reach_the_customer(
    as_user, desk, app_client, factory
):
    agent = as_user("agent1")
    widget, console = Recorder(), Recorder()
    hub = app_client.app.state.chat.hub
    hub.join(desk["now"], widget)
    hub.join_console(console)
    added = agent.post(f"/api/agent/conversations/{desk['now']}/notes", json={"body": f"  {NOTE}  "})
    assert added.status_code == 200, added.text
    note = added.json()["note"]
    assert note["body"] == NOTE and note["author"] == "Agent One" and note["created_at"]
    as_user("manager1").post(f"/api/agent/conversations/{desk['now']}/notes", json={"body": "second"})
    notes = agent.get(f"/api/agent/conversations/{desk['now']}/desk").json()["notes"]
    assert [(n["body"], n["author"]) for n in notes] == [(NOTE, "Agent One"), ("second", "Manager One")]

    assert widget.frames == []  # nothing on the widget's socket
    assert {"type": "desk_changed", "conversation_id": desk["now"]} in console.frames
    history = app_client.get(f"/api/conversations/{desk['token']}/messages")
    assert history.status_code == 200 and NOTE not in history.text and "second" not in history.text
    transcript = agent.get(f"/api/agent/conversations/{desk['now']}").json()["messages"]
    assert all(NOTE not in m["text"] for m in transcript)  # notes are not messages
    with session_scope(factory) as session:
        assert session.query(AuditLog).filter_by(action="note.added").count() == 2


def test_notes_refuse_bad_input_missing_chats_roles_and_csrf(as_user, desk):
    agent, url = as_user("agent1"), f"/api/agent/conversations/{desk['now']}/notes"
    assert agent.post(url, json={"body": ""}).status_code == 422
    assert agent.post(url, json={"body": "   "}).status_code == 422
    assert agent.post(url, json={"body": "x" * 2001}).status_code == 422
    assert _raw(agent, url, '{"body": "\\ud800"}').status_code == 422  # a lone surrogate
    assert agent.post(url, json={"body": 5}).status_code == 422
    assert agent.post("/api/agent/conversations/999999/notes", json={"body": "x"}).status_code == 404
    assert agent.client.post(url, json={"body": "no csrf"}).status_code == 403
    assert as_user("trainer1").post(url, json={"body": "x"}).status_code == 403
    assert agent.get(f"/api/agent/conversations/{desk['now']}/desk").json()["notes"] == []


# ------------------------------------------------------------------------------ labels


def test_labels_are_added_removed_and_filter_queue_and_search(as_user, desk, app_client):
    agent = as_user("agent1")
    url = f"/api/agent/conversations/{desk['now']}/labels"
    assert agent.post(url, json={"label": "  Refund  Pending "}).json()["labels"] == ["refund pending"]
    assert agent.post(url, json={"label": "refund pending"}).json()["labels"] == ["refund pending"]  # once
    assert agent.post(url, json={"label": "退貨"}).json()["labels"] == ["refund pending", "退貨"]
    agent.post(f"/api/agent/conversations/{desk['old']}/labels", json={"label": "退貨"})
    queue = {i["id"]: i for i in agent.get("/api/agent/queue").json()["items"]}
    assert queue[desk["now"]]["labels"] == ["refund pending", "退貨"]
    assert _ids(agent.get("/api/agent/search", params={"label": "退貨"})) == [desk["now"], desk["old"]]
    assert _ids(agent.get("/api/agent/search", params={"q": "把手", "label": "退貨"})) == [desk["old"]]
    assert _ids(agent.get("/api/agent/search", params={"q": "耳機", "label": "refund pending"})) == [
        desk["now"]
    ]
    counts = agent.get("/api/agent/labels").json()["labels"]
    assert counts == [{"label": "退貨", "count": 2}, {"label": "refund pending", "count": 1}]
    gone = agent.client.delete(f"{url}/Refund%20Pending", headers={"X-CSRF-Token": agent.csrf})
    assert gone.status_code == 200 and gone.json()["labels"] == ["退貨"]
    assert agent.get(f"/api/agent/conversations/{desk['now']}/desk").json()["labels"] == ["退貨"]
    customer_view = app_client.get(f"/api/conversations/{desk['token']}/messages").text
    assert "退貨" not in customer_view


def test_labels_refuse_bad_input_roles_and_csrf(as_user, desk):
    agent, url = as_user("agent1"), f"/api/agent/conversations/{desk['now']}/labels"
    for bad in ["", " ", "x" * 33, "<b>", "a/b", "a\nb", "-dash-first"]:
        assert agent.post(url, json={"label": bad}).status_code == 422, bad
    assert agent.post("/api/agent/conversations/999999/labels", json={"label": "x"}).status_code == 404
    assert agent.client.post(url, json={"label": "x"}).status_code == 403  # no CSRF token
    assert agent.client.delete(f"{url}/x").status_code == 403
    assert as_user("trainer1").post(url, json={"label": "x"}, headers={}).status_code == 403
    assert agent.get(f"/api/agent/conversations/{desk['now']}/desk").json()["labels"] == []


# ------------------------------------------------------------------------------ canned replies

GREETING = {
    "shortcut": "greet",
    "title": "Greeting with the order",
    "zh-Hant": "{customer_name} 您好，我是{agent_name}，正在查訂單 {order_number}。",
    "zh-Hans": "{customer_name} 您好，我是{agent_name}，正在查订单 {order_number}。",
    "en": "Hello {customer_name}, this is {agent_name}; I am checking order {order_number}.",
}


def test_canned_replies_are_managed_by_managers_and_filled_for_agents(as_user, desk):
    manager, agent = as_user("manager1"), as_user("agent1")
    created = manager.post("/api/agent/canned", json=GREETING)
    assert created.status_code == 200, created.text
    reply_id = created.json()["item"]["id"]
    listed = agent.get("/api/agent/canned").json()
    assert [i["shortcut"] for i in listed["items"]] == ["greet"] and listed["can_manage"] is False
    assert listed["variables"] == ["customer_name", "order_number", "agent_name"]
    assert manager.get("/api/agent/canned").json()["can_manage"] is True

    filled = agent.get(f"/api/agent/conversations/{desk['now']}/canned/{reply_id}").json()
    assert filled == {
        "id": reply_id,
        "shortcut": "greet",
        "language": "zh-Hant",
        "text": "陳美玲 您好，我是Agent One，正在查訂單 LM20260001。",
    }
    anon = agent.get(f"/api/agent/conversations/{desk['anon']}/canned/{reply_id}").json()
    assert anon["language"] == "en" and anon["text"] == "Hello , this is Agent One; I am checking order ."

    changed = {**GREETING, "en": "Hi {customer_name}!"}
    assert manager.put(f"/api/agent/canned/{reply_id}", json=changed).status_code == 200
    assert agent.get(f"/api/agent/conversations/{desk['anon']}/canned/{reply_id}").json()["text"] == "Hi !"
    assert (
        agent.client.delete(f"/api/agent/canned/{reply_id}", headers={"X-CSRF-Token": agent.csrf}).status_code
        == 403
    )
    assert manager.client.delete(
        f"/api/agent/canned/{reply_id}", headers={"X-CSRF-Token": manager.csrf}
    ).json() == {"ok": True}
    assert agent.get("/api/agent/canned").json()["items"] == []
    assert agent.get(f"/api/agent/conversations/{desk['now']}/canned/{reply_id}").status_code == 404


def test_canned_replies_refuse_bad_input_and_roles(as_user, desk):
    manager, agent, admin = as_user("manager1"), as_user("agent1"), as_user("admin1")
    assert agent.post("/api/agent/canned", json=GREETING).status_code == 403
    assert as_user("trainer1").get("/api/agent/canned").status_code == 403
    assert manager.client.post("/api/agent/canned", json=GREETING).status_code == 403  # CSRF
    for bad in [
        {**GREETING, "en": "Hi {customer_name.__class__}"},  # no attribute access
        {**GREETING, "zh-Hans": "{password}"},
        {**GREETING, "shortcut": "Has Space"},
        {**GREETING, "shortcut": "x" * 33},
        {**GREETING, "title": ""},
        {**GREETING, "en": "x" * 2001},
        {k: v for k, v in GREETING.items() if k != "zh-Hant"},
    ]:
        assert manager.post("/api/agent/canned", json=bad).status_code == 422, json.dumps(bad)[:80]
    lone = json.dumps({**GREETING, "en": "@"}).replace("@", "\\ud800")
    assert _raw(manager, "/api/agent/canned", lone).status_code == 422
    assert admin.post("/api/agent/canned", json=GREETING).status_code == 200
    taken = manager.post("/api/agent/canned", json=GREETING)
    assert taken.status_code == 422 and "taken" in taken.json()["message"]
    assert manager.put("/api/agent/canned/999999", json=GREETING).status_code == 404
    reply_id = agent.get("/api/agent/canned").json()["items"][0]["id"]
    assert agent.get(f"/api/agent/conversations/999999/canned/{reply_id}").status_code == 404


# ------------------------------------------------------------------------------ history


def test_the_customers_earlier_conversations_are_listed_beside_the_chat(as_user, desk):
    agent = as_user("agent1")
    view = agent.get(f"/api/agent/conversations/{desk['now']}/desk").json()
    assert [h["id"] for h in view["history"]] == [desk["old"]]
    assert view["history"][0]["status"] == "closed" and view["history"][0]["snippet"] == "鍋子的把手鬆了"
    assert agent.get(f"/api/agent/conversations/{desk['anon']}/desk").json()["history"] == []
    assert agent.get("/api/agent/conversations/999999/desk").status_code == 404
    assert as_user("trainer1").get(f"/api/agent/conversations/{desk['now']}/desk").status_code == 403
