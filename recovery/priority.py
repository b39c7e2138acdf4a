"""Queue priority of an escalated chat: waiting time, frustration, customer tier and
compensation awaiting approval. Pure functions over :func:`crm.repo.agent_desk.queue_signals`
(whose ``waiting_since`` counts from ``conversations.handoff_at`` where it is stored)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from recovery.frustration import frustration_score, message_level

TIER_POINTS = {"standard": 0, "silver": 5, "gold": 12, "platinum": 20}
OFFER_POINTS = 15
FRUSTRATION_POINTS = 10
MAX_WAIT_POINTS = 60
FRUSTRATED_INTENTS = {"complaint", "request_human"}


def peak_message_frustration(signals: dict[str, Any]) -> float:
    """The highest score of the customer's recent messages: the one stored on each message
    (``messages.frustration``, scored by the gateway), else scored now from its text."""
    texts = signals.get("customer_texts") or []
    stored = signals.get("customer_frustration") or [None] * len(texts)
    return max(
        (
            score if score is not None else frustration_score(text or "").score
            for score, text in zip(stored, texts)
        ),
        default=0.0,
    )


def frustration(signals: dict[str, Any]) -> int:
    """0 (calm) to 3 (very frustrated): the customer's most upset message (up to two levels,
    :func:`recovery.frustration.message_level`), repeated complaints or requests for a person or
    failed answers (one), and a handoff because of frustration (one)."""
    score = message_level(peak_message_frustration(signals))
    intents = signals.get("customer_intents") or []
    if sum(1 for i in intents if i in FRUSTRATED_INTENTS) >= 2 or (signals.get("kb_fallbacks") or 0) >= 2:
        score += 1
    reason = (signals.get("handoff_reason") or "").lower()
    if "frustrat" in reason or "angry" in reason:
        score += 1
    return min(score, 3)


def waited_minutes(signals: dict[str, Any], now: datetime | None = None) -> float:
    since = signals.get("waiting_since")
    if not since:
        return 0.0
    started = datetime.fromisoformat(since)
    if started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - started).total_seconds() / 60)


def score(signals: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """``{"score": float, "frustration": 0-3, "waited_min": float, "reasons": [codes]}``."""
    waited = waited_minutes(signals, now)
    angry = frustration(signals)
    tier = ((signals.get("customer") or {}).get("tier")) or "standard"
    offers = int(signals.get("offers_awaiting") or 0)
    total = (
        min(waited, MAX_WAIT_POINTS)
        + angry * FRUSTRATION_POINTS
        + TIER_POINTS.get(tier, 0)
        + min(offers, 2) * OFFER_POINTS
    )
    reasons = []
    if waited >= 5:
        reasons.append("long_wait")
    if angry >= 2:
        reasons.append("frustrated")
    if TIER_POINTS.get(tier, 0) >= TIER_POINTS["gold"]:
        reasons.append(f"tier_{tier}")
    if offers:
        reasons.append("approval_needed")
    return {
        "score": round(total, 1),
        "frustration": angry,
        "waited_min": round(waited, 1),
        "reasons": reasons,
    }


def rank(items: list[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """Attach ``priority`` to each queue item; waiting chats first, then by score, highest first."""
    for item in items:
        item["priority"] = score(item, now)
    return sorted(items, key=lambda i: (i["status"] != "waiting_agent", -i["priority"]["score"], i["id"]))
