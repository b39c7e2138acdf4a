"""Canned replies: templates in zh-Hant, zh-Hans and English with a few variables, managed by
managers and inserted by agents. Functions take a Session and never commit.

Variables are only ``{customer_name}``, ``{order_number}`` and ``{agent_name}``; they are filled
by plain substitution (never ``str.format``, which would let a template reach attributes).
"""

from __future__ import annotations

import re
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.errors import CRMNotFound
from crm.models import CannedReply
from crm.orm.base import utcnow
from crm.repo._serialize import iso

VARIABLES = ("customer_name", "order_number", "agent_name")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,31}$")
LANG_COLUMNS = {"zh-Hant": "body_zh_hant", "zh-Hans": "body_zh_hans", "en": "body_en"}
MAX_BODY_CHARS = 2000
MAX_TITLE_CHARS = 100


class CannedFields(TypedDict):
    shortcut: str
    title: str
    bodies: dict[str, str]


class CannedView(TypedDict):
    id: int
    shortcut: str
    title: str
    bodies: dict[str, str]
    updated_by: str
    updated_at: str | None


def validate(fields: CannedFields) -> CannedFields:
    """Clean fields, or ValueError: shortcut ``[a-z0-9_-]``, a title, a body in each language of
    at most 2000 characters, and no variable but the known ones."""
    shortcut = fields["shortcut"].strip().lower()
    if not SHORTCUT.match(shortcut):
        raise ValueError("the shortcut is 1-32 lower-case letters, digits, '-' or '_'")
    title = " ".join(fields["title"].split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"the title has 1 to {MAX_TITLE_CHARS} characters")
    bodies: dict[str, str] = {}
    for language in LANG_COLUMNS:
        body = (fields["bodies"].get(language) or "").strip()
        if not body or len(body) > MAX_BODY_CHARS:
            raise ValueError(f"the {language} text has 1 to {MAX_BODY_CHARS} characters")
        unknown = sorted({name for name in PLACEHOLDER.findall(body) if name not in VARIABLES})
        if unknown:
            raise ValueError(
                f"unknown variable {{{unknown[0]}}}; use {', '.join('{' + v + '}' for v in VARIABLES)}"
            )
        bodies[language] = body
    return {"shortcut": shortcut, "title": title, "bodies": bodies}


def view(reply: CannedReply) -> CannedView:
    return {
        "id": reply.id,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "bodies": {language: getattr(reply, column) for language, column in LANG_COLUMNS.items()},
        "updated_by": reply.updated_by,
        "updated_at": iso(reply.updated_at),
    }


def list_replies(session: Session) -> list[CannedView]:
    return [view(r) for r in session.scalars(select(CannedReply).order_by(CannedReply.shortcut))]


def get_reply(session: Session, reply_id: int) -> CannedReply:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise CRMNotFound(f"canned reply {reply_id} not found")
    return reply


def _taken(session: Session, shortcut: str, other_than: int | None) -> bool:
    stmt = select(CannedReply.id).where(CannedReply.shortcut == shortcut)
    found = session.scalar(stmt)
    return found is not None and found != other_than


def save_reply(
    session: Session, fields: CannedFields, *, actor: str, reply_id: int | None = None
) -> CannedView:
    """Creates (``reply_id`` None) or updates a reply; ValueError for bad fields or a taken shortcut."""
    reply = CannedReply() if reply_id is None else get_reply(session, reply_id)
    clean = validate(fields)
    if _taken(session, clean["shortcut"], reply_id):
        raise ValueError(f"the shortcut {clean['shortcut']} is taken")
    reply.shortcut, reply.title, reply.updated_by = clean["shortcut"], clean["title"], actor[:64]
    for language, column in LANG_COLUMNS.items():
        setattr(reply, column, clean["bodies"][language])
    reply.updated_at = utcnow()
    if reply_id is None:
        session.add(reply)
    session.flush()
    return view(reply)


def delete_reply(session: Session, reply_id: int) -> None:
    session.delete(get_reply(session, reply_id))
    session.flush()


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its known variables replaced (unknown braces stay as written)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, match.group(0)) if name in VARIABLES else match.group(0)

    return PLACEHOLDER.sub(one, template)


class FillContext(TypedDict):
    language: str
    values: dict[str, str]


def fill_context(session: Session, conversation_id: int, agent_name: str) -> FillContext:
    """The conversation's language and the variables' values: the customer's name, the order of
    the chat's latest ticket (else the customer's latest order) and the agent's name. A missing
    value is an empty string."""
    from crm.models import Conversation, Customer, Order, Ticket

    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise CRMNotFound(f"conversation {conversation_id} not found")
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    order_number = session.scalar(
        select(Order.order_number)
        .join(Ticket, Ticket.order_id == Order.id)
        .where(Ticket.conversation_id == conversation_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    if order_number is None and customer is not None:
        order_number = session.scalar(
            select(Order.order_number)
            .where(Order.customer_id == customer.id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(1)
        )
    language = conversation.language or (customer.preferred_language if customer else None) or "en"
    return {
        "language": language if language in LANG_COLUMNS else "en",
        "values": {
            "customer_name": customer.name if customer else "",
            "order_number": order_number or "",
            "agent_name": agent_name,
        },
    }
