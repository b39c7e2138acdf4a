"""Customer messages still waiting for the bot's answer (the assistant was down when they came).

The gateway marks such a message with its "one moment" system reply, whose client id is
``<client id>:wait``. Once the bot's answer is stored, :func:`settle` renames the marker to
``<client id>:waited`` with a conditional UPDATE, so the message is settled exactly once even
when several gateways try.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.models import Conversation, Message

WAIT_SUFFIX = ":wait"
SETTLED_SUFFIX = ":waited"


def wait_marker_id(client_id: str) -> str:
    return f"{client_id}{WAIT_SUFFIX}"


def list_waiting(
    session: Session, *, since: datetime, limit: int = 1000
) -> list[tuple[Conversation, Message]]:
    """(conversation, customer message) pairs still waiting, oldest first."""
    markers = session.scalars(
        select(Message)
        .where(
            Message.direction == "system",
            Message.client_id.like(f"%{WAIT_SUFFIX}"),
            Message.created_at >= since,
        )
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    waiting: list[tuple[Conversation, Message]] = []
    for marker in markers:
        question = session.scalars(
            select(Message).where(
                Message.conversation_id == marker.conversation_id,
                Message.client_id == marker.client_id[: -len(WAIT_SUFFIX)],
                Message.direction == "customer",
            )
        ).one_or_none()
        if question is not None:
            waiting.append((session.get_one(Conversation, marker.conversation_id), question))
    return waiting


def settle(session: Session, conversation_id: int, client_id: str) -> bool:
    """Mark the customer message ``client_id`` answered; True for the one caller that did it."""
    result = session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.client_id == wait_marker_id(client_id))
        .values(client_id=f"{client_id}{SETTLED_SUFFIX}")
    )
    return rowcount(result) == 1
