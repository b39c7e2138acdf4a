"""Greeting and personalisation, the follow-up at the next visit (step 6), CSAT at the end of
the chat, and the knowledge-base action's handoff after two failed answers in a row."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.kb_answer as kb_answer
from actions.csat import ActionCsatSave, ValidateCsatForm
from actions.followup import ActionFollowUpAnswer
from actions.personalise import ActionGreet
from crm.db import session_scope
from crm.models import Feedback, FollowUp, Ticket
from crm.orm.base import utcnow
from crm.repo import tickets as repo
from tests.actions.conftest import entity, responses, run, tracker


def test_greeting_by_name_only_with_consent(new_chat):
    consenting = new_chat(verified=True, consent=True)
    _, messages, slots = run(ActionGreet(), tracker(consenting.conversation_id, text="hi", intent="greet"))
    assert responses(messages) == ["utter_greet_named"] and messages[0]["customer_name"]
    assert slots["customer_id"] == consenting.customer_id
    private = new_chat(verified=True, consent=False)
    _, messages, slots = run(ActionGreet(), tracker(private.conversation_id, text="hi", intent="greet"))
    assert responses(messages) == ["utter_greet"] and slots["customer_name"] is None
    anonymous = new_chat(verified=False)
    _, messages, slots = run(ActionGreet(), tracker(anonymous.conversation_id, text="hi", intent="greet"))
    assert responses(messages) == ["utter_greet"] and slots == {}


def test_greeting_survives_a_crm_outage(monkeypatch):
    from actions import services

    def broken():
        raise RuntimeError("database is down")

    monkeypatch.setattr(services, "crm_session", broken)
    _, messages, slots = run(ActionGreet(), tracker("5", text="hi", intent="greet"))
    assert responses(messages) == ["utter_greet"] and slots == {}


def _due_promise(crm, case, *, overdue: bool) -> int:
    with session_scope(crm) as session:
        now = utcnow()
        ticket = repo.create_ticket(
            session,
            subject="Complaint: late delivery",
            category="delivery",
            customer_id=case.customer_id,
            due_at=now - timedelta(hours=2),
            follow_up=False,
        )
        if not overdue:
            repo.change_ticket_status(session, ticket.id, "resolved")
        repo.add_follow_up(
            session,
            due_at=now - timedelta(hours=1),
            customer_id=case.customer_id,
            ticket_id=ticket.id,
            promise=repo.Promise("redelivery", "late_delivery"),
        )
        return ticket.id


def test_next_visit_asks_whether_the_promise_was_kept_and_records_yes(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    ticket_id = _due_promise(crm, case, overdue=False)
    trk = tracker(case.conversation_id, text="你好", intent="greet", slots={"language": "zh-Hant"})
    _, messages, slots = run(ActionGreet(), trk)
    assert responses(messages) == ["utter_greet_named", "utter_follow_up_question"]
    assert messages[1]["ticket"] == ticket_id and messages[1]["resolution"] == "優先重新配送"
    assert slots["flow_stage"] == "follow_up_asked"
    trk = tracker(case.conversation_id, text="有", intent="affirm", slots=slots)
    _, messages, result = run(ActionFollowUpAnswer(), trk)
    assert responses(messages) == ["utter_follow_up_kept"] and result["follow_up_outcome"] == "kept"
    with session_scope(crm) as session:
        follow_up = session.get(FollowUp, slots["follow_up_id"])
        assert follow_up.outcome == "kept" and follow_up.done_at is not None
    assert len(run(ActionGreet(), tracker(case.conversation_id, intent="greet"))[1]) == 1  # asked once


def test_a_broken_promise_puts_the_ticket_back_in_progress(new_chat, crm):
    case = new_chat(verified=True, consent=False)
    ticket_id = _due_promise(crm, case, overdue=True)
    with session_scope(crm) as session:
        assert ticket_id in [t.id for t in repo.overdue_tickets(session)]  # flagged to agents
    _, _, slots = run(ActionGreet(), tracker(case.conversation_id, intent="greet"))
    trk = tracker(case.conversation_id, text="no", intent="deny", slots=slots)
    _, messages, _ = run(ActionFollowUpAnswer(), trk)
    assert responses(messages) == ["utter_follow_up_not_kept"]
    assert messages[0]["buttons"][0]["payload"] == "/request_human"
    with session_scope(crm) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "in_progress" and "not kept" in ticket.history[-1].note
        assert session.get(FollowUp, slots["follow_up_id"]).outcome == "not_kept"


def test_a_demo_customer_with_an_overdue_promise_is_asked_at_greeting_and_the_answer_is_recorded(crm):
    """DEMO-0002's demo ticket is open past its deadline: the greeting names what was promised
    and by when, with yes/no buttons, and primes the follow-up rules; "no" is recorded through
    action_follow_up_answer like any follow-up answer."""
    from crm.models import Conversation, Customer
    from recovery.labels import deadline

    with session_scope(crm) as session:
        customer = session.scalars(select(Customer).where(Customer.external_ref == "DEMO-0002")).one()
        ticket = session.scalars(select(Ticket).where(Ticket.customer_id == customer.id)).one()
        assert ticket.status in repo.OPEN_TICKET_STATUSES and ticket.due_at < utcnow()
        conv = Conversation(token="demo-0002-returns", customer_id=customer.id, language="zh-Hant")
        session.add(conv)
        session.flush()
        conversation_id, ticket_id, due_at = conv.id, ticket.id, ticket.due_at
    trk = tracker(conversation_id, text="你好", intent="greet", slots={"language": "zh-Hant"})
    _, messages, slots = run(ActionGreet(), trk)
    asked = messages[-1]
    assert asked["response"] == "utter_follow_up_overdue_question" and asked["ticket"] == ticket_id
    assert asked["deadline"] == deadline(due_at, "zh-Hant") and "月" in asked["deadline"]
    assert asked["problem"] and asked["resolution"]
    assert [(b["title"], b["payload"]) for b in asked["buttons"]] == [("是", "/affirm"), ("否", "/deny")]
    assert slots["flow_stage"] == "follow_up_asked"
    _, messages, result = run(
        ActionFollowUpAnswer(), tracker(conversation_id, text="冇", intent="deny", slots=slots)
    )
    assert responses(messages) == ["utter_follow_up_not_kept"] and result["follow_up_outcome"] == "not_kept"
    with session_scope(crm) as session:
        follow_up = session.get(FollowUp, slots["follow_up_id"])
        assert (follow_up.ticket_id, follow_up.status, follow_up.outcome) == (ticket_id, "done", "not_kept")
        assert session.get(Ticket, ticket_id).status == "in_progress"
    _, messages, _ = run(ActionGreet(), tracker(conversation_id, text="你好", intent="greet"))
    assert len(messages) == 1 and messages[0]["response"] in (
        "utter_greet",
        "utter_greet_named",
    )  # asked once


def test_a_follow_up_the_worker_sent_and_the_customer_answered_is_not_asked_again(new_chat, crm):
    """The gateway's worker sends the due follow-up into the chat and primes the bot's slots;
    the customer's "yes" there is recorded by action_follow_up_answer, so the next greeting
    does not ask about it again (a sent but unanswered one is still asked)."""
    from gateway.followups import FollowUpWorker
    from gateway.notifiers import LocalNotifier

    case = new_chat(verified=True, consent=True)
    ticket_id = _due_promise(crm, case, overdue=True)
    primed: list = []
    report = FollowUpWorker(
        crm, LocalNotifier(lambda sender, events: primed.append((sender, events)))
    ).run_once()
    with session_scope(crm) as session:
        follow_up_id = session.scalars(select(FollowUp.id).where(FollowUp.ticket_id == ticket_id)).one()
        assert session.get(FollowUp, follow_up_id).status == "sent"
    assert follow_up_id in report.sent
    [(sender, events)] = [p for p in primed if p[0] == str(case.conversation_id)]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"follow_up_id": follow_up_id, "flow_stage": "follow_up_asked"}

    # not answered yet: greeting the bot still asks (the bot re-primes the same follow-up)
    _, messages, asked = run(ActionGreet(), tracker(case.conversation_id, text="hi", intent="greet"))
    assert (
        responses(messages)[-1] == "utter_follow_up_overdue_question"
        and asked["follow_up_id"] == follow_up_id
    )

    # the customer answers the worker's message (the rule needs only the primed slots)
    trk = tracker(sender, text="/affirm", intent="affirm", slots=slots)
    _, messages, result = run(ActionFollowUpAnswer(), trk)
    assert responses(messages) == ["utter_follow_up_kept"] and result["follow_up_outcome"] == "kept"
    with session_scope(crm) as session:
        follow_up = session.get(FollowUp, follow_up_id)
        assert (follow_up.status, follow_up.outcome) == ("done", "kept")
    _, messages, slots = run(ActionGreet(), tracker(case.conversation_id, text="hi", intent="greet"))
    assert "utter_follow_up_question" not in responses(messages) and "flow_stage" not in slots


def csat_extract(trk):
    return asyncio.run(ValidateCsatForm().extract_csat_score(CollectingDispatcher(), trk, {}))


def test_csat_score_from_buttons_typed_text_or_unprompted_rating():
    asked = {"requested_slot": "csat_score"}
    assert csat_extract(
        tracker(
            "1",
            slots=asked,
            active_loop="csat_form",
            intent="give_feedback",
            entities=[entity("csat_score", "4")],
            text='/give_feedback{"csat_score":"4"}',
        )
    ) == {"csat_score": 4}
    assert csat_extract(
        tracker("1", slots=asked, active_loop="csat_form", text="五星", intent="nlu_fallback")
    ) == {"csat_score": 5}
    # Issue 17: a rating is a rating only when one was asked (a digit in a form is not one).
    assert csat_extract(tracker("1", text="2/5 too slow", intent="give_feedback")) == {}
    assert csat_extract(tracker("1", text="where is my order", intent="inquiry")) == {}


def test_csat_comment_is_optional():
    validate = ValidateCsatForm().validate_csat_comment
    skip = asyncio.run(validate("no", CollectingDispatcher(), tracker("1", text="no", intent="deny"), {}))
    assert skip == {"csat_comment": ""}
    said = asyncio.run(
        validate(
            "faster please",
            CollectingDispatcher(),
            tracker("1", text="faster please", intent="nlu_fallback"),
            {},
        )
    )
    assert said == {"csat_comment": "faster please"}


def test_csat_is_stored_once_per_chat(new_chat, crm):
    case = new_chat(verified=True, consent=True)
    for score, comment in ((2, "slow"), (4, "")):
        trk = tracker(case.conversation_id, slots={"csat_score": score, "csat_comment": comment})
        _, messages, slots = run(ActionCsatSave(), trk)
    assert responses(messages) == ["utter_feedback_thanks", "utter_goodbye"] and slots["csat_done"] is True
    with session_scope(crm) as session:
        rows = session.scalars(select(Feedback).where(Feedback.conversation_id == case.conversation_id)).all()
    assert [(r.csat, r.comment, r.customer_id) for r in rows] == [(4, None, case.customer_id)]


@dataclass
class FakeResult:
    decision: str
    hits: list = field(default_factory=list)

    @property
    def best(self):
        return self.hits[0] if self.hits else None


class FakeKB:
    def search(self, text, language):
        return FakeResult("fallback")


def test_two_failed_answers_in_a_row_hand_off(monkeypatch, new_chat):
    case = new_chat()
    monkeypatch.setattr(kb_answer, "kb_service", lambda: FakeKB())
    _, messages, slots = run(kb_answer.ActionAnswerFromKB(), tracker(case.conversation_id, text="blorf"))
    assert responses(messages) == ["utter_kb_not_sure"] and slots["failed_answers"] == 1
    assert "handoff_reason" not in slots
    trk = tracker(case.conversation_id, text="snarg", slots={"failed_answers": 1.0})
    _, messages, slots = run(kb_answer.ActionAnswerFromKB(), trk)
    assert responses(messages) == ["utter_handoff_failures"]
    assert slots["handoff_reason"] == "repeated_failures" and slots["failed_answers"] == 0
    assert slots["kb_decision"] == "fallback"


def test_a_clarification_button_answers_the_chosen_entry_from_the_real_index(monkeypatch, tmp_path):
    """Issue 17: the button names an entry; the action answers it (KBService.lookup was missing
    and a fake KB hid that)."""
    from kb.index import build_and_publish
    from kb.search import KBService
    from tests.kb.conftest import ENCODER, tiny_kb

    root = tmp_path / "kb"
    build_and_publish(tiny_kb(), ENCODER, root)
    monkeypatch.setattr(kb_answer, "kb_service", lambda: KBService(root, encoder_name=ENCODER))
    trk = tracker(
        "1",
        text='/inquiry{"kb_entry_id": "hours"}',
        intent="inquiry",
        entities=[entity("kb_entry_id", "hours")],
    )
    _, messages, slots = run(kb_answer.ActionAnswerFromKB(), trk)
    assert [m["text"] for m in messages] == ["9 to 18"]
    assert slots["kb_entry_id"] == "hours" and slots["kb_decision"] == "answer"


def test_where_is_my_order_is_answered_from_the_crm_for_an_identified_customer(new_chat, crm):
    from sqlalchemy import select

    from actions.orders import ActionOrderStatus
    from crm.db import session_scope
    from crm.models import Order

    case = new_chat(verified=True, consent=True)
    with session_scope(crm) as session:
        order = session.scalars(select(Order).where(Order.order_number == case.order_number)).one()
        order.status, order.carrier, order.tracking_number = "shipped", "SF Express", "SF0012345678"
        order.expected_at = order.placed_at + timedelta(days=3)
    trk = tracker(case.conversation_id, text=f"where is {case.order_number}?", intent="order_status")
    _, messages, _ = run(ActionOrderStatus(), trk)
    assert responses(messages) == ["utter_order_status"]
    line = messages[0]["orders"]
    assert case.order_number in line and "SF Express SF0012345678" in line and "expected" in line
    assert line.count("LM") == 1  # only the order asked about


def test_an_anonymous_visitor_gets_the_how_to_track_answer_not_an_orders_status(monkeypatch, new_chat):
    from actions.orders import ActionOrderStatus

    case = new_chat(verified=False)
    asked = []

    class KB:
        def search(self, text, language):
            asked.append(text)
            return FakeResult("fallback")

    monkeypatch.setattr(kb_answer, "kb_service", lambda: KB())
    _, messages, _ = run(
        ActionOrderStatus(),
        tracker(case.conversation_id, text=f"where is {case.order_number}", intent="order_status"),
    )
    assert asked and all(case.order_number not in (m.get("text") or "") for m in messages)


@pytest.mark.parametrize(
    "text,intent,kept",
    [
        ("yes, it finally arrived, thanks", "complaint", True),
        ("有，已經收到了，謝謝", "thanks", True),
        ("still nothing, this is ridiculous", "complaint", False),
        ("唔係，仲未到", "deny", False),
    ],
)
def test_the_follow_up_answer_is_read_from_words_first(new_chat, text, intent, kept):
    from actions.followup import ActionFollowUpAnswer

    case = new_chat()
    trk = tracker(case.conversation_id, text=text, intent=intent, slots={"flow_stage": "follow_up_asked"})
    _, _, slots = run(ActionFollowUpAnswer(), trk)
    assert slots["follow_up_outcome"] == ("kept" if kept else "not_kept")
