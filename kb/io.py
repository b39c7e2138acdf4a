"""Writers for the knowledge-base formats that :func:`kb.faq.load_kb` reads."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from kb.faq import KnowledgeBase


def to_yaml_text(kb: KnowledgeBase) -> str:
    import yaml

    data = {
        "version": int(kb.version) if str(kb.version).isdigit() else kb.version,
        "company": kb.company,
        "languages": list(kb.languages),
        "entries": [
            {"id": e.id, "category": e.category, "questions": e.questions, "answer": e.answers}
            for e in kb.entries
        ],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100000, default_flow_style=None)


def write_csv_rows(kb: KnowledgeBase, fh: TextIO) -> None:
    """One row per entry and language; several questions share one cell, one per line."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(["id", "category", "language", "question", "answer"])
    for e in kb.entries:
        for lang in kb.languages:
            writer.writerow([e.id, e.category, lang, "\n".join(e.questions[lang]), e.answers[lang]])


def export_kb(kb: KnowledgeBase, out: str | Path, fmt: str | None = None) -> Path:
    """Write ``kb`` to ``out`` as ``yaml`` or ``csv`` (guessed from the suffix), atomically."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    writer: Callable[[TextIO], object]
    if fmt in ("yml", "yaml"):
        writer = lambda fh: fh.write(to_yaml_text(kb))  # noqa: E731
    elif fmt == "csv":
        writer = lambda fh: write_csv_rows(kb, fh)  # noqa: E731
    else:
        raise ValueError(f"unknown export format {fmt!r} (use yaml or csv)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer(fh)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
