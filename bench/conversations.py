"""Conversation-level benchmark (issue 17): scripted multi-turn customers through the real stack.

    .venv/bin/python bench/conversations.py --set dev [--concurrency 4] [--only ID ...] [--write-docs]

Starts the action server, Rasa and the gateway on a fresh SQLite CRM seeded with the demo data
(``tests/e2e/stack.py``), drives every conversation of the set through the gateway's WebSocket
(``bench/convsim``), checks each goal in the CRM, and writes ``var/bench/conversations-<set>.json``
(every turn, every failed check) and ``.md``. ``--write-docs`` writes the figures to
``docs/benchmarks.md``. The ``locked`` set is for the final figure only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.convsim.loader import load_set  # noqa: E402
from bench.convsim.report import markdown, write_json  # noqa: E402
from bench.convsim.run import bench_stack, run_conversations  # noqa: E402
from bench.docs_section import write_section  # noqa: E402
from tests.e2e.stack import StackError  # noqa: E402


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "actions",
                "data",
                "domain.yml",
                "bot",
                "crm",
                "config.yml",
                "compensation_policy.yml",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="dev", choices=("dev", "locked", "locked2", "all"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--only", nargs="*", help="run only these conversation ids")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--var-dir", type=Path, help="keep the stack's CRM and logs here (default: a temporary directory)"
    )
    parser.add_argument("--write-docs", action="store_true", help="write the section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    conversations = load_set(args.set)
    if args.only:
        conversations = [c for c in conversations if c.id in set(args.only)]
        if not conversations:
            parser.error("no conversation with those ids")
    print(f"==> {len(conversations)} conversations ({args.set}); starting the stack", flush=True)
    started = time.monotonic()

    def progress(conv, outcome) -> None:
        print(
            f"  {conv.id:<28} {outcome.end:<10} {len(outcome.turns):>2} turns {outcome.seconds:>5.1f} s",
            flush=True,
        )

    try:
        with bench_stack(args.var_dir) as stack:
            print(f"==> stack up in {time.monotonic() - started:.0f} s", flush=True)
            run_started = time.monotonic()
            results = run_conversations(stack, conversations, args.concurrency, progress)
            seconds = time.monotonic() - run_started
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    meta = {
        "set": args.set,
        "commit": _commit(),
        "concurrency": args.concurrency,
        "seconds": seconds,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    name = f"conversations-{args.set}" + ("-only" if args.only else "")
    write_json(args.out / f"{name}.json", meta, results)
    text = markdown(meta, results)
    (args.out / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"==> details: {args.out / (name + '.json')}")
    if args.write_docs:
        if args.only:
            parser.error("--write-docs needs a whole set, not --only")
        write_section(
            f"conversations-{args.set}",
            f"## Conversations: task success (`bench/conversations.py --set {args.set}`)\n\n"
            + markdown(meta, results, failures=False),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
