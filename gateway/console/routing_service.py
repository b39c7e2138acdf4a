"""Units of work behind routing in the agent console (blocking; routes call them in threads):
the router that gives waiting chats to available agents, manual assignment and transfer,
availability, routing profiles, and the response targets shown in the queue.

Who fits a chat, capacity defaults and targets are :mod:`recovery.routing`'s; the order in which
waiting chats are served is :mod:`recovery.priority`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import Conversation, User
from crm.repo import agent_desk, routing
from crm.repo.admin import audit
from gateway.console.auth import ConsoleUser
from gateway.console.errors import ConsoleError
from recovery import priority
from recovery import routing as rules

Factory = sessionmaker[Session]
ROUTER = "router"  # the audit log's actor of automatic assignments


@dataclass(frozen=True)
class Assigned:
    """A chat that changed hands: ``taken`` when it left the queue (the customer is told)."""

    conversation_id: int
    agent_id: int | None
    taken: bool


def _capacity(row: routing.AgentRow, policy: rules.Routing) -> int:
    return policy.default_capacity if row["capacity"] is None else row["capacity"]


def _agent(row: routing.AgentRow, policy: rules.Routing) -> rules.Agent:
    return rules.Agent(
        id=row["id"],
        languages=frozenset(row["languages"]),
        skills=frozenset(row["skills"]),
        capacity=_capacity(row, policy),
        available=row["available"],
        load=row["load"],
    )


def route_waiting(factory: Factory, now: datetime | None = None) -> list[Assigned]:
    """Give waiting chats, highest priority first, to the agents who fit them (each in its own
    short transaction; a chat another gateway took meanwhile is skipped)."""
    policy = rules.load_routing()
    with session_scope(factory) as session:
        team = {row["id"]: row for row in routing.agents(session)}
        free = [a for a in (_agent(r, policy) for r in team.values()) if a.available and a.load < a.capacity]
        facts = routing.waiting_facts(session) if free else {}
        signals = [
            agent_desk.queue_signals(session, c)
            for c in (session.get(Conversation, cid) for cid in facts)
            if c is not None
        ]
    order = [item["id"] for item in priority.rank(signals, now)]
    needs = [
        (
            cid,
            facts[cid]["language"],
            rules.required_skill(facts[cid]["category"], facts[cid]["intents"], policy),
        )
        for cid in order
    ]
    done: list[Assigned] = []
    for conversation_id, agent_id in rules.plan(needs, free):
        with session_scope(factory) as session:
            if not routing.assign(
                session, conversation_id, agent_id, _capacity(team[agent_id], policy), at=now
            ):
                continue
            audit(
                session,
                actor=ROUTER,
                action="chat.assigned",
                target=f"conversation:{conversation_id}",
                details={"to": team[agent_id]["username"], "automatic": True},
            )
        done.append(Assigned(conversation_id, agent_id, True))
    return done


def assign(factory: Factory, conversation_id: int, agent_id: int | None, user: ConsoleUser) -> Assigned:
    """Manual assignment: a manager gives any chat to an agent or back to the queue; an agent
    does so with a chat they hold. The new holder's capacity is respected."""
    policy = rules.load_routing()
    with session_scope(factory) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConsoleError(404, "not_found", "No such conversation.")
        holder = conversation.assigned_agent_id if conversation.status == routing.HELD else None
        if conversation.status not in (routing.HELD, routing.QUEUED):
            raise ConsoleError(409, "not_escalated", "This chat is not with the agents.")
        if not user.can("manager") and holder != user.id:
            raise ConsoleError(
                403, "not_holder", "Only the agent holding a chat or a manager can pass it on."
            )
        if agent_id is None:
            if holder is None:
                raise ConsoleError(409, "already_waiting", "This chat is already in the queue.")
            if not routing.unassign(session, conversation_id, holder):
                raise ConsoleError(409, "conflict", "The chat changed meanwhile; reload.")
            audit(
                session,
                actor=user.username,
                action="chat.unassigned",
                target=f"conversation:{conversation_id}",
            )
            return Assigned(conversation_id, None, False)
        target = {row["id"]: row for row in routing.agents(session)}.get(agent_id)
        if target is None:
            raise ConsoleError(422, "unknown_agent", "No such active agent.")
        if agent_id == holder:
            raise ConsoleError(409, "same_agent", "This agent already has the chat.")
        if not routing.assign(
            session, conversation_id, agent_id, _capacity(target, policy), from_agent_id=holder
        ):
            raise ConsoleError(
                409, "at_capacity", "That agent has no free place, or the chat changed meanwhile."
            )
        previous = session.get(User, holder) if holder else None
        audit(
            session,
            actor=user.username,
            action="chat.transferred" if holder else "chat.assigned",
            target=f"conversation:{conversation_id}",
            details={"from": previous.username if previous else None, "to": target["username"]},
        )
        return Assigned(conversation_id, agent_id, holder is None)


def set_available(factory: Factory, user: ConsoleUser, available: bool) -> dict[str, Any]:
    with session_scope(factory) as session:
        routing.set_available(session, user.id, available)
    return {"available": available}


def team(factory: Factory, user: ConsoleUser) -> dict[str, Any]:
    """The agents (for transfer and for managers' profile editing), the skills and languages."""
    policy = rules.load_routing()
    with session_scope(factory) as session:
        rows = routing.agents(session)
    for row in rows:
        row["capacity"] = _capacity(row, policy)
    return {"me": user.id, "agents": rows, "skills": list(policy.skills)}


def set_profile(
    factory: Factory, user_id: int, languages: list[str], skills: list[str], capacity: int, user: ConsoleUser
) -> dict[str, Any]:
    try:
        langs, wanted, cap = rules.clean_profile(languages, skills, capacity)
    except rules.ProfileError as exc:
        raise ConsoleError(422, "invalid_profile", str(exc)) from None
    with session_scope(factory) as session:
        if not routing.set_profile(session, user_id, languages=langs, skills=wanted, capacity=cap):
            raise ConsoleError(404, "not_found", "No such agent.")
        audit(
            session,
            actor=user.username,
            action="agent.routing_profile",
            target=f"user:{user_id}",
            details={"languages": langs, "skills": wanted, "capacity": cap},
        )
    return {"id": user_id, "languages": langs, "skills": wanted, "capacity": cap}


def add_sla(factory: Factory, items: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Attach ``sla`` (both targets' clocks) to each waiting or held queue item and record the
    first breach of each target."""
    now = now or datetime.now(timezone.utc)
    policy = rules.load_routing()
    live = [i for i in items if i["status"] in (routing.QUEUED, routing.HELD) and i.get("handoff_at")]
    if not live:
        return
    with session_scope(factory) as session:
        replies = routing.first_replies(session, [i["id"] for i in live])
        for item in live:
            tier = (item.get("customer") or {}).get("tier")
            clocks = rules.sla(
                tier, datetime.fromisoformat(item["handoff_at"]), replies.get(item["id"]), None, now, policy
            )
            item["sla"] = clocks
            for kind, one in (
                ("first_response", clocks["first_response"]),
                ("resolution", clocks["resolution"]),
            ):
                if one["state"] == "breached":
                    routing.record_breach(session, item["id"], kind, now)
