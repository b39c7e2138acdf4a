"""Service recovery, step 2: the complaint form's questions that need more than a response
(``action_ask_<slot>``): the customer's own orders as buttons, the resolutions the policy
allows, and the summary read back before anything is promised."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, language_of
from actions.services import conversation_id
from actions.understanding import NO_ORDER
from common.texts import text
from recovery.labels import category_label, order_choice_label, resolution_label
from recovery.policy import RESOLUTIONS, resolutions_for


class ActionAskOrderNumber(Action):
    """Identified customers pick one of their recent orders; others type it (or say they have none)."""

    def name(self) -> str:
        return "action_ask_order_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        profile = await in_crm(
            crm_ops.conversation_profile, conversation_id(tracker), default=crm_ops.Profile()
        )
        orders = (
            await in_crm(crm_ops.order_choices, profile.customer_id, default=[])
            if profile.customer_id
            else []
        )
        if not orders:
            dispatcher.utter_message(response="utter_ask_order_number")
            return []
        buttons = [
            {
                "title": order_choice_label(o, language),
                "payload": f'/choose_option{{"order_number": "{o["number"]}"}}',
            }
            for o in orders
        ]
        buttons.append(
            {
                "title": text("button.not_about_order", language),
                "payload": f'/choose_option{{"order_number": "{NO_ORDER}"}}',
            }
        )
        dispatcher.utter_message(response="utter_ask_order_pick", buttons=buttons)
        return []


class ActionAskDesiredOutcome(Action):
    """What would the customer like? Buttons: the resolutions the policy allows, or other."""

    def name(self) -> str:
        return "action_ask_desired_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        buttons = [
            {"title": resolution_label(r, language), "payload": f'/choose_option{{"desired_outcome": "{r}"}}'}
            for r in resolutions_for(tracker.get_slot("complaint_category"))
        ] + [
            {
                "title": text("button.something_else", language),
                "payload": '/choose_option{"desired_outcome": "other"}',
            }
        ]
        dispatcher.utter_message(response="utter_ask_desired_outcome", buttons=buttons)
        return []


def outcome_text(value: object, language: str) -> str:
    if isinstance(value, str) and value in RESOLUTIONS:
        return resolution_label(value, language)
    if value in (None, "other"):
        return text("button.something_else", language)
    return str(value)


class ActionAskComplaintConfirmed(Action):
    """Read the answers back before anything is promised."""

    def name(self) -> str:
        return "action_ask_complaint_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        order = tracker.get_slot("order_number")
        if order not in (None, NO_ORDER) and not tracker.get_slot("order_id"):
            order = None  # typed but not shown to be theirs: nothing about it is confirmed
        dispatcher.utter_message(
            response="utter_ask_complaint_confirmed",
            problem=category_label(tracker.get_slot("complaint_category"), language),
            order_number=order if order and order != NO_ORDER else text("order.none", language),
            description=(tracker.get_slot("complaint_description") or "")[:300],
            outcome=outcome_text(tracker.get_slot("desired_outcome"), language),
        )
        return []
