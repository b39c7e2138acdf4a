"""Hard customer phrasings on the reference FAQ: long messages, near-neighbours, Cantonese, mixed, typos.

Sets: ``kb/data/eval_queries.yml`` (short held-out phrasings) and ``kb/data/eval_queries_hard.yml``
(hand-written, blind to the engine). Each is split by position: even = validation, odd = test.

Long messages are where one embedding of the whole text fails, so the engine also scores clause
windows (:mod:`kb.segments`) and mixes the best window into the whole query's score with weight
``segment_weight``. This bench scores the whole query and every window once through the engine's
own code (``KBSearcher.score_entries``), then, for each window setting (weight, minimum length),
combines them exactly as :func:`kb.segments.combine` does. The setting is chosen on the validation
halves only (mean utility of both sets at the engine's shared thresholds); test halves are
reported against dense alone, BM25 alone and the engine without windows, in the same run.

Usage: ``python bench/kb_hard_queries.py [--write-docs] [--write-defaults]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kb_quality import replace_section  # noqa: E402
from kb.calibrate import Scored, calibrate, thresholds_tuple  # noqa: E402
from kb.evaluate import load_queries  # noqa: E402
from kb.faq import load_kb  # noqa: E402
from kb.index import build_index, load_index  # noqa: E402
from kb.layout import DEFAULTS_FILE, search_defaults  # noqa: E402
from kb.normalize import normalize  # noqa: E402
from kb.search import KBSearcher  # noqa: E402
from kb.segments import combine, query_windows  # noqa: E402

ENCODER = "use-multilingual-v3"
SETS = {
    "short": ROOT / "kb" / "data" / "eval_queries.yml",
    "hard": ROOT / "kb" / "data" / "eval_queries_hard.yml",
}
GRID_WEIGHT = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)
GRID_MIN_CHARS = (0, 30, 60)
MAX_CLAUSES = 8
LANGS = ("en", "zh-Hans", "zh-Hant")


class Scoring:
    """Whole-query and window scores of one searcher for a list of queries."""

    def __init__(self, searcher: KBSearcher, queries: list[dict]):
        self.entries = list(searcher.entries)
        self.pos = {e: i for i, e in enumerate(self.entries)}
        limit = int(searcher.config.get("max_query_chars", 1000))
        texts = [q["text"][:limit] for q in queries]
        self.lengths = [len(t) for t in texts]
        norms = [normalize(t) for t in texts]
        self.windows = []
        for t, n in zip(texts, norms):
            ws, seen = [], {n}
            for w in query_windows(t, 0, MAX_CLAUSES):
                w = normalize(w)
                if w and w not in seen:
                    seen.add(w)
                    ws.append(w)
            self.windows.append(ws)
        flat = norms + [w for ws in self.windows for w in ws]
        scored = searcher.score_entries(flat) if flat else []
        self.whole = scored[: len(norms)]
        self.parts, p = [], len(norms)
        for ws in self.windows:
            self.parts.append(scored[p : p + len(ws)])
            p += len(ws)
        self.expected = np.array([self.pos.get(q["expected"], -1) if q["expected"] else -1 for q in queries])
        self.empty = [not n for n in norms]

    def matrix(self, weight: float, min_chars: int, idx=None) -> np.ndarray:
        idx = range(len(self.whole)) if idx is None else idx
        out = np.full((len(idx), len(self.entries)), -np.inf)
        for r, i in enumerate(idx):
            if self.empty[i]:
                continue
            parts = self.parts[i] if self.lengths[i] >= min_chars else []
            for entry, (score, _) in combine(self.whole[i], parts, weight).items():
                out[r, self.pos[entry]] = score
        return out

    def scored(self, weight: float, min_chars: int, idx) -> Scored:
        return Scored(self.matrix(weight, min_chars, idx), self.expected[idx])


def halves(n: int):
    return np.arange(0, n, 2), np.arange(1, n, 2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--write-docs", action="store_true", help="update the kb:hard section of docs/benchmarks.md"
    )
    ap.add_argument(
        "--write-defaults",
        action="store_true",
        help="store the chosen window setting in search_defaults.json",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    defaults = search_defaults()
    engine_th = {k: defaults["search"][k] for k in ("min_score", "answer_score", "margin")}
    sets = {name: load_queries(path) for name, path in SETS.items() if path.exists()}
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        kb = load_kb(ROOT / "kb" / "data" / "reference_faq.yml")
        build_index(kb, ENCODER, Path(tmp) / "ref")
        loaded = load_index(Path(tmp) / "ref")
        engine = KBSearcher(loaded, config={"segment_weight": 0.0})
        # one component alone: every other weight off
        single = {
            "classifier_weight": 0.0,
            "answer_weight": 0.0,
            "english_weight": 0.0,
            "centroid_weight": 0.0,
            "segment_weight": 0.0,
        }
        variants = {
            "dense (USE, best row)": KBSearcher(loaded, engine.encoder, {**single, "lexical_weight": 0.0}),
            "BM25": KBSearcher(loaded, engine.encoder, {**single, "lexical_weight": 1.0}),
            "engine": engine,
        }
        scoring = {
            (v, s): Scoring(searcher, qs) for v, searcher in variants.items() for s, qs in sets.items()
        }

        # ---- window setting chosen on validation (engine fusion, engine thresholds)
        grid = []
        for w, m in itertools.product(GRID_WEIGHT, GRID_MIN_CHARS):
            if w == 0 and m:
                continue
            utils = {
                s: scoring[("engine", s)]
                .scored(w, m, halves(len(qs))[0])
                .utility(
                    scoring[("engine", s)]
                    .scored(w, m, halves(len(qs))[0])
                    .decisions(*thresholds_tuple(engine_th))
                )
                for s, qs in sets.items()
            }
            grid.append((float(np.mean(list(utils.values()))), w, m, utils))
        grid.sort(key=lambda g: (-g[0], g[1], g[2]))
        _, best_w, best_m, _ = grid[0]
        shipped = (
            float(defaults["search"].get("segment_weight", 0.0)),
            int(defaults["search"].get("segment_min_chars", 0)),
        )
        note = (
            ""
            if shipped == (best_w, best_m)
            else (
                f" The engine ships segment_weight {shipped[0]:g}, segment_min_chars {shipped[1]} (its fusion weights and "
                "thresholds were chosen by bench/kb_quality.py with that setting; `--write-defaults` here changes it, "
                "and bench/kb_quality.py should then be re-run)."
            )
        )
        lines += [
            f"Window setting chosen on validation: segment_weight {best_w:g}, segment_min_chars {best_m} "
            f"(grid: weight {', '.join(f'{w:g}' for w in GRID_WEIGHT)} x minimum length "
            f"{', '.join(map(str, GRID_MIN_CHARS))} characters; up to {MAX_CLAUSES} clauses).{note}\n",
            "| segment_weight | min chars | mean validation utility | " + " | ".join(sets) + " |",
            "|---|---|---|" + "---|" * len(sets),
        ]
        for u, w, m, utils in sorted(grid, key=lambda g: (g[1], g[2])):
            lines.append(f"| {w:g} | {m} | {u:.3f} | " + " | ".join(f"{utils[s]:.3f}" for s in sets) + " |")

        # ---- test halves
        rows = [
            ("dense (USE, best row)", "dense (USE, best row)", 0.0, 0),
            ("BM25", "BM25", 0.0, 0),
            ("engine, whole query only", "engine", 0.0, 0),
            ("**engine with clause windows**", "engine", best_w, best_m),
        ]
        if shipped != (best_w, best_m):
            rows.append((f"engine as shipped (windows {shipped[0]:g} / {shipped[1]})", "engine", *shipped))
        for s, qs in sets.items():
            val, test = halves(len(qs))
            lines += [
                f"\n### {s} set: {len(test)} test queries ({sum(1 for i in test if qs[i]['expected'])} in scope), "
                f"{len(val)} validation\n",
                "| variant | thresholds (min / answer / margin) | top-1 | "
                + " | ".join(f"top-1 {l}" for l in LANGS)
                + " | answered right (in-scope) | answer precision | OOS not answered |",
                "|---|---|---|" + "---|" * len(LANGS) + "---|---|---|",
            ]
            for label, v, w, m in rows:
                sc = scoring[(v, s)]
                if v == "engine":
                    th = engine_th
                    th_label = "engine " + " / ".join(f"{x:.2f}" for x in thresholds_tuple(th))
                else:  # baselines get thresholds calibrated on both validation halves
                    th = calibrate(
                        *(scoring[(v, n)].scored(0.0, 0, halves(len(q))[0]) for n, q in sets.items())
                    )
                    th_label = "validation " + " / ".join(f"{x:.2f}" for x in thresholds_tuple(th))
                st = sc.scored(w, m, test)
                dm = st.decision_metrics(st.decisions(*thresholds_tuple(th)))
                per_lang = []
                for lang in LANGS:
                    sel = np.array(
                        [k for k, i in enumerate(test) if lang in qs[i]["tags"] and qs[i]["expected"]]
                    )
                    per_lang.append(f"{np.mean(st.rank[sel] == 1):.3f} ({len(sel)})" if len(sel) else "-")
                lines.append(
                    f"| {label} | {th_label} | {st.ranking()['top1']:.3f} | "
                    + " | ".join(per_lang)
                    + f" | {dm['answered_right']:.3f} | {dm['answer_precision']:.3f} | {dm['oos_rejected']:.3f} |"
                )
            tags = sorted({t for q in qs for t in q["tags"]} - set(LANGS))
            lines += [
                f"\n{s} set, test half by tag (engine without / with windows):\n",
                "| tag | queries | top-1 | answered right | wrong answers | OOS not answered |",
                "|---|---|---|---|---|---|",
            ]
            for tag in tags:
                sel = np.array([i for i in test if tag in qs[i]["tags"]])
                if not len(sel):
                    continue
                cells = []
                for w, m in ((0.0, 0), (best_w, best_m)):
                    st = scoring[("engine", s)].scored(w, m, sel)
                    d = st.decisions(*thresholds_tuple(engine_th))
                    ins = st.expected
                    cells.append(
                        (
                            f"{np.mean(st.rank[ins] == 1):.2f}" if ins.any() else "-",
                            int(np.sum((d == 2) & ins & (st.rank == 1))),
                            int(np.sum((d == 2) & ~(ins & (st.rank == 1)))),
                            f"{np.mean(d[~ins] != 2):.2f}" if (~ins).any() else "-",
                        )
                    )
                lines.append(
                    f"| {tag} | {len(sel)} | " + " | ".join(f"{a} / {b}" for a, b in zip(*cells)) + " |"
                )

        # ---- the engine itself, configured with the chosen setting, agrees with the matrices
        live = KBSearcher(
            loaded,
            engine.encoder,
            {"segment_weight": best_w, "segment_min_chars": best_m, "max_clauses": MAX_CLAUSES, **engine_th},
        )
        agree = total = 0
        for s, qs in sets.items():
            res = live.search_batch([q["text"] for q in qs], k=1)
            mat = scoring[("engine", s)].matrix(best_w, best_m)
            st = Scored(mat, scoring[("engine", s)].expected)
            dec = st.decisions(*thresholds_tuple(engine_th))
            for r, row, d in zip(res, mat, dec):
                first = (
                    scoring[("engine", s)].entries[int(np.argmax(row))] if np.isfinite(row).any() else None
                )
                agree += (
                    (r.best.entry_id if r.best else None) == first
                    and r.decision == ("fallback", "clarify", "answer")[int(d)]
                    if first
                    else r.decision == "fallback"
                )
                total += 1
        lines.append(
            f"\nCross-check: `KBSearcher.search_batch` with this setting agrees with the matrices on "
            f"{agree}/{total} queries (decision and first hit). Bench wall time {time.perf_counter() - t0:.0f} s."
        )
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        intro = (
            "## Knowledge base: long and hard customer phrasings (`bench/kb_hard_queries.py`)\n\n"
            "Reference FAQ with two hand-written held-out sets: `short` (kb/data/eval_queries.yml) and `hard` "
            "(kb/data/eval_queries_hard.yml: long multi-sentence messages, near-neighbours, Cantonese, mixed "
            "Chinese-English, typos, out-of-scope; written without running the engine on them). Even "
            "positions validate, odd positions are reported. Clause windows (kb/segments.py): each clause and "
            "each pair of adjacent clauses of a message is scored like a query, and the best window's score is "
            "mixed into the whole message's: (1 - w) x whole + w x best window, per entry. Baselines use "
            "thresholds calibrated on both validation halves; the engine uses its shipped thresholds. "
            f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores.\n\n"
        )
        replace_section("hard", intro + text + "\n")
    if args.write_defaults:
        data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
        data["search"].update(
            {"segment_weight": best_w, "segment_min_chars": best_m, "max_clauses": MAX_CLAUSES}
        )
        DEFAULTS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
