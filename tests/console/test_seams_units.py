"""Server halves of issue 22's fixes: agent-ready suggestions, the chat language after payloads,
misrouted questions in the trainer inbox, chats handed back to the bot, follow-up times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crm.db import session_scope
from crm.models import Message
from crm.repo import conversations as conv
from crm.repo.kb import record_unanswered
from gateway.chat import message_language
from gateway.console import agent_service, inbox
from gateway.console.agent_text import for_agent, sentences

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "answer, dropped, kept",
    [
        (
            "Type 'agent' in this chat at any time to be transferred. You can also call 0800-123-456.",
            "Type 'agent'",
            "You can call 0800-123-456.",
        ),
        (
            "您隨時可以在對話中輸入「真人客服」轉接客服人員。也可以撥打客服專線0800-123-456。",
            "輸入「",
            "您可以撥打客服專線0800-123-456。",
        ),
        (
            "您随时可以在对话中输入“人工客服”转接客服人员。也可以拨打客服热线。",
            "输入“",
            "您可以拨打客服热线。",
        ),
    ],
)
def test_suggestions_lose_the_bot_instructions(answer, dropped, kept):
    assert "".join(sentences(answer)) == answer
    agent = for_agent(answer)
    assert dropped not in agent and agent == kept


def test_answers_without_bot_instructions_are_untouched():
    text = "Returns are free within 7 days. See https://lumen.example/returns. Thanks!"
    assert for_agent(text) == text


@pytest.mark.parametrize(
    "text, current, expected",
    [
        ('/choose_option{"complaint_category": "late_delivery"}', "zh-Hant", "zh-Hant"),
        ("/request_human", "zh-Hans", "zh-Hans"),
        ("OK", "zh-Hant", "zh-Hant"),
        ("LM20240512", "zh-Hans", "zh-Hans"),
        ("Can someone help me in English?", "zh-Hant", "en"),
        ("退货要多久", "en", "zh-Hans"),
        ("hello there", None, "en"),
    ],
)
def test_payloads_and_stray_latin_do_not_switch_the_chat_language(text, current, expected):
    assert message_language(text, current) == expected


def _chat(session, token, messages):
    conversation = conv.create_conversation(session, token=token, language="zh-Hant")
    for n, (direction, text, intent, entry) in enumerate(messages):
        conv.add_message(
            session,
            conversation_id=conversation.id,
            client_id=f"{token}-{n}",
            direction=direction,
            text=text,
            language="zh-Hant",
            intent=intent,
            kb_entry_id=entry,
            kb_score=0.8 if entry else None,
            created_at=T0 + timedelta(seconds=30 * n),
        )
    return conversation.id


def test_inbox_adds_misrouted_questions_once_with_their_reason(factory):
    with session_scope(factory) as session:
        _chat(
            session,
            "rejected",
            [
                ("customer", "退貨期限是幾天？", "inquiry", "returns-policy"),
                ("bot", "7天", "inquiry", "returns-policy"),
                ("customer", "不對，這不是我要問的", "deny", None),
            ],
        )
        _chat(
            session,
            "person",
            [
                ("customer", "保固多久", "inquiry", "warranty"),
                ("customer", "/request_human", "request_human", None),
            ],
        )
        _chat(
            session,
            "rephrased",
            [
                ("customer", "運費多少", "inquiry", "shipping-fees"),
                ("customer", "寄送要付錢嗎", "inquiry", "shipping-fees"),
            ],
        )
        _chat(session, "nothing", [("customer", "今天天氣如何", "out_of_scope", None)])
        _chat(
            session,
            "happy",
            [
                ("customer", "付款方式有哪些", "inquiry", "payment-methods"),
                ("customer", "謝謝", "thanks", None),
            ],
        )
        record_unanswered(session, text="禮品包裝", language="zh-Hant", best_score=0.2)
        clarified = _chat(
            session,
            "clarify",
            [
                ("customer", "退換", "inquiry", "returns-policy"),  # the KB asked which one
                ("customer", '/inquiry{"kb_entry_id": "returns-policy"}', "inquiry", "returns-policy"),
            ],
        )
        first = session.scalars(
            select(Message).where(Message.conversation_id == clarified).order_by(Message.id)
        ).first()
        record_unanswered(
            session,
            text="退換",
            language="zh-Hant",
            best_score=0.5,
            conversation_id=clarified,
            message_id=first.id,
        )
    suggest = lambda text, language: "gift-entry"  # noqa: E731
    result = inbox.inbox(factory, None, suggest, now=T0 + timedelta(hours=1))
    by_text = {g["representative"]: g for g in result["groups"]}
    assert by_text["退貨期限是幾天？"]["reasons"] == ["rejected"]
    assert by_text["退貨期限是幾天？"]["best_entry_id"] == "returns-policy"  # the entry it was wrongly given
    assert by_text["保固多久"]["reasons"] == ["asked_for_person"]
    assert by_text["運費多少"]["reasons"] == ["rephrased"]
    assert by_text["今天天氣如何"]["reasons"] == ["no_answer"]
    assert by_text["禮品包裝"]["reasons"] == ["unanswered"]
    assert by_text["禮品包裝"]["best_entry_id"] == "gift-entry"  # the KB's closest, not the first entry
    assert by_text["退換"]["reasons"] == ["unanswered"]  # a clarification the customer answered with a button
    assert "付款方式有哪些" not in by_text and "寄送要付錢嗎" not in by_text
    again = inbox.inbox(factory, None, suggest, now=T0 + timedelta(hours=1))
    assert again["total"] == result["total"] == 6  # swept once per message


def test_chats_handed_back_stay_in_the_queue_for_a_day(factory):
    with session_scope(factory) as session:
        cid = _chat(session, "back", [("customer", "我要找真人客服", "request_human", None)])
        conv.set_conversation_status(session, cid, "waiting_agent", handoff_reason="explicit_request")
        conv.set_conversation_status(session, cid, "bot")
    items = agent_service.ranked_queue(factory)
    assert [(i["id"], i["status"]) for i in items] == [(cid, "bot")]
    assert agent_service.ranked_queue(factory, now=datetime.now(timezone.utc) + timedelta(days=2)) == []


def test_queue_preview_skips_the_handoff_record(factory):
    with session_scope(factory) as session:
        cid = _chat(
            session,
            "preview",
            [
                ("customer", "我要找真人客服", "request_human", None),
                ("bot", "好的，正在為您轉接。", None, None),
            ],
        )
        conv.add_message(
            session,
            conversation_id=cid,
            client_id="preview-handoff",
            direction="system",
            text="",
            payload={"handoff": {"reason": "explicit_request", "summary": {}}},
            created_at=T0 + timedelta(minutes=5),
        )
        conv.set_conversation_status(session, cid, "waiting_agent", handoff_reason="explicit_request")
    [item] = agent_service.ranked_queue(factory)
    assert (
        item["last_message"]["direction"] == "bot" and item["last_message"]["text"] == "好的，正在為您轉接。"
    )


def test_follow_up_text_marks_its_deadline():
    from gateway.notices import follow_up_text

    due = datetime(2031, 1, 17, 10, 0, tzinfo=timezone.utc)
    message = follow_up_text("zh-Hant", ticket_id=3, resolution=None, category=None, deadline_at=due)
    [mark] = message["times"]
    assert mark["text"] in message["text"] and datetime.fromisoformat(mark["at"]) == due
    assert follow_up_text("en", ticket_id=3, resolution=None, category=None, deadline_at=None)["times"] == []
