"""Conversations and messages (the API the gateway calls)."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, null, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.errors import CRMNotFound
from crm.models import Conversation, Message
from crm.orm.base import CONVERSATION_STATUSES, utcnow


def new_conversation_token() -> str:
    """An unguessable public token for the widget (~192 bits, URL-safe, 32 chars)."""
    return secrets.token_urlsafe(24)


def get_conversation_by_token(session: Session, token: str) -> Conversation | None:
    return session.scalars(select(Conversation).where(Conversation.token == token)).one_or_none()


def get_conversation(session: Session, conversation_id: int) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def create_conversation(
    session: Session,
    *,
    token: str,
    channel: str = "web",
    language: str | None = None,
    customer_id: int | None = None,
    started_at: datetime | None = None,
) -> Conversation:
    conv = Conversation(
        token=token,
        channel=channel,
        language=language,
        customer_id=customer_id,
        started_at=started_at or utcnow(),
    )
    session.add(conv)
    session.flush()
    return conv


def get_or_create_conversation(
    session: Session,
    *,
    token: str,
    channel: str = "web",
    language: str | None = None,
    customer_id: int | None = None,
    started_at: datetime | None = None,
) -> tuple[Conversation, bool]:
    """Look the token up, creating the conversation if needed (safe under concurrent calls)."""
    conv = get_conversation_by_token(session, token)
    if conv is not None:
        return conv, False
    try:
        with session.begin_nested():
            conv = create_conversation(
                session,
                token=token,
                channel=channel,
                language=language,
                customer_id=customer_id,
                started_at=started_at,
            )
        return conv, True
    except sa_exc.IntegrityError:
        conv = get_conversation_by_token(session, token)
        if conv is None:
            raise
        return conv, False


def add_message(
    session: Session,
    *,
    conversation_id: int,
    client_id: str | None,
    direction: str,
    text: str,
    language: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    kb_entry_id: str | None = None,
    kb_score: float | None = None,
    frustration: float | None = None,
    latency_ms: int | None = None,
    channel: str = "web",
    payload: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> tuple[Message, bool]:
    """Insert a message once per ``(conversation_id, client_id)``.

    Returns ``(message, created)``; a repeated ``client_id`` returns the stored row untouched
    and ``created=False``. Races are resolved by the unique constraint inside a SAVEPOINT, so
    the caller's transaction survives a lost race on SQLite and PostgreSQL alike.
    ``client_id=None`` (server-side messages) gets a fresh ``srv-<uuid>`` id.
    """
    if client_id is None:
        client_id = f"srv-{uuid.uuid4().hex}"
    existing = _find_message(session, conversation_id, client_id)
    if existing is not None:
        return existing, False
    msg = Message(
        conversation_id=conversation_id,
        client_id=client_id,
        direction=direction,
        text=text,
        language=language,
        intent=intent,
        confidence=confidence,
        kb_entry_id=kb_entry_id,
        kb_score=kb_score,
        frustration=frustration,
        latency_ms=latency_ms,
        channel=channel,
        payload=payload,
        created_at=created_at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(msg)
            session.flush()
    except sa_exc.IntegrityError:
        # Lost the race (or a different constraint failed: then the lookup finds nothing).
        existing = _find_message(session, conversation_id, client_id)
        if existing is None:
            raise
        return existing, False
    return msg, True


def _find_message(session: Session, conversation_id: int, client_id: str) -> Message | None:
    stmt = select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    return session.scalars(stmt).one_or_none()


def update_message_nlu(
    session: Session,
    message_id: int,
    *,
    intent: str | None,
    confidence: float | None,
    language: str | None = None,
    kb_entry_id: str | None = None,
    kb_score: float | None = None,
) -> Message:
    """Store NLU results on an already-saved message.

    ``intent``/``confidence`` are always written; ``language``, ``kb_entry_id`` and
    ``kb_score`` only when not None.
    """
    msg = session.get(Message, message_id)
    if msg is None:
        raise CRMNotFound(f"message {message_id} not found")
    msg.intent = intent
    msg.confidence = confidence
    for name, value in (("language", language), ("kb_entry_id", kb_entry_id), ("kb_score", kb_score)):
        if value is not None:
            setattr(msg, name, value)
    session.flush()
    return msg


def list_messages(
    session: Session, conversation_id: int, *, after_id: int | None = None, limit: int = 200
) -> list[Message]:
    """Messages in display order (``created_at``, then ``id``).

    ``after_id`` returns only messages that come after that message in this order (for
    polling); an unknown ``after_id`` returns messages with a larger id.
    """
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if after_id is not None:
        anchor = session.get(Message, after_id)
        if anchor is not None and anchor.conversation_id == conversation_id:
            stmt = stmt.where(
                (Message.created_at > anchor.created_at)
                | ((Message.created_at == anchor.created_at) & (Message.id > anchor.id))
            )
        else:
            stmt = stmt.where(Message.id > after_id)
    stmt = stmt.order_by(Message.created_at, Message.id).limit(max(1, min(limit, 1000)))
    return list(session.scalars(stmt))


def set_conversation_language(session: Session, conversation_id: int, language: str | None) -> Conversation:
    """Record the conversation's current language (follows the customer; None is ignored)."""
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise CRMNotFound(f"conversation {conversation_id} not found")
    if language is not None and conv.language != language:
        conv.language = language
        session.flush()
    return conv


