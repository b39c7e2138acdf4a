"""Service recovery, step 2: listen and ask (``complaint_form``).

Slots, in order: an open question first (``complaint_description``), then the category (asked
only when not understood yet), the order number (checked against the CRM; "I don't have one"
is fine), what the customer wants, and a summary to confirm. Saying "no" to the summary asks
which answer to correct (``correction_field``), clears it and asks it again; an order number or
category typed at any time also replaces the old one (global entity mappings, validated here).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import crm_ops
from actions.common import in_crm, language_of
from actions.complaint import order_events
from actions.frustration import SEVERITY_ORDER, estimate_severity
from actions.labels import category_label, resolution_label, ui
from actions.parsing import category_from_text, correction_field_from_text, order_number_from_text, outcome_from_text
from actions.policy import CATEGORIES, RESOLUTIONS, resolutions_for
from actions.services import conversation_id

BASE_SLOTS = ["complaint_description", "complaint_category", "order_number", "desired_outcome",
              "complaint_confirmed"]
CORRECTABLE = ("complaint_description", "complaint_category", "order_number", "desired_outcome")
NO_ORDER = "none"


def required_complaint_slots(confirmed: Any) -> List[Text]:
    """The question to correct an answer comes only after a "no" to the summary."""
    if confirmed is False:
        return BASE_SLOTS[:-1] + ["correction_field", "complaint_confirmed"]
    return list(BASE_SLOTS)


def previous_value(tracker: Tracker, slot: str, valid: tuple[str, ...]) -> str | None:
    """The latest valid value ``slot`` had since the current complaint started."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_complaint_start":
            return None
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value") in valid:
            return event["value"]
    return None


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        return required_complaint_slots(tracker.get_slot("complaint_confirmed"))

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if len(text) < 2 or text.startswith("/"):  # a button payload is not a description
            return {"complaint_description": None}
        result: Dict[Text, Any] = {"complaint_description": text[:1000]}
        if tracker.get_slot("complaint_category") not in CATEGORIES:
            category = category_from_text(text)
            if category and category != "other":
                result["complaint_category"] = category
        severity = estimate_severity(text, frustration=float(tracker.get_slot("frustration") or 0))
        current = tracker.get_slot("severity") or "medium"
        if SEVERITY_ORDER.index(severity) > SEVERITY_ORDER.index(current):
            result["severity"] = severity
        return result

    async def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A button value, else the words of the span or the message; an unrecognised span
        (the entity extractor returns raw text for phrasings it has not seen) keeps the
        category understood before."""
        if value in CATEGORIES:
            return {"complaint_category": value}
        text = tracker.latest_message.get("text") or ""
        found = category_from_text(str(value or "")) or category_from_text(text)
        return {"complaint_category": found or previous_value(tracker, "complaint_category", CATEGORIES)}

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"order_number": None}
        if value == NO_ORDER:
            return {"order_number": NO_ORDER, "order_id": None}
        number = order_number_from_text(str(value))
        if number is None:
            dispatcher.utter_message(response="utter_order_number_format")
            return {"order_number": None}
        verified = await in_crm(crm_ops.conversation_profile, conversation_id(tracker),
                                default=crm_ops.Profile())
        order = await in_crm(crm_ops.lookup_order, number, verified.customer_id)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return {"order_number": None, "order_id": None}
        result = {"order_number": order["number"], "order_id": order["id"]}
        for event in order_events(order, verified.customer_id):
            result[event["name"]] = event["value"]
        return result

    async def validate_desired_outcome(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value in RESOLUTIONS or value == "other":
            return {"desired_outcome": value}
        text = str(value or "").strip()
        if not text or text.startswith("/"):
            return {"desired_outcome": None}
        return {"desired_outcome": outcome_from_text(text) or text[:200]}

    async def validate_correction_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        field = value if value in CORRECTABLE else correction_field_from_text(str(value or ""))
        if field is None:
            return {"correction_field": None}
        cleared: Dict[Text, Any] = {"correction_field": None, "complaint_confirmed": None, field: None}
        if field == "order_number":
            cleared["order_id"] = None
        return cleared

    async def validate_complaint_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"complaint_confirmed": value if isinstance(value, bool) else None}


class ActionAskDesiredOutcome(Action):
    """What would the customer like? Buttons: the resolutions the policy allows, or other."""

    def name(self) -> Text:
        return "action_ask_desired_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        buttons = [
            {"title": resolution_label(r, language), "payload": f'/choose_option{{"desired_outcome": "{r}"}}'}
            for r in resolutions_for(tracker.get_slot("complaint_category"))
        ] + [{"title": ui("something_else", language), "payload": '/choose_option{"desired_outcome": "other"}'}]
        dispatcher.utter_message(response="utter_ask_desired_outcome", buttons=buttons)
        return []


def outcome_text(value: Any, language: str) -> str:
    if value in RESOLUTIONS:
        return resolution_label(value, language)
    if value in (None, "other"):
        return ui("something_else", language)
    return str(value)


class ActionAskComplaintConfirmed(Action):
    """Read the answers back before anything is promised."""

    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        order = tracker.get_slot("order_number")
        dispatcher.utter_message(
            response="utter_ask_complaint_confirmed",
            problem=category_label(tracker.get_slot("complaint_category"), language),
            order_number=order if order and order != NO_ORDER else ui("no_order", language),
            description=(tracker.get_slot("complaint_description") or "")[:300],
            outcome=outcome_text(tracker.get_slot("desired_outcome"), language),
        )
        return []
