"""``action_answer_from_kb``: answer an inquiry from the curated knowledge base."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from actions.services import kb_service
from common.lang import detect_language

CLARIFY_OPTIONS = 3
FAILURES_BEFORE_HANDOFF = 2


def _button_payload(entry_id: str) -> str:
    return "/inquiry" + json.dumps({"kb_entry_id": entry_id}, ensure_ascii=False)


class ActionAnswerFromKB(Action):
    """Confident hit: its approved answer. Close hits: ask which one, with buttons.
    Low score: say so, offer a human; the question is recorded for trainers by the gateway.
    The second low score in a row hands the chat to a human (``repeated_failures``)."""

    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or detect_language(text)
        service = kb_service()
        chosen = next(tracker.get_latest_entity_values("kb_entry_id"), None)
        if chosen:
            hit = await asyncio.to_thread(service.lookup, str(chosen), language)
            if hit is not None:
                dispatcher.utter_message(text=hit.answer)
                return self._events(hit.entry_id, 1.0, "answer", 0)

        result = await asyncio.to_thread(service.search, text, language)
        failed = float(tracker.get_slot("failed_answers") or 0)
        best = result.best
        score = best.score if best else None
        if result.decision == "answer" and best is not None:
            dispatcher.utter_message(text=best.answer)
            return self._events(best.entry_id, score, "answer", 0)
        if result.decision == "clarify" and best is not None:
            dispatcher.utter_message(
                response="utter_kb_clarify",
                buttons=[
                    {"title": hit.question, "payload": _button_payload(hit.entry_id)}
                    for hit in result.hits[:CLARIFY_OPTIONS]
                ],
            )
            return self._events(best.entry_id, score, "clarify", failed)
        if failed + 1 >= FAILURES_BEFORE_HANDOFF:
            handoff = await hand_off(dispatcher, tracker, "repeated_failures")
            return self._events(None, score, "fallback", 0) + handoff
        dispatcher.utter_message(response="utter_kb_not_sure")
        return self._events(None, score, "fallback", failed + 1)

    @staticmethod
    def _events(
        entry_id: str | None, score: float | None, decision: str, failed: float
    ) -> list[dict[str, Any]]:
        return [
            SlotSet("kb_entry_id", entry_id),
            SlotSet("kb_score", None if score is None else round(float(score), 4)),
            SlotSet("kb_decision", decision),
            SlotSet("failed_answers", failed),
        ]
