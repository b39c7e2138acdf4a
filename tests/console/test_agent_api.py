"""Agent console API: queue, claim race, transcript + 360, reply, hand back, offers, tickets,
follow-ups, suggestions, the live console socket and the widget's CSAT endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.websockets import WebSocketDisconnect

from crm.db import session_scope
from crm.models import Customer, Feedback, FollowUp, Message
from crm.orm.base import utcnow
from crm.repo import conversations as conv_repo
from crm.repo import tickets as tk

XSS = ['<script>alert("x")</script>', "<img src=x onerror=alert(1)>"]


@pytest.fixture
def escalated(factory):
    """A gold customer's complaint chat waiting for an agent, with a ticket and a pending offer."""
    with session_scope(factory) as session:
        customer = Customer(
            name="陳小明",
            email="ming@example.com",
            tier="gold",
            preferred_language="zh-Hant",
            external_ref="C-1",
        )
        session.add(customer)
        session.flush()
        conv = conv_repo.create_conversation(
            session,
            token="tok-escalated-000000000000000000",
            language="zh-Hant",
            customer_id=customer.id,
            started_at=utcnow() - timedelta(minutes=12),
        )
        lines = [
            ("customer", "我的耳機壞了，太離譜了！！"),
            ("bot", "很抱歉，請問訂單編號？"),
            ("customer", "我要找真人客服"),
            ("bot", "好的，正在為您轉接專人。"),
        ]
        for n, (direction, text) in enumerate(lines):
            conv_repo.add_message(
                session,
                conversation_id=conv.id,
                client_id=f"m{n}",
                direction=direction,
                text=text,
                created_at=utcnow() - timedelta(minutes=10 - n),
                intent="complaint" if n == 0 else ("request_human" if n == 2 else None),
            )
        conv_repo.transition_conversation(
            session,
            conv.id,
            from_statuses=("bot",),
            to_status="waiting_agent",
            handoff_reason="customer_request",
            at=utcnow() - timedelta(minutes=7),
        )  # with the bot's hand-over
        ticket = tk.create_ticket(
            session,
            subject="耳機故障",
            category="product",
            severity="high",
            customer_id=customer.id,
            conversation_id=conv.id,
            description="左耳沒有聲音，要求換貨",
        )
        small = tk.offer_compensation(
            session, customer_id=customer.id, ticket_id=ticket.id, type="coupon", amount="300", currency="TWD"
        )
        big = tk.offer_compensation(
            session,
            customer_id=customer.id,
            ticket_id=ticket.id,
            type="refund",
            amount="5000",
            currency="TWD",
        )
        return {
            "id": conv.id,
            "token": conv.token,
            "ticket": ticket.id,
            "small": small.id,
            "big": big.id,
            "customer": customer.id,
        }


class Recorder:
    def __init__(self):
        self.frames = []

    async def send_json(self, data):
        self.frames.append(data)


def test_queue_ranks_waiting_chats_with_reasons(as_user, escalated, factory):
    with session_scope(factory) as session:  # a calm anonymous chat that just arrived
        calm = conv_repo.create_conversation(session, token="tok-calm-00000000000000000000000")
        conv_repo.add_message(
            session, conversation_id=calm.id, client_id="a", direction="customer", text="hi"
        )
        conv_repo.transition_conversation(session, calm.id, from_statuses=("bot",), to_status="waiting_agent")
    items = as_user("agent1").get("/api/agent/queue").json()["items"]
    assert [i["id"] for i in items] == [escalated["id"], calm.id]
    top = items[0]
    assert top["customer"]["tier"] == "gold" and top["offers_awaiting"] == 2
    assert {"frustrated", "tier_gold", "approval_needed", "long_wait"} <= set(top["priority"]["reasons"])
    assert "customer_texts" not in top


def test_only_one_agent_wins_the_claim(as_user, escalated):
    first, second = as_user("agent1"), as_user("agent2")
    assert first.post(f"/api/agent/conversations/{escalated['id']}/claim").status_code == 200
    lost = second.post(f"/api/agent/conversations/{escalated['id']}/claim")
    assert lost.status_code == 409 and lost.json()["error"] == "already_claimed"
    assert (
        second.post(f"/api/agent/conversations/{escalated['id']}/reply", json={"text": "hi"}).status_code
        == 409
    )


