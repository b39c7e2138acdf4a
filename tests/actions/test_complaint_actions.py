"""Steps 1-2 of service recovery and the handoff triggers: apology, frustration / top-tier
handoff, the complaint form's validation (order numbers against the CRM, corrections), stop."""

from __future__ import annotations

from actions.complaint import CASE_SLOTS, ActionComplaintStart, ActionComplaintStop
from actions.complaint_form import ValidateComplaintForm, required_complaint_slots
from actions.complaint_questions import ActionAskComplaintConfirmed, ActionAskDesiredOutcome
from actions.handoff import ActionHandoff
from tests.actions.conftest import entity, responses, run, tracker


def test_apology_names_problem_order_and_first_name_of_a_consenting_verified_customer(new_chat):
    case = new_chat(verified=True, consent=True)
    trk = tracker(
        case.conversation_id,
        text=f"my order {case.order_number} never arrived",
        intent="complaint",
        entities=[entity("order_number", case.order_number), entity("complaint_category", "late_delivery")],
    )
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
    trk = tracker(
        case.conversation_id,
        text="訂單 LM00000001 的耳機壞了",
        intent="complaint",
        slots={"language": "zh-Hant"},
        entities=[entity("order_number", "LM00000001")],
    )
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology"]
    assert messages[0]["problem"] == "商品損壞或故障" and messages[0]["customer_name"] == ""
    assert slots["order_number"] is None and slots["customer_name"] is None


def test_anonymous_complaint_with_an_order_reveals_and_links_nothing_before_proof(new_chat):
    """Issue 18: a visitor who is not signed in and types a real order number learns nothing
    about it and acts on nobody's record until they show it is theirs."""
    case = new_chat(verified=False)
    trk = tracker(
        case.conversation_id,
        text=f"{case.order_number} wrong item",
        intent="complaint",
        entities=[entity("order_number", case.order_number)],
    )
    _, messages, slots = run(ActionComplaintStart(), trk)
    assert responses(messages) == ["utter_apology"] and messages[0]["order_number"] == ""
    assert slots["customer_id"] is None and slots["order_id"] is None
    assert slots["order_number"] == case.order_number and slots.get("order_total") is None


def test_first_message_with_everything_fills_the_case_and_skips_what_happened(new_chat):
    case = new_chat(verified=True, consent=True)
    text = f"My earbuds from {case.order_number} arrived broken, I want a replacement"
    _, _, slots = run(ActionComplaintStart(), tracker(case.conversation_id, text=text, intent="complaint"))
    assert slots["complaint_description"] == text and slots["complaint_category"] == "damaged_defective"
    assert slots["desired_outcome"] == "replacement" and slots["order_number"] == case.order_number
    _, _, slots = run(
        ActionComplaintStart(), tracker(case.conversation_id, text="I want to complain", intent="complaint")
    )
    assert slots["complaint_description"] is None and slots["complaint_category"] is None


def test_two_categories_in_one_message_are_asked_not_guessed(new_chat):
    case = new_chat()
    trk = tracker(
        case.conversation_id, text="it came two weeks late and the screen is cracked", intent="complaint"
    )
    _, _, slots = run(ActionComplaintStart(), trk)
    assert slots["complaint_category"] is None and slots["complaint_description"]


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
    _, messages, slots = run(
        ActionHandoff(), tracker(case.conversation_id, text="human please", intent="request_human")
    )
    assert responses(messages) == ["utter_handoff_explicit"]
    assert slots["handoff_reason"] == "explicit_request" and slots["flow_stage"] is None
    assert slots["handoff_summary"]["last_messages"] == ["human please"]


def form_turn(trk):
    """Run the form's validation for one customer message; (slots set, messages, next question)."""
    _, messages, slots = run(ValidateComplaintForm(), trk)
    return slots, messages, slots.get("requested_slot")


def in_form(sender, requested, text, intent=None, slots=None, entities=None):
    return tracker(
        sender,
        text=text,
        intent=intent,
        active_loop="complaint_form",
        entities=entities,
        slots={
            "requested_slot": requested,
            "complaint_category": "damaged_defective",
            "complaint_description": "broken",
            **(slots or {}),
        },
    )


