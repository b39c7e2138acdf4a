"""Write one benchmark's section of docs/benchmarks.md between its own markers."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the text between ``<!-- name:start -->`` and ``<!-- name:end -->``
    of ``doc`` (docs/benchmarks.md unless told)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
