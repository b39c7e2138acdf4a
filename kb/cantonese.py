"""Written Cantonese folded to Standard Written Chinese for matching (applied after T->S folding).

Hong Kong customers write 「我張單而家去到邊」 where the knowledge base says 「我的订单现在到哪里了」.
The encoder and BM25 both know Mandarin far better than written Cantonese, so queries (and KB
questions, for symmetry) have their Cantonese words replaced by the Mandarin ones before matching.

Characters and words that exist only in Cantonese (嘅 咗 唔 而家 点解 ...) are always folded. Words that are also ordinary
Mandarin in other senses (系 "system", 边 "side", 点 "point", 呢 the question particle) are folded
only in a text that contains a Cantonese-only character, and then only outside the Mandarin words
listed in ``_KEEP``.
"""

from __future__ import annotations

import re

# Longest first within each table (the regex alternation is built in this order). OpenCC's T->S
# folding has already run, so 嗰 arrives as 𠮶 and 搵 as 揾.
_ALWAYS = {
    "系咪": "是不是",
    "系唔系": "是不是",
    "点解": "为什么",
    "点样": "怎样",
    "点算": "怎么办",
    "边度": "哪里",
    "边个": "谁",
    "而家": "现在",
    "几时": "什么时候",
    "几耐": "多久",
    "落单": "下单",
    "呢个": "这个",
    "呢度": "这里",
    "呢间": "这家",
    "呢排": "最近",
    "仲未": "还没",
    "唔该": "谢谢",
    "唔系": "不是",
    "唔使": "不用",
    "唔好": "不要",
    "唔见": "不见",
    "唔啱": "不对",
    "冇": "没有",
    "嘅": "的",
    "咗": "了",
    "啲": "些",
    "喺": "在",
    "嚟": "来",
    "哋": "们",
    "佢": "他",
    "乜嘢": "什么",
    "咩嘢": "什么",
    "乜": "什么",
    "咩": "什么",
    "嘢": "东西",
    "睇": "看",
    "攞": "拿",
    "揾": "找",
    "搵": "找",
    "畀": "给",
    "噉": "这样",
    "嗰": "那",
    "𠮶": "那",
    "啱": "对",
    "唔": "不",
}
_IN_CONTEXT = {
    "点办": "怎么办",
    "边到": "哪里",
    "边间": "哪家",
    "边": "哪",
    "宜家": "现在",
    "几多": "多少",
    "几钱": "多少钱",
    "俾": "给",
    "咁": "这么",
    "仲": "还",
    "系": "是",
}
# Mandarin words containing a folded character that must stay as they are.
_KEEP = (
    "关系",
    "联系",
    "系统",
    "系列",
    "体系",
    "旁边",
    "身边",
    "这边",
    "那边",
    "两边",
    "左边",
    "右边",
    "外边",
    "里边",
    "后边",
    "前边",
    "上边",
    "下边",
    "周边",
    "边缘",
    "仲裁",
)


def _pattern(table: dict[str, str], keep: tuple[str, ...] = ()) -> re.Pattern[str]:
    words = sorted(keep + tuple(table), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


_ALWAYS_RE = _pattern(_ALWAYS)
_CONTEXT_RE = _pattern(_IN_CONTEXT, _KEEP)
# A text is Cantonese when it has a Cantonese-only character or word.
_MARKERS = re.compile("[嘅咗唔啲喺嚟哋冇佢嘢乜咩睇攞揾畀噉𠮶啱嘥攰冚]|" + _ALWAYS_RE.pattern)


def fold_cantonese(text: str) -> str:
    """Mandarin reading of a Simplified-script text; texts without Cantonese markers are returned as is."""
    if text.isascii() or not _MARKERS.search(text):
        return text
    text = _ALWAYS_RE.sub(lambda m: _ALWAYS[m.group(0)], text)
    return _CONTEXT_RE.sub(lambda m: _IN_CONTEXT.get(m.group(0), m.group(0)), text)
