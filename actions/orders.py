"""``action_order_status``: "where is my order?" answered from the CRM for an identified
customer (status and date of their recent orders, or of the one they named); an anonymous
visitor gets the knowledge base's how-to-track answer, since an order's status is shown only
to its owner."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, language_of
from actions.kb_answer import ActionAnswerFromKB
from actions.parsing import order_number_from_text
from actions.services import conversation_id
from recovery.labels import order_status_line


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        profile = await in_crm(
            crm_ops.conversation_profile, conversation_id(tracker), default=crm_ops.Profile()
        )
        orders = (
            await in_crm(crm_ops.order_choices, profile.customer_id, default=[])
            if profile.customer_id
            else []
        )
        if not orders:
            return await ActionAnswerFromKB().run(dispatcher, tracker, domain)
        named = order_number_from_text(tracker.latest_message.get("text") or "")
        shown = [o for o in orders if o["number"] == named] or orders
        language = language_of(tracker)
        dispatcher.utter_message(
            response="utter_order_status", orders="\n".join(order_status_line(o, language) for o in shown)
        )
        return []
