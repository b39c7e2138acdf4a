"""Reading what a customer already said (issue 17): yes and no in words, case facts from any
message, answers read in the context of the bot's question."""

from __future__ import annotations

import pytest

from actions.understanding import answer_for, read_case, said_no_order
from common.yes_no import leading_yes_or_no, yes_or_no


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Sure!",
        "ok thanks",
        "yes that's right",
        "好",
        "好的",
        "可以",
        "行",
        "嗯",
        "對",
        "係",
        "係呀",
        "冇問題",
        "没错",
        "沒錯",
        "是的，沒錯",
        "好，麻煩你",
        "得",
    ],
)
def test_yes_in_words(text):
    assert yes_or_no(text) is True


@pytest.mark.parametrize(
    "text", ["no", "no thanks", "nope", "不用了，謝謝", "唔使喇", "唔係", "不對", "不是", "冇", "算了"]
)
def test_no_in_words(text):
    assert yes_or_no(text) is False


@pytest.mark.parametrize("text", ["5", "I want a refund", "the earbuds are broken", "thanks", "我要投訴"])
def test_other_messages_are_neither(text):
    assert yes_or_no(text) is None


def test_a_yes_or_no_that_opens_a_longer_message():
    assert leading_yes_or_no("No, the order is LM12345678") is False
    assert leading_yes_or_no("yes but hurry") is True


def test_everything_in_the_first_message():
    facts = read_case("我張單 LM12345678 送咗三個禮拜都未到，我要退錢")
    assert (facts.order_number, facts.category, facts.outcome, facts.story) == (
        "LM12345678",
        "late_delivery",
        "refund",
        True,
    )
    assert read_case("I want to make a complaint").story is False
    assert read_case("my repair has taken 3 weeks").outcome is None  # mentioned, not asked for


@pytest.mark.parametrize(
    "text,category",
    [
        ("The earbuds I received are broken", "damaged_defective"),
        ("My order arrived broken", "damaged_defective"),
        ("they sent me the wrong colour", "wrong_missing_item"),
        ("I was charged twice", "billing_error"),
        ("The courier was rude to me", "staff_attitude"),
        ("店員態度好差", "staff_attitude"),
        ("收到的耳机坏了", "damaged_defective"),
        ("包裹等咗好耐都未到", "late_delivery"),
    ],
)
def test_categories_in_three_languages(text, category):
    assert read_case(text).categories == [category]


def test_answers_read_in_the_context_of_the_question():
    assert answer_for("complaint_confirmed", "係呀", "thanks") == {"complaint_confirmed": True}
    assert answer_for("order_number", "12345678", "give_feedback") == {"order_number": "LM12345678"}
    assert answer_for("order_number", "唔記得", "out_of_scope") == {"order_number": "none"}
    assert answer_for("order_number", "5", "give_feedback") == {"order_number": "5"}
    assert answer_for("desired_outcome", "just give me my money back", None) == {"desired_outcome": "refund"}
    assert said_no_order("I don't have one") and not said_no_order("LM12345678")


def test_ownership_proof_is_read_from_words():
    from actions.understanding import ownership_proof

    assert ownership_proof("it's Jo.Chan@Example.com.") == ("Jo.Chan@Example.com", None)
    assert ownership_proof("我的 Email 是 a@b.hk") == ("a@b.hk", None)
    assert ownership_proof("last four are 9534") == (None, "9534")
    assert ownership_proof("I'd like a refund") == (None, None)


def test_a_request_is_told_from_a_question_about_a_fact():
    from actions.understanding import is_question, is_request

    assert is_request("can you repair it?") and is_request("可以幫我換一部新的嗎？")
    assert not is_request("先问一下，信用卡退款要多久到账？") and is_question(
        "先问一下，信用卡退款要多久到账？"
    )
    assert not is_request("how long does a refund to a credit card take?")
