"""Steps 1-2 of service recovery and the handoff triggers: apology, frustration / top-tier
handoff, the complaint form's validation (order numbers against the CRM, corrections), stop."""
from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ActionComplaintStart, ActionComplaintStop, CASE_SLOTS
from actions.complaint_form import (
    ActionAskComplaintConfirmed, ActionAskDesiredOutcome, ValidateComplaintForm, required_complaint_slots,
)
from actions.handoff import ActionHandoff
from tests.actions.conftest import entity, responses, run, tracker


def validate(method: str, value, trk):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(getattr(ValidateComplaintForm(), f"validate_{method}")(value, dispatcher, trk, {}))
    return result, dispatcher.messages


def test_apology_names_problem_order_and_first_name_of_a_consenting_verified_customer(new_chat):
    case = new_chat(verified=True, consent=True)
    trk = tracker(case.conversation_id, text=f"my order {case.order_number} never arrived",
                  intent="complaint", entities=[entity("order_number", case.order_number),
                                                entity("complaint_category", "late_delivery")])
    events, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology_named_order"]
    first = case.customer_name.split()[0] if " " in case.customer_name else case.customer_name
    assert messages[0]["customer_name"] == first
    assert messages[0]["order_number"] == case.order_number
    assert messages[0]["problem"] == "the late delivery"
    assert slots["complaint_route"] == "form" and slots["order_id"] is not None
    assert slots["customer_id"] == case.customer_id and slots["complaint_category"] == "late_delivery"


def test_no_name_without_consent_and_no_order_when_unknown(new_chat):
    case = new_chat(verified=True, consent=False)
    trk = tracker(case.conversation_id, text="訂單 LM00000001 的耳機壞了", intent="complaint",
                  slots={"language": "zh-Hant"}, entities=[entity("order_number", "LM00000001")])
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology"]
    assert messages[0]["problem"] == "商品損壞或故障" and messages[0]["customer_name"] == ""
    assert slots["order_number"] is None and slots["customer_name"] is None


def test_anonymous_complaint_with_a_valid_order_links_the_orders_customer_without_naming_them(new_chat):
    case = new_chat(verified=False)
    trk = tracker(case.conversation_id, text=f"{case.order_number} wrong item", intent="complaint",
                  entities=[entity("order_number", case.order_number)])
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology_order"]
    assert slots["customer_id"] is not None and slots.get("customer_name") is None


def test_angry_customer_is_handed_to_a_person_with_a_summary(new_chat):
    case = new_chat()
    trk = tracker(case.conversation_id, text="THIS IS RIDICULOUS, WHERE IS MY ORDER!!!", intent="complaint")
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology", "utter_handoff_frustration"]
    assert messages[1]["minutes"] >= 1
    assert slots["handoff_reason"] == "frustration" and slots["complaint_route"] == "handoff"
    summary = slots["handoff_summary"]
    assert summary["complaint"]["complaint_text"].startswith("THIS IS RIDICULOUS")
    assert "shouting" in summary["frustration_cues"]


def test_second_complaint_in_a_chat_with_another_cue_hands_off(new_chat):
    case = new_chat()
    earlier = [{"event": "action", "name": "action_complaint_start"}]
    trk = tracker(case.conversation_id, text="still not here!!", intent="complaint", events=earlier)
    _, _, slots = run(ActionComplaintStart(), trk)
    assert slots["handoff_reason"] == "frustration"


def test_top_tier_customer_goes_to_a_person_at_once(new_chat):
    case = new_chat(verified=True, tier="platinum")
    trk = tracker(case.conversation_id, text="my watch strap broke", intent="complaint")
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages)[-1] == "utter_handoff_priority"
    assert slots["handoff_reason"] == "top_tier_complaint"


def test_explicit_request_sets_the_handoff_contract_slots(new_chat):
    case = new_chat()
    _, messages, slots = run(ActionHandoff(), tracker(case.conversation_id, text="human please",
                                                       intent="request_human"))
    assert responses(messages) == ["utter_handoff_explicit"]
    assert slots["handoff_reason"] == "explicit_request" and slots["flow_stage"] is None
    assert slots["handoff_summary"]["last_messages"] == ["human please"]


