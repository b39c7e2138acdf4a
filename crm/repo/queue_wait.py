"""Facts behind the wait announced to a customer in the agents' queue: the chat's position and
how long agents recently took to take a chat (the estimate itself: :mod:`recovery.wait`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm.models import Conversation


def queue_position(session: Session, conversation_id: int) -> int | None:
    """1 for the chat waiting longest; None when the chat is not waiting for an agent. A chat
    queued without an escalation time (older rows, a manual fix) counts behind the timed ones
    and, among such chats, by id."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.status != "waiting_agent":
        return None
    waiting = [Conversation.status == "waiting_agent", Conversation.id != conversation_id]
    ahead: ColumnElement[bool]
    if conversation.handoff_at is None:
        ahead = Conversation.handoff_at.is_not(None) | (Conversation.id < conversation_id)
    else:
        ahead = Conversation.handoff_at <= conversation.handoff_at
    count = session.scalar(select(func.count()).select_from(Conversation).where(*waiting, ahead))
    return int(count or 0) + 1


def recent_first_responses(session: Session, since: datetime, limit: int = 50) -> list[float]:
    """Seconds from escalation to an agent taking the chat, for chats taken since ``since``
    (latest first, at most ``limit``)."""
    rows = session.execute(
        select(Conversation.handoff_at, Conversation.agent_joined_at)
        .where(
            Conversation.agent_joined_at.is_not(None),
            Conversation.handoff_at.is_not(None),
            Conversation.agent_joined_at >= since,
        )
        .order_by(Conversation.agent_joined_at.desc())
        .limit(limit)
    ).all()
    return [
        max(0.0, (joined - queued).total_seconds())
        for queued, joined in rows
        if queued is not None and joined is not None
    ]
