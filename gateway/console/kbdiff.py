"""Differences between two versions of a KB entry, per language.

Questions are compared as sets (added / removed / kept); answers as token sequences, where a
token is one CJK character, a word, a space run or a punctuation mark, so the diff reads well in
Chinese and in English. The result is data; the page renders it with ``textContent``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, TypedDict

from common.lang import CJK_CHARS, LANGUAGES

_TOKEN = re.compile(rf"[{CJK_CHARS}]|\w+|\s+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def text_diff(old: str, new: str) -> list[list[str]]:
    """``[[op, text], ...]`` with op ``=`` (same), ``-`` (removed) or ``+`` (added)."""
    a, b = tokens(old), tokens(new)
    out: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(["=", "".join(a[i1:i2])])
            continue
        if i2 > i1:
            out.append(["-", "".join(a[i1:i2])])
        if j2 > j1:
            out.append(["+", "".join(b[j1:j2])])
    return out


class QuestionChanges(TypedDict):
    added: list[str]
    removed: list[str]
    kept: list[str]


class LanguageDiff(TypedDict):
    questions: QuestionChanges
    answer: list[list[str]]
    answer_changed: bool


class VersionDiff(TypedDict):
    languages: dict[str, LanguageDiff]
    changed: bool


def version_diff(
    old_q: dict[str, Any], old_a: dict[str, Any], new_q: dict[str, Any], new_a: dict[str, Any]
) -> VersionDiff:
    languages: dict[str, LanguageDiff] = {}
    for lang in LANGUAGES:
        before, after = list((old_q or {}).get(lang) or []), list((new_q or {}).get(lang) or [])
        answer_old, answer_new = (old_a or {}).get(lang) or "", (new_a or {}).get(lang) or ""
        languages[lang] = {
            "questions": {
                "added": [q for q in after if q not in before],
                "removed": [q for q in before if q not in after],
                "kept": [q for q in after if q in before],
            },
            "answer": text_diff(answer_old, answer_new),
            "answer_changed": answer_old != answer_new,
        }
    changed = any(
        d["questions"]["added"] or d["questions"]["removed"] or d["answer_changed"]
        for d in languages.values()
    )
    return {"languages": languages, "changed": changed}