def test_order_number_is_checked_against_the_crm(new_chat):
    case = new_chat(verified=False)
    trk = tracker(case.conversation_id, text="LM99999999", active_loop="complaint_form")
    result, messages = validate("order_number", "LM99999999", trk)
    assert result["order_number"] is None and responses(messages) == ["utter_order_not_found"]
    result, messages = validate("order_number", "that's not a number", trk)
    assert result["order_number"] is None and responses(messages) == ["utter_order_number_format"]
    result, messages = validate("order_number", case.order_number.lower(), trk)
    assert result["order_number"] == case.order_number and result["order_id"] and not messages
    assert validate("order_number", "none", trk)[0] == {"order_number": "none", "order_id": None}


def test_a_verified_customer_cannot_use_someone_elses_order(new_chat):
    mine, other = new_chat(verified=True, consent=True), new_chat(verified=True, consent=False)
    trk = tracker(mine.conversation_id, text=other.order_number, active_loop="complaint_form")
    result, messages = validate("order_number", other.order_number, trk)
    assert result["order_number"] is None and responses(messages) == ["utter_order_not_found"]


def test_description_fills_category_and_raises_severity(new_chat):
    trk = tracker("1", text="the charger started to smoke", slots={"severity": "medium"})
    result, _ = validate("complaint_description", "the charger is broken and started to smoke", trk)
    assert result["complaint_category"] == "damaged_defective" and result["severity"] == "critical"


def test_unrecognised_category_span_keeps_the_category_understood_before():
    events = [{"event": "action", "name": "action_complaint_start"},
              {"event": "slot", "name": "complaint_category", "value": "late_delivery"}]
    trk = tracker("1", text="tracking hasn't moved", events=events)
    assert validate("complaint_category", "tracking hasn't moved", trk)[0] == {"complaint_category": "late_delivery"}
    assert validate("complaint_category", "billing_error", trk)[0] == {"complaint_category": "billing_error"}


def test_desired_outcome_is_read_from_free_text():
    trk = tracker("1", text="I just want my money back")
    assert validate("desired_outcome", "I just want my money back", trk)[0] == {"desired_outcome": "refund"}
    assert validate("desired_outcome", "refund", trk)[0] == {"desired_outcome": "refund"}


def test_saying_no_to_the_summary_asks_what_to_correct_and_clears_it():
    assert "correction_field" not in required_complaint_slots(None)
    assert required_complaint_slots(False)[-2:] == ["correction_field", "complaint_confirmed"]
    trk = tracker("1", text="the order number")
    result, _ = validate("correction_field", "order_number", trk)
    assert result == {"correction_field": None, "complaint_confirmed": None, "order_number": None,
                      "order_id": None}
    result, _ = validate("correction_field", "what happened is wrong", trk)
    assert result["complaint_description"] is None
    assert validate("correction_field", "hmm", trk)[0] == {"correction_field": None}


def test_ask_actions_offer_policy_resolutions_and_read_the_case_back():
    trk = tracker("1", slots={"complaint_category": "billing_error", "language": "zh-Hans"})
    _, messages, _ = run(ActionAskDesiredOutcome(), trk)
    assert [b["title"] for b in messages[0]["buttons"]] == ["退款", "其他"]
    trk = tracker("1", slots={"complaint_category": "late_delivery", "order_number": "none",
                              "complaint_description": "late", "desired_outcome": "redelivery"})
    _, messages, _ = run(ActionAskComplaintConfirmed(), trk)
    assert messages[0]["order_number"] == "(no order number)"
    assert messages[0]["outcome"] == "a priority re-delivery"


def test_stop_leaves_politely_and_forgets_the_half_case():
    _, messages, slots = run(ActionComplaintStop(), tracker("1", text="never mind", intent="stop"))
    assert responses(messages) == ["utter_complaint_stopped"]
    assert all(slots[s] is None for s in CASE_SLOTS) and slots["complaint_route"] is None
