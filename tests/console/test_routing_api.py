"""Routing in the agent console API: profiles (managers), availability, automatic assignment by
language, skill and capacity, manual assign / transfer / back to the queue with the audit log,
response targets in the queue and their breaches recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.db import session_scope
from crm.models import AuditLog, Conversation, Customer
from crm.orm.base import utcnow
from crm.repo import conversations as conv_repo
from crm.repo import tickets as tk


def waiting_chat(
    factory, token: str, *, language: str, tier: str, category: str | None, minutes_ago: float
) -> int:
    with session_scope(factory) as session:
        customer = Customer(name=f"Customer {token}", tier=tier, preferred_language=language)
        session.add(customer)
        session.flush()
        conv = conv_repo.create_conversation(
            session, token=f"tok-{token}".ljust(32, "0"), language=language, customer_id=customer.id
        )
        conv_repo.add_message(
            session, conversation_id=conv.id, client_id="m0", direction="customer", text="help"
        )
        conv_repo.transition_conversation(
            session,
            conv.id,
            from_statuses=("bot",),
            to_status="waiting_agent",
            at=utcnow() - timedelta(minutes=minutes_ago),
        )
        if category:
            tk.create_ticket(
                session, subject="t", category=category, customer_id=customer.id, conversation_id=conv.id
            )
        return conv.id


def chat(factory, conversation_id: int) -> tuple[str, int | None]:
    with session_scope(factory) as session:
        conv = session.get(Conversation, conversation_id)
        return conv.status, conv.assigned_agent_id


def audit_actions(factory) -> list[tuple[str, str, str | None]]:
    with session_scope(factory) as session:
        return [(a.actor, a.action, a.target) for a in session.query(AuditLog).order_by(AuditLog.id)]


def profile(console, user_id: int, **body):
    return console.put(f"/api/agent/routing/agents/{user_id}", json=body)


def test_managers_edit_routing_profiles_and_bad_input_is_refused(as_user, users, factory):
    manager, agent = as_user("manager1"), as_user("agent1")
    ok = profile(
        manager, users["agent"], languages=["en", "zh-Hant"], skills=["repairs", "orders"], capacity=2
    )
    assert ok.status_code == 200
    assert ok.json() == {
        "id": users["agent"],
        "languages": ["zh-Hant", "en"],
        "skills": ["orders", "repairs"],
        "capacity": 2,
    }
    team = agent.get("/api/agent/routing/team").json()
    me = next(a for a in team["agents"] if a["id"] == users["agent"])
    assert team["me"] == users["agent"] and me["skills"] == ["orders", "repairs"] and me["available"] is False
    assert team["skills"] == ["orders", "billing", "repairs", "general"]
    assert (
        as_user("admin1")
        .put(
            f"/api/agent/routing/agents/{users['agent2']}",
            json={"languages": [], "skills": [], "capacity": 0},
        )
        .status_code
        == 200
    )
    for bad in (
        {"languages": ["fr"], "skills": [], "capacity": 1},
        {"languages": [], "skills": ["cooking"], "capacity": 1},
        {"languages": [], "skills": [], "capacity": 21},
        {"languages": [], "skills": [], "capacity": -1},
        {"languages": "en", "skills": [], "capacity": 1},
        {"languages": [], "skills": []},
    ):
        assert profile(manager, users["agent"], **bad).status_code == 422, bad
    assert profile(manager, users["trainer"], languages=[], skills=[], capacity=1).status_code == 404
    assert profile(manager, 999999, languages=[], skills=[], capacity=1).status_code == 404
    assert profile(agent, users["agent"], languages=[], skills=[], capacity=1).status_code == 403
    assert as_user("trainer1").get("/api/agent/routing/team").status_code == 403
    assert ("manager1", "agent.routing_profile", f"user:{users['agent']}") in audit_actions(factory)


@pytest.fixture
def team(as_user, users):
    """agent1 speaks zh-Hant and repairs (one chat at a time); agent2 English and orders."""
    manager = as_user("manager1")
    assert (
        profile(manager, users["agent"], languages=["zh-Hant"], skills=["repairs"], capacity=1).status_code
        == 200
    )
    assert (
        profile(
            manager, users["agent2"], languages=["en"], skills=["orders", "general"], capacity=2
        ).status_code
        == 200
    )
    return manager


def test_available_agents_get_chats_by_language_skill_and_capacity(as_user, users, team, factory):
    repair_zh = waiting_chat(
        factory, "zh", language="zh-Hant", tier="gold", category="product", minutes_ago=3
    )
    repair_zh2 = waiting_chat(
        factory, "zh2", language="zh-Hant", tier="standard", category="product", minutes_ago=1
    )
    billing_en = waiting_chat(
        factory, "bill", language="en", tier="standard", category="payment", minutes_ago=2
    )
    agent1, agent2 = as_user("agent1"), as_user("agent2")
    agent1.get("/api/agent/queue")  # nobody is available: all wait
    assert {chat(factory, c) for c in (repair_zh, repair_zh2, billing_en)} == {("waiting_agent", None)}

    assert agent2.post("/api/agent/routing/availability", json={"available": True}).json() == {
        "available": True
    }
    assert chat(factory, billing_en) == ("waiting_agent", None)  # agent2 lacks billing
    agent1.post("/api/agent/routing/availability", json={"available": True})
    assert chat(factory, repair_zh) == ("agent", users["agent"])  # the higher priority (gold) first
    assert chat(factory, repair_zh2) == ("waiting_agent", None)  # agent1 is at capacity
    assert ("router", "chat.assigned", f"conversation:{repair_zh}") in audit_actions(factory)

    # capacity frees: the next queue read gives agent1 the second chat
    assert agent1.post(f"/api/agent/conversations/{repair_zh}/hand-back").json()["ok"] is True
    items = agent1.get("/api/agent/queue").json()["items"]
    assert chat(factory, repair_zh2) == ("agent", users["agent"])
    assert next(i for i in items if i["id"] == repair_zh2)["assigned_agent_id"] == users["agent"]

    agent1.post("/api/agent/routing/availability", json={"available": False})
    assert agent1.get("/api/agent/routing/team").json()["agents"][0]["available"] is False
    assert agent1.post("/api/agent/routing/availability", json={"available": "maybe"}).status_code == 422


def test_assign_transfer_and_back_to_the_queue_are_checked_and_audited(as_user, users, team, factory):
    cid = waiting_chat(factory, "t", language="en", tier="standard", category=None, minutes_ago=1)
    agent1, agent2 = as_user("agent1"), as_user("agent2")
    url = f"/api/agent/conversations/{cid}/assign"
    refused = agent1.post(url, json={"agent_id": users["agent2"]})
    assert (
        refused.status_code == 403 and refused.json()["error"] == "not_holder"
    )  # agents pass on only their own
    assert (
        team.post(url, json={"agent_id": users["agent"]}).status_code == 200
    )  # manager assigns from the queue
    assert chat(factory, cid) == ("agent", users["agent"])
    assert team.post(url, json={"agent_id": users["agent"]}).json()["error"] == "same_agent"
    moved = agent1.post(url, json={"agent_id": users["agent2"]})  # agent1 transfers
    assert moved.status_code == 200 and chat(factory, cid) == ("agent", users["agent2"])
    assert agent1.post(url, json={"agent_id": users["agent"]}).status_code == 403  # no longer hers
    assert agent2.post(url, json={"agent_id": users["trainer"]}).json()["error"] == "unknown_agent"
    for bad in ({"agent_id": "x"}, {"agent_id": 0}, {"agent_id": -3}, {"agent": 1}, {}):
        assert agent2.post(url, json=bad).status_code == 422, bad
    assert agent2.post("/api/agent/conversations/999999/assign", json={"agent_id": None}).status_code == 404
    back = agent2.post(url, json={"agent_id": None})
    assert back.status_code == 200 and chat(factory, cid) == ("waiting_agent", None)
    assert team.post(url, json={"agent_id": None}).json()["error"] == "already_waiting"
    # a full agent cannot be given another chat
    other = waiting_chat(factory, "o", language="en", tier="standard", category=None, minutes_ago=1)
    assert (
        team.post(f"/api/agent/conversations/{other}/assign", json={"agent_id": users["agent"]}).status_code
        == 200
    )
    full = team.post(url, json={"agent_id": users["agent"]})
    assert full.status_code == 409 and full.json()["error"] == "at_capacity"
    logged = [
        (actor, action) for actor, action, target in audit_actions(factory) if target == f"conversation:{cid}"
    ]
    assert logged == [
        ("manager1", "chat.assigned"),
        ("agent1", "chat.transferred"),
        ("agent2", "chat.unassigned"),
    ]


def test_queue_shows_targets_warns_before_a_breach_and_records_the_breach(as_user, factory):
    warn = waiting_chat(
        factory, "w", language="en", tier="gold", category=None, minutes_ago=4.5
    )  # gold: 5 min
    late = waiting_chat(factory, "l", language="en", tier="standard", category=None, minutes_ago=16)  # 15 min
    calm = waiting_chat(factory, "c", language="en", tier="standard", category=None, minutes_ago=1)
    items = {i["id"]: i for i in as_user("agent1").get("/api/agent/queue").json()["items"]}
    assert items[warn]["sla"]["first_response"]["state"] == "warning"
    assert items[warn]["sla"]["first_response"]["target_min"] == 5
    assert items[late]["sla"]["first_response"]["state"] == "breached"
    assert items[calm]["sla"]["first_response"]["state"] == "ok"
    assert items[calm]["sla"]["resolution"]["target_min"] == 48 * 60  # service_targets: 48 hours
    with session_scope(factory) as session:
        stamped = {c.id: c.first_response_breached_at for c in session.query(Conversation)}
    assert stamped[late] is not None and stamped[warn] is None and stamped[calm] is None


def test_dev_agents_and_managers_get_every_language_and_skill_once(settings, factory):
    from crm.models import User
    from gateway.console import devusers

    creds = devusers.load_or_create(devusers.credentials_path(settings))
    devusers.ensure_dev_users(factory, creds)
    with session_scope(factory) as session:
        profiles = {
            u.role: (u.languages, u.skills, u.available)
            for u in session.query(User).filter(User.username.in_([c["username"] for c in creds.values()]))
        }
        manager = session.query(User).filter_by(username=creds["manager"]["username"]).one()
        manager.skills = ["billing"]  # edited in the console: kept
    everything = (["zh-Hant", "zh-Hans", "en"], ["orders", "billing", "repairs", "general"], False)
    assert profiles["agent"] == profiles["manager"] == everything
    assert profiles["trainer"][:2] == profiles["admin"][:2] == (None, None)
    devusers.ensure_dev_users(factory, creds)
    with session_scope(factory) as session:
        assert session.query(User).filter_by(username=creds["manager"]["username"]).one().skills == [
            "billing"
        ]


class _Frames:
    """A hub that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.customer: list[tuple[int, dict]] = []
        self.consoles: list[dict] = []

    async def to_customer(self, conversation_id: int, frame: dict) -> None:
        self.customer.append((conversation_id, frame))

    async def to_consoles(self, frame: dict) -> None:
        self.consoles.append(frame)


def test_the_router_also_runs_on_its_own_so_no_console_has_to_read_the_queue(as_user, users, team, factory):
    import asyncio

    from gateway.console.routes_routing import route_forever

    as_user("agent1").post("/api/agent/routing/availability", json={"available": True})
    repair = waiting_chat(
        factory, "timer", language="zh-Hant", tier="silver", category="product", minutes_ago=1
    )
    assert chat(factory, repair) == ("waiting_agent", None)  # nobody read the queue since

    frames = _Frames()

    async def run_briefly() -> None:
        loop = asyncio.create_task(route_forever(factory, frames, 0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if chat(factory, repair)[0] == "agent":
                break
        loop.cancel()

    asyncio.run(run_briefly())
    assert chat(factory, repair) == ("agent", users["agent"])
    assert [cid for cid, f in frames.customer if f["status"] == "agent"] == [repair]
    assert any(
        f["conversation_id"] == repair and f["assigned_agent_id"] == users["agent"] for f in frames.consoles
    )
