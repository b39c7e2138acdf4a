"""Text normalisation applied to questions (at index time) and queries (at search time).

Answers are never normalised: they are shown to customers verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from common.lang import to_simplified
from kb.cantonese import fold_cantonese

_SPACES = re.compile(r"\s+")
# Unicode categories kept as content: letters, marks (needed by some scripts) and numbers.
_KEEP = ("L", "M", "N")


class _SymbolsToSpaces(dict[int, str]):
    """``str.translate`` table, filled on first sight of each character (up to 65,536 of them, so that
    queries cannot grow it without bound): kept characters map to themselves, the others to a space."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = ch if unicodedata.category(ch)[0] in _KEEP else " "
        if len(self) < 65536:
            self[code] = value
        return value


_SYMBOLS_TO_SPACES = _SymbolsToSpaces()


def _strip_symbols(text: str) -> str:
    """Replace punctuation, symbols (emoji included), controls and separators by spaces."""
    return text.translate(_SYMBOLS_TO_SPACES)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the matching form of ``text``.

    NFKC (full-width -> half-width), Traditional -> Simplified folding, written Cantonese -> Mandarin
    (:mod:`kb.cantonese`), lower case, punctuation and emoji turned into spaces, whitespace collapsed.
    An emoji- or punctuation-only text becomes "".
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _strip_symbols(text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ""
    return fold_cantonese(_simplified(text)).lower()


def _simplified(text: str) -> str:
    """``to_simplified`` of a single-spaced text, word by word.

    Exact: OpenCC converts the runs between separators (whitespace among them) independently, and
    ASCII is never converted. Skipping ASCII words and caching the others makes index builds over
    large KBs (every row is normalised) several times faster.
    """
    if text.isascii():
        return text
    return " ".join(word if word.isascii() else _simplified_word(word) for word in text.split(" "))


@lru_cache(maxsize=1 << 16)
def _simplified_word(word: str) -> str:
    return to_simplified(word)
