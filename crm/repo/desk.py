"""The agent desk's read and write models: private notes, labels, search and a customer's
earlier conversations. Functions take a Session and never commit.

Everything here is staff-only; nothing is written to ``messages``.
"""

from __future__ import annotations

import re
from typing import TypedDict

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from crm.errors import CRMNotFound
from crm.models import Conversation, ConversationLabel, ConversationNote, Customer, Message, Order, User
from crm.repo._serialize import iso

LABEL = re.compile(r"^[\w][\w\- ]{0,31}$")
MAX_NOTE_CHARS = 2000
MAX_QUERY_CHARS = 100
SNIPPET_CHARS = 160


class NoteView(TypedDict):
    id: int
    conversation_id: int
    author: str
    body: str
    created_at: str | None


class CustomerBrief(TypedDict):
    id: int
    name: str
    email: str | None
    external_ref: str | None
    tier: str


class ConversationHit(TypedDict):
    id: int
    status: str
    language: str | None
    started_at: str | None
    ended_at: str | None
    assigned_agent_id: int | None
    assigned_agent: str | None
    customer: CustomerBrief | None
    labels: list[str]
    snippet: str | None


class LabelCount(TypedDict):
    label: str
    count: int


def normalise_label(label: str) -> str:
    """Labels are compared lower-case with inner whitespace collapsed; ValueError when invalid."""
    value = " ".join(label.split()).lower()
    if not LABEL.match(value):
        raise ValueError("a label is 1-32 letters, digits, spaces, '-' or '_'")
    return value


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise CRMNotFound(f"conversation {conversation_id} not found")
    return conversation


def _note_view(note: ConversationNote) -> NoteView:
    return {
        "id": note.id,
        "conversation_id": note.conversation_id,
        "author": note.author,
        "body": note.body,
        "created_at": iso(note.created_at),
    }


def add_note(
    session: Session, conversation_id: int, *, author_id: int | None, author: str, body: str
) -> NoteView:
    _conversation(session, conversation_id)
    text = body.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise ValueError(f"a note has 1 to {MAX_NOTE_CHARS} characters")
    note = ConversationNote(
        conversation_id=conversation_id, author_id=author_id, author=author[:100], body=text
    )
    session.add(note)
    session.flush()
    return _note_view(note)


def notes(session: Session, conversation_id: int) -> list[NoteView]:
    stmt = (
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.created_at, ConversationNote.id)
    )
    return [_note_view(n) for n in session.scalars(stmt)]


def add_label(session: Session, conversation_id: int, label: str, *, added_by: str) -> list[str]:
    """Adds the label (idempotent); returns the conversation's labels."""
    _conversation(session, conversation_id)
    value = normalise_label(label)
    exists = session.scalar(
        select(ConversationLabel.id).where(
            ConversationLabel.conversation_id == conversation_id, ConversationLabel.label == value
        )
    )
    if exists is None:
        session.add(ConversationLabel(conversation_id=conversation_id, label=value, added_by=added_by[:64]))
        session.flush()
    return labels_of(session, [conversation_id]).get(conversation_id, [])


def remove_label(session: Session, conversation_id: int, label: str) -> list[str]:
    _conversation(session, conversation_id)
    session.execute(
        delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation_id,
            ConversationLabel.label == normalise_label(label),
        )
    )
    return labels_of(session, [conversation_id]).get(conversation_id, [])


def labels_of(session: Session, conversation_ids: list[int]) -> dict[int, list[str]]:
    """Labels by conversation id, alphabetical."""
    if not conversation_ids:
        return {}
    out: dict[int, list[str]] = {}
    stmt = (
        select(ConversationLabel.conversation_id, ConversationLabel.label)
        .where(ConversationLabel.conversation_id.in_(conversation_ids))
        .order_by(ConversationLabel.label)
    )
    for conversation_id, label in session.execute(stmt):
        out.setdefault(conversation_id, []).append(label)
    return out


