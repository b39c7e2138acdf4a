"""The conversations behind a number of the analytics console, and their read-only transcripts.

A number is named by a *kind* and an optional *key* (:data:`KINDS`); each kind selects its
conversations with the same rule as the metric it stands behind (:mod:`crm.repo.analytics`,
:mod:`crm.repo.team_metrics`), so a list is as long as the number it opened from (up to
:data:`DRILL_LIMIT` rows, newest first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Conversation, Customer, Feedback, Message, User
from crm.repo import analytics, team_metrics
from crm.repo.analytics import Filters
from crm.repo.analytics_types import DrillRow, TierTarget, Transcript

DRILL_LIMIT = 200
KINDS = (
    "all",
    "day",
    "contained",
    "handed_off",
    "reason",
    "repeat",
    "fcr",
    "agent",
    "agent_rated",
    "tier",
    "first_response_met",
    "first_response_missed",
    "resolution_met",
    "resolution_missed",
)


class UnknownDrill(ValueError):
    """Not a kind of :data:`KINDS`, or a key it cannot take."""


def _ids(
    session: Session, f: Filters, kind: str, key: str, targets: dict[str, TierTarget], now: datetime
) -> set[int]:
    counted = analytics._conversations(session, f)
    if kind == "all":
        return {c.id for c in counted}
    if kind == "day":
        return {c.id for c in counted if c.started_at.date().isoformat() == key}
    if kind in ("contained", "handed_off"):
        return {c.id for c in counted if c.handed_off == (kind == "handed_off")}
    if kind == "reason":
        return {c.id for c in counted if c.handed_off and (c.handoff_reason or "unspecified") == key}
    if kind == "repeat":
        return {cid for cid, again in analytics._repeat_flags(session, f) if again}
    if kind == "fcr":
        return {cid for cid, ok in analytics.fcr_flags(session, f).items() if ok}
    handled = team_metrics._handled(session, f)
    if kind in ("agent", "agent_rated"):
        if not key.isdigit():
            raise UnknownDrill(kind)
        mine = {c.id for c in handled if c.agent_id == int(key)}
        if kind == "agent":
            return mine
        rated = select(Feedback.conversation_id).where(Feedback.conversation_id.in_(mine))
        return set(session.scalars(rated))
    if kind == "tier":
        return {
            cid
            for cid, tier in session.execute(
                select(Conversation.id, Customer.tier)
                .outerjoin(Customer, Customer.id == Conversation.customer_id)
                .where(Conversation.id.in_([c.id for c in counted]))
            ).all()
            if (tier or "standard") == key
        }
    if kind in KINDS:
        target, outcome = kind.rsplit("_", 1)
        slot = 0 if target == "first_response" else 1
        out = set()
        for chat in handled:
            verdicts = team_metrics._verdicts(chat, targets, now) if chat.tier == key else None
            if verdicts is not None and verdicts[slot] is (outcome == "met"):
                out.add(chat.id)
        return out
    raise UnknownDrill(kind)


def _rows(session: Session, ids: set[int]) -> list[DrillRow]:
    stmt = (
        select(Conversation, Customer.name, Customer.tier, User.display_name, User.username)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(User, User.id == Conversation.assigned_agent_id)
        .where(Conversation.id.in_(ids))
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(DRILL_LIMIT)
    )
    return [
        {
            "id": conv.id,
            "started_at": conv.started_at.isoformat(),
            "language": conv.language,
            "status": conv.status,
            "customer": name,
            "tier": tier,
            "agent": display or username,
            "handoff_reason": conv.handoff_reason,
        }
        for conv, name, tier, display, username in session.execute(stmt).all()
    ]


def conversations(
    session: Session,
    f: Filters,
    kind: str,
    key: str = "",
    targets: dict[str, TierTarget] | None = None,
    now: datetime | None = None,
) -> list[DrillRow]:
    """The conversations behind the number ``kind`` / ``key`` (raises :class:`UnknownDrill`)."""
    ids = _ids(session, f, kind, key, targets or {}, now or f.end)
    return _rows(session, ids) if ids else []


def transcript(session: Session, conversation_id: int) -> Transcript | None:
    rows = _rows(session, {conversation_id})
    if not rows:
        return None
    messages = session.execute(
        select(Message.direction, Message.text, Message.created_at)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id)
    ).all()
    return {
        "conversation": rows[0],
        "messages": [
            {"direction": d, "text": text, "created_at": at.isoformat()} for d, text, at in messages
        ],
    }
