"""Service recovery, steps 3 and 5: propose a fair resolution the policy allows, and open the
ticket with its due date (the promise) once the customer agrees."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm_ops
from actions.common import in_crm, int_or_none, language_of
from actions.services import conversation_id
from common.texts import text
from crm.orm.base import utcnow
from crm.repo.tickets import Promise
from recovery.labels import category_label, deadline, resolution_label
from recovery.policy import (
    RESOLUTIONS,
    due_at,
    load_policy,
    propose_resolution,
    resolutions_for,
    ticket_category,
)


class ActionProposeResolution(Action):
    """After the form: the customer's wish when the policy allows it, else the fair default."""

    def name(self) -> str:
        return "action_propose_resolution"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        category = tracker.get_slot("complaint_category")
        wanted = tracker.get_slot("desired_outcome")
        resolution = propose_resolution(category, wanted)
        values = {
            "resolution": resolution_label(resolution, language),
            "problem": category_label(category, language),
        }
        if wanted in RESOLUTIONS and wanted != resolution:
            dispatcher.utter_message(
                response="utter_propose_resolution_instead",
                wanted=resolution_label(wanted, language),
                **values,
            )
        else:
            dispatcher.utter_message(response="utter_propose_resolution", **values)
        return [SlotSet("resolution", resolution), SlotSet("flow_stage", "resolution_proposed")]


def alternatives(tracker: Tracker) -> list[str]:
    current = tracker.get_slot("resolution")
    return [r for r in resolutions_for(tracker.get_slot("complaint_category")) if r != current]


def ask_alternatives(dispatcher: CollectingDispatcher, tracker: Tracker, options: list[str]) -> None:
    language = language_of(tracker)
    person = {"title": text("button.talk_to_person", language), "payload": "/request_human"}
    if not options:
        dispatcher.utter_message(response="utter_resolution_no_alternative", buttons=[person])
        return
    buttons = [
        {"title": resolution_label(r, language), "payload": f'/choose_option{{"resolution_choice": "{r}"}}'}
        for r in options
    ]
    dispatcher.utter_message(response="utter_resolution_alternatives", buttons=buttons + [person])


class ActionResolutionAlternatives(Action):
    """The customer said no to the proposal: the other resolutions the policy allows."""

    def name(self) -> str:
        return "action_resolution_alternatives"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ask_alternatives(dispatcher, tracker, alternatives(tracker))
        return [SlotSet("flow_stage", "resolution_alternatives")]


def ticket_text(tracker: Tracker, resolution: str) -> tuple[str, str]:
    """Subject and description of the complaint ticket (English, for agents)."""
    category = tracker.get_slot("complaint_category") or "other"
    order = tracker.get_slot("order_number")
    if order and order != "none" and not tracker.get_slot("order_id"):
        order = f"{order}, ownership not verified"
    subject = f"Complaint: {category.replace('_', ' ')}" + (
        f" ({order})" if order and order != "none" else ""
    )
    lines = [
        f"{name}: {tracker.get_slot(slot)}"
        for name, slot in (
            ("First message", "complaint_text"),
            ("What happened", "complaint_description"),
            ("Customer wants", "desired_outcome"),
            ("Severity", "severity"),
            ("Frustration", "frustration"),
        )
        if tracker.get_slot(slot) not in (None, "")
    ]
    return subject, "\n".join(lines + [f"Agreed resolution: {resolution}"])


async def open_case_ticket(
    tracker: Tracker, resolution: str, now: datetime | None = None
) -> tuple[int | None, datetime]:
    """Create the complaint ticket (and its follow-up); returns (ticket id, due time)."""
    now = now or utcnow()
    category = tracker.get_slot("complaint_category") or "other"
    severity = tracker.get_slot("severity") or "medium"
    due = due_at(category, severity, now)
    follow_up = due + timedelta(hours=float(load_policy().get("follow_up_after_hours", 0)))
    subject, description = ticket_text(tracker, resolution)
    ticket_id = await in_crm(
        crm_ops.open_ticket,
        subject=subject,
        category=ticket_category(category),
        severity=severity,
        customer_id=int_or_none(tracker.get_slot("customer_id")),
        conversation_id=conversation_id(tracker),
        order_id=int_or_none(tracker.get_slot("order_id")),
        description=description,
        due_at=due,
        promise=Promise(resolution, category),
        follow_up_at=follow_up,
    )
    return ticket_id, due


class ActionComplaintUnresolved(Action):
    """No allowed resolution suits the customer: a manager reviews the case; promise a date."""

    def name(self) -> str:
        return "action_complaint_unresolved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ticket_id, due = await open_case_ticket(tracker, "review")
        dispatcher.utter_message(
            response="utter_complaint_escalated_ticket",
            ticket=ticket_id or "-",
            deadline=deadline(due, language_of(tracker)),
        )
        dispatcher.utter_message(response="utter_anything_else_after_complaint")
        return [
            SlotSet("resolution", "review"),
            SlotSet("ticket_id", ticket_id),
            SlotSet("ticket_due", due.isoformat()),
            SlotSet("flow_stage", "wrapped_up"),
        ]
