"""Labelled-query evaluation shared by ``python -m kb eval`` and ``bench/kb_quality.py``.

A labelled query is ``{"text": ..., "expected": entry id or null (out of scope), "tags": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

DEFAULT_QUERIES = Path(__file__).parent / "data" / "eval_queries.yml"


class _Hit(Protocol):
    @property
    def entry_id(self) -> str: ...


class _Result(Protocol):
    @property
    def decision(self) -> str: ...
    @property
    def hits(self) -> Sequence[_Hit]: ...


class Searcher(Protocol):
    """What the evaluation needs of a searcher (:class:`kb.search.KBSearcher`)."""

    def search_batch(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, k: int = 5
    ) -> Sequence[_Result]: ...


def load_queries(path: str | Path = DEFAULT_QUERIES) -> list[dict[str, Any]]:
    """Read labelled queries from YAML (a list, or ``{queries: [...]}``) or JSON lines."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".json"):
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        import yaml

        data = yaml.safe_load(text)
        items = data["queries"] if isinstance(data, dict) else data
    out = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValueError(f"{path}: query #{n} needs a 'text' string")
        out.append(
            {
                "text": item["text"],
                "expected": item.get("expected"),
                "language": item.get("language"),
                "tags": list(item.get("tags") or []),
            }
        )
    return out


def metrics(
    expected: Sequence[str | None], ranked: Sequence[Sequence[str]], decisions: Sequence[str]
) -> dict[str, float]:
    """Retrieval + decision metrics.

    top1/recall@3/mrr are over in-scope queries. ``answer_precision``: answered queries whose first
    hit is right (out-of-scope answered counts wrong). ``in_scope_answered`` / ``oos_rejected``:
    share of in-scope queries answered, of out-of-scope queries not answered. ``correct_or_safe``:
    in-scope queries answered right or clarified with the right entry in the top 3, plus
    out-of-scope queries not answered, over all queries.
    """
    ins = [i for i, e in enumerate(expected) if e]
    oos = [i for i, e in enumerate(expected) if not e]

    def rank(i: int) -> int:
        return ranked[i].index(expected[i]) + 1 if expected[i] in ranked[i] else 0

    top1 = sum(rank(i) == 1 for i in ins)
    r3 = sum(0 < rank(i) <= 3 for i in ins)
    mrr = sum(1.0 / rank(i) for i in ins if rank(i))
    answered = [i for i in range(len(expected)) if decisions[i] == "answer"]
    right = [i for i in answered if expected[i] and rank(i) == 1]
    safe = (
        len(right)
        + sum(decisions[i] == "clarify" and 0 < rank(i) <= 3 for i in ins)
        + sum(decisions[i] != "answer" for i in oos)
    )
    n_ins = max(len(ins), 1)
    return {
        "queries": len(expected),
        "in_scope": len(ins),
        "out_of_scope": len(oos),
        "top1": top1 / n_ins,
        "recall@3": r3 / n_ins,
        "mrr": mrr / n_ins,
        "answer_precision": len(right) / max(len(answered), 1),
        "in_scope_answered": sum(decisions[i] == "answer" for i in ins) / n_ins,
        "oos_rejected": (sum(decisions[i] != "answer" for i in oos) / len(oos)) if oos else float("nan"),
        "correct_or_safe": safe / max(len(expected), 1),
    }


def evaluate_searcher(searcher: Searcher, queries: Iterable[dict[str, Any]], k: int = 10) -> dict[str, float]:
    queries = list(queries)
    results = searcher.search_batch([q["text"] for q in queries], [q.get("language") for q in queries], k=k)
    return metrics(
        [q["expected"] for q in queries],
        [[h.entry_id for h in r.hits] for r in results],
        [r.decision for r in results],
    )
