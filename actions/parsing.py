"""Reading form answers typed in free text (pure functions, trilingual, on folded text)."""

from __future__ import annotations

import re

from common.lang import CJK, fold

# Folded (Simplified, lower-case) keywords -> complaint category. First match wins, so the
# more specific categories come first.
CATEGORY_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "staff_attitude",
        (
            "rude",
            "attitude",
            "impolite",
            "unfriendly",
            "hung up",
            "unprofessional",
            "ignored me",
            "shouted",
            "yelled",
            "arrogant",
            "disrespectful",
            "态度",
            "没礼貌",
            "冇礼貌",
            "不理人",
            "唔理人",
            "挂我电话",
            "挂电话",
            "好串",
            "很凶",
            "好恶",
            "黑面",
            "骂我",
            "不耐烦",
            "唔耐烦",
        ),
    ),
    (
        "repair_delay",
        (
            "repair",
            "repaired",
            "fixing",
            "service centre",
            "service center",
            "维修",
            "送修",
            "修理",
            "维修单",
            "拎去整",
            "送去整",
            "整咗",
            "整极",
            "修了",
            "修好",
        ),
    ),
    (
        "billing_error",
        (
            "charge",
            "charged",
            "overcharged",
            "billing",
            "bill",
            "invoice",
            "payment",
            "refund not",
            "charged twice",
            "paid twice",
            "double charged",
            "double charge",
            "扣款",
            "扣钱",
            "扣了",
            "扣咗",
            "扣多",
            "多扣",
            "帐单",
            "账单",
            "收费",
            "多收",
            "收多",
            "付款",
            "发票",
            "金额",
            "重复扣",
            "碌卡",
            "卡数",
            "收两次",
            "扣两次",
        ),
    ),
    (
        "wrong_missing_item",
        (
            "wrong item",
            "wrong colour",
            "wrong color",
            "wrong model",
            "wrong size",
            "wrong one",
            "wrong product",
            "missing",
            "not what i ordered",
            "incomplete",
            "not included",
            "寄错",
            "发错",
            "送错",
            "少了",
            "缺件",
            "漏寄",
            "少寄",
            "不是我买的",
            "不是我订的",
            "错的",
            "少咗",
            "唔齐",
            "缺少",
            "漏咗",
            "唔系我买",
            "唔系我订",
            "颜色不对",
            "型号不对",
        ),
    ),
    (
        "damaged_defective",
        (
            "broken",
            "broke",
            "damaged",
            "defective",
            "faulty",
            "cracked",
            "scratched",
            "scratch",
            "dented",
            "smashed",
            "shattered",
            "not working",
            "stopped working",
            "doesn't work",
            "does not work",
            "won't turn on",
            "wont turn on",
            "doesn't turn on",
            "won't charge",
            "dead",
            "doa",
            "malfunction",
            "坏",
            "破",
            "裂",
            "刮痕",
            "故障",
            "瑕疵",
            "不能用",
            "开不了机",
            "没声音",
            "失灵",
            "坏点",
            "压烂",
            "烂",
            "唔work",
            "开唔到",
            "冇声",
            "花屏",
            "碎",
            "用唔到",
            "充唔到电",
            "充不了电",
            "死机",
        ),
    ),
    (
        "late_delivery",
        (
            "late",
            "delay",
            "delayed",
            "not arrived",
            "hasn't arrived",
            "has not arrived",
            "never arrived",
            "never came",
            "hasn't come",
            "has not come",
            "didn't come",
            "still not here",
            "still waiting",
            "not received",
            "haven't received",
            "have not received",
            "never received",
            "didn't arrive",
            "did not arrive",
            "not delivered",
            "还没到",
            "没到",
            "未到",
            "延迟",
            "迟到",
            "还没收到",
            "没收到",
            "收唔到",
            "未收到",
            "仲未到",
            "迟咗",
            "等了很久",
            "等咗好耐",
            "等了一个",
            "还没送",
            "仲未送",
            "慢",
            "未寄",
            "还没发货",
        ),
    ),
    ("other", ("other", "something else", "其他", "其它", "别的")),
]
OUTCOME_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "refund",
        (
            "refund",
            "money back",
            "reimburse",
            "退款",
            "退钱",
            "退费",
            "退货",
            "退回",
            "退返",
            "退番",
            "回钱",
            "还钱",
        ),
    ),
    (
        "replacement",
        (
            "replace",
            "replacement",
            "exchange",
            "new one",
            "swap",
            "换货",
            "换新",
            "换一",
            "换个",
            "补寄",
            "重新寄",
            "换过",
            "换部",
            "换返",
            "换番",
        ),
    ),
    ("repair", ("repair", "fix", "维修", "修理", "修好", "送修", "整返", "整番", "整好")),
    (
        "redelivery",
        (
            "deliver",
            "deliver it",
            "redeliver",
            "re-deliver",
            "resend",
            "ship it",
            "send it",
            "重新配送",
            "重新送",
            "尽快送",
            "送过来",
            "寄过来",
            "快点到",
            "快啲送",
            "尽快寄",
        ),
    ),
    (
        "review",
        (
            "apology",
            "apologise",
            "apologize",
            "investigate",
            "investigation",
            "look into",
            "review",
            "talk to",
            "explain",
            "manager",
            "道歉",
            "调查",
            "交代",
            "处理",
            "说法",
            "解释",
            "主管",
            "经理",
        ),
    ),
]
# Words that show a wish ("I want…", "希望…"): an outcome in the first message counts only with one.
WISH_WORDS = (
    "want",
    "just",
    "instead",
    "let me",
    "i'd",
    "would",
    "would like",
    "i'd like",
    "id like",
    "need",
    "please",
    "expect",
    "demand",
    "asking for",
    "give me",
    "can you",
    "could you",
    "can i",
    "could i",
    "request",
    "prefer",
    "rather",
    "要",
    "想",
    "希望",
    "要求",
    "请",
    "麻烦",
    "可以",
    "能不能",
    "能否",
    "帮我",
    "俾",
    "给我",
    "唔该",
)
FIELD_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("order_number", ("order", "number", "订单", "单号", "编号")),
    ("complaint_category", ("category", "type", "kind", "类别", "类型", "种类", "问题类")),
    ("desired_outcome", ("outcome", "want", "wish", "resolution", "希望", "想要", "处理方式", "诉求")),
    ("complaint_description", ("description", "what happened", "details", "描述", "经过", "说明", "内容")),
]
_ORDER = re.compile(r"(?<![a-z0-9])lm[\s\-]*((?:\d[\s\-]*){8})(?![0-9])")
_DIGITS = re.compile(r"(?<![0-9])((?:\d[\s\-]*){8})(?![0-9])")
_CSAT_DIGIT = re.compile(r"(?<![0-9./])([0-5])(?:\s*(?:/\s*5|分|星|颗星|粒星|stars?|out of 5))?(?![0-9])")
_CN_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "零": 0, "满分": 5}


