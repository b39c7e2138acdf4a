"""Steps 3-5: resolution proposal and alternatives, ticket with due date, compensation offers,
choice, approval handoffs (above the bot's limit, second compensation within 30 days), records."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.compensation import ActionChooseCompensation, ActionOfferCompensation, pick_option
from actions.resolution import (
    ActionComplaintUnresolved,
    ActionProposeResolution,
    ActionResolutionAlternatives,
)
from crm.db import session_scope
from crm.models import CompensationOffer, FollowUp, Ticket
from crm.orm.base import utcnow
from crm.repo import tickets as repo
from tests.actions.conftest import entity, responses, run, tracker


def case_slots(case, **extra):
    slots = {
        "customer_id": case.customer_id,
        "complaint_category": "late_delivery",
        "complaint_text": "my parcel is late",
        "complaint_description": "due Monday, still nothing",
        "order_number": None,
        "severity": "medium",
        "desired_outcome": "refund",
        "resolution": "refund",
        "flow_stage": "resolution_proposed",
    }
    slots.update(extra)
    return slots


def offer_and_pick(case, crm, pick: str, **slots):
    trk = tracker(case.conversation_id, slots=case_slots(case, **slots), intent="affirm", text="yes")
    _, messages, offered = run(ActionOfferCompensation(), trk)
    state = {**case_slots(case, **slots), **offered}
    choice = tracker(
        case.conversation_id,
        slots=state,
        intent="choose_option",
        text="",
        entities=[entity("compensation_choice", pick)],
    )
    return messages, offered, run(ActionChooseCompensation(), choice)


def test_proposal_follows_the_wish_or_explains_the_policy():
    trk = tracker("1", slots={"complaint_category": "billing_error", "desired_outcome": "replacement"})
    _, messages, slots = run(ActionProposeResolution(), trk)
    assert responses(messages) == ["utter_propose_resolution_instead"]
    assert messages[0]["wanted"].startswith("a replacement") and messages[0]["resolution"] == "a refund"
    assert slots == {"resolution": "refund", "flow_stage": "resolution_proposed"}
    trk = tracker(
        "1",
        slots={"complaint_category": "damaged_defective", "desired_outcome": "repair", "language": "zh-Hant"},
    )
    _, messages, slots = run(ActionProposeResolution(), trk)
    assert responses(messages) == ["utter_propose_resolution"] and messages[0]["resolution"] == "免費優先維修"


def test_denying_the_proposal_offers_the_other_allowed_resolutions():
    trk = tracker(
        "1", slots={"complaint_category": "damaged_defective", "resolution": "replacement"}, intent="deny"
    )
    _, messages, slots = run(ActionResolutionAlternatives(), trk)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [
        '/choose_option{"resolution_choice": "repair"}',
        '/choose_option{"resolution_choice": "refund"}',
        "/request_human",
    ]
    assert slots["flow_stage"] == "resolution_alternatives"
    only = tracker("1", slots={"complaint_category": "billing_error", "resolution": "refund"})
    assert responses(run(ActionResolutionAlternatives(), only)[1]) == ["utter_resolution_no_alternative"]


def test_accepting_opens_a_ticket_with_due_date_and_follow_up_and_records_every_offer(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    trk = tracker(
        case.conversation_id,
        slots=case_slots(case, order_number=case.order_number),
        intent="affirm",
        text="yes",
    )
    _, messages, slots = run(ActionOfferCompensation(), trk)
    assert responses(messages) == ["utter_resolution_confirmed", "utter_offer_compensation"]
    assert messages[0]["ticket"] == slots["ticket_id"] and messages[0]["deadline"]
    assert slots["flow_stage"] == "compensation_offered" and len(slots["offers"]) >= 2
    assert messages[1]["buttons"][-1]["payload"] == "/deny"
    with session_scope(crm) as session:
        ticket = session.get(Ticket, slots["ticket_id"])
        assert ticket.category == "delivery" and ticket.status == "open"
        assert ticket.due_at > utcnow() and ticket.conversation_id == case.conversation_id
        assert "due Monday" in ticket.description
        follow_up = session.scalars(select(FollowUp).where(FollowUp.ticket_id == ticket.id)).one()
        assert (follow_up.promised_resolution, follow_up.complaint_category, follow_up.note) == (
            "refund",
            "late_delivery",
            None,
        )
        offers = session.scalars(
            select(CompensationOffer).where(CompensationOffer.ticket_id == ticket.id)
        ).all()
        assert {o.status for o in offers} == {"offered"} and len(offers) == len(slots["offers"])


def test_choice_within_the_limit_is_granted_and_the_rest_rejected(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    _, offered, (_, messages, slots) = offer_and_pick(case, crm, "points")
    assert responses(messages) == [
        "utter_compensation_granted",
        "utter_ticket_promise",
        "utter_anything_else_after_complaint",
    ]
    assert slots == {"compensation_choice": "points", "flow_stage": "wrapped_up"}
    with session_scope(crm) as session:
        statuses = {
            o.type: o.status
            for o in session.scalars(
                select(CompensationOffer).where(CompensationOffer.ticket_id == offered["ticket_id"])
            )
        }
    assert statuses.pop("points") == "granted" and set(statuses.values()) == {"rejected"}


def test_second_compensation_within_30_days_needs_an_agents_approval(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    with session_scope(crm) as session:
        earlier = repo.offer_compensation(
            session,
            customer_id=case.customer_id,
            type="coupon",
            amount=100,
            currency="TWD",
            offered_at=utcnow() - timedelta(days=10),
        )
        repo.set_offer_status(session, earlier.id, "chosen")
    _, offered, (_, messages, slots) = offer_and_pick(case, crm, "points")
    assert responses(messages) == ["utter_handoff_approval"]
    assert slots["handoff_reason"] == "compensation_approval"
    assert slots["handoff_summary"]["approval"]["why"] == "repeat_within_window"
    with session_scope(crm) as session:
        chosen = session.scalars(
            select(CompensationOffer).where(
                CompensationOffer.ticket_id == offered["ticket_id"], CompensationOffer.type == "points"
            )
        ).one()
        assert chosen.status == "chosen"  # waits for the agent's decision


def test_compensation_older_than_30_days_does_not_count(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    with session_scope(crm) as session:
        old = repo.offer_compensation(
            session,
            customer_id=case.customer_id,
            type="coupon",
            amount=100,
            currency="TWD",
            offered_at=utcnow() - timedelta(days=45),
        )
        repo.set_offer_status(session, old.id, "chosen")
    assert offer_and_pick(case, crm, "points")[2][2]["flow_stage"] == "wrapped_up"


def test_offer_above_the_bots_limit_needs_approval(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    _, offered, (_, messages, slots) = offer_and_pick(
        case,
        crm,
        "partial_refund",
        severity="critical",
        order_total="100000",
        order_currency="TWD",
        resolution="redelivery",
    )
    assert any(o["type"] == "partial_refund" and Decimal(o["value_twd"]) > 600 for o in offered["offers"])
    assert slots["handoff_reason"] == "compensation_approval"
    assert slots["handoff_summary"]["approval"]["why"] == "above_bot_limit"


def test_compensation_never_contradicts_the_chosen_resolution(new_chat, crm):
    """Issue 17: after choosing a refund, no express replacement and no partial refund on top."""
    case = new_chat(verified=True, consent=True)

    def offered_types(resolution):
        trk = tracker(
            case.conversation_id,
            intent="affirm",
            text="yes",
            slots=case_slots(
                case,
                complaint_category="wrong_missing_item",
                severity="critical",
                order_total="5000",
                order_currency="TWD",
                resolution=resolution,
                desired_outcome=resolution,
            ),
        )
        return {o["type"] for o in run(ActionOfferCompensation(), trk)[2]["offers"]}

    assert not {"expedited_replacement", "partial_refund"} & offered_types("refund")
    assert "expedited_replacement" in offered_types("replacement")


def test_declining_compensation_rejects_all_and_still_tells_the_ticket(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    trk = tracker(case.conversation_id, slots=case_slots(case), intent="affirm")
    _, _, offered = run(ActionOfferCompensation(), trk)
    trk = tracker(
        case.conversation_id, slots={**case_slots(case), **offered}, intent="deny", text="no thanks"
    )
    _, messages, slots = run(ActionChooseCompensation(), trk)
    assert responses(messages) == [
        "utter_compensation_declined",
        "utter_ticket_promise",
        "utter_anything_else_after_complaint",
    ]
    with session_scope(crm) as session:
        assert {
            o.status
            for o in session.scalars(
                select(CompensationOffer).where(CompensationOffer.ticket_id == offered["ticket_id"])
            )
        } == {"rejected"}


def test_unclear_choice_asks_again():
    offers = [{"type": "points", "amount": "200", "currency": "PTS", "id": 1, "value_twd": "200"}]
    trk = tracker(
        "1",
        slots={"offers": offers + [dict(offers[0], type="coupon", id=2)]},
        intent="choose_option",
        text="hmm",
    )
    _, messages, slots = run(ActionChooseCompensation(), trk)
    assert responses(messages) == ["utter_offer_compensation_again"] and slots == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the coupon please", "coupon"),
        ("我要積分", "points"),
        ("第二個", "coupon"),
        ("2", "coupon"),
        ("退運費", "shipping_refund"),
        ("whatever", None),
    ],
)
def test_pick_option_from_typed_text(text, expected):
    offers = [{"type": t} for t in ("points", "coupon", "shipping_refund")]
    chosen = pick_option(text, None, offers)
    assert (chosen or {}).get("type") == expected


def test_anonymous_customer_gets_a_ticket_but_no_compensation(new_chat, crm):
    case = new_chat(verified=False)
    trk = tracker(case.conversation_id, slots=case_slots(case, customer_id=None), intent="affirm")
    _, messages, slots = run(ActionOfferCompensation(), trk)
    assert responses(messages) == ["utter_resolution_confirmed", "utter_anything_else_after_complaint"]
    assert slots["ticket_id"] and slots["flow_stage"] == "wrapped_up"
    with session_scope(crm) as session:  # the promise still gets its follow-up (an agent's, no customer)
        ticket = session.get(Ticket, slots["ticket_id"])
        (follow_up,) = repo.ticket_follow_ups(session, ticket.id)
        assert (follow_up.customer_id, follow_up.conversation_id) == (None, case.conversation_id)
        assert ticket.due_at <= follow_up.due_at and follow_up.promised_resolution == "refund"


def test_every_ticket_the_bot_opens_has_its_follow_up(new_chat, crm):
    """Each path that opens a ticket with a deadline (resolution accepted, alternatives all
    rejected) leaves exactly one follow-up for it."""
    case = new_chat(verified=True, consent=True)
    run(ActionOfferCompensation(), tracker(case.conversation_id, slots=case_slots(case), intent="affirm"))
    slots = case_slots(
        case,
        complaint_category="damaged_defective",
        resolution="replacement",
        flow_stage="resolution_alternatives",
    )
    run(ActionComplaintUnresolved(), tracker(case.conversation_id, slots=slots, intent="deny"))
    with session_scope(crm) as session:
        tickets = session.scalars(select(Ticket).where(Ticket.conversation_id == case.conversation_id)).all()
        assert len(tickets) == 2 and all(t.due_at for t in tickets)
        for ticket in tickets:
            (follow_up,) = repo.ticket_follow_ups(session, ticket.id)
            assert follow_up.customer_id == case.customer_id and follow_up.status == "pending"


def test_picking_an_alternative_and_rejecting_all(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    slots = case_slots(
        case,
        complaint_category="damaged_defective",
        resolution="replacement",
        flow_stage="resolution_alternatives",
    )
    trk = tracker(
        case.conversation_id,
        slots=slots,
        intent="choose_option",
        entities=[entity("resolution_choice", "repair")],
    )
    _, _, result = run(ActionOfferCompensation(), trk)
    assert result["resolution"] == "repair"
    trk = tracker(case.conversation_id, slots=slots, intent="deny")
    _, messages, result = run(ActionComplaintUnresolved(), trk)
    assert responses(messages)[0] == "utter_complaint_escalated_ticket"
    assert result["resolution"] == "review" and result["flow_stage"] == "wrapped_up"


@pytest.mark.parametrize(
    "category, severity, expected",
    [
        ("wrong_missing_item", "medium", ["points", "shipping_refund", "expedited_replacement"]),
        ("damaged_defective", "high", ["coupon", "expedited_replacement", "partial_refund"]),
    ],
)
def test_every_offer_is_recorded_with_the_policy_type_itself(new_chat, crm, category, severity, expected):
    """Shipping refunds, expedited replacements and partial refunds have their own CRM types
    (no longer free_shipping / gift / refund)."""
    case = new_chat(verified=True, consent=True)
    slots = case_slots(
        case,
        complaint_category=category,
        severity=severity,
        order_number=case.order_number,
        order_total="2000",
        order_currency="TWD",
        resolution="replacement",
    )
    _, _, offered = run(
        ActionOfferCompensation(), tracker(case.conversation_id, slots=slots, intent="affirm", text="yes")
    )
    assert sorted(o["type"] for o in offered["offers"]) == sorted(expected)
    with session_scope(crm) as session:
        stored = {
            o.id: o.type
            for o in session.scalars(
                select(CompensationOffer).where(CompensationOffer.ticket_id == offered["ticket_id"])
            )
        }
    assert stored == {o["id"]: o["type"] for o in offered["offers"]}
