"""Command line: ``python -m kb {build,search,query,eval,import,export}`` (see ``--help``).

``python -m kb build --incremental`` updates the published index from the source, encoding only new or
changed questions (see :mod:`kb.incremental`); it does a full build when nothing is published yet.

The CLI reads no environment: paths and the encoder come from its arguments, with the defaults below
(the defaults of ``KB_SOURCE`` / ``KB_INDEX_DIR`` / ``KB_ENCODER`` in common/settings.py; callers that
follow those settings, such as ``make index``, pass them).

User errors (bad files, mismatched index, missing index) print one ``error:`` line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kb.encoder import DEFAULT_ENCODER
from kb.evaluate import DEFAULT_QUERIES, evaluate_searcher, load_queries
from kb.faq import KBValidationError, KnowledgeBase, load_kb
from kb.incremental import describe, update_and_publish
from kb.index import build_and_publish, build_index, current_index_dir
from kb.io import export_kb
from kb.layout import IndexMismatchError
from kb.search import KBSearcher

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = PROJECT_ROOT / "kb" / "data" / "reference_faq.yml"
DEFAULT_ROOT = PROJECT_ROOT / "var" / "kb"


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _index_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "index", None):
        return Path(args.index)
    root = Path(args.root) if getattr(args, "root", None) else DEFAULT_ROOT
    current = current_index_dir(root)
    if current is None:
        raise CLIError(f"no published index under {root}; run `python -m kb build` first")
    return current


def _searcher(args: argparse.Namespace) -> KBSearcher:
    return KBSearcher.from_dir(_index_dir(args))


def cmd_build(args: argparse.Namespace) -> int:
    source = Path(args.source) if args.source else DEFAULT_SOURCE
    kb = load_kb(source)
    encoder = args.encoder or DEFAULT_ENCODER
    include_answers = True if args.include_answers else None  # None: the shipped default
    if getattr(args, "incremental", False):
        return _build_incremental(args, kb, encoder, include_answers)
    if args.out:
        out = build_index(kb, encoder, args.out, progress=True, include_answers=include_answers)
        print(f"built {out} ({len(kb.entries)} entries, encoder {encoder})")
    else:
        root = Path(args.root) if args.root else DEFAULT_ROOT
        out = build_and_publish(kb, encoder, root, progress=True, include_answers=include_answers)
        print(f"built and published {out} ({len(kb.entries)} entries, encoder {encoder})")
    return 0


def _build_incremental(
    args: argparse.Namespace, kb: KnowledgeBase, encoder: str, include_answers: bool | None
) -> int:
    if args.out:
        raise CLIError("--incremental updates the published index: use --root, not --out")
    root = Path(args.root) if args.root else DEFAULT_ROOT
    started = time.perf_counter()
    out = update_and_publish(kb, encoder, root, progress=True, include_answers=include_answers)
    print(
        f"published {out} ({len(kb.entries)} entries, encoder {encoder}) in {time.perf_counter() - started:.1f} s"
    )
    print(describe(out))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    result = _searcher(args).search(args.text, args.language, args.k)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(
        f"decision: {result.decision}  language: {result.language}"
        + (f"  ({result.notice})" if result.notice else "")
    )
    for n, hit in enumerate(result.hits, 1):
        print(f"{n}. [{hit.score:.3f}] {hit.entry_id}: {hit.question}")
    if result.decision == "answer":
        print("\n" + result.hits[0].answer)
    return 0


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise CLIError(f"{path}: file not found")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CLIError(f"{path}: line {n}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CLIError(f"{path}: line {n}: expected an object with a 'text' string")
        items.append(item)
    return items


def cmd_query(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    items = _read_jsonl(Path(args.input))
    searcher = _searcher(args)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    chunk = 256
    with (
        out.open("w", encoding="utf-8") as fh,
        tqdm(total=len(items), desc="query", unit="q", disable=len(items) < chunk) as bar,
    ):
        for start in range(0, len(items), chunk):
            batch = items[start : start + chunk]
            results = searcher.search_batch(
                [i["text"] for i in batch], [i.get("language") for i in batch], k=10
            )
            for item, res in zip(batch, results):
                fh.write(
                    json.dumps(
                        {
                            "id": item.get("id"),
                            "text": item["text"],
                            "answered": res.decision == "answer",
                            "hits": [{"entry_id": h.entry_id, "score": h.score} for h in res.hits[:10]],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            bar.update(len(batch))
    print(f"wrote {len(items)} results to {out}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    path = Path(args.queries) if args.queries else DEFAULT_QUERIES
    if not path.is_file():
        raise CLIError(f"{path}: file not found")
    report = evaluate_searcher(_searcher(args), load_queries(path))
    for key, value in report.items():
        print(f"{key:>18}: {value:.3f}" if isinstance(value, float) else f"{key:>18}: {value}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    kb = load_kb(args.file)
    out = export_kb(kb, args.out, "yaml")
    print(f"imported {len(kb.entries)} entries from {args.file} into {out}")
    if args.build:
        return cmd_build(
            argparse.Namespace(source=str(out), out=None, root=args.root, encoder=None, include_answers=False)
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    kb = load_kb(args.source or DEFAULT_SOURCE)
    out = export_kb(kb, args.out, args.format)
    print(f"exported {len(kb.entries)} entries to {out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kb", description="Knowledge-base retrieval tools.")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build an index (and publish it under the index root)")
    b.add_argument("--source", help="KB file (.yml or .csv); default: kb/data/reference_faq.yml")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--out", help="write the index to this directory, do not publish")
    where.add_argument("--root", help="index root to build and publish into; default: var/kb")
    b.add_argument("--encoder", help=f"encoder name; default: {DEFAULT_ENCODER}")
    b.add_argument("--include-answers", action="store_true", help="also index answer texts")
    b.add_argument(
        "--incremental",
        action="store_true",
        help="update the published index: encode only new or changed questions, refit only their "
        "classifier classes (a full build if nothing is published or too much changed)",
    )
    b.set_defaults(func=cmd_build)

    def index_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", help="index directory; default: the published one")
        sp.add_argument("--root", help="index root whose CURRENT index to use")

    s = sub.add_parser("search", help="search one question")
    s.add_argument("text")
    index_args(s)
    s.add_argument("--language", choices=["zh-Hant", "zh-Hans", "en"])
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    q = sub.add_parser("query", help="batch search a JSONL file of {id, text}")
    index_args(q)
    q.add_argument("--input", required=True)
    q.add_argument("--output", required=True)
    q.set_defaults(func=cmd_query)

    e = sub.add_parser("eval", help="evaluate on labelled queries")
    index_args(e)
    e.add_argument("--queries", help="YAML/JSONL of {text, expected}; default: kb/data/eval_queries.yml")
    e.set_defaults(func=cmd_eval)

    i = sub.add_parser("import", help="validate a CSV/YAML KB and write it as KB YAML")
    i.add_argument("file")
    i.add_argument("--out", required=True, help="YAML file to write")
    i.add_argument("--build", action="store_true", help="then build and publish an index from it")
    i.add_argument("--root", help="index root for --build")
    i.set_defaults(func=cmd_import)

    x = sub.add_parser("export", help="write the KB as YAML or CSV (one row per entry and language)")
    x.add_argument("--source", help="KB file; default: kb/data/reference_faq.yml")
    x.add_argument("--format", choices=["yaml", "csv"])
    x.add_argument("--out", required=True)
    x.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        command: Callable[[argparse.Namespace], int] = args.func
        return command(args)
    except (CLIError, KBValidationError, IndexMismatchError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