def first_match(text: str, table: list[tuple[str, tuple[str, ...]]]) -> str | None:
    folded = fold(text or "")
    for value, words in table:
        for word in words:
            if word.isascii():  # whole words, with simple inflections ("delayed", "scratches")
                if re.search(rf"(?<![a-z]){re.escape(word)}(?:s|es|d|ed|ing)?(?![a-z])", folded):
                    return value
            elif word in folded:
                return value
    return None


def category_from_text(text: str) -> str | None:
    return first_match(text, CATEGORY_KEYWORDS)


def outcome_from_text(text: str) -> str | None:
    return first_match(text, OUTCOME_KEYWORDS)


def wished_outcome(text: str) -> str | None:
    """An outcome the message asks for ("I want a refund"), not one it only mentions."""
    folded = fold(text or "")
    if not any(word in folded for word in WISH_WORDS):
        return None
    return outcome_from_text(text)


def correction_field_from_text(text: str) -> str | None:
    return first_match(text, FIELD_KEYWORDS)


def order_number_from_text(text: str) -> str | None:
    """``LM12345678`` from "lm 1234-5678", "LM12345678" or a bare 8-digit number."""
    folded = fold(text or "")
    match = _ORDER.search(folded) or _DIGITS.search(folded)
    if not match:
        return None
    return "LM" + re.sub(r"\D", "", match.group(1))


def parse_csat(text: str) -> int | None:
    """A 1-5 rating from "4", "4/5", "4 stars", "四分", "五星", "⭐⭐⭐"; 0 counts as 1."""
    raw = text or ""
    stars = raw.count("⭐") + raw.count("★")
    if 1 <= stars <= 5:
        return stars
    folded = fold(raw)
    if "10/10" in folded.replace(" ", ""):
        return 5
    match = _CSAT_DIGIT.search(folded)
    if match:
        return max(1, int(match.group(1)))
    for word, value in _CN_NUMBERS.items():
        if re.search(rf"{word}\s*(分|星|颗|粒|stars?)", folded) or word == "满分" and word in folded:
            return max(1, value)
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "zero": 1}
    match = re.search(r"\b(zero|one|two|three|four|five)\b", folded)
    return words[match.group(1)] if match else None


def first_name(full_name: str | None, language: str | None) -> str | None:
    """How the bot addresses a customer: the given name in English, the full name in Chinese."""
    name = (full_name or "").strip()
    if not name:
        return None
    if CJK.search(name):
        return name
    return name.split()[0]
