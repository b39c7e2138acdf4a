"""Gateway-generated texts shown to customers, in the three languages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

# Shown while Rasa or the action server is down; the gateway answers the message itself as
# soon as they are back (gateway/waiting.py), so the customer need not send it again.
_ONE_MOMENT = {
    "zh-Hant": "請稍候，智慧客服正在恢復中。您的訊息已保存，稍後會自動為您回覆，不需要重新發送。",
    "zh-Hans": "请稍候，智能客服正在恢复中。您的消息已保存，稍后会自动为您回复，无需重新发送。",
    "en": "One moment please: the assistant is catching up. Your message is saved and will be answered here shortly; no need to send it again.",
}


def one_moment_text(language: str | None) -> str:
    return _ONE_MOMENT.get(language or "en", _ONE_MOMENT["en"])


# Shown for a button click whose payload matches no button the bot offered in this chat.
_CHOSEN_OPTION = {"en": "(option chosen)", "zh-Hant": "（已選擇選項）", "zh-Hans": "（已选择选项）"}


def chosen_option_text(language: str | None) -> str:
    return _CHOSEN_OPTION.get(language or "en", _CHOSEN_OPTION["en"])


_QUEUE_BUSY = {
    "zh-Hant": "目前有太多來自您網路的對話正在等候專人，請稍後再請求轉接專人；小幫手會繼續為您服務。",
    "zh-Hans": "目前有太多来自您网络的对话正在等候人工客服，请稍后再请求转人工；小助手会继续为您服务。",
    "en": "Too many chats from your network are waiting for an agent right now. Please ask again a little later; "
    "the assistant will keep helping you meanwhile.",
}


def queue_busy_text(language: str | None) -> str:
    """Why a chat was not put in the agents' queue (the address's hand-over limit)."""
    return _QUEUE_BUSY.get(language or "en", _QUEUE_BUSY["en"])


_STATUS = {
    "agent": {
        "zh-Hant": "客服專員已加入對話。",
        "zh-Hans": "客服专员已加入对话。",
        "en": "An agent has joined the chat.",
    },
    "bot": {
        "zh-Hant": "您已回到智慧客服小幫手。",
        "zh-Hans": "您已回到智能客服小助手。",
        "en": "You're back with the assistant.",
    },
}


def status_notice(status: str) -> dict[str, str] | None:
    """The notice shown in the widget when a chat changes hands, in every language."""
    return _STATUS.get(status)


# The follow-up the gateway's worker sends when a promise falls due (gateway/followups.py).
# {problem} and {resolution} come from compensation_policy.yml labels, {deadline} is the ticket's
# promised time (recovery.labels.deadline, UTC+8 by the policy).
_FOLLOW_UP = {
    "zh-Hant": {
        "deadline": "您好，這裡是流明客服。關於您反映的{problem}（案件 #{ticket}），我們答應在{deadline}前為您安排{resolution}。請問問題已經解決了嗎？",
        "plain": "您好，這裡是流明客服。關於您反映的{problem}（案件 #{ticket}），我們答應為您安排{resolution}。請問問題已經解決了嗎？",
        "subject": "流明客服：您的問題解決了嗎？（案件 #{ticket}）",
    },
    "zh-Hans": {
        "deadline": "您好，这里是流明客服。关于您反馈的{problem}（工单 #{ticket}），我们答应在{deadline}前为您安排{resolution}。请问问题已经解决了吗？",
        "plain": "您好，这里是流明客服。关于您反馈的{problem}（工单 #{ticket}），我们答应为您安排{resolution}。请问问题已经解决了吗？",
        "subject": "流明客服：您的问题解决了吗？（工单 #{ticket}）",
    },
    "en": {
        "deadline": "Hello from Lumen support. About {problem} (ticket #{ticket}): we promised you {resolution} by {deadline}. Has the issue been resolved?",
        "plain": "Hello from Lumen support. About {problem} (ticket #{ticket}): we promised you {resolution}. Has the issue been resolved?",
        "subject": "Lumen support: has your issue been resolved? (ticket #{ticket})",
    },
}


def follow_up_language(language: str | None) -> str:
    return language if language in _FOLLOW_UP else "en"


def follow_up_text(
    language: str | None,
    *,
    ticket_id: int,
    resolution: str | None,
    category: str | None,
    deadline_at: datetime | None,
) -> dict[str, Any]:
    """The follow-up message in the customer's language: ``text`` (names the ticket and what was
    promised, asks whether the issue is resolved), an e-mail ``subject``, yes/no ``buttons``
    and ``times``: where the text shows the deadline, with the instant, so the widget can show it
    in the reader's own time zone
    whose payloads the bot understands (``/affirm``, ``/deny``). ``resolution`` and ``category``
    are what was promised (``FollowUp.promised_resolution``, ``FollowUp.complaint_category``)."""
    from recovery.labels import category_label, deadline, resolution_label, ui

    language = follow_up_language(language)
    texts = _FOLLOW_UP[language]
    values = {
        "ticket": ticket_id,
        "problem": category_label(category, language),
        "resolution": resolution_label(resolution, language),
    }
    times: list[dict[str, str]] = []
    if deadline_at is not None:
        shown = deadline(deadline_at, language)
        text = texts["deadline"].format(deadline=shown, **values)
        at = deadline_at if deadline_at.tzinfo else deadline_at.replace(tzinfo=timezone.utc)
        times.append({"text": shown, "at": at.isoformat()})
    else:
        text = texts["plain"].format(**values)
    return {
        "language": language,
        "text": text,
        "subject": texts["subject"].format(ticket=ticket_id),
        "times": times,
        "buttons": [
            {"title": ui("yes", language), "payload": "/affirm"},
            {"title": ui("no", language), "payload": "/deny"},
        ],
    }
