"""What the analytics metrics (:mod:`crm.repo.analytics`) return: JSON-safe payloads of the
dashboard. Rates are ratios rounded to 4 places, None without a denominator."""

from __future__ import annotations

from typing import TypedDict


class DayCount(TypedDict):
    day: str
    count: int


class Containment(TypedDict):
    conversations: int
    contained: int
    rate: float | None


class ReasonCount(TypedDict):
    reason: str
    count: int


class Handoffs(TypedDict):
    conversations: int
    handed_off: int
    rate: float | None
    reasons: list[ReasonCount]


class CsatDay(TypedDict):
    day: str
    average: float | None
    count: int


class CsatTrend(TypedDict):
    average: float | None
    count: int
    days: list[CsatDay]


class CategoryCount(TypedDict):
    category: str
    count: int


class UnansweredGroup(TypedDict):
    text: str
    count: int
    open: int


class RepeatContact(TypedDict):
    conversations: int
    repeated: int
    rate: float | None


class FirstContactResolution(TypedDict):
    conversations: int
    resolved: int
    rate: float | None


class ResponseSamples(TypedDict):
    first_response: int
    queue_wait: int
    agent_first_response: int
    resolution: int


class ResponseTimes(TypedDict):
    """Medians in seconds (None without samples)."""

    first_response_s: float | None
    queue_wait_s: float | None
    agent_first_response_s: float | None
    resolution_s: float | None
    samples: ResponseSamples


class Compensation(TypedDict):
    """Granted compensation of one type; ``amounts`` are exact decimal strings by currency."""

    type: str
    count: int
    amounts: dict[str, str]


class TierCount(TypedDict):
    """One step of the tier pyramid; ``lifetime_value``: mean per currency (decimal strings)."""

    tier: str
    customers: int
    lifetime_value: dict[str, str]


class Loyalty(TypedDict):
    """:mod:`crm.repo.customer_metrics` over the filter's window (money: decimal strings by currency)."""

    retention: float | None
    churn: float | None
    purchase_frequency: float | None
    average_order_value: dict[str, str]
    lifetime_value: dict[str, str]
    tiers: list[TierCount]


class AgentPerformance(TypedDict):
    """One agent's handled chats: medians in seconds with their sample counts."""

    agent_id: int
    agent: str
    conversations: int
    first_response_s: float | None
    first_responses: int
    resolution_s: float | None
    resolutions: int
    csat: float | None
    ratings: int
    fcr_rate: float | None
    fcr_resolved: int
    fcr_conversations: int


class TierTarget(TypedDict):
    """A tier's service targets (``service_targets`` in compensation_policy.yml)."""

    first_response_minutes: float
    resolution_hours: float


class TargetAttainment(TypedDict):
    """Handed-off chats of one tier: met / missed per target (chats still inside it are neither)."""

    tier: str
    first_response_minutes: float
    resolution_hours: float
    first_response_met: int
    first_response_missed: int
    first_response_rate: float | None
    resolution_met: int
    resolution_missed: int
    resolution_rate: float | None


class DrillRow(TypedDict):
    """A conversation behind a number."""

    id: int
    started_at: str
    language: str | None
    status: str
    customer: str | None
    tier: str | None
    agent: str | None
    handoff_reason: str | None


class TranscriptLine(TypedDict):
    direction: str
    text: str
    created_at: str


class Transcript(TypedDict):
    conversation: DrillRow
    messages: list[TranscriptLine]
