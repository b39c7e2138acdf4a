"""Support metrics for the analytics dashboard, one function per metric.

Every function takes a Session and a :class:`Filters` (UTC ``[start, end)`` and an optional
conversation language) and returns JSON-safe data. Rows are selected with only the columns a
metric needs and aggregated in Python, which reads the same on SQLite and PostgreSQL.

Definitions:

* a conversation *counts* when the customer wrote at least one message in it;
* *handed off*: it has a handoff time, a handoff reason, an assigned agent, an agent message or
  is waiting for one; *contained* = counted and not handed off;
* *repeat contact*: the same identified customer starts another conversation within 7 days;
* *first-contact resolution*: an identified customer's conversation with no repeat contact
  within 7 days and no ticket from it left unresolved;
* *first response*: first customer message -> next bot/agent reply; *resolution*: ticket
  created -> resolved;
* *queue wait*: ``conversations.handoff_at`` (the chat entered the human queue) ->
  ``agent_joined_at`` (an agent claimed it); *agent first response*: ``handoff_at`` -> the
  agent's first message at or after it. Both describe a chat's latest escalation (a chat handed
  back and escalated again counts once, with its last escalation). Where no handoff time is
  stored (chats the 0003 backfill could not place, or rows written around the repository),
  the handoff is the bot's hand-over message (its last bot/system message before the agent's
  first), as derived from the transcript before 0003; where no claim time is stored, the
  agent's first reply stands in for it (an agent claims before writing).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple, TypeVarTuple, Unpack

from sqlalchemy import Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from crm.models import (
    CompensationOffer,
    Conversation,
    Customer,
    Feedback,
    Message,
    Ticket,
    UnansweredQuestion,
)
from crm.privacy_mask import mask_text
from crm.repo.analytics_types import (
    CategoryCount,
    Compensation,
    Containment,
    CsatTrend,
    DayCount,
    FirstContactResolution,
    Handoffs,
    RepeatContact,
    ResponseTimes,
    UnansweredGroup,
)

REPEAT_WINDOW = timedelta(days=7)
OPEN_TICKET = ("open", "in_progress", "waiting_customer")
GRANTED = ("approved", "granted")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class Filters:
    start: datetime
    end: datetime
    language: str | None = None

    @classmethod
    def for_days(cls, first: date, last: date, language: str | None = None) -> Filters:
        """Whole UTC days ``first``..``last`` inclusive."""
        start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
        end = datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=1)
        return cls(start, end, language or None)

    def days(self) -> list[str]:
        day, out = self.start.date(), []
        while day < self.end.date():
            out.append(day.isoformat())
            day += timedelta(days=1)
        return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Counted(NamedTuple):
    """A counted conversation, as the metrics need it."""

    id: int
    customer_id: int | None
    status: str
    handoff_reason: str | None
    started_at: datetime
    handed_off: bool


def _counted_ids(f: Filters) -> Select[int]:
    """SELECT of the ids of counted conversations started in range (in the language)."""
    stmt = select(Conversation.id).where(
        Conversation.started_at >= f.start,
        Conversation.started_at < f.end,
        Conversation.id.in_(select(Message.conversation_id).where(Message.direction == "customer")),
    )
    return stmt.where(Conversation.language == f.language) if f.language else stmt


def _conversations(session: Session, f: Filters) -> list[_Counted]:
    """The counted conversations."""
    ids = _counted_ids(f)
    with_agent = set(
        session.scalars(
            select(Message.conversation_id)
            .distinct()
            .where(Message.direction == "agent", Message.conversation_id.in_(ids))
        )
    )
    stmt = select(
        Conversation.id,
        Conversation.customer_id,
        Conversation.status,
        Conversation.handoff_reason,
        Conversation.assigned_agent_id,
        Conversation.started_at,
        Conversation.handoff_at,
    ).where(Conversation.id.in_(ids))
    rows: list[_Counted] = []
    for r in session.execute(stmt).all():
        handed = bool(
            r.handoff_at
            or r.handoff_reason
            or r.assigned_agent_id
            or r.id in with_agent
            or r.status in ("waiting_agent", "agent")
        )
        rows.append(_Counted(r.id, r.customer_id, r.status, r.handoff_reason, r.started_at, handed))
    return rows


def conversations_per_day(session: Session, f: Filters) -> list[DayCount]:
    counts = Counter(row.started_at.date().isoformat() for row in _conversations(session, f))
    return [{"day": day, "count": counts.get(day, 0)} for day in f.days()]


def containment(session: Session, f: Filters) -> Containment:
    rows = _conversations(session, f)
    contained = sum(1 for row in rows if not row.handed_off)
    return {"conversations": len(rows), "contained": contained, "rate": _ratio(contained, len(rows))}


def handoffs(session: Session, f: Filters) -> Handoffs:
    rows = _conversations(session, f)
    handed = [row for row in rows if row.handed_off]
    reasons = Counter((row.handoff_reason or "unspecified") for row in handed)
    return {
        "conversations": len(rows),
        "handed_off": len(handed),
        "rate": _ratio(len(handed), len(rows)),
        "reasons": [{"reason": r, "count": c} for r, c in reasons.most_common()],
    }


def csat_trend(session: Session, f: Filters) -> CsatTrend:
    stmt = (
        select(Feedback.csat, Feedback.created_at)
        .join(Conversation, Conversation.id == Feedback.conversation_id)
        .where(Feedback.created_at >= f.start, Feedback.created_at < f.end)
    )
    if f.language:
        stmt = stmt.where(Conversation.language == f.language)
    by_day: dict[str, list[int]] = defaultdict(list)
    scores: list[int] = []
    for csat, at in session.execute(stmt).all():
        by_day[at.date().isoformat()].append(csat)
        scores.append(csat)
    return {
        "average": round(statistics.fmean(scores), 2) if scores else None,
        "count": len(scores),
        "days": [
            {
                "day": d,
                "average": round(statistics.fmean(by_day[d]), 2) if by_day[d] else None,
                "count": len(by_day[d]),
            }
            for d in f.days()
        ],
    }


def _ticket_language(
    stmt: Select[Unpack[Ts]],
    language: str | None,
    ticket_conversation: QueryableAttribute[int | None],
    customer_col: QueryableAttribute[int | None],
) -> Select[Unpack[Ts]]:
    """``stmt`` limited to tickets (or offers) in ``language``: the conversation's language, else
    the customer's preferred one."""
    if not language:
        return stmt
    stmt = stmt.outerjoin(Conversation, Conversation.id == ticket_conversation).outerjoin(
        Customer, Customer.id == customer_col
    )
    return stmt.where(func.coalesce(Conversation.language, Customer.preferred_language) == language)


