"""Windows of a long query, scored besides the whole query.

Customers often write several sentences: a greeting, the story, then the question. Embedded as one
text, such a message is far from every short KB question, so it falls below the answer threshold
or lands on an entry that matches the story instead of the question. The searcher therefore also
scores each clause and each pair of adjacent clauses, and mixes the best window's score into the
whole query's score (``segment_weight`` in the search config, see :mod:`kb.search`).
"""

from __future__ import annotations

import re
import unicodedata

from kb.normalize import normalize

EntryScores = dict[str, tuple[float, int]]
"""Per entry: (score, row id to show, -1 for none)."""

# Clause ends: sentence punctuation (either width), commas, semicolons, line breaks. A full stop only
# when followed by a space or the end, so that "7.5" and "e.g" stay whole.
_CLAUSE_END = re.compile(r"(?<=[。！？!?；;，,、\n])|(?<=\.)(?=\s|$)")
_HAS_CONTENT = re.compile(r"\w")


def clauses(text: str) -> list[str]:
    """The text's clauses, in order, each with its punctuation; clauses without a letter or digit dropped."""
    text = unicodedata.normalize("NFKC", text or "")
    return [c.strip() for c in _CLAUSE_END.split(text) if c and _HAS_CONTENT.search(c)]


def query_windows(text: str, min_chars: int = 0, max_clauses: int = 8) -> list[str]:
    """Clauses and adjacent clause pairs of ``text``; ``[]`` when it has one clause or fewer than
    ``min_chars`` characters. Beyond ``max_clauses`` clauses only the last ones are kept: the question
    usually ends the message."""
    if len(text or "") < min_chars:
        return []
    parts = clauses(text)
    if len(parts) < 2:
        return []
    parts = parts[-max_clauses:]
    return parts + [f"{a} {b}" for a, b in zip(parts, parts[1:])]


def normalized_windows(text: str, norm: str, min_chars: int = 0, max_clauses: int = 8) -> list[str]:
    """:func:`query_windows` in matching form (:func:`kb.normalize.normalize`), without empty windows
    and without repeats of the whole query ``norm`` or of each other."""
    seen, out = {norm}, []
    for window in query_windows(text, min_chars, max_clauses):
        w = normalize(window)
        if w and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def combine(whole: EntryScores, windows: list[EntryScores], weight: float) -> EntryScores:
    """``(1 - weight) * whole + weight * best window`` per entry, for ``{entry: (score, row)}`` maps.

    An entry missing from a map gets that map's lowest score (it was not among its candidates). The
    row shown is the whole query's, else the best window's.
    """
    if not windows or weight <= 0:
        return whole
    best: EntryScores = {}
    for scores in windows:
        for entry, (score, row) in scores.items():
            if entry not in best or score > best[entry][0]:
                best[entry] = (score, row)
    whole_floor = min((s for s, _ in whole.values()), default=0.0)
    window_floor = min(min((s for s, _ in w.values()), default=0.0) for w in windows)
    out = {}
    for entry in whole.keys() | best.keys():
        w_score, w_row = whole.get(entry, (whole_floor, -1))
        b_score, b_row = best.get(entry, (window_floor, -1))
        out[entry] = ((1 - weight) * w_score + weight * b_score, w_row if w_row >= 0 else b_row)
    return out
