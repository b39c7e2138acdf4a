"""Service recovery, step 2: listen and ask (``complaint_form``).

The form asks only for what is still missing: what happened (skipped when the first message
told it), the category, the order (identified customers pick one of theirs with buttons; none
for a store visit, staff or the phone line; an anonymous visitor shows the order is theirs
with its e-mail or the phone's last four digits before anything about it is used), what the
customer wants, and a summary to confirm. Every message is read in the context of the question
asked (:func:`read_turn`): yes and no in words, a number as the order number, a detail given
early or late. "No" to the summary asks which part to change; a correction typed straight
away ("no, it's LM…") is taken as it is.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import crm_ops
from actions.common import in_crm, latest_intent
from actions.complaint import order_events
from actions.parsing import correction_field_from_text, order_number_from_text, outcome_from_text
from actions.services import conversation_id
from actions.understanding import (
    NO_ORDER,
    answer_for,
    is_question,
    is_request,
    ownership_proof,
    read_case,
    said_no_order,
    tells_a_story,
)
from common.yes_no import yes_or_no
from recovery.frustration import SEVERITY_ORDER, estimate_severity
from recovery.policy import CATEGORIES, RESOLUTIONS, needs_order

BASE_SLOTS = [
    "complaint_description",
    "complaint_category",
    "order_number",
    "order_verified",
    "desired_outcome",
    "complaint_confirmed",
]
CORRECTABLE = ("complaint_description", "complaint_category", "order_number", "desired_outcome")
#: Intents that leave the form (their rules take over) when the message answers nothing.
LEAVING_INTENTS = ("stop", "request_human", "goodbye", "inquiry", "bot_challenge", "out_of_scope")
VERIFY_ATTEMPTS = 3


def required_complaint_slots(
    confirmed: bool | None,
    *,
    category: str | None = None,
    order_number: str | None = None,
    verified_customer: bool = False,
) -> list[str]:
    """What the form still needs, in order. The order is skipped for complaints that have none
    (a store visit, staff, the phone line: the policy's ``needs_order``); ownership is asked only
    of an anonymous visitor who named an order; the question to correct an answer comes only
    after a "no" to the summary."""
    slots = list(BASE_SLOTS)
    if order_number in (None, NO_ORDER) and category in CATEGORIES and not needs_order(category):
        slots.remove("order_number")
    if verified_customer or order_number in (None, NO_ORDER):
        slots.remove("order_verified")
    if confirmed is False:
        slots.insert(slots.index("complaint_confirmed"), "correction_field")
    return slots


BUTTON_SLOTS = ("complaint_category", "order_number", "desired_outcome", "correction_field")
PAYLOAD_EXTRACTORS = (None, "RegexMessageHandler")  # how Rasa marks a payload's entities


def resuming(tracker: Tracker) -> bool:
    """Whether the form comes back after another action answered the last message (a question
    for the knowledge base): that message was not for the form and is not read again."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in FORM_STEPS:
            return True
    return False


FORM_STEPS = ("complaint_form", "validate_complaint_form", "action_listen", "action_extract_slots")


def button_values(tracker: Tracker) -> dict[str, Any]:
    """Slot values a clicked button carries (not the NLU's guesses from typed text)."""
    return {
        e["entity"]: e.get("value")
        for e in tracker.latest_message.get("entities") or []
        if e.get("extractor") in PAYLOAD_EXTRACTORS and e.get("entity") in BUTTON_SLOTS
    }


def read_turn(
    requested: str | None, text: str, intent: str | None, buttons: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """Slot updates from one customer message while the form asks ``requested``.

    The message is read first as the answer to that question, then for any other fact it holds
    (an order number, a category, a wish), so nothing a customer says is lost or asked twice.
    """
    if text.startswith("/"):
        text = ""
    if (
        intent == "inquiry"
        and not buttons
        and is_question(text)
        and not (is_request(text) and outcome_from_text(text))
    ):  # "can you repair it?" is a wish
        return {}  # a question in the middle: the knowledge base answers, then the form goes on
    updates: dict[str, Any] = dict(buttons)
    updates.update({k: v for k, v in answer_for(requested, text, intent).items() if k not in updates})
    facts = read_case(text)
    if facts.order_number and "order_number" not in updates:
        updates["order_number"] = facts.order_number
    if (
        facts.category
        and "complaint_category" not in updates
        and (
            requested in ("complaint_category", "complaint_description")
            or current.get("complaint_category") in (None, "other")
        )
    ):
        updates["complaint_category"] = facts.category
    if facts.outcome and "desired_outcome" not in updates:
        updates["desired_outcome"] = facts.outcome
    if (
        requested == "complaint_description"
        and text
        and facts.yes_no is None
        and (facts.story or len(text.strip()) >= 4 and not facts.order_number)
    ):
        updates["complaint_description"] = text[:1000]
    if (
        requested == "desired_outcome"
        and "desired_outcome" not in updates
        and text
        and facts.yes_no is None
        and intent not in LEAVING_INTENTS
    ):
        updates["desired_outcome"] = text[:200]
    if (
        requested == "complaint_category"
        and "complaint_category" not in updates
        and text
        and intent not in LEAVING_INTENTS
        and facts.yes_no is None
    ):
        updates["complaint_category"] = "other"
    if requested == "correction_field" and "correction_field" not in updates:
        field = correction_field_from_text(text)
        if field:
            updates["correction_field"] = field
    return updates


class ValidateComplaintForm(FormValidationAction):
    """Reads every customer message in the form in context (:func:`read_turn`), checks what it
    understood (the order in the CRM, ownership for anonymous visitors) and names the next
    question. Returns nothing for a message that answers nothing and means to leave (a
    question for the knowledge base, "stop", "a person please"), so their rules take over."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return required_complaint_slots(
            tracker.get_slot("complaint_confirmed"),
            category=tracker.get_slot("complaint_category"),
            order_number=tracker.get_slot("order_number"),
            verified_customer=await self._verified_customer(tracker) is not None,
        )

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        activating = tracker.active_loop_name != "complaint_form"
        reading = not activating and not resuming(tracker)
        requested = tracker.get_slot("requested_slot") if reading else None
        updates: dict[str, Any] = {}
        ownership: dict[str, Any] = {}
        if reading:
            text = (tracker.latest_message.get("text") or "").strip()
            intent = latest_intent(tracker)
            updates = read_turn(requested, text, intent, button_values(tracker), tracker.slots)
            if requested == "order_verified" and "order_number" not in updates:
                ownership = await self._check_ownership(dispatcher, tracker, text, intent)
            if not updates and not ownership and intent in LEAVING_INTENTS:
                return []
        if requested == "complaint_description" and updates and "complaint_description" not in updates:
            opener = tracker.get_slot("complaint_text")  # details came instead: the first message tells it
            if opener and tells_a_story(opener, read_case(opener).category):
                updates["complaint_description"] = opener
        events = await self._validate(dispatcher, tracker, updates, requested)
        events += [SlotSet(k, v) for k, v in ownership.items()]
        if reading and not events and requested:
            events = [SlotSet(requested, None)]  # not understood: ask the same question again
        for event in events:
            tracker.slots[event["name"]] = event["value"]
        required = await self.required_slots([], dispatcher, tracker, domain)
        missing = next((slot for slot in required if tracker.get_slot(slot) is None), None)
        return events + [SlotSet("requested_slot", missing)]

    async def _verified_customer(self, tracker: Tracker) -> int | None:
        profile = await in_crm(
            crm_ops.conversation_profile, conversation_id(tracker), default=crm_ops.Profile()
        )
        return profile.customer_id

    async def _validate(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        updates: dict[str, Any],
        requested: str | None,
    ) -> list[dict[str, Any]]:
        result: dict[str, Any] = {}
        if "correction_field" in updates:
            field = updates.pop("correction_field")
            if field in CORRECTABLE:
                result.update({"correction_field": None, "complaint_confirmed": None, field: None})
                if field == "order_number":
                    result.update({"order_id": None, "order_verified": None})
        if updates.get("complaint_category") in CATEGORIES:
            result["complaint_category"] = updates["complaint_category"]
        if "complaint_description" in updates:
            result["complaint_description"] = updates["complaint_description"]
            result.update(self._severity(tracker, updates["complaint_description"]))
        if updates.get("desired_outcome"):
            value = updates["desired_outcome"]
            result["desired_outcome"] = (
                value if value in RESOLUTIONS or value == "other" else str(value)[:200]
            )
        if "order_number" in updates:
            result.update(await self._order(dispatcher, tracker, str(updates["order_number"] or "")))
        if "complaint_confirmed" in updates:
            confirmed = updates["complaint_confirmed"]
            changed = any(k in result for k in CORRECTABLE)
            result["complaint_confirmed"] = None if changed else confirmed
        elif requested in ("complaint_confirmed", "correction_field") and any(
            k in result for k in CORRECTABLE
        ):
            result.update({"complaint_confirmed": None, "correction_field": None})
        return [SlotSet(k, v) for k, v in result.items()]

    @staticmethod
    def _severity(tracker: Tracker, text: str) -> dict[str, Any]:
        severity = estimate_severity(text, frustration=float(tracker.get_slot("frustration") or 0))
        current = tracker.get_slot("severity") or "medium"
        return (
            {"severity": severity} if SEVERITY_ORDER.index(severity) > SEVERITY_ORDER.index(current) else {}
        )

    async def _order(self, dispatcher: CollectingDispatcher, tracker: Tracker, value: str) -> dict[str, Any]:
        if value == NO_ORDER:
            return {"order_number": NO_ORDER, "order_id": None, "order_verified": None}
        number = order_number_from_text(value)
        if number is None:
            dispatcher.utter_message(response="utter_order_number_format")
            return {"order_number": None}
        if number == tracker.get_slot("order_number") and tracker.get_slot("order_id"):
            return {}
        verified = await self._verified_customer(tracker)
        if verified is None:  # an anonymous visitor proves the order is theirs before anything is shown
            return {"order_number": number, "order_id": None, "order_verified": None, "verify_attempts": 0}
        order = await in_crm(crm_ops.lookup_order, number, verified)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return {"order_number": None, "order_id": None}
        result: dict[str, Any] = {"order_number": order["number"], "order_id": order["id"]}
        for event in order_events(order, verified):
            result[event["name"]] = event["value"]
        return result

    async def _check_ownership(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str | None
    ) -> dict[str, Any]:
        number = str(tracker.get_slot("order_number") or "")
        if intent in ("deny", "stop") or yes_or_no(text) is False or said_no_order(text):
            dispatcher.utter_message(response="utter_order_not_verified")
            return {"order_verified": False}
        email, last4 = ownership_proof(text)
        if email is None and last4 is None:  # not a try ("I'd like a refund"): asked again
            return {}
        order = await in_crm(crm_ops.verify_order_owner, number, email=email, phone_last4=last4)
        if order is not None:
            events = {"order_verified": True, "order_number": order["number"], "order_id": order["id"]}
            events.update({e["name"]: e["value"] for e in order_events(order, None)})
            dispatcher.utter_message(response="utter_order_verified", order_number=order["number"])
            return events
        attempts = int(tracker.get_slot("verify_attempts") or 0) + 1
        if attempts >= VERIFY_ATTEMPTS:
            dispatcher.utter_message(response="utter_order_not_verified")
            return {"order_verified": False, "verify_attempts": attempts}
        dispatcher.utter_message(response="utter_order_verify_failed")
        return {"order_verified": None, "verify_attempts": attempts}
