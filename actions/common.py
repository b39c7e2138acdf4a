"""Small helpers shared by the actions: language, CRM calls off the event loop, tracker reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, SupportsIndex, SupportsInt, TypeVar, overload

from rasa_sdk import Tracker

from actions import services
from common.lang import detect_language

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: A slot's value as Rasa keeps it (JSON): what a form's ``validate_<slot>`` receives.
SlotValue = str | int | float | bool | list[Any] | dict[str, Any] | None


def language_of(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return tracker.get_slot("language") or detect_language(text)


@overload
async def in_crm(work: Callable[..., T], *args: Any, default: T, **kwargs: Any) -> T: ...


@overload
async def in_crm(work: Callable[..., T], *args: Any, **kwargs: Any) -> T | None: ...


async def in_crm(work: Callable[..., T], *args: Any, default: T | None = None, **kwargs: Any) -> T | None:
    """Run ``work(session, *args, **kwargs)`` in one CRM unit of work in a worker thread.

    A database failure is logged and ``default`` returned: the chat goes on without the CRM
    (the gateway's outbox keeps the transcript), it never goes silent.
    """

    def run() -> T:
        with services.crm_session() as session:
            return work(session, *args, **kwargs)

    try:
        return await asyncio.to_thread(run)
    except Exception:  # noqa: BLE001 - any CRM failure must not break the chat
        logger.exception("CRM call %s failed", getattr(work, "__name__", work))
        return default


def count_actions(tracker: Tracker, name: str) -> int:
    """How often ``name`` ran in this conversation (before the current action)."""
    return sum(1 for e in tracker.events if e.get("event") == "action" and e.get("name") == name)


def recent_user_texts(tracker: Tracker, limit: int = 6) -> list[str]:
    texts = [e.get("text") for e in tracker.events if e.get("event") == "user" and e.get("text")]
    return [t[:300] for t in texts[-limit:]]


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def int_or_none(value: object) -> int | None:
    """``int(value)`` of a slot's value; None for None and for anything that is not a number."""
    if not isinstance(value, str | bytes | SupportsInt | SupportsIndex):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
