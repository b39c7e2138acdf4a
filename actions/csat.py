"""End of chat: one CSAT question (1-5 buttons) and an optional comment (``csat_form``),
stored with ``crm.repo.tickets.record_csat`` (one rating per chat; a second one replaces it)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import crm_ops
from actions.common import SlotValue, in_crm, latest_intent
from actions.parsing import parse_csat
from actions.services import conversation_id

NO_COMMENT_INTENTS = ("deny", "goodbye", "thanks", "stop")


class ValidateCsatForm(FormValidationAction):
    def name(self) -> str:
        return "validate_csat_form"

    async def extract_csat_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The score from a button (entity ``csat_score``) or typed ("4", "五星", "4/5"), only
        while the rating question is open: a bare digit elsewhere is not a rating."""
        asked = (
            tracker.get_slot("requested_slot") == "csat_score"
            and tracker.active_loop.get("name") == "csat_form"
        )
        if not asked:
            return {}
        entity = next(tracker.get_latest_entity_values("csat_score"), None)
        score = (
            parse_csat(str(entity))
            if entity is not None
            else parse_csat(tracker.latest_message.get("text") or "")
        )
        return {"csat_score": score} if score else {}

    async def validate_csat_score(
        self, value: SlotValue, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not isinstance(value, str | int | float):
            return {"csat_score": None}
        try:
            score = int(float(value))
        except (TypeError, ValueError):
            return {"csat_score": None}
        if not 1 <= score <= 5:
            return {"csat_score": None}
        conv = conversation_id(tracker)
        if conv is not None:  # stored now: the comment after it is optional and may never come
            await in_crm(crm_ops.save_csat, conv, score, None)
        return {"csat_score": score}

    async def validate_csat_comment(
        self, value: SlotValue, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if latest_intent(tracker) in NO_COMMENT_INTENTS:
            return {"csat_comment": ""}
        return {"csat_comment": str(value or "").strip()[:1000]}


class ActionCsatSave(Action):
    def name(self) -> str:
        return "action_csat_save"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        score = int(float(tracker.get_slot("csat_score") or 0))
        comment = (tracker.get_slot("csat_comment") or "").strip() or None
        conv = conversation_id(tracker)
        if conv is not None and 1 <= score <= 5:
            await in_crm(crm_ops.save_csat, conv, score, comment)
        dispatcher.utter_message(response="utter_feedback_thanks")
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("csat_done", True), SlotSet("flow_stage", None)]
