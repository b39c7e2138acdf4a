"""The conversation benchmark's harness without the stack: loading, what is asked, how the
scripted customer answers, the policy checks and the locked split."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.convsim import split
from bench.convsim.checks import allowed_offer_types
from bench.convsim.customer import Customer
from bench.convsim.driver import asked_from
from bench.convsim.loader import Conversation, ConversationError, load_file, load_set
from bench.convsim.world import Context

CTX = Context(
    customer_ref="BENCH-x",
    customer_id=7,
    orders=[("LM11112222", 1), ("LM33334444", 2)],
    wrong_order="LM99990000",
)


def conv(**over) -> Conversation:
    base = dict(
        id="t-1",
        language="en",
        tags=["all_in_first"],
        opening=["broken, order {order}"],
        facts={},
        goal={"ticket": {"category": "product"}},
    )
    base.update(over)
    return Conversation(**base)


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_every_stored_conversation_loads_and_the_sets_are_large_enough():
    dev, locked = load_set("dev"), load_set("locked")
    everything = dev + locked
    assert len(everything) >= 150 and not {c.id for c in dev} & {c.id for c in locked}
    for language in ("en", "zh-Hans", "zh-Hant"):
        assert sum(c.language == language for c in everything) >= 40
    assert {"yue", "mixed"} <= {c.language for c in everything}
    assert abs(len(locked) - len(everything) / 3) <= 3


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"facts": {"yes": "sure"}}, "unknown facts keys"),
        ({"goal": {}}, "at least one goal"),
        ({"language": "fr"}, "language must be"),
        ({"goal": {"tickets": 1}}, "unknown goal keys"),
    ],
)
def test_malformed_conversations_are_refused_with_the_reason(tmp_path, bad, message):
    raw = {"id": "x", "language": "en", "tags": ["faq"], "opening": "hi", "goal": {"csat": 4}, **bad}
    with pytest.raises(ConversationError, match=message):
        load_file(write(tmp_path, [raw]))


def test_asked_from_reads_loop_slot_stage_and_clarification_buttons():
    form = {"active_loop": {"name": "complaint_form"}, "slots": {"requested_slot": "order_number"}}
    assert asked_from(form, []) == "form:order_number"
    assert asked_from({"slots": {"flow_stage": "compensation_offered"}}, []) == "stage:compensation_offered"
    assert asked_from({"slots": {"flow_stage": "wrapped_up", "csat_done": True}}, []) is None
    assert (
        asked_from({"slots": {}}, [{"payload": '/inquiry{"kb_entry_id": "returns-policy"}'}]) == "kb:clarify"
    )
    assert asked_from({"slots": {}}, []) is None


def test_customer_sends_openings_then_a_wrong_number_then_the_right_one_in_words():
    customer = Customer(conv(facts={"wrong_order": "{wrong_order}", "order_text": "it's {number}"}), CTX)
    assert customer.next_message(None, {}, []) == "broken, order LM11112222"
    assert customer.next_message("form:order_number", {}, []) == "LM99990000"
    assert customer.next_message("form:order_number", {}, []) == "it's LM11112222"


def test_no_order_is_said_in_words_unless_the_customer_clicks():
    facts = {"order": "none", "no_order": "I don't have one"}
    words = Customer(conv(opening=["hi"], facts=facts), CTX)
    words.pending.clear()
    assert words.next_message("form:order_number", {}, [{"payload": "/deny"}]) == "I don't have one"
    clicks = Customer(conv(opening=["hi"], facts={**facts, "clicks": True}), CTX)
    clicks.pending.clear()
    assert clicks.next_message("form:order_number", {}, [{"payload": "/deny"}]) == "/deny"


def test_summary_with_a_wrong_field_is_denied_and_that_field_named():
    customer = Customer(conv(facts={"category": "damaged_defective", "outcome": "refund"}), CTX)
    customer.pending.clear()
    wrong = {"complaint_category": "billing_error", "order_number": "LM11112222", "desired_outcome": "refund"}
    assert customer.next_message("form:complaint_confirmed", wrong, []) == "no, that's not right"
    assert customer.next_message("form:correction_field", wrong, []) == "the problem type"
    right = {**wrong, "complaint_category": "damaged_defective"}
    assert customer.next_message("form:complaint_confirmed", right, []) == "yes that's right"


def test_compensation_pick_falls_back_to_the_first_offer_and_is_remembered():
    buttons = [{"payload": '/choose_option{"compensation_choice": "coupon"}'}, {"payload": "/deny"}]
    customer = Customer(conv(facts={"compensation": "points"}), CTX)
    customer.pending.clear()
    assert customer.next_message("stage:compensation_offered", {}, buttons) == buttons[0]["payload"]
    assert customer.picked_offer == "coupon"


def test_a_digression_is_said_once_when_its_question_comes():
    facts = {
        "interject": {"at": "form:desired_outcome", "text": "how long does a refund take?"},
        "outcome_words": "a refund",
    }
    customer = Customer(conv(facts=facts), CTX)
    customer.pending.clear()
    assert customer.next_message("form:desired_outcome", {}, []) == "how long does a refund take?"
    assert customer.next_message("form:desired_outcome", {}, []) == "a refund"


def test_the_customer_closes_once_then_stops():
    customer = Customer(conv(language="yue"), CTX)
    customer.pending.clear()
    assert customer.next_message(None, {}, []) == "唔該晒，拜拜"
    assert customer.next_message(None, {}, []) is None


def test_policy_offer_types_per_ticket_category():
    assert "expedited_replacement" in allowed_offer_types("product")
    assert allowed_offer_types("complaint") == {"points", "coupon"}
    assert "partial_refund" not in allowed_offer_types("payment")


def test_split_locks_a_third_of_each_language_and_removes_the_sources(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    items = [
        {
            "id": f"c{i}",
            "language": "en",
            "tags": ["faq" if i % 2 else "angry"],
            "opening": "hi",
            "goal": {"csat": 4},
        }
        for i in range(12)
    ]
    (source / "en.yml").write_text(yaml.safe_dump(items, sort_keys=False), encoding="utf-8")
    counts = split.split(source, seed=1, root=tmp_path)
    assert counts == {"en": (8, 4)}
    locked = load_file(tmp_path / "locked" / "en.yml")
    assert sum(c.tags[0] == "faq" for c in locked) == 2
    assert {c.id for c in locked} | {c.id for c in load_file(tmp_path / "dev" / "en.yml")} == {
        f"c{i}" for i in range(12)
    }
    assert not (source / "en.yml").exists()
