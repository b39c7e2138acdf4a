"""Service recovery, step 6: record whether the promise was kept.

``action_greet`` asks at the customer's next visit; this action records the yes/no with
``crm.repo.tickets.complete_follow_up``. A broken promise puts the ticket back in progress with
a note (agents see it among the overdue/open tickets) and offers a person right away.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, int_or_none, language_of, latest_intent
from common.texts import text
from common.yes_no import leading_yes_or_no


class ActionFollowUpAnswer(Action):
    def name(self) -> str:
        return "action_follow_up_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        follow_up_id = int_or_none(tracker.get_slot("follow_up_id"))
        said = leading_yes_or_no(tracker.latest_message.get("text") or "")
        # "yes, it finally arrived" is a yes; a complaint here ("still nothing!") is a no.
        kept = said if said is not None else latest_intent(tracker) == "affirm"
        ticket_id = None
        if follow_up_id is not None:
            ticket_id = await in_crm(crm_ops.finish_follow_up, follow_up_id, kept=kept)
        if kept:
            dispatcher.utter_message(response="utter_follow_up_kept")
        else:
            dispatcher.utter_message(
                response="utter_follow_up_not_kept",
                ticket=ticket_id or "-",
                buttons=[{"title": text("button.talk_to_person", language), "payload": "/request_human"}],
            )
        return [
            SlotSet("follow_up_id", None),
            SlotSet("flow_stage", None),
            SlotSet("follow_up_outcome", "kept" if kept else "not_kept"),
        ]
