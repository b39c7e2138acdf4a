"""What one customer message says about a complaint, read from any turn (pure functions).

Customers put everything in one message ("LM12345678 arrived broken, I want a refund"), add a
detail when asked something else, and answer in words. :func:`read_case` pulls every fact a
message holds; :func:`answer_for` reads it first as the answer to the question the bot asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from actions.parsing import (
    CATEGORY_KEYWORDS,
    first_match,
    order_number_from_text,
    outcome_from_text,
    wished_outcome,
)
from common.lang import CJK, fold
from common.yes_no import leading_yes_or_no, yes_or_no

NO_ORDER = "none"

# "I don't have one", "唔記得", "not about an order": said while the order number is asked.
_NO_ORDER_WORDS = (
    "no order",
    "not an order",
    "not about an order",
    "no order number",
    "don't have",
    "dont have",
    "do not have",
    "don't know",
    "dont know",
    "not sure",
    "can't find",
    "cant find",
    "cannot find",
    "forgot",
    "forget",
    "lost it",
    "no number",
    "didn't order",
    "did not order",
    "haven't ordered",
    "able to order",
    "couldn't order",
    "could not order",
    "can't order",
    "cannot order",
    "unable to order",
    "never ordered",
    "in store",
    "in the store",
    "at the store",
    "没有订单",
    "没订单",
    "无订单",
    "冇单",
    "冇订单",
    "没有单号",
    "冇单号",
    "无单号",
    "没单号",
    "不记得",
    "唔记得",
    "忘记",
    "忘了",
    "找不到",
    "搵唔到",
    "不知道",
    "唔知",
    "没有",
    "冇",
    "无",
    "不是订单",
    "唔系订单",
    "没下单",
    "冇落单",
    "门市",
    "门店",
)
# Generic complaint openers that tell nothing about what happened.
_OPENERS = re.compile(
    r"(i (would like|want|wanna|need|have|wish) to (make |file |lodge |raise )?(a )?complain(t)?( about (something|this|an order|my order))?"
    r"|i have a (complaint|problem|issue)|(this is )?(a )?complaint|complain(ing)?|hello|hi|hey|please|help"
    r"|我(要|想|想要)?(投诉|投訴|抱怨|反映|反应)(一下)?|投诉|有(个|一个|啲|些)?问题|你好|您好|哈啰|哈囉|唔该|请问|麻烦)",
)


@dataclass
class CaseFacts:
    """Everything one message says about a complaint; None where it says nothing."""

    order_number: str | None = None
    category: str | None = None
    categories: list[str] = field(default_factory=list)
    outcome: str | None = None
    story: bool = False
    yes_no: bool | None = None


def categories_in(text: str) -> list[str]:
    """Every complaint category whose words the text uses, in the table's order."""
    return [
        value
        for value, words in CATEGORY_KEYWORDS
        if value != "other" and first_match(text, [(value, words)]) == value
    ]


def tells_a_story(text: str, category: str | None) -> bool:
    """Whether the message already says what happened (so "what happened?" is not asked)."""
    folded = fold(text or "")
    content = re.sub(r"(?<![a-z0-9])lm[\s\-]*(?:\d[\s\-]*){8}", " ", folded)
    content = _OPENERS.sub(" ", content)
    content = re.sub(r"[\s\W_]+", " ", content).strip()
    if category is not None and len(content) >= 6:
        return True
    cjk = len(CJK.findall(content))
    return cjk >= 5 or (cjk == 0 and len(content) >= 12 and len(content.split()) >= 3)


_QUESTION = re.compile(
    r"[?？]\s*$|^(how|what|when|where|why|which|can|could|do|does|is|are|will|would)\b"
    r"|吗|嗎|呢|几时|幾時|多久|怎么|怎麼|点样|點樣|如何|可唔可以|有冇|有没有|是否"
)


_REQUEST = re.compile(
    r"\b(can|could|would|will) (you|i|u)\b|可以|可唔可以|能不能|能否|可否|帮我|帮忙|得唔得|可不可以"
)
_ASKS_FACT = re.compile(r"how long|how much|when|多久|几时|什么时候|幾時|几耐|幾耐|几多|多少")


def is_request(text: str) -> bool:
    """A question that asks for something ("can you repair it?", "可以幫我換嗎？"), not for a fact
    ("how long does a refund take?")."""
    folded = fold(text or "")
    return bool(_REQUEST.search(folded)) and not _ASKS_FACT.search(folded)


def is_question(text: str) -> bool:
    """A question rather than an answer ("how long does a refund take?")."""
    return bool(_QUESTION.search(fold(text or "").strip()))


def said_no_order(text: str) -> bool:
    folded = fold(text or "")
    if order_number_from_text(text):
        return False
    if yes_or_no(text) is False:
        return True
    return any(word in folded for word in _NO_ORDER_WORDS)


_EMAIL = re.compile(r"[^\s@<>()（）,，:：]+@[^\s@<>()（）,，]+\.[a-z]{2,}", re.IGNORECASE)
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def ownership_proof(text: str) -> tuple[str | None, str | None]:
    """(e-mail address, last four phone digits) a message gives; (None, None) for neither."""
    email = _EMAIL.search(text or "")
    if email:
        return email.group(0).rstrip(".。"), None
    digits = _LAST4.findall(text or "")
    return None, (digits[-1] if digits else None)


def read_case(text: str) -> CaseFacts:
    """Every complaint fact in one message, whatever was asked."""
    found = categories_in(text)
    category = found[0] if found else None
    return CaseFacts(
        order_number=order_number_from_text(text),
        category=category,
        categories=found,
        outcome=wished_outcome(text),
        story=tells_a_story(text, category),
        yes_no=yes_or_no(text),
    )


def answer_for(requested: str | None, text: str, intent: str | None) -> dict[str, Any]:
    """The message read as the answer to the bot's question ``requested``; {} if it is not one.

    A yes/no question takes yes and no in words first; an order-number question takes a
    number as the number and "I don't have one" as no order.
    """
    if requested == "complaint_confirmed":
        said = leading_yes_or_no(text)
        if said is None and intent in ("affirm", "deny"):
            said = intent == "affirm"
        return {} if said is None else {"complaint_confirmed": said}
    if requested == "order_number":
        number = order_number_from_text(text)
        if number:
            return {"order_number": number}
        if intent == "deny" or said_no_order(text):
            return {"order_number": NO_ORDER}
        if re.search(r"\d", text):  # a try at the number: validation explains the format
            return {"order_number": text}
        return {}
    if requested == "desired_outcome":
        outcome = outcome_from_text(text)
        return {"desired_outcome": outcome} if outcome else {}
    if requested == "complaint_category":
        found = categories_in(text)
        return {"complaint_category": found[0]} if found else {}
    return {}
