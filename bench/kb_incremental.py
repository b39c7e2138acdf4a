"""Full index build vs incremental single-entry update (kb/incremental.py), on this machine's cores.

KBs: (a) the 80-entry reference FAQ; (b) BANKING77 train (10,003 English questions) grouped as 3,335
entries of 3 questions, as bench/kb_speed.py builds it. Each is built once in full, then updated three
times from that build, each time editing a different entry (one question replaced, one added); the
median of the three is reported. For (b) the update is also run against an HNSW copy of the base
(the same vectors in ``VectorIndex.build``'s HNSW, ``hnsw_min_rows`` 5,000), which takes the
append-and-tombstone path. The encoder is loaded before timing, as it is in the trainer console.

Usage: ``python bench/kb_incremental.py [--write-docs]``
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.faq import Entry, KnowledgeBase, load_kb  # noqa: E402

ENCODER = "use-multilingual-v3"
BANKING77 = Path("/work/shared/datasets/banking77/train.csv")
DOC = ROOT / "docs" / "benchmarks.md"


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def banking77_kb(by_intent: bool = False) -> KnowledgeBase:
    """BANKING77 train (English only) as 3,335 entries of 3 consecutive questions, or as its 77 intents."""
    rows = list(csv.DictReader(open(BANKING77, encoding="utf-8")))
    grouped: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        grouped.setdefault(row["category"] if by_intent else str(i // 3), []).append(row["text"])
    return KnowledgeBase([Entry(k, "x", {"en": v}, {"en": k}) for k, v in grouped.items()], "1", "", ("en",))


def edit_entry(kb: KnowledgeBase, n: int) -> tuple[KnowledgeBase, str, str]:
    """Entry ``n`` with its first English question replaced and one added; (new KB, entry id, new phrasing)."""
    entry = kb.entries[n]
    phrase = f"Question number {n}: can I pay my invoice with a carrier pigeon?"
    questions = {
        **entry.questions,
        "en": [phrase] + entry.questions["en"][1:] + [f"carrier pigeon payment {n}"],
    }
    entries = list(kb.entries)
    entries[n] = dataclasses.replace(entry, questions=questions)
    return dataclasses.replace(kb, entries=entries), entry.id, phrase


def hnsw_copy(base: Path, out: Path) -> Path:
    """``base`` with its flat FAISS index replaced by an HNSW one over the same vectors (as build_index makes)."""
    from kb.backend import VectorIndex
    from kb.incremental import base_vectors
    from kb.index import load_index

    shutil.copytree(base, out)
    index = VectorIndex.build(base_vectors(load_index(base)), 0)
    index.save(out / "index.faiss")
    kind = index.kind
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(json.dumps({**manifest, "index_type": kind}), encoding="utf-8")
    return out


def measure(label: str, kb: KnowledgeBase, tmp: Path, model, hnsw: bool = False) -> list[str]:
    from kb.incremental import update_index
    from kb.index import build_index, load_index
    from kb.search import KBSearcher

    rows = sum(len(q) for e in kb.entries for q in e.questions.values())
    base, full_s = timed(build_index, kb, ENCODER, tmp / "base")
    print(f"{label}: full build {full_s:.1f} s", flush=True)
    fitted = (
        f"all {len(kb.entries):,}"
        if load_index(base).classifier is not None
        else "none (entries x questions above `max_train_cost`: nearest neighbours only)"
    )
    lines = [
        f"| {label}: {len(kb.entries):,} entries, {rows:,} questions | full build | {full_s:.1f} s | "
        f"{rows:,} | {fitted} | 1x |"
    ]
    bases = [("flat", base, None)]
    if hnsw:
        bases.append(("HNSW", hnsw_copy(base, tmp / "hnsw"), 5000))
    for kind, base_dir, hnsw_min_rows in bases:
        times, records = [], []
        for n in (7, len(kb.entries) // 2, len(kb.entries) - 3):
            edited, entry_id, phrase = edit_entry(kb, n)
            out = tmp / f"up-{kind}-{n}"
            _, secs = timed(
                update_index, base_dir, edited, ENCODER, out, encoder=model, hnsw_min_rows=hnsw_min_rows
            )
            loaded = load_index(out)
            record = loaded.manifest["incremental"]
            assert "full_build" not in record, record
            top = KBSearcher(loaded, model).search(phrase, k=1).hits[0].entry_id
            times.append(secs)
            records.append(record)
            print(
                f"  {kind} update of entry {entry_id}: {secs:.2f} s, encoded {record['encoded_rows']}, "
                f"refitted {record['retrained_classes']}, index {record['index']}, top hit for the new "
                f"phrasing {'ok' if top == entry_id else 'WRONG: ' + top}",
                flush=True,
            )
            shutil.rmtree(out)
        median = statistics.median(times)
        lines.append(
            f"| {label} | incremental, 1 entry edited ({kind} base, index {records[0]['index']}) | {median:.2f} s "
            f"(runs {', '.join(f'{t:.2f}' for t in times)}) | {records[0]['encoded_rows']} | "
            f"{records[0]['retrained_classes']} | {full_s / median:.0f}x |"
        )
    return lines


def ensure_markers() -> None:
    """Put the ``kb:incremental`` markers right after the ``kb:speed`` section if they are missing."""
    text = DOC.read_text(encoding="utf-8")
    begin, end, speed_end = (
        "<!-- kb:incremental:begin -->",
        "<!-- kb:incremental:end -->",
        "<!-- kb:speed:end -->",
    )
    if begin in text:
        return
    if speed_end in text:
        cut = text.index(speed_end) + len(speed_end)
        text = text[:cut] + f"\n\n{begin}\n{end}" + text[cut:]
    else:
        text = text.rstrip() + f"\n\n{begin}\n{end}\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    from kb.encoder import load_encoder

    load_start = os.getloadavg()[0]
    model, load_s = timed(load_encoder, ENCODER)
    lines = [
        "| KB | operation | time | rows encoded | classifier classes fitted | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lines += measure(
            "reference FAQ", load_kb(ROOT / "kb" / "data" / "reference_faq.yml"), tmp / "ref", model
        )
        lines += measure("BANKING77 train by intent", banking77_kb(by_intent=True), tmp / "b77i", model)
        lines += measure("BANKING77 train", banking77_kb(), tmp / "b77", model, hnsw=True)
    load_end = os.getloadavg()[0]
    text = "\n".join(lines)
    print(text)
    print(f"load average at start {load_start:.1f}, at end {load_end:.1f}")
    if args.write_docs:
        from kb_quality import replace_section  # same folder

        ensure_markers()
        replace_section(
            "incremental",
            "## Knowledge-base index: full build vs incremental update (`bench/kb_incremental.py`)\n\n"
            f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores, load average "
            f"{load_start:.1f} at the start and {load_end:.1f} at the end (other work shared the "
            f"machine). Encoder loaded beforehand ({load_s:.1f} s, not counted). Incremental = "
            "`kb.incremental.update_index` from the full build, median of three single-entry edits "
            "(one question replaced, one added), each a different entry; it includes loading the "
            "base index and writing the new one. The full build encodes every question and trains "
            "the entry classifier on all entries (unless the KB is above its training budget); the update encodes the 2 new questions, reuses "
            "every other vector bit for bit and refits the edited entry's one-vs-rest problem only. "
            "The HNSW row copies the base's vectors into an HNSW index and updates it with "
            "`hnsw_min_rows` 5,000: rows are appended and the replaced question is tombstoned.\n\n"
            + text
            + "\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
