"""What every part of an index directory shares: the shipped defaults, the row table, checksums, JSON files.

Rows (``rows.json``): one per (entry, language, question), optionally one per (entry, language) answer;
a row's id is its position. An incremental update (kb/incremental.py) may mark rows ``deleted``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import numpy as np
from numpy.typing import NDArray

from kb.faq import KnowledgeBase
from kb.normalize import normalize

DEFAULTS_FILE = Path(__file__).parent / "data" / "search_defaults.json"

Vectors = NDArray[np.float32]
"""Embeddings, one per row, float32 (unit length where they come from an encoder)."""

Config = dict[str, Any]
"""A settings block of search_defaults.json / search.json (JSON values)."""


class Row(TypedDict):
    row: int
    entry_id: str
    language: str
    question: str  # the question, or the answer text for an answer row
    kind: str  # "question" | "answer"
    deleted: NotRequired[bool]


class IndexMismatchError(RuntimeError):
    """The index on disk was not built for the expected encoder / knowledge base / format."""


def search_defaults() -> dict[str, Config]:
    data: dict[str, Config] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return data


def default_search_config(has_classifier: bool) -> Config:
    defaults = search_defaults()
    config = dict(defaults["search"])
    if not has_classifier:  # thresholds calibrated for nearest neighbours alone
        config.update(defaults.get("search_without_classifier", {}))
    return config


def make_rows(kb: KnowledgeBase, include_answers: bool = False) -> list[Row]:
    """One row per (entry, language, question); optionally one per (entry, language) answer."""
    rows: list[Row] = []
    for entry in kb.entries:
        for lang in kb.languages:
            for question in entry.questions[lang]:
                rows.append(
                    {
                        "row": len(rows),
                        "entry_id": entry.id,
                        "language": lang,
                        "question": question,
                        "kind": "question",
                    }
                )
            if include_answers:
                rows.append(
                    {
                        "row": len(rows),
                        "entry_id": entry.id,
                        "language": lang,
                        "question": entry.answers[lang],
                        "kind": "answer",
                    }
                )
    return rows


def row_texts(rows: list[Row]) -> list[str]:
    """The text each row is encoded from: its normalised question (or the raw one if that normalises away)."""
    return [normalize(r["question"]) or r["question"] for r in rows]


def question_rows(rows: list[Row]) -> list[int]:
    """Positions of the live question rows (not answers, not rows an incremental update marked deleted)."""
    return [i for i, r in enumerate(rows) if r.get("kind", "question") == "question" and not r.get("deleted")]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