def test_chat_view_has_transcript_summary_and_customer_360(as_user, escalated):
    view = as_user("agent1").get(f"/api/agent/conversations/{escalated['id']}").json()
    assert [m["direction"] for m in view["messages"]] == ["customer", "bot", "customer", "bot"]
    assert view["tickets"][0]["description"] == "左耳沒有聲音，要求換貨"
    assert view["customer_360"]["profile"]["name"] == "陳小明"
    assert {o["id"]: o["within_limit"] for o in view["offers"]} == {
        escalated["small"]: True,
        escalated["big"]: False,
    }
    assert view["held_by_me"] is False and view["handoff_reason"] == "customer_request"


def test_reply_goes_live_to_the_widget_and_is_logged(as_user, escalated, app_client, factory):
    agent = as_user("agent1")
    widget, console = Recorder(), Recorder()
    hub = app_client.app.state.chat.hub
    hub.join(escalated["id"], widget)
    hub.join_console(console)
    agent.post(f"/api/agent/conversations/{escalated['id']}/claim")
    assert widget.frames[-1]["type"] == "status" and widget.frames[-1]["status"] == "agent"
    sent = agent.post(
        f"/api/agent/conversations/{escalated['id']}/reply",
        json={"text": "您好，我是客服小美。", "client_id": "agent-abc"},
    )
    assert sent.status_code == 200
    push = widget.frames[-1]
    assert push["type"] == "push" and push["messages"][0]["text"] == "您好，我是客服小美。"
    assert any(f["type"] == "messages" for f in console.frames)
    me = agent.get("/api/console/me").json()["id"]
    with session_scope(factory) as session:
        row = session.query(Message).filter_by(conversation_id=escalated["id"], direction="agent").one()
        assert row.payload == {"agent_id": me, "agent_name": "Agent One"}  # the name the customer saw
    back = agent.post(f"/api/agent/conversations/{escalated['id']}/hand-back")
    assert back.json() == {"ok": True}
    assert widget.frames[-1]["status"] == "bot"
    assert agent.get(f"/api/agent/conversations/{escalated['id']}").json()["status"] == "bot"


def test_offer_approval_respects_the_agent_limit(as_user, escalated, factory):
    agent, manager = as_user("agent1"), as_user("manager1")
    early = agent.post(f"/api/agent/offers/{escalated['small']}/decision", json={"decision": "approve"})
    assert early.status_code == 409  # must hold the chat first
    agent.post(f"/api/agent/conversations/{escalated['id']}/claim")
    assert (
        agent.post(f"/api/agent/offers/{escalated['small']}/decision", json={"decision": "approve"}).json()[
            "status"
        ]
        == "approved"
    )
    over = agent.post(f"/api/agent/offers/{escalated['big']}/decision", json={"decision": "approve"})
    assert over.status_code == 403 and over.json()["error"] == "over_limit"
    assert (
        manager.post(
            f"/api/agent/offers/{escalated['big']}/decision", json={"decision": "approve"}
        ).status_code
        == 200
    )
    again = manager.post(f"/api/agent/offers/{escalated['big']}/decision", json={"decision": "reject"})
    assert again.status_code == 200  # approved may still be rejected before it is granted
    assert agent.post("/api/agent/offers/999/decision", json={"decision": "approve"}).status_code == 404


def test_resolve_ticket_and_schedule_follow_up(as_user, escalated, factory):
    agent = as_user("agent1")
    assert (
        agent.post(f"/api/agent/tickets/{escalated['ticket']}/resolve", json={"resolution": ""}).status_code
        == 422
    )
    done = agent.post(
        f"/api/agent/tickets/{escalated['ticket']}/resolve", json={"resolution": "換新品已寄出"}
    )
    assert done.json()["status"] == "resolved"
    bad = agent.post(f"/api/agent/conversations/{escalated['id']}/follow-ups", json={"due_at": "tomorrow"})
    assert bad.status_code == 422
    ok = agent.post(
        f"/api/agent/conversations/{escalated['id']}/follow-ups",
        json={"due_at": "2030-01-02T09:30", "note": "確認收到新品"},
    )
    assert ok.status_code == 200
    with session_scope(factory) as session:
        follow = session.query(FollowUp).one()
        assert follow.ticket_id == escalated["ticket"] and follow.created_by == "agent1"


def test_suggestions_search_the_last_customer_message(as_user, escalated, app_client):
    data = as_user("agent1").get(f"/api/agent/conversations/{escalated['id']}/suggestions").json()
    assert data["query"] == "我要找真人客服" and data["hits"][0]["answer"] == "Within 7 days."
    assert app_client.app.state.console_kb.queries == ["我要找真人客服"]


