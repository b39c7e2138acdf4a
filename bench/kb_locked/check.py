"""Validate the locked held-out set (bench/kb_locked/queries.yml) without touching the KB engine.

Checks: the YAML loads; every query has text, expected and tags; the first tag is the language; every
expected id exists in kb/data/reference_faq.yml; no exact duplicates; every entry is expected at least
twice. Flags near-duplicates by normalised character overlap against the KB's questions and against
kb/data/eval_queries.yml and kb/data/eval_queries_hard.yml (and within the set). Prints counts and the
file's sha256. It only reads YAML files: it never imports kb/ or runs a search.

Usage: python bench/kb_locked/check.py [--threshold 0.6]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCKED = ROOT / "bench" / "kb_locked" / "queries.yml"
FAQ = ROOT / "kb" / "data" / "reference_faq.yml"
EVALS = [ROOT / "kb" / "data" / "eval_queries.yml", ROOT / "kb" / "data" / "eval_queries_hard.yml"]
LANGS = ("zh-Hant", "zh-Hans", "en")
STYLE_TAGS = ("cantonese", "mixed", "long", "typo", "near", "colloquial", "oos")

try:  # Traditional -> Simplified, so a zh-Hans query is compared fairly with zh-Hant text
    import opencc

    _T2S = opencc.OpenCC("t2s").convert
except ImportError:  # pragma: no cover - the comparison is then script-sensitive
    _T2S = None


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    if _T2S:
        text = _T2S(text)
    return " ".join("".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text).split())


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def tokens(s: str) -> Counter:
    """Latin words as whole tokens, Chinese as character bigrams (within each run of Chinese)."""
    out: Counter = Counter()
    for word in s.split():
        run = ""
        for ch in word + " ":
            if _CJK.match(ch):
                run += ch
                continue
            if run:
                out.update([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
                run = ""
        latin = "".join(" " if _CJK.match(ch) else ch for ch in word).split()
        out.update(latin)
    return out


def similarity(a: str, b: str) -> float:
    """Max of the character SequenceMatcher ratio and the Dice overlap of tokens (words / CJK bigrams)."""
    ratio = SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio()
    ta, tb = tokens(a), tokens(b)
    total = sum(ta.values()) + sum(tb.values())
    dice = 2 * sum((ta & tb).values()) / total if total else 0.0
    return max(ratio, dice)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=0.6)
    args = ap.parse_args()
    errors: list[str] = []

    data = yaml.safe_load(LOCKED.read_text(encoding="utf-8"))
    queries = data["queries"]
    faq = yaml.safe_load(FAQ.read_text(encoding="utf-8"))
    ids = [e["id"] for e in faq["entries"]]
    kb_questions = [(e["id"], q) for e in faq["entries"] for qs in e["questions"].values() for q in qs]
    others = [
        ("eval:" + str(q["expected"]), q["text"])
        for p in EVALS
        for q in yaml.safe_load(p.read_text(encoding="utf-8"))["queries"]
    ]

    for i, q in enumerate(queries):
        if set(q) != {"text", "expected", "tags"}:
            errors.append(f"#{i}: keys {sorted(q)}")
        if not isinstance(q["text"], str) or not q["text"].strip():
            errors.append(f"#{i}: empty text")
        tags = q["tags"]
        if (
            not tags
            or tags[0] not in LANGS
            or any(t not in STYLE_TAGS for t in tags[1:])
            or len(set(tags)) != len(tags)
        ):
            errors.append(f"#{i}: bad tags {tags}")
        if q["expected"] is not None and q["expected"] not in ids:
            errors.append(f"#{i}: unknown id {q['expected']}")
        if (q["expected"] is None) != ("oos" in tags):
            errors.append(f"#{i}: oos tag and expected: null disagree")
        if "cantonese" in tags and tags[0] != "zh-Hant":
            errors.append(f"#{i}: cantonese outside zh-Hant")

    texts = Counter(q["text"] for q in queries)
    errors += [f"exact duplicate: {t}" for t, n in texts.items() if n > 1]
    normed = Counter(norm(q["text"]) for q in queries)
    errors += [f"duplicate after normalisation: {t}" for t, n in normed.items() if n > 1]

    per_entry = Counter(q["expected"] for q in queries if q["expected"])
    errors += [f"entry {e} expected {per_entry[e]} time(s) (< 2)" for e in ids if per_entry[e] < 2]

    flagged = []
    refs = [("kb:" + i, norm(t), t) for i, t in kb_questions] + [(s, norm(t), t) for s, t in others]
    for i, q in enumerate(queries):
        nq = norm(q["text"])
        for src, nt, t in refs:
            s = similarity(nq, nt)
            if s >= args.threshold:
                flagged.append((s, q["text"], src, t))
        for j in range(i + 1, len(queries)):
            s = similarity(nq, norm(queries[j]["text"]))
            if s >= args.threshold:
                flagged.append((s, q["text"], "locked", queries[j]["text"]))
    for s, text, src, t in sorted(flagged, reverse=True):
        print(f"NEAR {s:.2f}  {text}  ~  [{src}] {t}")

    n = len(queries)
    lang = Counter(q["tags"][0] for q in queries)
    print(
        f"\nqueries: {n}   in scope: {n - sum(q['expected'] is None for q in queries)}   out of scope: {sum(q['expected'] is None for q in queries)}"
    )
    print(
        f"entries covered: {len(per_entry)}/{len(ids)}   min per entry: {min(per_entry[e] for e in ids)}   max: {max(per_entry.values())}"
    )
    print("\n| tag | all | zh-Hant | zh-Hans | en |\n|---|---|---|---|---|")
    print(f"| (all) | {n} | {lang['zh-Hant']} | {lang['zh-Hans']} | {lang['en']} |")
    for tag in ("in scope",) + STYLE_TAGS:
        sel = [q for q in queries if (q["expected"] is not None if tag == "in scope" else tag in q["tags"])]
        c = Counter(q["tags"][0] for q in sel)
        print(f"| {tag} | {len(sel)} | {c['zh-Hant']} | {c['zh-Hans']} | {c['en']} |")
    print(f"\nsha256 {hashlib.sha256(LOCKED.read_bytes()).hexdigest()}  bench/kb_locked/queries.yml")
    for e in errors:
        print("ERROR", e)
    print(f"\n{len(errors)} error(s), {len(flagged)} near-duplicate flag(s) at threshold {args.threshold}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
