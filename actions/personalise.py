"""``action_greet``: greet by name when the website verified the customer and they consented;
at a known customer's next visit, ask whether the last promise was kept (service recovery,
step 6): "we promised X by <date>" when its ticket is still open past that date. The answer goes
through the rules of data/rules/followup.yml (``flow_stage = follow_up_asked``) to
``action_follow_up_answer``, whoever asked. Anonymous visitors get the plain greeting and are
asked only what a task needs."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, language_of
from actions.services import conversation_id
from common.texts import text
from recovery.labels import category_label, deadline, resolution_label


def profile_events(profile: crm_ops.Profile) -> list[dict[str, Any]]:
    return [
        SlotSet("customer_id", profile.customer_id),
        SlotSet("customer_name", profile.name),
        SlotSet("customer_tier", profile.tier),
    ]


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        profile = await in_crm(
            crm_ops.conversation_profile, conversation_id(tracker), default=crm_ops.Profile()
        )
        if profile.name:
            dispatcher.utter_message(response="utter_greet_named", customer_name=profile.name)
        else:
            dispatcher.utter_message(response="utter_greet")
        events = profile_events(profile) if profile.customer_id else []
        if profile.customer_id is None:
            return events
        due = await in_crm(crm_ops.due_follow_up, profile.customer_id)
        if not due:
            return events
        question = {
            "ticket": due["ticket_id"],
            "problem": category_label(due["complaint_category"], language),
            "resolution": resolution_label(due["promised_resolution"], language),
        }
        if due["overdue"] and due["due_at"] is not None:
            question.update(
                response="utter_follow_up_overdue_question", deadline=deadline(due["due_at"], language)
            )
        else:
            question["response"] = "utter_follow_up_question"
        dispatcher.utter_message(
            **question,
            buttons=[
                {"title": text("button.yes", language), "payload": "/affirm"},
                {"title": text("button.no", language), "payload": "/deny"},
            ],
        )
        return events + [SlotSet("follow_up_id", due["id"]), SlotSet("flow_stage", "follow_up_asked")]