def test_console_socket_needs_an_agent_session(app_client, as_user):
    with pytest.raises(WebSocketDisconnect):
        with app_client.websocket_connect("/ws/console") as ws:
            ws.receive_json()
    trainer = as_user("trainer1")
    with pytest.raises(WebSocketDisconnect):
        with trainer.client.websocket_connect("/ws/console") as ws:
            ws.receive_json()
    agent = as_user("agent1")
    with agent.client.websocket_connect("/ws/console") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_xss_payloads_are_returned_as_data_and_pages_embed_no_user_text(as_user, escalated, factory):
    with session_scope(factory) as session:
        for n, payload in enumerate(XSS):
            conv_repo.add_message(
                session,
                conversation_id=escalated["id"],
                client_id=f"x{n}",
                direction="customer",
                text=payload,
            )
    agent = as_user("agent1")
    view = agent.get(f"/api/agent/conversations/{escalated['id']}").json()
    assert [m["text"] for m in view["messages"][-2:]] == XSS
    page = agent.get("/agent").text
    assert "<script>alert" not in page and "onerror" not in page


def test_csat_is_stored_once_per_conversation(app_client, escalated, factory):
    url = f"/api/conversations/{escalated['token']}/csat"
    assert app_client.post(url, json={"score": 9}).status_code == 422
    assert app_client.post("/api/conversations/unknown-token/csat", json={"score": 5}).status_code == 404
    assert app_client.post(url, json={"score": 2, "comment": "slow"}).json() == {"ok": True, "score": 2}
    assert app_client.post(url, json={"score": 5, "comment": "  great\x00 "}).status_code == 200
    with session_scope(factory) as session:
        rows = session.query(Feedback).filter_by(conversation_id=escalated["id"]).all()
        assert [(r.csat, r.comment, r.customer_id) for r in rows] == [(5, "great", escalated["customer"])]


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


def test_escalation_and_claim_through_the_gateway_stamp_the_handoff_times(
    as_user, app_client, factory, monkeypatch
):
    from crm.models import Conversation

    monkeypatch.setattr(app_client.app.state.chat, "_rasa", HandoffRasa())
    token = app_client.post("/api/conversations").json()["token"]
    before = utcnow()
    reply = app_client.post(
        f"/api/conversations/{token}/messages", json={"id": "c1", "text": "a person please"}
    )
    assert reply.status_code == 200 and reply.json()["status"] == "waiting_agent"
    with session_scope(factory) as session:
        conv = session.query(Conversation).filter_by(token=token).one()
        cid, handoff = conv.id, conv.handoff_at
        assert conv.status == "waiting_agent" and conv.agent_joined_at is None
        assert before <= handoff <= utcnow()
    agent = as_user("agent1")
    queued = next(i for i in agent.get("/api/agent/queue").json()["items"] if i["id"] == cid)
    assert queued["handoff_at"] == queued["waiting_since"] == handoff.isoformat()
    assert agent.post(f"/api/agent/conversations/{cid}/claim").status_code == 200
    with session_scope(factory) as session:
        conv = session.get(Conversation, cid)
        assert conv.handoff_at == handoff and conv.agent_joined_at >= handoff
        joined = conv.agent_joined_at
    view = agent.get(f"/api/agent/conversations/{cid}").json()
    assert view["agent_joined_at"] == joined.isoformat()
    assert view["waiting_since"] == handoff.isoformat()  # nothing said to the customer yet
    agent.post(f"/api/agent/conversations/{cid}/reply", json={"text": "Hello, I am here."})
    assert agent.get(f"/api/agent/conversations/{cid}").json()["waiting_since"] is None


@pytest.mark.parametrize("kind", ["shipping_refund", "expedited_replacement", "partial_refund"])
def test_agents_approve_offers_of_the_policy_types(as_user, escalated, factory, kind):
    from crm.models import CompensationOffer

    with session_scope(factory) as session:
        offer = tk.offer_compensation(
            session,
            customer_id=escalated["customer"],
            ticket_id=escalated["ticket"],
            type=kind,
            amount="250",
            currency="TWD",
        )
        tk.set_offer_status(session, offer.id, "chosen")
    agent = as_user("agent1")
    agent.post(f"/api/agent/conversations/{escalated['id']}/claim")
    listed = {o["id"]: o for o in agent.get(f"/api/agent/conversations/{escalated['id']}").json()["offers"]}
    assert listed[offer.id]["type"] == kind and listed[offer.id]["within_limit"] is True
    decided = agent.post(f"/api/agent/offers/{offer.id}/decision", json={"decision": "approve"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    with session_scope(factory) as session:
        stored = session.get(CompensationOffer, offer.id)
        assert (stored.type, stored.status) == (kind, "approved")
