"""A one-action package for the action-server tests: records that it ran (a file per call)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionRecordCall(Action):
    def name(self) -> str:
        return "action_record_call"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        marker = Path(os.environ["FAKE_ACTIONS_MARKER"])
        with marker.open("a") as fh:
            fh.write(tracker.sender_id + "\n")
        dispatcher.utter_message(text="ran")
        return []
