"""Routing of escalated chats: agents' routing profiles and load, the facts a waiting chat is
routed by, the atomic assignment and transfer, and recorded response-target breaches.

Functions take a Session and never commit. Who fits a chat is decided by
:mod:`recovery.routing` (pure); here are only reads and conditional writes.

Assignment is one conditional UPDATE of the conversation whose WHERE also counts the agent's
open chats against ``capacity``; on PostgreSQL the agent's ``users`` row is locked first
(``SELECT … FOR UPDATE``), so two gateways assigning to the same agent run one after the other
and the second sees the first's chat. On SQLite every write transaction is ``BEGIN IMMEDIATE``
(:mod:`crm.db`), which serialises them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.models import Conversation, Customer, Message, Ticket, User
from crm.orm.base import utcnow

AGENT_ROLES = ("agent", "manager")
HELD = "agent"
QUEUED = "waiting_agent"


class AgentRow(TypedDict):
    id: int
    username: str
    display_name: str | None
    role: str
    languages: list[str]
    skills: list[str]
    capacity: int | None
    available: bool
    load: int


class WaitingFacts(TypedDict):
    id: int
    language: str | None
    tier: str
    category: str | None
    intents: list[str]


def _loads(session: Session) -> dict[int, int]:
    stmt = (
        select(Conversation.assigned_agent_id, func.count())
        .where(Conversation.status == HELD, Conversation.assigned_agent_id.is_not(None))
        .group_by(Conversation.assigned_agent_id)
    )
    return {int(agent): int(n) for agent, n in session.execute(stmt) if agent is not None}


def agents(session: Session) -> list[AgentRow]:
    """Active agents and managers with their routing profile and open chats, by name."""
    loads = _loads(session)
    users = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(AGENT_ROLES)).order_by(User.username)
    )
    return [
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "languages": list(u.languages or []),
            "skills": list(u.skills or []),
            "capacity": u.capacity,
            "available": bool(u.available),
            "load": loads.get(u.id, 0),
        }
        for u in users
    ]


def set_profile(
    session: Session, user_id: int, *, languages: list[str], skills: list[str], capacity: int | None
) -> bool:
    """Store an agent's routing profile (validated by the caller); False: no such agent."""
    user = session.get(User, user_id)
    if user is None or user.role not in AGENT_ROLES:
        return False
    user.languages, user.skills, user.capacity = list(languages), list(skills), capacity
    session.flush()
    return True


def set_available(session: Session, user_id: int, available: bool) -> bool:
    result = session.execute(
        update(User)
        .where(User.id == user_id, User.role.in_(AGENT_ROLES))
        .values(available=available)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def waiting_facts(session: Session, *, limit: int = 200) -> dict[int, WaitingFacts]:
    """For each waiting chat: its language, the customer's tier, its latest ticket's category
    and the customer's intents (oldest first): what routing needs."""
    chats = list(
        session.execute(
            select(Conversation.id, Conversation.language, Customer.tier)
            .outerjoin(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.status == QUEUED)
            .order_by(Conversation.handoff_at, Conversation.id)
            .limit(limit)
        )
    )
    ids = [row[0] for row in chats]
    if not ids:
        return {}
    categories: dict[int, str] = {}
    for conversation_id, category in session.execute(
        select(Ticket.conversation_id, Ticket.category)
        .where(Ticket.conversation_id.in_(ids))
        .order_by(Ticket.created_at, Ticket.id)
    ):
        if conversation_id is not None:
            categories[conversation_id] = category  # the latest wins
    intents: dict[int, list[str]] = {i: [] for i in ids}
    for conversation_id, intent in session.execute(
        select(Message.conversation_id, Message.intent)
        .where(Message.conversation_id.in_(ids), Message.direction == "customer", Message.intent.is_not(None))
        .order_by(Message.created_at, Message.id)
    ):
        intents[conversation_id].append(str(intent))
    return {
        cid: {
            "id": cid,
            "language": language,
            "tier": tier or "standard",
            "category": categories.get(cid),
            "intents": intents[cid],
        }
        for cid, language, tier in chats
    }


def _lock_agent(session: Session, agent_id: int) -> User | None:
    return session.scalars(select(User).where(User.id == agent_id).with_for_update()).first()


def assign(
    session: Session,
    conversation_id: int,
    agent_id: int,
    capacity: int,
    *,
    from_agent_id: int | None = None,
    at: datetime | None = None,
) -> bool:
    """Give a chat to ``agent_id`` if they hold fewer than ``capacity`` chats.

    ``from_agent_id`` None: the chat must be waiting (it is taken, ``agent_joined_at`` stamped);
    otherwise it must be held by ``from_agent_id`` (a transfer; the escalation's times stay).
    Returns whether this call made the change: of two concurrent calls for one chat, or for the
    last free place of one agent, only one wins.
    """
    agent = _lock_agent(session, agent_id)
    if agent is None or not agent.active or agent.role not in AGENT_ROLES or agent_id == from_agent_id:
        return False
    held = (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == HELD, Conversation.assigned_agent_id == agent_id)
        .scalar_subquery()
    )
    stmt = update(Conversation).where(Conversation.id == conversation_id, held < capacity)
    if from_agent_id is None:
        stmt = stmt.where(Conversation.status == QUEUED).values(
            status=HELD, assigned_agent_id=agent_id, agent_joined_at=at or utcnow()
        )
    else:
        stmt = stmt.where(
            Conversation.status == HELD, Conversation.assigned_agent_id == from_agent_id
        ).values(assigned_agent_id=agent_id)
    return rowcount(session.execute(stmt.execution_options(synchronize_session=False))) == 1


def unassign(session: Session, conversation_id: int, from_agent_id: int) -> bool:
    """Put a held chat back in the queue (its handoff time, and so its targets, stay)."""
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.status == HELD,
            Conversation.assigned_agent_id == from_agent_id,
        )
        .values(status=QUEUED, assigned_agent_id=None, agent_joined_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def first_replies(session: Session, conversation_ids: list[int]) -> dict[int, datetime]:
    """The first agent message of each chat's latest escalation (at or after ``handoff_at``)."""
    if not conversation_ids:
        return {}
    stmt = (
        select(Message.conversation_id, func.min(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == "agent",
            Conversation.handoff_at.is_not(None),
            Message.created_at >= Conversation.handoff_at,
        )
        .group_by(Message.conversation_id)
    )
    return {int(cid): at for cid, at in session.execute(stmt) if at is not None}


def record_breach(session: Session, conversation_id: int, kind: str, at: datetime) -> bool:
    """Stamp the first time a chat's latest escalation passed its ``first_response`` or
    ``resolution`` target; True only for the call that stamped it (recorded once per escalation:
    a stamp from before the latest ``handoff_at`` belongs to an earlier one and is replaced)."""
    column = {
        "first_response": Conversation.first_response_breached_at,
        "resolution": Conversation.resolution_breached_at,
    }[kind]
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            or_(column.is_(None), column < Conversation.handoff_at),
        )
        .values({column: at})
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