def complaint_categories(session: Session, f: Filters) -> list[CategoryCount]:
    stmt = select(Ticket.category).where(Ticket.created_at >= f.start, Ticket.created_at < f.end)
    stmt = _ticket_language(stmt, f.language, Ticket.conversation_id, Ticket.customer_id)
    counts = Counter(session.scalars(stmt))
    return [{"category": c, "count": n} for c, n in counts.most_common()]


def top_unanswered(session: Session, f: Filters, limit: int = 10) -> list[UnansweredGroup]:
    stmt = select(UnansweredQuestion.text, UnansweredQuestion.status).where(
        UnansweredQuestion.created_at >= f.start, UnansweredQuestion.created_at < f.end
    )
    if f.language:
        stmt = stmt.where(UnansweredQuestion.language == f.language)
    groups: dict[str, UnansweredGroup] = {}
    for text, status in session.execute(stmt).all():
        key = " ".join(text.lower().split())
        group = groups.setdefault(key, {"text": mask_text(text), "count": 0, "open": 0})
        group["count"] += 1
        group["open"] += status == "new"
    return sorted(groups.values(), key=lambda g: (-g["count"], g["text"]))[:limit]


def _repeat_flags(session: Session, f: Filters) -> list[tuple[int, bool]]:
    """(conversation id, repeated within 7 days) for counted conversations of known customers."""
    rows = [row for row in _conversations(session, f) if row.customer_id is not None]
    customers = select(Conversation.customer_id).where(Conversation.id.in_(_counted_ids(f)))
    starts: dict[int | None, list[datetime]] = defaultdict(list)
    if rows:
        for customer_id, at in session.execute(
            select(Conversation.customer_id, Conversation.started_at).where(
                Conversation.customer_id.in_(customers)
            )
        ).all():
            starts[customer_id].append(at)
    return [
        (row.id, any(row.started_at < at <= row.started_at + REPEAT_WINDOW for at in starts[row.customer_id]))
        for row in rows
    ]


def repeat_contact(session: Session, f: Filters) -> RepeatContact:
    flags = _repeat_flags(session, f)
    repeated = sum(1 for _, again in flags if again)
    return {"conversations": len(flags), "repeated": repeated, "rate": _ratio(repeated, len(flags))}


def fcr_flags(session: Session, f: Filters) -> dict[int, bool]:
    """Conversation id -> resolved at first contact, for counted chats of identified customers."""
    flags = _repeat_flags(session, f)
    open_tickets: set[int | None] = (
        set(
            session.scalars(
                select(Ticket.conversation_id).where(
                    Ticket.conversation_id.in_(_counted_ids(f)), Ticket.status.in_(OPEN_TICKET)
                )
            )
        )
        if flags
        else set()
    )
    return {cid: not again and cid not in open_tickets for cid, again in flags}