def test_a_verified_customers_order_number_is_checked_against_the_crm(new_chat):
    case = new_chat(verified=True, consent=True)
    slots, messages, _ = form_turn(in_form(case.conversation_id, "order_number", "LM99999999"))
    assert slots["order_number"] is None and responses(messages) == ["utter_order_not_found"]
    slots, messages, nxt = form_turn(in_form(case.conversation_id, "order_number", "that's not a number"))
    assert slots == {"order_number": None, "requested_slot": "order_number"} and not messages
    slots, messages, nxt = form_turn(in_form(case.conversation_id, "order_number", case.order_number.lower()))
    assert slots["order_number"] == case.order_number and slots["order_id"] and not messages
    assert nxt == "desired_outcome"


def test_no_order_in_words_and_a_bare_digit_is_not_a_rating(new_chat):
    case = new_chat()
    for words in ("I don't have one", "唔記得", "没有订单号", "no"):
        slots, _, nxt = form_turn(in_form(case.conversation_id, "order_number", words))
        assert slots["order_number"] == "none", words
        assert nxt == "desired_outcome"
    slots, messages, nxt = form_turn(
        in_form(case.conversation_id, "order_number", "5", intent="give_feedback")
    )
    assert nxt == "order_number" and responses(messages) == ["utter_order_number_format"]


def test_a_verified_customer_cannot_use_someone_elses_order(new_chat):
    mine, other = new_chat(verified=True, consent=True), new_chat(verified=True, consent=False)
    slots, messages, _ = form_turn(in_form(mine.conversation_id, "order_number", other.order_number))
    assert slots["order_number"] is None and responses(messages) == ["utter_order_not_found"]


def test_an_anonymous_visitor_proves_the_order_with_the_phones_last_digits(new_chat, crm):
    from sqlalchemy import select

    from crm.db import session_scope
    from crm.models import Customer, Order

    case = new_chat(verified=False)
    slots, _, nxt = form_turn(in_form(case.conversation_id, "order_number", case.order_number))
    assert slots["order_id"] is None and nxt == "order_verified"
    asked = {"order_number": case.order_number, "verify_attempts": 0}
    slots, messages, nxt = form_turn(in_form(case.conversation_id, "order_verified", "0000", slots=asked))
    assert responses(messages) == ["utter_order_verify_failed"] and nxt == "order_verified"
    with session_scope(crm) as session:
        owner = session.scalars(
            select(Customer).join(Order).where(Order.order_number == case.order_number)
        ).one()
        owner_id = owner.id
        last4 = "".join(ch for ch in owner.phone if ch.isdigit())[-4:]
    slots, messages, nxt = form_turn(
        in_form(case.conversation_id, "order_verified", f"it's {last4}", slots=asked)
    )
    assert slots["order_verified"] is True and slots["order_id"] and slots["customer_id"] == owner_id
    assert responses(messages) == ["utter_order_verified"]


def test_three_wrong_proofs_record_the_complaint_without_the_order(new_chat):
    case = new_chat(verified=False)
    asked = {"order_number": case.order_number, "verify_attempts": 2}
    slots, messages, nxt = form_turn(
        in_form(case.conversation_id, "order_verified", "x@wrong.example", slots=asked)
    )
    assert slots["order_verified"] is False and responses(messages) == ["utter_order_not_verified"]
    assert "customer_id" not in slots and nxt == "desired_outcome"


def test_a_store_or_staff_complaint_skips_the_order():
    assert "order_number" not in required_complaint_slots(None, category="staff_attitude")
    assert "order_number" in required_complaint_slots(None, category="damaged_defective")
    assert "order_verified" not in required_complaint_slots(
        None, category="late_delivery", order_number="none"
    )


