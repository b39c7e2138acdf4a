"""Units of work behind the agent console (blocking; routes call them via ``asyncio.to_thread``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.errors import CRMNotFound
from crm.models import Conversation, Ticket
from crm.repo import agent_desk, desk, tickets
from crm.repo.admin import audit
from crm.repo.conversations import list_messages
from crm.repo.customers import customer_360
from gateway.console.auth import ConsoleUser
from gateway.console.errors import ConsoleError
from gateway.store import message_view
from recovery import priority
from recovery.approvals import approval_limit, can_approve

Factory = sessionmaker[Session]
PRIVATE_SIGNALS = ("customer_texts", "customer_intents", "customer_frustration")  # ranking inputs only


#: How long a chat handed back to the bot stays listed under "With bot".
RECENT_HAND_BACK = timedelta(hours=24)


def ranked_queue(factory: Factory, now: datetime | None = None) -> list[dict[str, Any]]:
    """Waiting and held chats by priority, then those recently handed back to the bot."""
    since = (now or datetime.now(timezone.utc)) - RECENT_HAND_BACK
    with session_scope(factory) as session:
        items = agent_desk.escalated_conversations(session)
        recent = agent_desk.recently_handed_back(session, since)
        labels = desk.labels_of(session, [item["id"] for item in items + recent])
    ranked = priority.rank(items) + recent
    for item in ranked:
        for key in PRIVATE_SIGNALS:
            item.pop(key, None)
        item["labels"] = labels.get(item["id"], [])
    return ranked


def chat_view(factory: Factory, conversation_id: int, user: ConsoleUser) -> dict[str, Any]:
    """Transcript (bot part included), complaint tickets, offers, follow-ups and customer 360."""
    with session_scope(factory) as session:
        try:
            context = agent_desk.chat_context(session, conversation_id)
        except CRMNotFound:
            raise ConsoleError(404, "not_found", "No such conversation.") from None
        transcript = [message_view(m) for m in list_messages(session, conversation_id, limit=1000)]
        profile = customer_360(session, context["customer_id"]) if context["customer_id"] else None
    context["priority"] = priority.score(context)
    for key in PRIVATE_SIGNALS:
        context.pop(key, None)
    for offer in context["offers"]:
        limit = approval_limit(user.role, offer["currency"])
        offer["limit"] = None if limit is None else f"{limit:.2f}"
        offer["within_limit"] = can_approve(user.role, offer["amount"], offer["currency"])
    context["messages"] = transcript
    context["customer_360"] = profile
    context["held_by_me"] = context["status"] == "agent" and context["assigned_agent_id"] == user.id
    return context


def require_holder(factory: Factory, conversation_id: int, user: ConsoleUser) -> None:
    """Only the agent holding a chat may write in it or hand it back."""
    with session_scope(factory) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConsoleError(404, "not_found", "No such conversation.")
        if conversation.status != "agent" or conversation.assigned_agent_id != user.id:
            raise ConsoleError(409, "not_holder", "Claim this chat before acting in it.")


def last_customer_message(factory: Factory, conversation_id: int) -> dict[str, Any] | None:
    with session_scope(factory) as session:
        for message in reversed(list_messages(session, conversation_id, limit=1000)):
            if message.direction == "customer":
                return {"text": message.text, "language": message.language}
    return None


def decide_offer(factory: Factory, offer_id: int, decision: str, user: ConsoleUser) -> dict[str, Any]:
    if decision not in ("approve", "reject"):
        raise ConsoleError(422, "invalid_decision", "Decision must be approve or reject.")
    with session_scope(factory) as session:
        try:
            offer, conversation = agent_desk.offer_context(session, offer_id)
        except CRMNotFound:
            raise ConsoleError(404, "not_found", "No such offer.") from None
        if (
            conversation is not None
            and not user.can("manager")
            and (conversation.status != "agent" or conversation.assigned_agent_id != user.id)
        ):
            raise ConsoleError(409, "not_holder", "Claim this chat before deciding its offers.")
        if decision == "approve" and not can_approve(user.role, offer.amount, offer.currency):
            raise ConsoleError(403, "over_limit", "This amount is above your approval limit.")
        status = "approved" if decision == "approve" else "rejected"
        try:
            tickets.set_offer_status(session, offer_id, status, approved_by_id=user.id)
        except ValueError as exc:
            raise ConsoleError(409, "invalid_transition", str(exc)) from None
        audit(
            session,
            actor=user.username,
            action=f"offer.{status}",
            target=f"offer:{offer_id}",
            details={"amount": f"{offer.amount:.2f}", "currency": offer.currency, "type": offer.type},
        )
        return {
            "id": offer_id,
            "status": status,
            "conversation_id": conversation.id if conversation else None,
        }


def resolve_ticket(factory: Factory, ticket_id: int, resolution: str, user: ConsoleUser) -> dict[str, Any]:
    resolution = (resolution or "").strip()[:2000]
    if not resolution:
        raise ConsoleError(422, "missing_resolution", "Describe how the ticket was resolved.")
    with session_scope(factory) as session:
        if session.get(Ticket, ticket_id) is None:
            raise ConsoleError(404, "not_found", "No such ticket.")
        ticket = tickets.change_ticket_status(
            session, ticket_id, "resolved", actor=user.username, resolution=resolution
        )
        audit(session, actor=user.username, action="ticket.resolved", target=f"ticket:{ticket_id}")
        return {"id": ticket.id, "status": ticket.status, "conversation_id": ticket.conversation_id}


FOLLOW_UP_YEARS = (2000, 2200)


def schedule_follow_up(
    factory: Factory, conversation_id: int, due_at: str, note: str, user: ConsoleUser
) -> dict[str, Any]:
    try:
        due = datetime.fromisoformat(due_at)
    except (TypeError, ValueError):
        raise ConsoleError(422, "invalid_date", "Give the follow-up date as YYYY-MM-DDTHH:MM.") from None
    if not FOLLOW_UP_YEARS[0] <= due.year <= FOLLOW_UP_YEARS[1]:
        raise ConsoleError(422, "invalid_date", "The follow-up date is out of range.")
    due = due if due.tzinfo else due.replace(tzinfo=timezone.utc)
    with session_scope(factory) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConsoleError(404, "not_found", "No such conversation.")
        ticket_id = session.scalars(
            select(Ticket.id)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(Ticket.id.desc())
            .limit(1)
        ).first()
        follow_up = tickets.add_follow_up(
            session,
            due_at=due,
            customer_id=conversation.customer_id,
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            note=(note or "").strip()[:2000] or None,
            created_by=user.username,
        )
        audit(
            session,
            actor=user.username,
            action="follow_up.scheduled",
            target=f"conversation:{conversation_id}",
            details={"due_at": due.isoformat()},
        )
        return {"id": follow_up.id, "due_at": due.isoformat()}


def log_action(factory: Factory, user: ConsoleUser, action: str, conversation_id: int) -> None:
    with session_scope(factory) as session:
        audit(session, actor=user.username, action=action, target=f"conversation:{conversation_id}")


def follow_up_board(factory: Factory) -> dict[str, Any]:
    """Follow-ups due, overdue, sent and needing an agent, and tickets past their deadline."""
    with session_scope(factory) as session:
        return agent_desk.follow_up_board(session, datetime.now(timezone.utc))


FOLLOW_UP_OUTCOMES = ("kept", "not_kept", "unreachable")


def complete_follow_up(
    factory: Factory, follow_up_id: int, outcome: str, user: ConsoleUser
) -> dict[str, Any]:
    """An agent records the answer of a follow-up (typically one that needed an agent). A broken
    promise puts the ticket back in progress, as the bot does."""
    if outcome not in FOLLOW_UP_OUTCOMES:
        raise ConsoleError(422, "invalid_outcome", "Outcome must be kept, not_kept or unreachable.")
    with session_scope(factory) as session:
        try:
            follow_up = tickets.complete_follow_up(session, follow_up_id, outcome)
        except CRMNotFound:
            raise ConsoleError(404, "not_found", "No such follow-up.") from None
        ticket = session.get(Ticket, follow_up.ticket_id) if follow_up.ticket_id else None
        if outcome == "not_kept" and ticket is not None and ticket.status != "in_progress":
            tickets.change_ticket_status(
                session,
                ticket.id,
                "in_progress",
                actor=user.username,
                note="Customer says the promise was not kept (agent follow-up).",
            )
        audit(
            session,
            actor=user.username,
            action="follow_up.completed",
            target=f"follow_up:{follow_up_id}",
            details={"outcome": outcome},
        )
        return {
            "id": follow_up_id,
            "status": follow_up.status,
            "outcome": outcome,
            "conversation_id": follow_up.conversation_id,
        }
