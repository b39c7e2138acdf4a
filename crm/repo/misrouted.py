"""Questions the bot answered but should not have: the trainer inbox's second source.

The KB path records its own fallbacks (``unanswered_questions``). It cannot see the answers that
went wrong: a confident KB answer that the customer then rejected ("no, that's not it"), asked a
person instead, or rephrased into the same answer again; and questions that ended in a non-answer
(NLU fallback or out of scope). :func:`record_misrouted` finds those from the stored messages
(intent and KB entry of each customer message) and queues them as unanswered questions, once per
message. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Message, UnansweredQuestion
from crm.orm.base import LANGUAGES

REJECTING_INTENTS = ("deny", "request_human")
NON_ANSWER_INTENTS = ("nlu_fallback", "out_of_scope")
#: The customer's reaction must come within this time to count as a reaction to the answer.
REACTION_WINDOW = timedelta(minutes=10)
SCAN_LIMIT = 5000


def misrouted_reason(question: Message, reaction: Message | None) -> str | None:
    """Why ``question`` (a customer message) belongs in the inbox, given the customer's next
    message ``reaction``: ``rejected``, ``asked_for_person``, ``rephrased``, ``no_answer`` or None."""
    if (question.text or "").startswith("/"):
        return None  # a button payload, not a question
    if question.intent in NON_ANSWER_INTENTS and not question.kb_entry_id:
        return "no_answer"
    if not question.kb_entry_id or reaction is None:
        return None
    if reaction.created_at - question.created_at > REACTION_WINDOW:
        return None
    if reaction.intent == "request_human" or (reaction.text or "").startswith("/request_human"):
        return "asked_for_person"
    if reaction.intent == "deny":
        return "rejected"
    if (
        reaction.kb_entry_id == question.kb_entry_id
        and not reaction.text.startswith("/")
        and reaction.text.strip() != question.text.strip()
    ):
        return "rephrased"
    return None


def _pairs(messages: Iterable[Message]) -> Iterable[tuple[Message, Message | None]]:
    """Each customer message with the same conversation's next customer message."""
    previous: Message | None = None
    for message in messages:
        if previous is not None:
            same = previous.conversation_id == message.conversation_id
            yield previous, message if same else None
        previous = message
    if previous is not None:
        yield previous, None


def record_misrouted(session: Session, since: datetime) -> int:
    """Queue the misrouted questions asked since ``since``; returns how many were new."""
    stmt = (
        select(Message)
        .where(Message.direction == "customer", Message.created_at >= since)
        .order_by(Message.conversation_id, Message.created_at, Message.id)
        .limit(SCAN_LIMIT)
    )
    messages = list(session.scalars(stmt))
    if not messages:
        return 0
    known = set(
        session.scalars(
            select(UnansweredQuestion.message_id).where(
                UnansweredQuestion.message_id.in_([m.id for m in messages])
            )
        )
    )
    added = 0
    for question, reaction in _pairs(messages):
        if question.id in known or misrouted_reason(question, reaction) is None:
            continue
        session.add(
            UnansweredQuestion(
                text=question.text,
                language=question.language if question.language in LANGUAGES else "en",
                best_score=question.kb_score,
                best_entry_id=question.kb_entry_id,
                conversation_id=question.conversation_id,
                message_id=question.id,
            )
        )
        added += 1
    session.flush()
    return added


def reasons_by_question(session: Session, rows: list[UnansweredQuestion]) -> dict[int, str]:
    """``misrouted_reason`` of each inbox row that came from :func:`record_misrouted` (two queries)."""
    ids = [r.message_id for r in rows if r.message_id is not None]
    if not ids:
        return {}
    questions = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
    conversations = {m.conversation_id for m in questions.values()}
    said = session.scalars(
        select(Message)
        .where(Message.conversation_id.in_(conversations), Message.direction == "customer")
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    )
    reaction = {question.id: following for question, following in _pairs(said)}
    reasons: dict[int, str] = {}
    for row in rows:
        question = questions.get(row.message_id) if row.message_id is not None else None
        if question is None:
            continue
        reason = misrouted_reason(question, reaction.get(question.id))
        if reason and (row.best_entry_id is not None or reason == "no_answer"):  # not a KB fallback row
            reasons[row.id] = reason
    return reasons