def test_yes_in_words_confirms_the_summary_and_a_correction_is_taken_at_once(new_chat):
    case = new_chat()
    done = {"order_number": "none", "desired_outcome": "refund"}
    for words in ("係呀", "冇問題", "yes that's right", "没错"):
        slots, _, nxt = form_turn(
            in_form(case.conversation_id, "complaint_confirmed", words, intent="thanks", slots=done)
        )
        assert slots["complaint_confirmed"] is True and nxt is None, words
    slots, _, nxt = form_turn(
        in_form(case.conversation_id, "complaint_confirmed", "no, I want a replacement", slots=done)
    )
    assert slots["desired_outcome"] == "replacement" and nxt == "complaint_confirmed"
    slots, _, nxt = form_turn(in_form(case.conversation_id, "complaint_confirmed", "不對", slots=done))
    assert slots["complaint_confirmed"] is False and nxt == "correction_field"


def test_a_detail_given_while_another_is_asked_is_kept(new_chat):
    case = new_chat()
    slots, _, nxt = form_turn(
        in_form(case.conversation_id, "order_number", "I don't have it, just refund me")
    )
    assert (
        slots["order_number"] == "none"
        and slots["desired_outcome"] == "refund"
        and nxt == "complaint_confirmed"
    )


def test_a_question_in_the_form_leaves_it_for_the_knowledge_base(new_chat):
    case = new_chat()
    assert (
        run(
            ValidateComplaintForm(),
            in_form(
                case.conversation_id, "desired_outcome", "what are your opening hours?", intent="inquiry"
            ),
        )[0]
        == []
    )


def test_description_raises_severity(new_chat):
    case = new_chat()
    trk = in_form(
        case.conversation_id,
        "complaint_description",
        "the charger is broken and started to smoke",
        slots={"severity": "medium", "complaint_description": None, "complaint_category": None},
    )
    slots, _, _ = form_turn(trk)
    assert slots["complaint_category"] == "damaged_defective" and slots["severity"] == "critical"


def test_saying_no_to_the_summary_asks_what_to_correct_and_clears_it(new_chat):
    case = new_chat()
    assert "correction_field" not in required_complaint_slots(None)
    assert required_complaint_slots(False)[-2:] == ["correction_field", "complaint_confirmed"]
    asked = {"complaint_confirmed": False, "order_number": "none", "desired_outcome": "refund"}
    slots, _, nxt = form_turn(
        in_form(
            case.conversation_id,
            "correction_field",
            "/choose_option",
            intent="choose_option",
            entities=[{"entity": "correction_field", "value": "order_number"}],
            slots=asked,
        )
    )
    assert slots["order_number"] is None and slots["complaint_confirmed"] is None and nxt == "order_number"


def test_ask_actions_offer_policy_resolutions_and_read_the_case_back():
    trk = tracker("1", slots={"complaint_category": "billing_error", "language": "zh-Hans"})
    _, messages, _ = run(ActionAskDesiredOutcome(), trk)
    assert [b["title"] for b in messages[0]["buttons"]] == ["退款", "其他"]
    trk = tracker(
        "1",
        slots={
            "complaint_category": "late_delivery",
            "order_number": "none",
            "complaint_description": "late",
            "desired_outcome": "redelivery",
        },
    )
    _, messages, _ = run(ActionAskComplaintConfirmed(), trk)
    assert messages[0]["order_number"] == "(no order number)"
    assert messages[0]["outcome"] == "a priority re-delivery"


def test_stop_leaves_politely_and_forgets_the_half_case():
    _, messages, slots = run(ActionComplaintStop(), tracker("1", text="never mind", intent="stop"))
    assert responses(messages) == ["utter_complaint_stopped"]
    assert all(slots[s] is None for s in CASE_SLOTS) and slots["complaint_route"] is None


def test_after_a_knowledge_base_answer_the_form_asks_what_is_missing_not_the_domains_next_slot(new_chat):
    """Coming back to the form after a question, the question is not read again, and an
    identified customer is never asked to prove an order is theirs."""
    case = new_chat(verified=True, consent=True)
    events = [{"event": "action", "name": "action_answer_from_kb"}]
    trk = in_form(
        case.conversation_id,
        "desired_outcome",
        "how long does a refund take?",
        intent="inquiry",
        slots={"order_number": case.order_number, "order_id": 1},
    )
    trk.events.extend(events)
    slots, messages, nxt = form_turn(trk)
    assert slots == {"requested_slot": "desired_outcome"} and not messages
