"""Read state of a chat: the latest message each side has seen (``Conversation.customer_read_id``
and ``agent_read_id``). A marker only moves forward, and only to a message of that conversation
written by the other side, so a hostile client cannot mark messages it never received."""

from __future__ import annotations

from typing import Literal, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Conversation, Message

Reader = Literal["customer", "agent"]
#: The directions each reader can read (the other side's messages).
READABLE: dict[Reader, tuple[str, ...]] = {"customer": ("agent",), "agent": ("customer",)}


class ReadState(TypedDict):
    customer_read_id: int | None
    agent_read_id: int | None


def read_state(session: Session, conversation_id: int) -> ReadState:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return {"customer_read_id": None, "agent_read_id": None}
    return {"customer_read_id": conversation.customer_read_id, "agent_read_id": conversation.agent_read_id}


def mark_read(session: Session, conversation_id: int, reader: Reader, up_to: int) -> int | None:
    """Move ``reader``'s marker to the latest readable message with an id <= ``up_to``; return
    the new marker when it moved, else None (nothing new, unknown ids, another chat's ids)."""
    latest = session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation_id,
            Message.id <= up_to,
            Message.direction.in_(READABLE[reader]),
        )
    )
    conversation = session.get(Conversation, conversation_id)
    if latest is None or conversation is None:
        return None
    current = conversation.customer_read_id if reader == "customer" else conversation.agent_read_id
    if current is not None and current >= latest:
        return None
    if reader == "customer":
        conversation.customer_read_id = latest
    else:
        conversation.agent_read_id = latest
    session.flush()
    return int(latest)
