"""Read models of the agent console: the escalated-chat queue and one chat's working context.

Functions take a Session and never commit. They return JSON-safe dicts; the priority of a queue
item is computed by the caller (``recovery.priority``) from the raw signals here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, UnaryExpression, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from crm.errors import CRMNotFound
from crm.models import (
    CompensationOffer,
    Conversation,
    Customer,
    FollowUp,
    Message,
    Ticket,
    UnansweredQuestion,
    User,
)
from crm.repo._serialize import Row, columns, iso

ESCALATED = ("waiting_agent", "agent")
AWAITING_APPROVAL = ("offered", "chosen")
RECENT_MESSAGES = 40
TICKET_FIELDS = [
    "id",
    "category",
    "severity",
    "status",
    "subject",
    "description",
    "order_id",
    "created_at",
    "resolution",
    "resolved_at",
]
OFFER_FIELDS = ["id", "ticket_id", "type", "amount", "currency", "status", "offered_at", "decided_at"]
FOLLOW_UP_FIELDS = [
    "id",
    "due_at",
    "note",
    "promised_resolution",
    "complaint_category",
    "outcome",
    "done_at",
    "created_by",
    "created_at",
]


def _recent_messages(session: Session, conversation_id: int, limit: int = RECENT_MESSAGES) -> list[Message]:
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(stmt))))


def pending_offers(session: Session, conversation: Conversation) -> list[CompensationOffer]:
    """Offers awaiting an approval decision for this chat's tickets or its customer."""
    ticket_ids = select(Ticket.id).where(Ticket.conversation_id == conversation.id)
    where: list[ColumnElement[bool]] = [CompensationOffer.ticket_id.in_(ticket_ids)]
    if conversation.customer_id is not None:
        where.append(CompensationOffer.customer_id == conversation.customer_id)
    stmt = (
        select(CompensationOffer)
        .where(CompensationOffer.status.in_(AWAITING_APPROVAL), or_(*where))
        .order_by(CompensationOffer.offered_at, CompensationOffer.id)
    )
    return list(session.scalars(stmt))


def _waiting_since(session: Session, conversation: Conversation, messages: list[Message]) -> datetime | None:
    """When the customer started waiting for a human reply.

    Waiting in the queue: since ``handoff_at``. Held by an agent: since ``handoff_at`` until the
    agent's first reply of this escalation, then since the first customer message after the
    agent's last one (None when the agent has answered everything). Chats without a stored
    handoff time fall back to :func:`_waiting_since_from_transcript`.
    """
    handoff = conversation.handoff_at
    if handoff is None:
        return _waiting_since_from_transcript(conversation, messages)
    if conversation.status == "waiting_agent":
        return handoff
    last_agent = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation.id,
            Message.direction == "agent",
            Message.created_at >= handoff,
        )
    )
    if last_agent is None:
        return handoff
    return min(
        (m.created_at for m in messages if m.direction == "customer" and m.created_at > last_agent),
        default=None,
    )


def _waiting_since_from_transcript(conversation: Conversation, messages: list[Message]) -> datetime | None:
    """The approximation from the transcript (chats without ``handoff_at``)."""
    last_agent = max((m.created_at for m in messages if m.direction == "agent"), default=None)
    if conversation.status == "waiting_agent":
        if last_agent is None:
            bot_times = [m.created_at for m in messages if m.direction in ("bot", "system")]
            return max(bot_times, default=conversation.started_at)
        return last_agent
    unanswered = [
        m.created_at
        for m in messages
        if m.direction == "customer" and (last_agent is None or m.created_at > last_agent)
    ]
    return min(unanswered, default=None)


