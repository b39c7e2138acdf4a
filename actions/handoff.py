"""Handing the chat to a human agent.

Contract with the gateway: the turn that hands off sets the slot ``handoff_reason``; the
gateway then marks the conversation ``waiting_agent`` and stops forwarding messages to Rasa
until an agent hands it back. The bot's message in that turn says what happens next and the
expected wait. ``handoff_summary`` carries what the agent needs so that the customer never
repeats themselves: the complaint form's slots, the profile and the last messages.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, recent_user_texts
from recovery.policy import handoff_wait_minutes

REASONS = (
    "explicit_request",
    "repeated_failures",
    "frustration",
    "top_tier_complaint",
    "compensation_approval",
)
RESPONSES = {
    "explicit_request": "utter_handoff_explicit",
    "repeated_failures": "utter_handoff_failures",
    "frustration": "utter_handoff_frustration",
    "top_tier_complaint": "utter_handoff_priority",
    "compensation_approval": "utter_handoff_approval",
}
PRIORITY = ("top_tier_complaint", "compensation_approval")
COMPLAINT_SLOTS = (
    "complaint_text",
    "complaint_description",
    "complaint_category",
    "order_number",
    "desired_outcome",
    "severity",
    "frustration",
    "resolution",
)


def build_summary(tracker: Tracker, reason: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON-safe summary of the chat for the agent (pure: reads the tracker only)."""
    complaint = {k: tracker.get_slot(k) for k in COMPLAINT_SLOTS if tracker.get_slot(k) is not None}
    summary: dict[str, Any] = {
        "reason": reason,
        "language": tracker.get_slot("language"),
        "customer": {"id": tracker.get_slot("customer_id"), "tier": tracker.get_slot("customer_tier")},
        "complaint": complaint,
        "ticket_id": tracker.get_slot("ticket_id"),
        "offers": tracker.get_slot("offers") or [],
        "failed_answers": tracker.get_slot("failed_answers"),
        "last_messages": recent_user_texts(tracker),
    }
    summary.update(extra or {})
    return summary


async def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    *,
    extra: dict[str, Any] | None = None,
    **response_values: Any,
) -> list[dict[str, Any]]:
    """Tell the customer what happens next and how long it takes; return the handoff events."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    waiting = await in_crm(crm_ops.waiting_count, default=0)
    minutes = handoff_wait_minutes(waiting, priority=reason in PRIORITY)
    dispatcher.utter_message(response=RESPONSES[reason], minutes=minutes, **response_values)
    return [
        SlotSet("handoff_reason", reason),
        SlotSet(
            "handoff_summary",
            build_summary(tracker, reason, {"expected_wait_minutes": minutes, **(extra or {})}),
        ),
        SlotSet("flow_stage", None),
    ]


class ActionHandoff(Action):
    """The customer asked for a person (``request_human``)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await hand_off(dispatcher, tracker, "explicit_request")
