"""Service recovery, step 1: apologise and acknowledge, then decide who continues.

``action_complaint_start`` runs on every ``complaint`` outside the form. It apologises
personally (naming the problem, and the order and first name when known and consented; Rasa
picks one of several wordings per language), scores frustration and severity, and sets
``complaint_route``: ``form`` (the bot listens and asks, step 2) or ``handoff`` (frustrated or
top-tier customer: a person takes over at once). ``action_complaint_stop`` leaves the form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import count_actions, in_crm, language_of
from actions.handoff import hand_off
from actions.personalise import profile_events
from actions.services import conversation_id
from actions.understanding import read_case
from recovery.frustration import estimate_severity, frustration_score, hands_off
from recovery.labels import category_label
from recovery.policy import fx, is_top_tier

#: Slots of one complaint; cleared when a new complaint starts or the customer stops.
CASE_SLOTS = (
    "complaint_description",
    "complaint_category",
    "order_number",
    "order_id",
    "order_verified",
    "verify_attempts",
    "desired_outcome",
    "complaint_confirmed",
    "correction_field",
    "resolution",
    "ticket_id",
    "ticket_due",
    "offers",
    "order_total",
    "order_currency",
)


def apology_response(has_name: bool, has_order: bool) -> str:
    return "utter_apology" + ("_named" if has_name else "") + ("_order" if has_order else "")


class ActionComplaintStart(Action):
    def name(self) -> str:
        return "action_complaint_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        language = language_of(tracker)
        facts = read_case(text)
        events: list[dict[str, Any]] = [SlotSet(slot, None) for slot in CASE_SLOTS]
        frustration = frustration_score(
            text,
            previous_complaints=count_actions(tracker, self.name()),
            failed_answers=int(tracker.get_slot("failed_answers") or 0),
        )
        profile = await in_crm(
            crm_ops.conversation_profile, conversation_id(tracker), default=crm_ops.Profile()
        )
        events += profile_events(profile)
        # One clear category is taken; several, or none, are asked (buttons) rather than guessed.
        category = facts.category if len(facts.categories) == 1 else None
        events.append(SlotSet("complaint_category", category))
        if facts.story:
            events.append(SlotSet("complaint_description", text[:1000]))
        if facts.outcome:
            events.append(SlotSet("desired_outcome", facts.outcome))

        order = None
        if facts.order_number and profile.customer_id is not None:
            order = await in_crm(crm_ops.lookup_order, facts.order_number, profile.customer_id)
            if order:
                events += [SlotSet("order_number", order["number"]), SlotSet("order_id", order["id"])]
                events += order_events(order, profile.customer_id)
        elif facts.order_number:  # anonymous: the form asks for proof before the order is used
            events.append(SlotSet("order_number", facts.order_number))
        value_twd = float(Decimal(order["total"]) / fx(order["currency"])) if order else None
        severity = estimate_severity(text, frustration=frustration.score, order_value_twd=value_twd)
        events += [
            SlotSet("complaint_text", text[:1000]),
            SlotSet("severity", severity),
            SlotSet("frustration", frustration.score),
            SlotSet("flow_stage", None),
        ]

        dispatcher.utter_message(
            response=apology_response(bool(profile.name), order is not None),
            customer_name=profile.name or "",
            order_number=order["number"] if order else "",
            problem=category_label(category, language),
        )
        extra = {"frustration_cues": frustration.cues}
        if hands_off(frustration.score):
            return (
                events
                + [SlotSet("complaint_route", "handoff")]
                + await hand_off(dispatcher, _with(tracker, events), "frustration", extra=extra)
            )
        if is_top_tier(profile.tier):
            return (
                events
                + [SlotSet("complaint_route", "handoff")]
                + await hand_off(dispatcher, _with(tracker, events), "top_tier_complaint", extra=extra)
            )
        return events + [SlotSet("complaint_route", "form")]


def order_events(order: dict[str, Any], verified_customer_id: int | None) -> list[dict[str, Any]]:
    """Slots from a found order; the order's customer becomes the complaint's customer only
    when the website did not verify one (it is never greeted or named from this)."""
    events = [SlotSet("order_total", order["total"]), SlotSet("order_currency", order["currency"])]
    if verified_customer_id is None:
        events.append(SlotSet("customer_id", order["customer_id"]))
    return events


def _with(tracker: Tracker, events: list[dict[str, Any]]) -> Tracker:
    """The tracker as it will be after ``events`` (for the handoff summary)."""
    copy = tracker.copy()
    for event in events:
        if event.get("event") == "slot":
            copy.slots[event["name"]] = event["value"]
    return copy


class ActionComplaintStop(Action):
    """ "Stop" / "never mind" inside the complaint form: leave politely, forget the half case."""

    def name(self) -> str:
        return "action_complaint_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_complaint_stopped")
        return [SlotSet(slot, None) for slot in CASE_SLOTS] + [
            SlotSet("complaint_route", None),
            SlotSet("flow_stage", None),
        ]
