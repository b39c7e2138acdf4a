"""Text normalisation applied to questions (at index time) and queries (at search time).

Answers are never normalised: they are shown to customers verbatim.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.lang import to_simplified

_SPACES = re.compile(r"\s+")
# Unicode categories kept as content: letters, marks (needed by some scripts) and numbers.
_KEEP = ("L", "M", "N")


def _strip_symbols(text: str) -> str:
    """Replace punctuation, symbols (emoji included), controls and separators by spaces."""
    return "".join(ch if unicodedata.category(ch)[0] in _KEEP else " " for ch in text)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the matching form of ``text``.

    NFKC (full-width -> half-width), Traditional -> Simplified folding, lower case, punctuation and
    emoji turned into spaces, whitespace collapsed. An emoji- or punctuation-only text becomes "".
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _strip_symbols(text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ""
    return to_simplified(text).lower()
