"""Small turns around the flows."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionAnythingElse(Action):
    """"Yes, there is something else" after a complaint was wrapped up: invite it, leave the stage."""

    def name(self) -> Text:
        return "action_anything_else"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_how_can_i_help")
        return [SlotSet("flow_stage", None)]