def first_contact_resolution(session: Session, f: Filters) -> FirstContactResolution:
    flags = fcr_flags(session, f)
    resolved = sum(1 for ok in flags.values() if ok)
    return {"conversations": len(flags), "resolved": resolved, "rate": _ratio(resolved, len(flags))}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _derived_handoff(rows: list[tuple[str, datetime]], asked: datetime | None) -> datetime | None:
    """The hand-over as read from the transcript: the bot's last message before the agent's
    first (None without an agent message)."""
    agent_at = next((at for d, at in rows if d == "agent"), None)
    if agent_at is None:
        return None
    before = [at for d, at in rows if d in ("bot", "system") and at <= agent_at]
    return before[-1] if before else asked


class ChatTimes(NamedTuple):
    """When a counted chat was first asked and answered, and its latest escalation: handed to the
    queue, claimed, and the agent's first reply after the hand-over (None where it did not happen)."""

    asked: datetime | None
    answered: datetime | None
    handoff: datetime | None
    joined: datetime | None
    replied: datetime | None


def chat_times(session: Session, f: Filters) -> dict[int, ChatTimes]:
    """The :class:`ChatTimes` of every counted conversation with messages (see the module notes)."""
    counted = _counted_ids(f)
    messages: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for cid, direction, at in session.execute(
        select(Message.conversation_id, Message.direction, Message.created_at)
        .where(Message.conversation_id.in_(counted))
        .order_by(Message.created_at, Message.id)
    ).all():
        messages[cid].append((direction, at))
    escalations = {
        cid: (handoff, joined)
        for cid, handoff, joined in session.execute(
            select(Conversation.id, Conversation.handoff_at, Conversation.agent_joined_at).where(
                Conversation.id.in_(counted)
            )
        ).all()
    }
    out: dict[int, ChatTimes] = {}
    for cid, rows in messages.items():
        asked = next((at for d, at in rows if d == "customer"), None)
        answer = next((at for d, at in rows if d != "customer" and asked and at >= asked), None)
        handoff, joined = escalations.get(cid, (None, None))
        handoff = handoff or _derived_handoff(rows, asked)
        replied = next((at for d, at in rows if d == "agent" and at >= handoff), None) if handoff else None
        out[cid] = ChatTimes(asked, answer, handoff, (joined or replied) if handoff else None, replied)
    return out


def response_times(session: Session, f: Filters) -> ResponseTimes:
    first: list[float] = []
    agent_first: list[float] = []
    queue_wait: list[float] = []
    for times in chat_times(session, f).values():
        if times.asked and times.answered:
            first.append((times.answered - times.asked).total_seconds())
        if times.handoff is None:
            continue
        if times.replied:
            agent_first.append((times.replied - times.handoff).total_seconds())
        if times.joined and times.joined >= times.handoff:
            queue_wait.append((times.joined - times.handoff).total_seconds())
    resolved = session.execute(
        select(Ticket.created_at, Ticket.resolved_at).where(
            Ticket.created_at >= f.start, Ticket.created_at < f.end, Ticket.resolved_at.is_not(None)
        )
    )
    resolution = [(done - made).total_seconds() for made, done in resolved.all() if done is not None]
    return {
        "first_response_s": _median(first),
        "queue_wait_s": _median(queue_wait),
        "agent_first_response_s": _median(agent_first),
        "resolution_s": _median(resolution),
        "samples": {
            "first_response": len(first),
            "queue_wait": len(queue_wait),
            "agent_first_response": len(agent_first),
            "resolution": len(resolution),
        },
    }


def compensation_granted(session: Session, f: Filters) -> list[Compensation]:
    decided = func.coalesce(CompensationOffer.decided_at, CompensationOffer.offered_at)
    stmt = select(CompensationOffer.type, CompensationOffer.amount, CompensationOffer.currency).where(
        CompensationOffer.status.in_(GRANTED), decided >= f.start, decided < f.end
    )
    if f.language:
        stmt = stmt.outerjoin(Ticket, Ticket.id == CompensationOffer.ticket_id)
        stmt = _ticket_language(stmt, f.language, Ticket.conversation_id, CompensationOffer.customer_id)
    counts: Counter[str] = Counter()
    amounts: dict[str, defaultdict[str, Decimal]] = {}
    for kind, amount, currency in session.execute(stmt).all():
        counts[kind] += 1
        amounts.setdefault(kind, defaultdict(Decimal))[currency] += Decimal(amount or 0)
    return [
        {
            "type": kind,
            "count": counts[kind],
            "amounts": {c: f"{v:.2f}" for c, v in sorted(amounts[kind].items())},
        }
        for kind in sorted(amounts, key=lambda kind: -counts[kind])
    ]
