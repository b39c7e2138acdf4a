"""Small turns around the flows."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionAnythingElse(Action):
    """ "Yes, there is something else" after a complaint was wrapped up: invite it, leave the stage."""

    def name(self) -> str:
        return "action_anything_else"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_how_can_i_help")
        return [SlotSet("flow_stage", None)]