def label_counts(session: Session, *, limit: int = 200) -> list[LabelCount]:
    """Every label in use with its number of conversations, most used first."""
    count = func.count(ConversationLabel.id)
    stmt = (
        select(ConversationLabel.label, count)
        .group_by(ConversationLabel.label)
        .order_by(count.desc(), ConversationLabel.label)
        .limit(limit)
    )
    return [{"label": label, "count": n} for label, n in session.execute(stmt)]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hits(
    session: Session, conversations: list[Conversation], snippets: dict[int, str]
) -> list[ConversationHit]:
    ids = [c.id for c in conversations]
    labels = labels_of(session, ids)
    customer_ids = {c.customer_id for c in conversations if c.customer_id}
    customers = (
        {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
        if customer_ids
        else {}
    )
    agent_ids = {c.assigned_agent_id for c in conversations if c.assigned_agent_id}
    agents = (
        {
            u.id: u.display_name or u.username
            for u in session.scalars(select(User).where(User.id.in_(agent_ids)))
        }
        if agent_ids
        else {}
    )
    out: list[ConversationHit] = []
    for c in conversations:
        customer = customers.get(c.customer_id) if c.customer_id else None
        out.append(
            {
                "id": c.id,
                "status": c.status,
                "language": c.language,
                "started_at": iso(c.started_at),
                "ended_at": iso(c.ended_at),
                "assigned_agent_id": c.assigned_agent_id,
                "assigned_agent": agents.get(c.assigned_agent_id) if c.assigned_agent_id else None,
                "customer": (
                    {
                        "id": customer.id,
                        "name": customer.name,
                        "email": customer.email,
                        "external_ref": customer.external_ref,
                        "tier": customer.tier,
                    }
                    if customer
                    else None
                ),
                "labels": labels.get(c.id, []),
                "snippet": snippets.get(c.id),
            }
        )
    return out


def search(
    session: Session, query: str = "", *, label: str | None = None, limit: int = 50
) -> list[ConversationHit]:
    """Open and closed conversations whose customer (name, e-mail, customer ref), order number
    (the customer's orders) or message text contains ``query``, or whose id it is; with
    ``label``, only conversations carrying it. Newest first."""
    text = query.strip()[:MAX_QUERY_CHARS]
    where: list[ColumnElement[bool]] = []
    matched_messages = None
    if text:
        pattern = _like(text.lower())
        customers = select(Customer.id).where(
            or_(
                func.lower(Customer.name).like(pattern, escape="\\"),
                func.lower(Customer.email).like(pattern, escape="\\"),
                func.lower(Customer.external_ref).like(pattern, escape="\\"),
            )
        )
        ordered = select(Order.customer_id).where(func.lower(Order.order_number).like(pattern, escape="\\"))
        matched_messages = select(Message.conversation_id).where(
            func.lower(Message.text).like(pattern, escape="\\"), Message.direction != "system"
        )
        options: list[ColumnElement[bool]] = [
            Conversation.customer_id.in_(customers),
            Conversation.customer_id.in_(ordered),
            Conversation.id.in_(matched_messages),
        ]
        if text.lstrip("#").isdigit() and len(text) < 19:
            options.append(Conversation.id == int(text.lstrip("#")))
        where.append(or_(*options))
    if label:
        where.append(
            Conversation.id.in_(
                select(ConversationLabel.conversation_id).where(
                    ConversationLabel.label == normalise_label(label)
                )
            )
        )
    if not where:
        return []
    stmt = select(Conversation).where(*where).order_by(Conversation.started_at.desc(), Conversation.id.desc())
    conversations = list(session.scalars(stmt.limit(limit)))
    snippets: dict[int, str] = {}
    if text and conversations:
        rows = session.execute(
            select(Message.conversation_id, Message.text)
            .where(
                Message.conversation_id.in_([c.id for c in conversations]),
                func.lower(Message.text).like(_like(text.lower()), escape="\\"),
                Message.direction != "system",
            )
            .order_by(Message.created_at, Message.id)
        )
        for conversation_id, body in rows:
            snippets.setdefault(conversation_id, _snippet(body, text))
    return _hits(session, conversations, snippets)


def _snippet(body: str, text: str) -> str:
    at = body.lower().find(text.lower())
    start = max(0, at - 40)
    piece = body[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(body) else "")


def customer_history(
    session: Session, customer_id: int, *, exclude: int | None = None, limit: int = 20
) -> list[ConversationHit]:
    """The customer's conversations, newest first, without ``exclude`` (the one open)."""
    stmt = select(Conversation).where(Conversation.customer_id == customer_id)
    if exclude is not None:
        stmt = stmt.where(Conversation.id != exclude)
    conversations = list(
        session.scalars(stmt.order_by(Conversation.started_at.desc(), Conversation.id.desc()).limit(limit))
    )
    firsts: dict[int, str] = {}
    if conversations:
        rows = session.execute(
            select(Message.conversation_id, Message.text)
            .where(
                Message.conversation_id.in_([c.id for c in conversations]),
                Message.direction == "customer",
                Message.text != "",
            )
            .order_by(Message.created_at, Message.id)
        )
        for conversation_id, body in rows:
            firsts.setdefault(conversation_id, body[:SNIPPET_CHARS])
    return _hits(session, conversations, firsts)