QUEUED = "waiting_agent"  # the human queue
HELD = "agent"  # an agent has the chat


def _escalation_times(old_status: str, new_status: str, at: datetime) -> dict[str, datetime | None]:
    """How ``handoff_at`` / ``agent_joined_at`` change when a chat moves between statuses.

    * entering the queue (from bot, closed or back from an agent) starts a new escalation:
      ``handoff_at = at`` and ``agent_joined_at = None``;
    * an agent taking the chat sets ``agent_joined_at = at``; taking it without it having
      waited in the queue (straight from the bot) also sets ``handoff_at = at`` (no wait);
    * anything else (hand back to the bot, closing, the same status again) changes neither,
      so the last escalation stays on record for the metrics.
    """
    if new_status == QUEUED and old_status != QUEUED:
        return {"handoff_at": at, "agent_joined_at": None}
    if new_status == HELD and old_status != HELD:
        return {"agent_joined_at": at} if old_status == QUEUED else {"handoff_at": at, "agent_joined_at": at}
    return {}


def set_conversation_status(
    session: Session,
    conversation_id: int,
    status: str,
    *,
    agent_id: int | None = None,
    handoff_reason: str | None = None,
    at: datetime | None = None,
) -> Conversation:
    """Move a conversation between bot / waiting_agent / agent / closed (``at``: when, default
    now; it stamps ``handoff_at`` / ``agent_joined_at`` as :func:`transition_conversation` does).
    """
    if status not in CONVERSATION_STATUSES:
        raise ValueError(f"unknown conversation status {status!r}")
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise CRMNotFound(f"conversation {conversation_id} not found")
    for name, value in _escalation_times(conv.status, status, at or utcnow()).items():
        setattr(conv, name, value)
    conv.status = status
    if agent_id is not None:
        conv.assigned_agent_id = agent_id
    if handoff_reason is not None:
        conv.handoff_reason = handoff_reason
    if status == "closed" and conv.ended_at is None:
        conv.ended_at = utcnow()
    session.flush()
    return conv


def list_conversations_for_customer(
    session: Session, customer_id: int, *, limit: int = 20
) -> list[Conversation]:
    stmt = (
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def transition_conversation(
    session: Session,
    conversation_id: int,
    *,
    from_statuses: tuple[str, ...],
    to_status: str,
    agent_id: int | None = None,
    handoff_reason: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Atomically move a conversation to ``to_status`` if it is in one of ``from_statuses``.

    A single conditional UPDATE, so two agents claiming the same chat cannot both win.
    Returns whether this call made the change. Escalating (``waiting_agent``) stamps
    ``handoff_at`` and claiming (``agent``) stamps ``agent_joined_at`` with ``at`` (default
    now), by the rules of :func:`_escalation_times` applied to the row's status in the UPDATE.
    """
    if to_status not in CONVERSATION_STATUSES:
        raise ValueError(f"unknown conversation status {to_status!r}")
    values: dict[str, Any] = {"status": to_status}
    if to_status in (QUEUED, HELD):
        now = literal(at or utcnow(), Conversation.__table__.c.handoff_at.type)
        if to_status == QUEUED:
            values["handoff_at"] = case((Conversation.status == QUEUED, Conversation.handoff_at), else_=now)
            values["agent_joined_at"] = case(
                (Conversation.status == QUEUED, Conversation.agent_joined_at), else_=null()
            )
        else:
            values["handoff_at"] = case(
                (Conversation.status.in_((QUEUED, HELD)), Conversation.handoff_at), else_=now
            )
            values["agent_joined_at"] = case(
                (Conversation.status == HELD, Conversation.agent_joined_at), else_=now
            )
    if agent_id is not None or to_status in ("bot", "waiting_agent"):
        values["assigned_agent_id"] = agent_id
    if handoff_reason is not None:
        values["handoff_reason"] = handoff_reason
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status.in_(from_statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def attach_customer(
    session: Session, conversation_id: int, customer_id: int, language: str | None = None
) -> None:
    """Link an anonymous conversation to a verified customer (never re-links to another one).
    ``language`` (the customer's preferred one) becomes the conversation's language if it has none."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.customer_id.is_(None))
        .values(customer_id=customer_id)
        .execution_options(synchronize_session=False)
    )
    if language:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.language.is_(None))
            .values(language=language)
            .execution_options(synchronize_session=False)
        )


def get_message_by_client_id(session: Session, conversation_id: int, client_id: str) -> Message | None:
    return _find_message(session, conversation_id, client_id)


def list_replies(session: Session, conversation_id: int, client_id_prefix: str) -> list[Message]:
    """Messages of the conversation whose client id starts with ``client_id_prefix``."""
    escaped = client_id_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.client_id.like(f"{escaped}%", escape="\\"))
        .order_by(Message.created_at, Message.id)
    )
    return list(session.scalars(stmt))


def offered_buttons(session: Session, conversation_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The buttons (``{"title", "payload"}``) of the conversation's latest ``limit`` bot
    messages, the most recently offered first."""
    stmt = (
        select(Message.payload)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "bot",
            Message.payload.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    buttons: list[dict[str, Any]] = []
    for payload in session.scalars(stmt):
        for button in reversed((payload or {}).get("buttons") or []):
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                buttons.append(button)
    return buttons
