"""crm/repo/routing.py: profiles and load, waiting facts, atomic assignment (also two sessions
racing), transfer, back to the queue, first replies and breaches recorded once per escalation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from crm.db import session_scope
from crm.models import Conversation, Customer, Message, Ticket, User
from crm.repo import routing

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def _user(s, name: str, role: str = "agent", **values) -> int:
    user = User(username=name, password_hash="x", role=role, **values)
    s.add(user)
    s.flush()
    return user.id


def _chat(s, token: str, status: str = "waiting_agent", agent_id: int | None = None, **values) -> int:
    conv = Conversation(token=token, status=status, assigned_agent_id=agent_id, handoff_at=T0, **values)
    s.add(conv)
    s.flush()
    return conv.id


def test_agents_carry_profile_and_load_and_profiles_are_stored(session_factory):
    with session_scope(session_factory) as s:
        a = _user(s, "amy")
        _user(s, "tom", role="trainer")
        _user(s, "old", active=False)
        _chat(s, "c1", "agent", a)
        _chat(s, "c2", "agent", a)
        _chat(s, "c3", "closed", a)
    with session_scope(session_factory) as s:
        assert routing.set_profile(s, a, languages=["en"], skills=["orders"], capacity=4)
        assert routing.set_available(s, a, True)
        trainer = s.query(User).filter_by(username="tom").one().id
        assert not routing.set_profile(s, trainer, languages=[], skills=[], capacity=1)
        assert not routing.set_available(s, trainer, True)
    with session_scope(session_factory) as s:
        rows = routing.agents(s)
    assert [r["username"] for r in rows] == ["amy"]
    assert rows[0] | {} == {
        "id": a,
        "username": "amy",
        "display_name": None,
        "role": "agent",
        "languages": ["en"],
        "skills": ["orders"],
        "capacity": 4,
        "available": True,
        "load": 2,
    }


def test_new_users_are_away_with_no_profile(session_factory):
    with session_scope(session_factory) as s:
        _user(s, "new")
    with session_scope(session_factory) as s:
        (row,) = routing.agents(s)
    assert row["available"] is False and row["languages"] == [] and row["capacity"] is None


def test_waiting_facts_give_language_tier_latest_ticket_category_and_intents(session_factory):
    with session_scope(session_factory) as s:
        cust = Customer(name="Gold", tier="gold")
        s.add(cust)
        s.flush()
        cid = _chat(s, "w1", customer_id=cust.id, language="zh-Hant")
        _chat(s, "held", "agent")
        s.add_all(
            [
                Ticket(conversation_id=cid, category="delivery", subject="a", created_at=T0),
                Ticket(
                    conversation_id=cid, category="payment", subject="b", created_at=T0 + timedelta(minutes=1)
                ),
                Message(
                    conversation_id=cid, client_id="m1", direction="customer", intent="greet", created_at=T0
                ),
                Message(conversation_id=cid, client_id="m2", direction="bot", intent="x", created_at=T0),
                Message(
                    conversation_id=cid,
                    client_id="m3",
                    direction="customer",
                    intent="order_status",
                    created_at=T0 + timedelta(seconds=5),
                ),
            ]
        )
    with session_scope(session_factory) as s:
        facts = routing.waiting_facts(s)
    assert facts == {
        cid: {
            "id": cid,
            "language": "zh-Hant",
            "tier": "gold",
            "category": "payment",
            "intents": ["greet", "order_status"],
        }
    }


def test_assignment_takes_a_waiting_chat_once_and_respects_capacity(session_factory):
    with session_scope(session_factory) as s:
        a, b = _user(s, "amy"), _user(s, "bob")
        c1, c2, c3 = _chat(s, "c1"), _chat(s, "c2"), _chat(s, "c3")
    with session_scope(session_factory) as s:
        assert routing.assign(s, c1, a, 1, at=T0 + timedelta(minutes=2))
        assert not routing.assign(s, c1, b, 5)  # taken
        assert not routing.assign(s, c2, a, 1)  # amy is full
        assert routing.assign(s, c2, b, 1)
    with session_scope(session_factory) as s:
        got = {c.id: (c.status, c.assigned_agent_id, c.agent_joined_at) for c in s.query(Conversation)}
        assert got[c1] == ("agent", a, T0 + timedelta(minutes=2))
        assert got[c2][:2] == ("agent", b) and got[c3] == ("waiting_agent", None, None)


def test_transfer_and_back_to_the_queue_keep_the_handoff_time(session_factory):
    with session_scope(session_factory) as s:
        a, b = _user(s, "amy"), _user(s, "bob")
        trainer = _user(s, "tom", role="trainer")
        c1 = _chat(s, "c1", "agent", a, agent_joined_at=T0)
        _chat(s, "c2", "agent", b)
    with session_scope(session_factory) as s:
        assert not routing.assign(s, c1, b, 1, from_agent_id=a)  # bob is full
        assert not routing.assign(s, c1, trainer, 5, from_agent_id=a)  # not an agent
        assert not routing.assign(s, c1, b, 5, from_agent_id=b)  # bob does not hold it
        assert routing.assign(s, c1, b, 2, from_agent_id=a)
    with session_scope(session_factory) as s:
        conv = s.get(Conversation, c1)
        assert (conv.assigned_agent_id, conv.agent_joined_at, conv.handoff_at) == (b, T0, T0)
        assert not routing.unassign(s, c1, a)
        assert routing.unassign(s, c1, b)
    with session_scope(session_factory) as s:
        conv = s.get(Conversation, c1)
        assert (conv.status, conv.assigned_agent_id, conv.handoff_at) == ("waiting_agent", None, T0)


def _race(factory, jobs) -> list[bool]:
    """Run each job ``(conversation id, agent id, capacity)`` in its own thread and session."""
    start = threading.Barrier(len(jobs))
    results: list[bool] = [False] * len(jobs)

    def run(i: int, job) -> None:
        start.wait()
        with session_scope(factory) as s:
            results[i] = routing.assign(s, *job)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_sessions_never_assign_one_chat_twice_or_exceed_capacity(engine):
    from crm.db import make_session_factory

    factory = make_session_factory(engine)
    for round in range(4):
        with session_scope(factory) as s:
            a, b = _user(s, f"amy{round}"), _user(s, f"bob{round}")
            chats = [_chat(s, f"c{round}-{i}") for i in range(8)]
        # one chat, two agents: one winner
        assert sorted(_race(factory, [(chats[0], a, 5), (chats[0], b, 5)])) == [False, True]
        with session_scope(factory) as s:
            held = s.query(Conversation).filter_by(status="agent", assigned_agent_id=a).count()
        # amy has 3 - held places left: six chats race for them
        results = _race(factory, [(c, a, 3) for c in chats[1:7]])
        assert sum(results) == 3 - held
        with session_scope(factory) as s:
            assert s.query(Conversation).filter_by(status="agent", assigned_agent_id=a).count() == 3


def test_first_replies_count_from_the_latest_handoff_and_breaches_are_recorded_once(session_factory):
    with session_scope(session_factory) as s:
        c1, c2 = _chat(s, "c1", "agent"), _chat(s, "c2")
        s.add_all(
            [
                Message(
                    conversation_id=c1, client_id="old", direction="agent", created_at=T0 - timedelta(hours=1)
                ),
                Message(
                    conversation_id=c1,
                    client_id="a1",
                    direction="agent",
                    created_at=T0 + timedelta(minutes=3),
                ),
                Message(
                    conversation_id=c1,
                    client_id="a2",
                    direction="agent",
                    created_at=T0 + timedelta(minutes=9),
                ),
            ]
        )
    with session_scope(session_factory) as s:
        assert routing.first_replies(s, [c1, c2]) == {c1: T0 + timedelta(minutes=3)}
        assert routing.record_breach(s, c2, "first_response", T0 + timedelta(minutes=11))
        assert not routing.record_breach(s, c2, "first_response", T0 + timedelta(minutes=12))
        assert routing.record_breach(s, c2, "resolution", T0 + timedelta(hours=3))
    with session_scope(session_factory) as s:
        conv = s.get(Conversation, c2)
        assert conv.first_response_breached_at == T0 + timedelta(minutes=11)
        conv.handoff_at = T0 + timedelta(days=1)  # a new escalation: its own breach
    with session_scope(session_factory) as s:
        assert routing.record_breach(s, c2, "first_response", T0 + timedelta(days=1, minutes=20))
