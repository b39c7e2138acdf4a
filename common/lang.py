"""Language and script detection shared by the Rasa NLU component, the gateway and the actions.

Depends only on the standard library and ``opencc`` (pure Python), so both environments can
import it. Languages are the knowledge base's codes: ``zh-Hant``, ``zh-Hans`` and ``en``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Protocol

LANGUAGES = ("zh-Hant", "zh-Hans", "en")
DEFAULT_LANGUAGE = "en"

CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""Han characters (extension A, unified ideographs, compatibility ideographs), as the body of a
regular-expression character class: the project's one definition of "a Chinese character"."""
CJK = re.compile(f"[{CJK_CHARS}]")
_LATIN = re.compile(r"[A-Za-z]")
# Order numbers, links, e-mail addresses and numbers say nothing about the language.
_NEUTRAL = re.compile(r"\bLM\d+\b|https?://\S+|\S+@\S+|\d+", re.IGNORECASE)
# Cantonese particles written only in Traditional-script Hong Kong usage.
_CANTONESE = set("係嘅唔咗冇喺啲乜嘢咁嚟佢哋")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@lru_cache(maxsize=1)
def _converters() -> tuple[_Converter, _Converter]:
    from opencc import OpenCC

    return OpenCC("t2s"), OpenCC("s2t")


def to_simplified(text: str) -> str:
    return str(_converters()[0].convert(text))


def to_traditional(text: str) -> str:
    return str(_converters()[1].convert(text))


def detect_language(text: str, default: str | None = None) -> str:
    """Return ``zh-Hant``, ``zh-Hans`` or ``en`` for ``text``.

    Any Chinese character makes the text Chinese (mixed "我的 order 還沒 ship" is Chinese). The
    script is decided by counting characters that change under Traditional->Simplified folding
    and the reverse. Text with neither script marker (for example 「我要退款」, valid in both)
    keeps ``default`` when that is a Chinese variant, else falls back to Traditional.
    """
    text = unicodedata.normalize("NFKC", text or "")
    cjk = CJK.findall(text)
    if not cjk:
        if _LATIN.search(_NEUTRAL.sub(" ", text)):
            return "en"
        return default if default in LANGUAGES else DEFAULT_LANGUAGE
    han = "".join(cjk)
    t2s, s2t = _converters()
    simplified, traditional = t2s.convert(han), s2t.convert(han)
    trad_only = sum(1 for a, b in zip(han, simplified) if a != b)
    simp_only = sum(1 for a, b in zip(han, traditional) if a != b)
    if any(ch in _CANTONESE for ch in han):
        trad_only += 1
    if trad_only > simp_only:
        return "zh-Hant"
    if simp_only > trad_only:
        return "zh-Hans"
    if default in ("zh-Hant", "zh-Hans"):
        return default
    return "zh-Hant"


def fold(text: str) -> str:
    """Fold ``text`` for matching: NFKC width forms, Traditional->Simplified, lower case.

    The result has the same length as the input, character for character, so token offsets
    computed on it are valid in the original text (entity extraction relies on that). When a
    phrase conversion would change the length, only width and case are folded.
    """
    text = text or ""
    narrowed = "".join(n if len(n := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    folded = to_simplified(narrowed).lower()
    return folded if len(folded) == len(text) else narrowed.lower()
