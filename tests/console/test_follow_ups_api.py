"""The agent console's follow-up board (``GET /api/agent/follow-ups``), recording an answer
(``POST /api/agent/follow-ups/{id}/done``) and the follow-up worker's life with the app."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest

from crm.db import session_scope
from crm.models import AuditLog, Customer, FollowUp, Ticket
from crm.orm.base import utcnow
from crm.repo import conversations as convs
from crm.repo import tickets as tk
from tests.console.conftest import build_client
from tests.gateway.stub_http import StubServer


@pytest.fixture
def board(factory):
    """One follow-up per list, plus an open ticket past its deadline and one not yet due."""
    now = utcnow()
    with session_scope(factory) as s:
        customer = Customer(
            name="林美玲", preferred_language="zh-Hant", tier="gold", consent_personalisation=True
        )
        s.add(customer)
        s.flush()
        conv = convs.create_conversation(
            s, token="tok-follow-ups-0000000000000000", customer_id=customer.id, language="zh-Hant"
        )
        late = tk.create_ticket(
            s,
            subject="Late parcel",
            category="delivery",
            severity="high",
            customer_id=customer.id,
            conversation_id=conv.id,
            due_at=now - timedelta(hours=5),
            follow_up=False,
        )
        on_time = tk.create_ticket(
            s, subject="Repair", customer_id=customer.id, due_at=now + timedelta(days=1), follow_up=False
        )

        def add(due, **values):
            follow_up = tk.add_follow_up(
                s,
                due_at=due,
                customer_id=customer.id,
                ticket_id=late.id,
                conversation_id=conv.id,
                promise=tk.Promise("refund", "late_delivery"),
            )
            for key, value in values.items():
                setattr(follow_up, key, value)
            s.flush()
            return follow_up.id

        ids = {
            "due": add(now - timedelta(minutes=5)),
            "overdue": add(
                now - timedelta(hours=3), attempts=2, last_error="NotifyError: webhook answered HTTP 503"
            ),
            "sent": add(
                now - timedelta(hours=4), status="sent", sent_at=now - timedelta(hours=1), channel="local"
            ),
            "needs_agent": add(now - timedelta(hours=2), status="needs_agent", reason="no_consent"),
            "upcoming": add(now + timedelta(days=1)),
            "done": add(now - timedelta(days=2)),
        }
        tk.complete_follow_up(s, ids["done"], "kept")
        return {
            **ids,
            "late_ticket": late.id,
            "on_time_ticket": on_time.id,
            "conversation": conv.id,
            "customer": customer.id,
        }


def test_the_board_lists_follow_ups_by_state_and_late_tickets(as_user, board):
    for role in ("agent1", "manager1", "admin1"):
        response = as_user(role).get("/api/agent/follow-ups")
        assert response.status_code == 200, role
    data = response.json()
    for name in ("due", "overdue", "sent", "needs_agent"):
        assert [item["id"] for item in data[name]] == [board[name]], name
        item = data[name][0]
        assert item["customer"]["name"] == "林美玲"
        assert item["ticket"]["id"] == board["late_ticket"] and item["ticket"]["overdue"] is True
        assert item["conversation_id"] == board["conversation"]
    assert data["overdue"][0]["attempts"] == 2 and "503" in data["overdue"][0]["last_error"]
    assert data["sent"][0]["channel"] == "local" and data["sent"][0]["sent_at"]
    assert data["needs_agent"][0]["reason"] == "no_consent"
    [late] = data["overdue_tickets"]
    assert (late["id"], late["subject"], late["customer"]["name"]) == (
        board["late_ticket"],
        "Late parcel",
        "林美玲",
    )
    assert late["overdue_s"] >= 5 * 3600 - 5 and late["conversation_id"] == board["conversation"]
    assert data["counts"] == {"due": 1, "overdue": 1, "sent": 1, "needs_agent": 1, "overdue_tickets": 1}


def test_only_agents_and_managers_see_the_board(as_user, app_client, board):
    assert as_user("trainer1").get("/api/agent/follow-ups").status_code == 403
    assert app_client.get("/api/agent/follow-ups").status_code == 401
    trainer = as_user("trainer1")
    assert (
        trainer.post(
            f"/api/agent/follow-ups/{board['needs_agent']}/done", json={"outcome": "kept"}
        ).status_code
        == 403
    )


def test_an_agent_records_the_answer_of_a_follow_up(as_user, board, factory):
    agent = as_user("agent1")
    url = f"/api/agent/follow-ups/{board['needs_agent']}/done"
    no_csrf = agent.client.post(url, json={"outcome": "kept"})
    assert no_csrf.status_code == 403
    assert agent.post(url, json={"outcome": "maybe"}).status_code == 422
    assert agent.post("/api/agent/follow-ups/999999/done", json={"outcome": "kept"}).status_code == 404
    response = agent.post(url, json={"outcome": "not_kept"})
    assert response.status_code == 200 and response.json()["status"] == "done"
    with session_scope(factory) as s:
        follow_up = s.get(FollowUp, board["needs_agent"])
        assert (follow_up.status, follow_up.outcome) == ("done", "not_kept") and follow_up.done_at
        ticket = s.get(Ticket, board["late_ticket"])
        assert ticket.status == "in_progress" and "not kept" in ticket.history[-1].note
        assert s.query(AuditLog).filter_by(action="follow_up.completed").one().actor == "agent1"
    assert agent.get("/api/agent/follow-ups").json()["needs_agent"] == []


def test_the_agent_page_has_the_follow_ups_panel(as_user):
    html = as_user("agent1").get("/agent").text
    assert 'id="followups"' in html and "/console/static/agent_followups.js" in html


def test_the_worker_starts_and_stops_with_the_app(settings, users):
    with build_client(dataclasses.replace(settings, followup_interval_s=30)) as client:
        worker = client.app.state.follow_ups
        assert worker.running and worker.notifier.channel == "local"
    assert not worker.running
    with build_client(dataclasses.replace(settings, followup_interval_s=0)) as client:
        assert not client.app.state.follow_ups.running  # FOLLOWUP_INTERVAL_S=0: off


def test_the_running_app_sends_due_follow_ups_through_the_configured_webhook(settings, users, factory):
    now = utcnow()
    with session_scope(factory) as s:
        customer = Customer(name="Ben", preferred_language="en", consent_personalisation=True)
        s.add(customer)
        s.flush()
        ticket = tk.create_ticket(
            s, subject="Broken", customer_id=customer.id, due_at=now - timedelta(hours=1), follow_up=False
        )
        follow_up_id = tk.add_follow_up(
            s, due_at=now - timedelta(minutes=1), customer_id=customer.id, ticket_id=ticket.id
        ).id
    stub = StubServer()
    try:
        live = dataclasses.replace(
            settings, followup_interval_s=0.05, followup_notifier="webhook", followup_webhook_url=stub.url
        )
        with build_client(live):
            deadline = time.monotonic() + 10
            while not stub.received and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        stub.close()
    assert [r.json()["follow_up"]["id"] for r in stub.received] == [follow_up_id]
    with session_scope(factory) as s:
        assert s.get(FollowUp, follow_up_id).status == "sent"
