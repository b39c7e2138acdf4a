"""Managers' metrics beside the dashboard's (:mod:`crm.repo.analytics`): loyalty from
:mod:`crm.repo.customer_metrics`, per-agent performance, attainment of the service targets, and
the conversations behind each number (drill-down) with their read-only transcripts.

Definitions (on the dashboard's counted conversations, :func:`analytics.chat_times`):

* a chat's *agent* is its assigned agent (``conversations.assigned_agent_id``);
* *first response*: the latest hand-over -> the agent's first reply after it;
* *resolution*: the latest hand-over -> the chat was closed (``ended_at``);
* *CSAT*: the ratings given in the agent's chats; *first-contact resolution* as on the dashboard;
* *attainment*, per customer tier (anonymous chats count as ``standard``): a handed-off chat
  *met* a target when the reply (or closing) came within it, *missed* it when it came later or
  has not come and the target has passed by ``now``; chats still inside their target are neither.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Conversation, Customer, Feedback, User
from crm.orm.base import TIERS
from crm.repo import analytics, customer_metrics
from crm.repo.analytics import Filters
from crm.repo.analytics_types import (
    AgentPerformance,
    Loyalty,
    TargetAttainment,
    TierTarget,
)


def _money(values: dict[str, Decimal]) -> dict[str, str]:
    return {c: f"{v:.2f}" for c, v in sorted(values.items())}


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def loyalty(session: Session, f: Filters) -> Loyalty:
    cm, lang = customer_metrics, f.language
    frequency = cm.purchase_frequency(session, f.start, f.end, lang)
    return {
        "retention": _rate(cm.retention_rate(session, f.start, f.end, lang)),
        "churn": _rate(cm.churn_rate(session, f.start, f.end, lang)),
        "purchase_frequency": None if frequency is None else round(frequency, 2),
        "average_order_value": _money(cm.average_order_value(session, f.start, f.end, lang)),
        "lifetime_value": _money(cm.customer_lifetime_value(session, f.end, lang)),
        "tiers": cm.tier_pyramid(session, f.end, lang),
    }


class _Handled(NamedTuple):
    id: int
    agent_id: int | None
    tier: str
    handoff: datetime
    replied: datetime | None
    ended: datetime | None


def _handled(session: Session, f: Filters) -> list[_Handled]:
    """Counted chats with a hand-over."""
    times = {cid: t for cid, t in analytics.chat_times(session, f).items() if t.handoff is not None}
    if not times:
        return []
    rows = session.execute(
        select(Conversation.id, Conversation.assigned_agent_id, Conversation.ended_at, Customer.tier)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.id.in_(list(times)))
    ).all()
    out = []
    for cid, agent_id, ended, tier in rows:
        t = times[cid]
        assert t.handoff is not None
        out.append(_Handled(cid, agent_id, tier or "standard", t.handoff, t.replied, ended))
    return out


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end is not None and end >= start else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {uid: display or username for uid, display, username in rows.all()}


def agent_performance(session: Session, f: Filters) -> list[AgentPerformance]:
    """Agents with at least one handled chat, most chats first."""
    chats: dict[int, list[_Handled]] = defaultdict(list)
    for chat in _handled(session, f):
        if chat.agent_id is not None:
            chats[chat.agent_id].append(chat)
    if not chats:
        return []
    names = _names(session, set(chats))
    fcr = analytics.fcr_flags(session, f)
    owner = {chat.id: agent for agent, rows in chats.items() for chat in rows}
    ratings: dict[int, list[int]] = defaultdict(list)
    for cid, csat in session.execute(
        select(Feedback.conversation_id, Feedback.csat).where(Feedback.conversation_id.in_(list(owner)))
    ).all():
        ratings[owner[cid]].append(csat)
    out: list[AgentPerformance] = []
    for agent, rows in chats.items():
        first = [s for s in (_seconds(c.handoff, c.replied) for c in rows) if s is not None]
        done = [s for s in (_seconds(c.handoff, c.ended) for c in rows) if s is not None]
        known = [fcr[c.id] for c in rows if c.id in fcr]
        scores = ratings[agent]
        out.append(
            {
                "agent_id": agent,
                "agent": names.get(agent, f"#{agent}"),
                "conversations": len(rows),
                "first_response_s": _median(first),
                "first_responses": len(first),
                "resolution_s": _median(done),
                "resolutions": len(done),
                "csat": round(statistics.fmean(scores), 2) if scores else None,
                "ratings": len(scores),
                "fcr_rate": round(sum(known) / len(known), 4) if known else None,
                "fcr_resolved": sum(known),
                "fcr_conversations": len(known),
            }
        )
    return sorted(out, key=lambda row: (-row["conversations"], row["agent"]))


def _verdict(start: datetime, end: datetime | None, limit_s: float, now: datetime) -> bool | None:
    """True: met; False: missed; None: still inside the target."""
    if end is not None:
        return (end - start).total_seconds() <= limit_s
    return False if (now - start).total_seconds() > limit_s else None


def _verdicts(
    chat: _Handled, targets: dict[str, TierTarget], now: datetime
) -> tuple[bool | None, bool | None] | None:
    target = targets.get(chat.tier)
    if target is None:
        return None
    return (
        _verdict(chat.handoff, chat.replied, target["first_response_minutes"] * 60, now),
        _verdict(chat.handoff, chat.ended, target["resolution_hours"] * 3600, now),
    )


def target_attainment(
    session: Session, f: Filters, targets: dict[str, TierTarget], now: datetime
) -> list[TargetAttainment]:
    """Per tier with a target, the top tier first."""
    counts: dict[str, list[int]] = {tier: [0, 0, 0, 0] for tier in targets}
    for chat in _handled(session, f):
        verdicts = _verdicts(chat, targets, now)
        if verdicts is None:
            continue
        for n, verdict in enumerate(verdicts):
            if verdict is not None:
                counts[chat.tier][2 * n + (0 if verdict else 1)] += 1
    order = [t for t in reversed(TIERS) if t in targets] + sorted(set(targets) - set(TIERS))
    return [
        {
            "tier": tier,
            "first_response_minutes": targets[tier]["first_response_minutes"],
            "resolution_hours": targets[tier]["resolution_hours"],
            "first_response_met": counts[tier][0],
            "first_response_missed": counts[tier][1],
            "first_response_rate": analytics._ratio(counts[tier][0], counts[tier][0] + counts[tier][1]),
            "resolution_met": counts[tier][2],
            "resolution_missed": counts[tier][3],
            "resolution_rate": analytics._ratio(counts[tier][2], counts[tier][2] + counts[tier][3]),
        }
        for tier in order
    ]
