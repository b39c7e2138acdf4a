"""Frustration and severity cues in a customer's message (pure functions, trilingual).

The project's one frustration scorer and its one set of thresholds: the actions score a complaint
with it (and hand off at :func:`handoff_threshold`), and the gateway scores every customer message
with it, including those sent while an agent holds the chat, for the record
(``messages.frustration``) and the queue's priority (``recovery.priority``, through
:func:`message_level`). Imports :mod:`common.lang` and the policy file's threshold only.

Text is folded first (:func:`common.lang.fold`: Traditional -> Simplified, lower case, full-width
-> ASCII), so every word list below is written once, in Simplified Chinese and English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.lang import fold
from recovery.policy import load_policy

#: A score at which a message counts as upset: one level of queue priority (:func:`message_level`).
UPSET = 0.3
#: A score at which a complaint is at least of ``high`` severity (:func:`estimate_severity`).
SEVERE = 0.5

# Strong negative words and insults (folded forms). Mild words ("slow", "disappointed") are
# left out on purpose: they describe the problem rather than the customer's temper.
STRONG_NEGATIVE = (
    "ridiculous",
    "terrible",
    "awful",
    "worst",
    "useless",
    "unacceptable",
    "disgusting",
    "pathetic",
    "furious",
    "angry",
    "fed up",
    "sick of",
    "scam",
    "wtf",
    "damn",
    "hell",
    "shit",
    "fuck",
    "crap",
    "rubbish",
    "garbage",
    "incompetent",
    "joke",
    "outrageous",
    "气死",
    "烂透",
    "太烂",
    "好烂",
    "很烂",
    "垃圾",
    "离谱",
    "夸张",
    "太扯",
    "搞什么",
    "受够",
    "无语",
    "骗子",
    "坑人",
    "愤怒",
    "生气",
    "火大",
    "不能接受",
    "忍无可忍",
    "过分",
    "嬲",
    "顶唔顺",
    "什么鬼",
    "他妈",
    "靠北",
    "混蛋",
    "废物",
    "恶心",
    "投诉你们",
    "搞乜",
    "痴线",
    "可恶",
)
AGAIN = (
    "again",
    "second time",
    "third time",
    "2nd time",
    "3rd time",
    "still not",
    "yet again",
    "又",
    "第二次",
    "第三次",
    "再次",
    "多次",
    "几次",
    "每次",
    "仍然",
    "还是没",
)
SAFETY = (
    "fire",
    "smoke",
    "burn",
    "explod",
    "shock",
    "spark",
    "melt",
    "injur",
    "hurt",
    "起火",
    "冒烟",
    "烧焦",
    "爆炸",
    "触电",
    "烫伤",
    "着火",
    "漏电",
    "受伤",
    "火花",
    "融化",
    "冒火",
)
LONG_WAIT = ("week", "month", "weeks", "months", "周", "礼拜", "星期", "个月", "一个月", "成个月")
MINOR = (
    "minor",
    "small",
    "slight",
    "a bit",
    "a little",
    "tiny",
    "not a big deal",
    "有点",
    "小小",
    "轻微",
    "一点点",
    "少少",
    "不严重",
    "小问题",
)

SEVERITY_ORDER = ("low", "medium", "high", "critical")
_WORDS = re.compile(r"[A-Za-z]+")
_ORDER = re.compile(r"LM\d+", re.IGNORECASE)


@dataclass
class Frustration:
    score: float
    cues: list[str] = field(default_factory=list)


def _hits(folded: str, words: tuple[str, ...], *, stems: bool = False) -> list[str]:
    """Words of ``words`` in ``folded``; English ones as whole words (or word starts)."""
    found = []
    for word in words:
        if word.isascii():
            end = "" if stems else "(?![a-z])"
            if re.search(rf"(?<![a-z]){re.escape(word)}{end}", folded):
                found.append(word)
        elif word in folded:
            found.append(word)
    return found


def is_shouting(text: str) -> bool:
    """Mostly capital Latin letters over at least two real words (order numbers ignored)."""
    words = [w for w in _WORDS.findall(_ORDER.sub(" ", text)) if len(w) >= 2]
    letters = "".join(words)
    if len(words) < 2 or len(letters) < 6:
        return False
    upper = sum(1 for ch in letters if ch.isupper())
    return upper / len(letters) >= 0.7


def frustration_score(text: str, *, previous_complaints: int = 0, failed_answers: int = 0) -> Frustration:
    """A score in [0, 1]; ``compensation_policy.yml: frustration_threshold`` (0.7) hands off.

    Cues and weights: each distinct strong negative word 0.3 (at most 0.6); shouting in capitals
    0.35; exclamation marks 2 -> 0.15, 3-4 -> 0.25, 5+ -> 0.35; "again / 又 / 第三次" 0.15;
    each earlier complaint in this conversation 0.4; each failed answer in a row 0.1.
    One cue alone never hands off; a second complaint with any other cue does.
    """
    folded = fold(text or "")
    cues: list[str] = []
    score = 0.0
    negative = _hits(folded, STRONG_NEGATIVE)
    if negative:
        score += min(0.6, 0.3 * len(negative))
        cues.append("negative_words:" + ",".join(negative[:3]))
    if is_shouting(text or ""):
        score += 0.35
        cues.append("shouting")
    bangs = folded.count("!")
    if bangs >= 2:
        score += 0.15 if bangs == 2 else 0.25 if bangs < 5 else 0.35
        cues.append(f"exclamations:{bangs}")
    if _hits(folded, AGAIN):
        score += 0.15
        cues.append("again")
    if previous_complaints > 0:
        score += 0.4 * previous_complaints
        cues.append(f"repeated_complaint:{previous_complaints}")
    if failed_answers > 0:
        score += 0.1 * failed_answers
        cues.append(f"failed_answers:{failed_answers}")
    return Frustration(round(min(1.0, score), 2), cues)


def handoff_threshold() -> float:
    """``compensation_policy.yml: frustration_threshold`` (0.7): a complaint scoring this much goes
    to a person, and a message scoring this much is worth two levels of queue priority."""
    return float(load_policy()["frustration_threshold"])


def hands_off(score: float) -> bool:
    """Whether a complaint's frustration ``score`` sends the chat to a person."""
    return score >= handoff_threshold()


def message_level(score: float) -> int:
    """0 (calm), 1 (upset: :data:`UPSET`) or 2 (furious: :func:`handoff_threshold`)."""
    return 2 if score >= handoff_threshold() else 1 if score >= UPSET else 0


def estimate_severity(text: str, *, frustration: float = 0.0, order_value_twd: float | None = None) -> str:
    """``low`` / ``medium`` / ``high`` / ``critical`` from the customer's own words.

    Safety cues (fire, smoke, shock...) are critical. Repeat problems, long waits or strong
    frustration (:data:`SEVERE`) make it high. "Minor / 有點" makes it low, unless the order is expensive.
    """
    folded = fold(text or "")
    if _hits(folded, SAFETY, stems=True):
        return "critical"
    if _hits(folded, AGAIN) or _hits(folded, LONG_WAIT) or frustration >= SEVERE:
        return "high"
    if _hits(folded, MINOR) and not (order_value_twd and order_value_twd >= 15000):
        return "low"
    return "medium"
