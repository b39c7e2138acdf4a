"""Lock a third of the conversations away, once, before any run (issue 17).

    .venv/bin/python -m bench.convsim.split SOURCE_DIR [--seed N]

For each language, the conversations are ordered by behaviour stratum (their first tag) and
at random within it; a systematic sample with a random start then takes every third one for
``locked/``, so each language and each behaviour gets its third. The rest goes to ``dev/``.
Each conversation's YAML text is copied unchanged; the source files are then removed (the
dev and locked files are the data). The seed used is written at the top of every file.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from bench.convsim.loader import CONVERSATIONS_DIR, load_file


def blocks(text: str) -> list[str]:
    """The YAML text of each top-level ``- id:`` item of a list file."""
    starts = [m.start() for m in re.finditer(r"^- id: ", text, re.M)]
    return [text[a:b].rstrip() + "\n" for a, b in zip(starts, starts[1:] + [len(text)])]


def split(source: Path, seed: int, root: Path = CONVERSATIONS_DIR) -> dict[str, tuple[int, int]]:
    rng = random.Random(seed)
    counts = {}
    for path in sorted(source.glob("*.yml")):
        conversations = load_file(path)
        texts = blocks(path.read_text(encoding="utf-8"))
        if [yaml.safe_load(t)[0]["id"] for t in texts] != [c.id for c in conversations]:
            raise SystemExit(f"{path}: could not cut the file into conversations")
        by_stratum: dict[str, list[int]] = defaultdict(list)
        for i, conv in enumerate(conversations):
            by_stratum[conv.tags[0]].append(i)
        order = []
        for stratum in sorted(by_stratum):
            members = by_stratum[stratum][:]
            rng.shuffle(members)
            order += members
        start = rng.randrange(3)
        locked = {i for n, i in enumerate(order) if (n - start) % 3 == 0}
        header = f"# {path.stem}: split by bench/convsim/split.py (seed {seed}); see bench/conversations/README.md\n"
        for name, keep in (
            ("dev", lambda i, lk=locked: i not in lk),
            ("locked", lambda i, lk=locked: i in lk),
        ):
            out = root / name / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(header + "".join(t for i, t in enumerate(texts) if keep(i)), encoding="utf-8")
        counts[path.stem] = (len(texts) - len(locked), len(locked))
        path.unlink()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(1 << 30))
    args = parser.parse_args(argv)
    for name, (dev, locked) in split(args.source, args.seed).items():
        print(f"{name}: {dev} dev, {locked} locked")
    print(f"seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