def queue_signals(session: Session, conversation: Conversation) -> dict[str, Any]:
    """Everything the queue shows and ranks by, for one escalated conversation."""
    messages = _recent_messages(session, conversation.id)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    agent = session.get(User, conversation.assigned_agent_id) if conversation.assigned_agent_id else None
    fallbacks = session.scalars(
        select(UnansweredQuestion.id).where(UnansweredQuestion.conversation_id == conversation.id)
    ).all()
    offers = pending_offers(session, conversation)
    last = next((m for m in reversed(messages) if m.text.strip()), None)  # not the handoff record
    said = [m for m in messages if m.direction == "customer"][-10:]
    return {
        "id": conversation.id,
        "status": conversation.status,
        "language": conversation.language,
        "handoff_reason": conversation.handoff_reason,
        "started_at": iso(conversation.started_at),
        "handoff_at": iso(conversation.handoff_at),
        "agent_joined_at": iso(conversation.agent_joined_at),
        "waiting_since": iso(_waiting_since(session, conversation, messages)),
        "assigned_agent_id": conversation.assigned_agent_id,
        "assigned_agent": (agent.display_name or agent.username) if agent else None,
        "customer": ({"id": customer.id, "name": customer.name, "tier": customer.tier} if customer else None),
        "customer_texts": [m.text for m in said],
        "customer_frustration": [m.frustration for m in said],  # as scored by the gateway
        "customer_intents": [m.intent for m in messages if m.direction == "customer" and m.intent],
        "kb_fallbacks": len(fallbacks),
        "offers_awaiting": len(offers),
        "last_message": (
            {"direction": last.direction, "text": last.text[:200], "created_at": iso(last.created_at)}
            if last
            else None
        ),
    }


def escalated_conversations(session: Session, *, limit: int = 200) -> list[dict[str, Any]]:
    """Queue signals of every chat waiting for or held by an agent."""
    stmt = (
        select(Conversation)
        .where(Conversation.status.in_(ESCALATED))
        .order_by(Conversation.started_at, Conversation.id)
        .limit(limit)
    )
    return [queue_signals(session, c) for c in session.scalars(stmt)]


