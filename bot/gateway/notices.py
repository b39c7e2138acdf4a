"""Gateway-generated texts shown to customers, in the three languages."""
from __future__ import annotations

_UNAVAILABLE = {
    "zh-Hant": "抱歉，客服系統暫時忙碌中，您的訊息已保存，請稍後再試一次。",
    "zh-Hans": "抱歉，客服系统暂时繁忙，您的消息已保存，请稍后再试。",
    "en": "Sorry, the assistant is temporarily unavailable. Your message has been saved; please try again in a moment.",
}


def unavailable_text(language: str | None) -> str:
    return _UNAVAILABLE.get(language or "en", _UNAVAILABLE["en"])

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
