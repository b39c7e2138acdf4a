"""Yes and no in words, in English, Simplified and Traditional Chinese and Cantonese.

A pure leaf used by the Rasa-side NLU component (a whole message that is only a yes or a no
becomes ``affirm`` / ``deny``) and by the actions (an answer to the bot's own yes/no question
is read as that answer first). Matching is on folded text (Simplified, lower case), so one
list serves both Chinese scripts.
"""

from __future__ import annotations

import re

from common.lang import fold

_YES = (
    "yes",
    "yes please",
    "yeah",
    "yea",
    "yep",
    "yup",
    "y",
    "ok",
    "okay",
    "okey",
    "k",
    "sure",
    "sure thing",
    "of course",
    "correct",
    "right",
    "that's right",
    "thats right",
    "that is right",
    "that's correct",
    "that is correct",
    "exactly",
    "absolutely",
    "definitely",
    "fine",
    "alright",
    "all right",
    "go ahead",
    "sounds good",
    "good",
    "great",
    "perfect",
    "please do",
    "please",
    "yes that's right",
    "yes correct",
    "yes it is",
    "it is",
    "agreed",
    "deal",
    "sure why not",
    "why not",
    "no problem",
    "ok sure",
    "ok then",
    "yes thanks",
    "yes thank you",
    "ok thanks",
    "ok thank you",
    "that works",
    "works for me",
    "accept",
    "i accept",
    "i agree",
    "confirm",
    "confirmed",
    "looks good",
    "all good",
    "👍",
    "好",
    "好的",
    "好啊",
    "好呀",
    "好吧",
    "好喔",
    "好哦",
    "可以",
    "可以啊",
    "可以的",
    "行",
    "行啊",
    "嗯",
    "嗯嗯",
    "对",
    "对的",
    "对啊",
    "是",
    "是的",
    "是啊",
    "没错",
    "没有错",
    "没问题",
    "冇问题",
    "无问题",
    "系",
    "系呀",
    "系啊",
    "系啦",
    "啱",
    "啱啊",
    "啱呀",
    "啱晒",
    "正确",
    "确认",
    "同意",
    "接受",
    "ok呀",
    "ok啊",
    "ok啦",
    "得",
    "得啦",
    "得呀",
    "好啦",
    "当然",
    "麻烦你",
    "麻烦晒",
    "唔该",
    "要",
    "要啊",
    "要的",
    "需要",
    "对呀",
    "就这样",
    "就咁",
    "就咁啦",
    "冇错",
    "无错",
    "好的谢谢",
    "好的，谢谢",
    "可以谢谢",
    "收到",
    "有",
    "有呀",
    "有啊",
    "有的",
    "做到了",
    "做到",
    "搞掂",
    "搞掂咗",
    "解决了",
    "已解决",
    "处理好了",
)
_NO = (
    "no",
    "nope",
    "nah",
    "n",
    "no thanks",
    "no thank you",
    "no, thanks",
    "not really",
    "not now",
    "wrong",
    "incorrect",
    "that's wrong",
    "thats wrong",
    "that is wrong",
    "not correct",
    "that's not right",
    "thats not right",
    "that is not right",
    "not right",
    "no it isn't",
    "no it's not",
    "no that's wrong",
    "don't",
    "do not",
    "no need",
    "not needed",
    "nothing",
    "nothing else",
    "no that's all",
    "that's all",
    "thats all",
    "that is all",
    "i'm good",
    "im good",
    "all set",
    "never",
    "decline",
    "no way",
    "negative",
    "👎",
    "不",
    "不是",
    "不是的",
    "不对",
    "不用",
    "不用了",
    "不需要",
    "不要",
    "不要了",
    "不行",
    "不可以",
    "没有",
    "没有了",
    "没了",
    "错",
    "错了",
    "不正确",
    "唔系",
    "唔系呀",
    "唔系啊",
    "唔啱",
    "唔对",
    "唔使",
    "唔使喇",
    "唔使啦",
    "唔使了",
    "唔要",
    "唔好",
    "唔需要",
    "冇",
    "冇啦",
    "冇喇",
    "冇了",
    "算了",
    "算啦",
    "不用谢",
    "不必",
    "免了",
    "就这些",
    "没别的",
    "没有别的",
    "冇其他",
    "冇其他嘢",
    "唔该唔使",
    "不了",
)
_PARTICLES = (
    r"(?:啊|呀|啦|喇|吧|喔|哦|噢|嘛|咯|囉|罗|了|咗|晒|嘅|la|lah|ah|ya|thanks|thank you|谢谢|多谢|唔该)*"
)
_TRIM = re.compile(r"^[\s,.!?~。，！？、…:;：；\"'()（）]+|[\s,.!?~。，！？、…:;：；\"'()（）]+$")


def _norm(text: str) -> str:
    folded = fold(text or "").strip()
    folded = _TRIM.sub("", folded)
    return re.sub(r"\s+", " ", folded)


def _strip_particles(text: str) -> str:
    return re.sub(rf"(?:[\s,，]*{_PARTICLES})+$", "", text).strip(" ,，") or text


_YES_SET = frozenset(_norm(w) for w in _YES)
_NO_SET = frozenset(_norm(w) for w in _NO)


def yes_or_no(text: str) -> bool | None:
    """True for a message that is only a yes, False for only a no, None otherwise.

    "ok thanks", "係呀", "冇問題" and "no thank you" count; "yes but the order is wrong" does not
    (see :func:`leading_yes_or_no` for a yes or no that opens a longer message).
    """
    norm = _norm(text)
    if not norm or len(norm) > 40:
        return None
    for splitter in (r"[,，.。!！、~]+", r"[,，.。!！、~\s]+"):  # clauses, then words ("ok 冇問題")
        parts = [p.strip() for p in re.split(splitter, norm)]
        answers = {_one(p) for p in parts if p and not re.fullmatch(_PARTICLES, p)}
        if len(answers) == 1 and None not in answers:
            return answers.pop()
    return None


def _one(part: str) -> bool | None:
    part = part.strip()
    for candidate in (part, _strip_particles(part)):
        if candidate in _YES_SET:
            return True
        if candidate in _NO_SET:
            return False
    return None


def leading_yes_or_no(text: str) -> bool | None:
    """A yes or no that opens a longer message: "no, the order number is LM…" -> False."""
    norm = _norm(text)
    whole = yes_or_no(norm)
    if whole is not None:
        return whole
    head = re.split(r"[,，.。!！;；]|\s(?:but|the|it|its|it's|i|my)\s|但|不过|可是", norm, maxsplit=1)[
        0
    ].strip()
    if head and head != norm:
        return yes_or_no(head)
    return None
