"""Data-subject requests: export everything about a customer, or anonymise ("forget") them.

Forgetting keeps business records (orders, ticket states, offers, aggregate metrics) but
removes personal data: profile fields, free texts of the customer's conversations
(messages, feedback comments, unanswered questions, ticket descriptions, follow-up notes).
"""

from __future__ import annotations

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from crm.db import rowcount
from crm.errors import CRMNotFound
from crm.models import (
    Conversation,
    ConversationNote,
    Customer,
    Feedback,
    FollowUp,
    Message,
    Ticket,
    UnansweredQuestion,
)
from crm.orm.base import utcnow
from crm.repo._serialize import Row, columns
from crm.repo.admin import audit
from crm.repo.customers import IN_CHUNK, Customer360, customer_360

REDACTED = "[redacted]"
MESSAGE_FIELDS = [
    "id",
    "client_id",
    "direction",
    "text",
    "language",
    "intent",
    "confidence",
    "kb_entry_id",
    "kb_score",
    "channel",
    "payload",
    "created_at",
]


class CustomerExport(Customer360):
    """:func:`export_customer`: the whole 360 view, each conversation with its ``messages``, and
    every CSAT answer."""

    feedback: list[Row]


def export_customer(session: Session, customer_id: int, *, actor: str = "cli") -> CustomerExport:
    """JSON-safe dump of all data held about the customer (audited)."""
    data = customer_360(session, customer_id, max_orders=None, max_conversations=None)
    conv_ids = [c["id"] for c in data["conversations"]]
    by_conv: dict[int, list[Row]] = {cid: [] for cid in conv_ids}
    for start in range(0, len(conv_ids), IN_CHUNK):
        for m in session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(conv_ids[start : start + IN_CHUNK]))
            .order_by(Message.conversation_id, Message.created_at, Message.id)
        ):
            by_conv[m.conversation_id].append(columns(m, MESSAGE_FIELDS))
    for conv in data["conversations"]:
        conv["messages"] = by_conv[conv["id"]]
    feedback = [  # every CSAT answer (the 360 view keeps only the 5 most recent)
        columns(f, ["id", "conversation_id", "csat", "comment", "created_at"])
        for f in session.scalars(
            select(Feedback)
            .where(Feedback.customer_id == customer_id)
            .order_by(Feedback.created_at, Feedback.id)
        )
    ]
    audit(session, actor=actor, action="customer.export", target=f"customer:{customer_id}")
    return {**data, "feedback": feedback}


def forget_customer(session: Session, customer_id: int, *, actor: str = "cli") -> dict[str, int]:
    """Anonymise the customer in place; returns counts of redacted rows. Idempotent."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CRMNotFound(f"customer {customer_id} not found")
    now = utcnow()
    customer.name = "Anonymised customer"
    customer.external_ref = customer.email = customer.phone = None
    customer.birthday = customer.notes = None
    customer.preferences = {}
    for kind in ("personalisation", "marketing"):
        setattr(customer, f"consent_{kind}", False)
        setattr(customer, f"consent_{kind}_at", now)
        setattr(customer, f"consent_{kind}_source", "erasure_request")
    customer.anonymised_at = customer.anonymised_at or now

    convs = select(Conversation.id).where(Conversation.customer_id == customer_id)
    counts = {
        "messages": _run(
            session,
            update(Message).where(Message.conversation_id.in_(convs)).values(text=REDACTED, payload=None),
        ),
        "unanswered": _run(
            session,
            update(UnansweredQuestion)
            .where(UnansweredQuestion.conversation_id.in_(convs))
            .values(text=REDACTED),
        ),
        "feedback": _run(
            session, update(Feedback).where(Feedback.customer_id == customer_id).values(comment=None)
        ),
        "tickets": _run(
            session, update(Ticket).where(Ticket.customer_id == customer_id).values(description=None)
        ),
        "follow_ups": _run(
            session, update(FollowUp).where(FollowUp.customer_id == customer_id).values(note=None)
        ),
        "notes": _run(  # agents' private notes on the customer's chats (migration 0009a)
            session,
            update(ConversationNote).where(ConversationNote.conversation_id.in_(convs)).values(body=REDACTED),
        ),
    }
    audit(session, actor=actor, action="customer.forget", target=f"customer:{customer_id}", details=counts)
    session.flush()
    return counts


def _run(session: Session, stmt: Update) -> int:
    return rowcount(session.execute(stmt))
