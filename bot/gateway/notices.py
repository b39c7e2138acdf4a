"""Gateway-generated texts shown to customers, in the three languages."""
from __future__ import annotations

_UNAVAILABLE = {
    "zh-Hant": "抱歉，客服系統暫時忙碌中，您的訊息已保存，請稍後再試一次。",
    "zh-Hans": "抱歉，客服系统暂时繁忙，您的消息已保存，请稍后再试。",
    "en": "Sorry, the assistant is temporarily unavailable. Your message has been saved; please try again in a moment.",
}


def unavailable_text(language: str | None) -> str:
    return _UNAVAILABLE.get(language or "en", _UNAVAILABLE["en"])
