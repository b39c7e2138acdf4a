"""Service recovery, steps 4 and 5: open the ticket, offer compensation by policy, let the
customer choose, and grant it or send it to an agent for approval.

Every option shown is recorded (``offered``); the choice becomes ``chosen``; the bot approves
and grants only within ``bot_limit`` and when the customer had no compensation in the last
``repeat_window_days``. Otherwise the chat goes to an agent (``compensation_approval``).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, int_or_none, language_of, latest_intent
from actions.handoff import hand_off
from actions.parsing import outcome_from_text
from actions.resolution import alternatives, ask_alternatives, open_case_ticket
from common.lang import fold
from common.texts import text
from recovery.labels import deadline, option_label, resolution_label
from recovery.policy import compensation_options, load_policy

OPTION_WORDS = {  # folded keywords -> option type, for typed choices
    "points": ("point", "积分", "点数"),
    "coupon": ("coupon", "voucher", "折价券", "优惠券", "优惠", "券"),
    "shipping_refund": ("shipping", "运费", "邮费"),
    "expedited_replacement": ("express", "expedit", "next-day", "快速", "隔日", "次日"),
    "partial_refund": ("refund", "money", "退款", "退钱"),
}
ORDINALS = (("1", "first", "第一"), ("2", "second", "第二"), ("3", "third", "第三"), ("4", "fourth", "第四"))


def pick_option(text: str, entity: str | None, offers: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The offer the customer chose: button entity, a keyword, or "the second one"."""
    if entity:
        return next((o for o in offers if o["type"] == entity), None)
    folded = fold(text or "")
    for offer in offers:
        if any(word in folded for word in OPTION_WORDS.get(offer["type"], ())):
            return offer
    for index, words in enumerate(ORDINALS[: len(offers)]):
        if any(re.search(rf"(?<![0-9a-z]){w}(?![0-9a-z])" if w.isascii() else w, folded) for w in words):
            return offers[index]
    return None


def offer_buttons(offers: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    return [
        {
            "title": option_label(o, language),
            "payload": f'/choose_option{{"compensation_choice": "{o["type"]}"}}',
        }
        for o in offers
    ] + [{"title": text("button.no_compensation", language), "payload": "/deny"}]


def _wrap_up(
    dispatcher: CollectingDispatcher, ticket_id: int | str | None, due_iso: str | None, language: str
) -> None:
    due = datetime.fromisoformat(due_iso) if due_iso else None
    dispatcher.utter_message(
        response="utter_ticket_promise",
        ticket=ticket_id or "-",
        deadline=deadline(due, language) if due else "-",
    )
    dispatcher.utter_message(response="utter_anything_else_after_complaint")


class ActionOfferCompensation(Action):
    def name(self) -> str:
        return "action_offer_compensation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        resolution = tracker.get_slot("resolution")
        if latest_intent(tracker) == "choose_option":  # picked one of the alternatives
            allowed = alternatives(tracker)
            chosen = next(tracker.get_latest_entity_values("resolution_choice"), None)
            chosen = chosen or outcome_from_text(tracker.latest_message.get("text") or "")
            if chosen not in allowed:
                ask_alternatives(dispatcher, tracker, allowed)
                return []
            resolution = chosen
        ticket_id, due = await open_case_ticket(tracker, resolution)
        events = [
            SlotSet("resolution", resolution),
            SlotSet("ticket_id", ticket_id),
            SlotSet("ticket_due", due.isoformat()),
        ]
        dispatcher.utter_message(
            response="utter_resolution_confirmed",
            ticket=ticket_id or "-",
            resolution=resolution_label(resolution, language),
            deadline=deadline(due, language),
        )
        customer_id = int_or_none(tracker.get_slot("customer_id"))
        options = []
        if customer_id is not None:
            profile = await in_crm(
                crm_ops.customer_profile, customer_id, verified=False, default=crm_ops.Profile()
            )
            options = compensation_options(
                tracker.get_slot("complaint_category"),
                tracker.get_slot("severity") or "medium",
                tier=profile.tier,
                lifetime_value=profile.lifetime_value,
                currency=tracker.get_slot("order_currency") or profile.currency,
                order_total=tracker.get_slot("order_total"),
                resolution=resolution,
            )
        ids = (
            await in_crm(
                crm_ops.record_offers,
                customer_id=customer_id,
                ticket_id=ticket_id,
                options=options,
                default=None,
            )
            if options
            else None
        )
        if not ids:
            dispatcher.utter_message(response="utter_anything_else_after_complaint")
            return events + [SlotSet("offers", None), SlotSet("flow_stage", "wrapped_up")]
        offers = [{**_jsonable(asdict(o)), "id": i} for o, i in zip(options, ids)]
        dispatcher.utter_message(response="utter_offer_compensation", buttons=offer_buttons(offers, language))
        return events + [SlotSet("offers", offers), SlotSet("flow_stage", "compensation_offered")]


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}


class ActionChooseCompensation(Action):
    def name(self) -> str:
        return "action_choose_compensation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        offers = tracker.get_slot("offers") or []
        ids = [int(o["id"]) for o in offers]
        ticket_id, due_iso = tracker.get_slot("ticket_id"), tracker.get_slot("ticket_due")
        wrapped = [SlotSet("flow_stage", "wrapped_up")]
        if latest_intent(tracker) == "deny":
            await in_crm(crm_ops.settle_offers, ids, None, grant=False)
            dispatcher.utter_message(response="utter_compensation_declined")
            _wrap_up(dispatcher, ticket_id, due_iso, language)
            return wrapped
        entity = next(tracker.get_latest_entity_values("compensation_choice"), None)
        chosen = pick_option(tracker.latest_message.get("text") or "", entity, offers)
        if chosen is None and len(offers) == 1 and latest_intent(tracker) == "affirm":
            chosen = offers[0]
        if chosen is None:
            dispatcher.utter_message(
                response="utter_offer_compensation_again", buttons=offer_buttons(offers, language)
            )
            return []
        customer_id = int_or_none(tracker.get_slot("customer_id"))
        policy = load_policy()
        repeat = customer_id is not None and await in_crm(
            crm_ops.had_recent_compensation, customer_id, int(policy["repeat_window_days"]), default=True
        )
        above = Decimal(str(chosen["value_twd"])) > Decimal(str(policy["bot_limit"]))
        label = option_label(chosen, language)
        events = [SlotSet("compensation_choice", chosen["type"])]
        if repeat or above:
            await in_crm(crm_ops.settle_offers, ids, int(chosen["id"]), grant=False)
            why = "repeat_within_window" if repeat else "above_bot_limit"
            return events + await hand_off(
                dispatcher,
                tracker,
                "compensation_approval",
                ticket=ticket_id or "-",
                option=label,
                extra={"approval": {"offer_id": chosen["id"], "why": why, "option": chosen}},
            )
        await in_crm(crm_ops.settle_offers, ids, int(chosen["id"]), grant=True)
        dispatcher.utter_message(response="utter_compensation_granted", option=label)
        _wrap_up(dispatcher, ticket_id, due_iso, language)
        return events + wrapped
