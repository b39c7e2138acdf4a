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
