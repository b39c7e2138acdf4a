"""Task success per language and per behaviour, the failure list, and the docs section."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGE_NAMES = {
    "en": "English",
    "zh-Hans": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "yue": "Cantonese (zh-Hant)",
    "mixed": "mixed Chinese-English",
}


@dataclass
class Result:
    id: str
    language: str
    tags: list[str]
    goal: dict[str, Any]
    failures: list[str]
    end: str
    turns: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def _rate(results: list[Result]) -> dict[str, Any]:
    passed = sum(r.ok for r in results)
    return {"n": len(results), "passed": passed, "rate": round(passed / len(results), 3) if results else None}


def summarise(results: list[Result]) -> dict[str, Any]:
    by_language: dict[str, list[Result]] = defaultdict(list)
    by_tag: dict[str, list[Result]] = defaultdict(list)
    by_check: dict[str, int] = defaultdict(int)
    for result in results:
        by_language[result.language].append(result)
        for tag in result.tags:
            by_tag[tag].append(result)
        for failure in result.failures:
            by_check[failure.split(":", 1)[0]] += 1
    return {
        "overall": _rate(results),
        "by_language": {k: _rate(v) for k, v in sorted(by_language.items())},
        "by_tag": {k: _rate(v) for k, v in sorted(by_tag.items())},
        "failed_checks": dict(sorted(by_check.items(), key=lambda kv: -kv[1])),
        "ends": {end: sum(r.end == end for r in results) for end in sorted({r.end for r in results})},
    }


def write_json(path: Path, meta: dict[str, Any], results: list[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "summary": summarise(results),
        "conversations": [
            {
                "id": r.id,
                "language": r.language,
                "tags": r.tags,
                "ok": r.ok,
                "failures": r.failures,
                "end": r.end,
                "seconds": r.seconds,
                "goal": r.goal,
                "turns": r.turns,
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _pct(rate: dict[str, Any]) -> str:
    return "–" if rate["rate"] is None else f"{100 * rate['rate']:.0f} % ({rate['passed']}/{rate['n']})"


def markdown(meta: dict[str, Any], results: list[Result], *, failures: bool = True) -> str:
    s = summarise(results)
    lines = [
        f"Set `{meta['set']}`, {len(results)} conversations, {meta['date']}, commit `{meta['commit']}`"
        f" ({meta['seconds']:.0f} s at concurrency {meta['concurrency']}). "
        f"**Task success {_pct(s['overall'])}.**",
        "",
        "| language | task success |",
        "|---|---|",
    ]
    lines += [f"| {LANGUAGE_NAMES.get(k, k)} | {_pct(v)} |" for k, v in s["by_language"].items()]
    lines += ["", "| behaviour | task success |", "|---|---|"]
    lines += [f"| {k} | {_pct(v)} |" for k, v in s["by_tag"].items()]
    lines += [
        "",
        "Failed checks (a conversation can fail several): "
        + ", ".join(f"{k} {v}" for k, v in s["failed_checks"].items())
        + ".",
        "How conversations ended: " + ", ".join(f"{k} {v}" for k, v in s["ends"].items()) + ".",
    ]
    if failures:
        lines += ["", "| conversation | failed checks |", "|---|---|"]
        lines += [f"| {r.id} | {'; '.join(r.failures)} |".replace("\n", " ") for r in results if not r.ok]
    return "\n".join(lines)