def recently_handed_back(session: Session, since: datetime, *, limit: int = 100) -> list[dict[str, Any]]:
    """Queue signals of chats an agent handed back to the bot (escalated since ``since``), so
    they stay findable in the console after leaving the queue."""
    stmt = (
        select(Conversation)
        .where(Conversation.status == "bot", Conversation.handoff_at >= since)
        .order_by(Conversation.handoff_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return [queue_signals(session, c) for c in session.scalars(stmt)]


def chat_context(session: Session, conversation_id: int) -> dict[str, Any]:
    """One chat for the agent: status, complaint tickets, pending offers and follow-ups.

    The transcript and the customer-360 view are loaded separately by the caller.
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise CRMNotFound(f"conversation {conversation_id} not found")
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).all()
    follow_ups = session.scalars(
        select(FollowUp)
        .where(FollowUp.conversation_id == conversation_id)
        .order_by(FollowUp.due_at, FollowUp.id)
    ).all()
    signals = queue_signals(session, conversation)
    return {
        **signals,
        "customer_id": conversation.customer_id,
        "ended_at": iso(conversation.ended_at),
        "tickets": [columns(t, TICKET_FIELDS) for t in tickets],
        "offers": [columns(o, OFFER_FIELDS) for o in pending_offers(session, conversation)],
        "follow_ups": [columns(f, FOLLOW_UP_FIELDS) for f in follow_ups],
    }


def offer_context(session: Session, offer_id: int) -> tuple[CompensationOffer, Conversation | None]:
    """The offer and the chat it belongs to (through its ticket), for permission checks."""
    offer = session.get(CompensationOffer, offer_id)
    if offer is None:
        raise CRMNotFound(f"compensation offer {offer_id} not found")
    conversation = None
    if offer.ticket_id is not None:
        ticket = session.get(Ticket, offer.ticket_id)
        if ticket is not None and ticket.conversation_id is not None:
            conversation = session.get(Conversation, ticket.conversation_id)
    return offer, conversation


#: A pending follow-up this long past due counts as overdue (the worker should have sent it).
FOLLOW_UP_OVERDUE_AFTER = timedelta(hours=1)
#: A sort key of the follow-up lists: a column, or a column's ``.desc()``.
OrderBy = (
    QueryableAttribute[datetime | None]
    | QueryableAttribute[int]
    | UnaryExpression[datetime | None]
    | UnaryExpression[int]
)
BOARD_FIELDS = [
    "id",
    "status",
    "due_at",
    "sent_at",
    "channel",
    "reason",
    "attempts",
    "last_error",
    "next_attempt_at",
    "note",
    "promised_resolution",
    "complaint_category",
    "outcome",
    "done_at",
    "created_by",
    "conversation_id",
]


class CustomerRef(TypedDict):
    id: int
    name: str
    tier: str
    language: str


class TicketRef(TypedDict):
    id: int
    subject: str
    status: str
    severity: str
    due_at: str | None
    conversation_id: int | None
    overdue: bool


def _follow_ups(
    session: Session, where: list[ColumnElement[bool]], order: list[OrderBy], limit: int
) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).where(*where).order_by(*order).limit(limit)))


def follow_up_board(session: Session, now: datetime, *, limit: int = 100) -> dict[str, Any]:
    """The agent console's follow-up lists and the tickets past their promised deadline.

    * ``due``: waiting to be sent, due within the last hour (the worker sends them);
    * ``overdue``: still unsent more than an hour after they fell due (failing sends, or the
      worker is off), oldest first;
    * ``sent``: sent, the customer has not answered yet, newest first;
    * ``needs_agent``: not sent automatically (no consent, no ticket, no chat, stale, with an
      agent): a person follows up;
    * ``overdue_tickets``: open tickets past ``due_at`` (the promise is being broken).
    """
    from crm.repo.tickets import overdue_tickets

    cutoff = now - FOLLOW_UP_OVERDUE_AFTER
    unsent = FollowUp.status.in_(("pending", "sending"))
    by_due: list[OrderBy] = [FollowUp.due_at, FollowUp.id]
    lists = {
        "due": _follow_ups(
            session, [unsent, FollowUp.due_at <= now, FollowUp.due_at >= cutoff], by_due, limit
        ),
        "overdue": _follow_ups(session, [unsent, FollowUp.due_at < cutoff], by_due, limit),
        "sent": _follow_ups(
            session, [FollowUp.status == "sent"], [FollowUp.sent_at.desc(), FollowUp.id.desc()], limit
        ),
        "needs_agent": _follow_ups(session, [FollowUp.status == "needs_agent"], by_due, limit),
    }
    late = overdue_tickets(session, now, limit=limit)
    late_ids = {t.id for t in late}
    ticket_ids = {f.ticket_id for rows in lists.values() for f in rows if f.ticket_id}
    tickets = {t.id: t for t in late}
    missing = ticket_ids - set(tickets)
    if missing:
        tickets.update({t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(missing)))})
    customer_ids = {f.customer_id for rows in lists.values() for f in rows if f.customer_id} | {
        t.customer_id for t in late if t.customer_id
    }
    customers = (
        {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
        if customer_ids
        else {}
    )

    def customer_ref(customer_id: int | None) -> CustomerRef | None:
        c = customers.get(customer_id) if customer_id else None
        return {"id": c.id, "name": c.name, "tier": c.tier, "language": c.preferred_language} if c else None

    def ticket_ref(ticket_id: int | None) -> TicketRef | None:
        t = tickets.get(ticket_id) if ticket_id else None
        return None if t is None else ticket_view(t)

    def ticket_view(t: Ticket) -> TicketRef:
        return {
            "id": t.id,
            "subject": t.subject,
            "status": t.status,
            "severity": t.severity,
            "due_at": iso(t.due_at),
            "conversation_id": t.conversation_id,
            "overdue": t.id in late_ids,
        }

    def item(f: FollowUp) -> Row:
        row = columns(f, BOARD_FIELDS)
        row["customer"] = customer_ref(f.customer_id)
        row["ticket"] = ticket_ref(f.ticket_id)
        if row["conversation_id"] is None and row["ticket"]:
            row["conversation_id"] = row["ticket"]["conversation_id"]
        return row

    board: dict[str, Any] = {name: [item(f) for f in rows] for name, rows in lists.items()}
    board["overdue_tickets"] = [
        {
            **ticket_view(t),
            "customer": customer_ref(t.customer_id),
            "overdue_s": round((now - t.due_at).total_seconds()),
        }
        for t in late
        if t.due_at is not None  # always: overdue means past a due date
    ]
    board["counts"] = {name: len(rows) for name, rows in board.items()}
    return board
