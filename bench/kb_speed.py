"""Speed of kb/: index build, load and single-query latency at 1k / 100k / 1M synthetic entries.

Usage::

    python bench/kb_speed.py [--sizes 1000,100000,1000000] [--queries 300] [--write-docs]
                             [--workdir DIR] [--keep] [--reuse] [--skip-reference]

Per size, a synthetic trilingual KB (``bench/synthetic_kb.py``, deterministic) is indexed by the
engine's own ``kb.index.build_index`` in a fresh subprocess (encoding included; build time split into
encoding / FAISS / centroids / classifier / the rest), then a second fresh subprocess loads it as
``kb.search.KBSearcher`` (the object the action server uses) and measures single-query latency
(``KBSearcher.search``, encoding included) over paraphrases of synthetic questions plus the held-out
queries of ``kb/data/eval_queries.yml``, with its resident memory from ``/proc/self/status``
(VmRSS / VmHWM), so every size is measured in a process of its own.

The reference section (80-entry reference FAQ, 10k-question builds from BANKING77, FAISS flat vs
HNSW crossover on synthetic vectors) runs in this process unless ``--skip-reference``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ENCODER = "use-multilingual-v3"


def pct(values, p):
    return float(np.percentile(np.array(values) * 1000, p))


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def proc_status() -> dict[str, float]:
    """VmRSS / VmHWM of this process in MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def load_avg() -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def dir_mb(path: Path) -> dict[str, float]:
    return {p.name: p.stat().st_size / 2**20 for p in Path(path).iterdir() if p.is_file()}


# ---------------------------------------------------------------- subprocess: build one size


def child_build(n: int, out_dir: Path, encoder_threads: int) -> dict:
    """Generate the synthetic KB and build its index with the engine's own build_index, timing the phases."""
    from synthetic_kb import synthetic_kb

    import kb.index as kbi
    from kb.backend import VectorIndex
    from kb.encoder import load_encoder

    module = load_encoder(ENCODER)[0]
    if encoder_threads > 0:
        module.threads = encoder_threads  # BLAS threads for batches (kb.encoder.UseModule config ``threads``)
    encoder_threads = getattr(module, "threads", None)
    kb, gen_s = timed(synthetic_kb, n)
    phases = {"encode": 0.0, "faiss": 0.0, "centroids": 0.0, "classifier": 0.0}

    active: list[str] = []

    def wrap(name, fn):
        """Time ``fn`` as phase ``name``; a call nested in another phase (the classifier's extra encoders
        go through ``encode_chunks`` too) counts only for the outer phase, so the phases add up."""

        def inner(*a, **k):
            if active:
                return fn(*a, **k)
            active.append(name)
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] += time.perf_counter() - t
                active.pop()

        return inner

    kbi.encode_chunks = wrap("encode", kbi.encode_chunks)
    VectorIndex.build = wrap("faiss", VectorIndex.build)
    kbi.entry_centroids = wrap("centroids", kbi.entry_centroids)
    kbi.train_classifier = wrap("classifier", kbi.train_classifier)
    before = proc_status()["VmRSS"]
    _, build_s = timed(kbi.build_index, kb, ENCODER, out_dir)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    sizes = dir_mb(out_dir)
    return {
        "entries": n,
        "rows": manifest["row_count"],
        "index_type": manifest["index_type"],
        "classifier": bool(manifest.get("classifier")),
        "generate_s": gen_s,
        "build_s": build_s,
        "phases": phases,
        "rest_s": build_s - sum(phases.values()),
        "rss_before_build_mb": before,
        "hwm_mb": proc_status()["VmHWM"],
        "disk_mb": sum(sizes.values()),
        "files_mb": sizes,
        "encoder_threads": encoder_threads,
        "load": load_avg(),
        "finished": time.strftime("%Y-%m-%d %H:%M"),
    }


# ---------------------------------------------------------------- subprocess: load + query one size


def child_serve(n: int, index_dir: Path, n_queries: int) -> dict:
    from synthetic_kb import paraphrase_queries

    from kb.encoder import encode, load_encoder
    from kb.evaluate import load_queries
    from kb.index import load_index
    from kb.lexical import LexicalIndex
    from kb.normalize import normalize
    from kb.search import KBSearcher

    encoder = load_encoder(ENCODER)
    encode(encoder, ["warm up"])
    base = proc_status()["VmRSS"]
    bm25 = {"s": 0.0}
    orig = LexicalIndex.from_rows.__func__

    def from_rows(cls, *a, **k):
        t = time.perf_counter()
        try:
            return orig(cls, *a, **k)
        finally:
            bm25["s"] += time.perf_counter() - t

    LexicalIndex.from_rows = classmethod(from_rows)
    loaded, load_s = timed(load_index, index_dir)
    searcher, searcher_s = timed(KBSearcher, loaded, encoder)
    loaded_rss = proc_status()["VmRSS"]
    para = paraphrase_queries(n, n_queries)
    held_out = load_queries()
    sets = {"paraphrases": [q["text"] for q in para], "held-out": [q["text"] for q in held_out]}
    for q in sets["paraphrases"][:20] + sets["held-out"][:20]:
        searcher.search(q)
    times: dict[str, list[float]] = {}
    hits = []
    for name, texts in sets.items():
        times[name] = []
        for q in texts:
            result, secs = timed(searcher.search, q)
            times[name].append(secs)
            if name == "paraphrases":
                hits.append([h.entry_id for h in result.hits])
    expected = [q["expected"] for q in para]
    top1 = float(np.mean([h[:1] == [e] for h, e in zip(hits, expected)]))
    top5 = float(np.mean([e in h for h, e in zip(hits, expected)]))
    # stage breakdown over the same queries (each stage timed on its own)
    norms = [normalize(q) for q in sets["paraphrases"] + sets["held-out"]]
    enc_t, faiss_t, bm25_t = [], [], []
    cand = int(searcher.config.get("candidates", 50))
    for q in norms:
        vec, secs = timed(searcher.encode, [q])
        enc_t.append(secs)
        faiss_t.append(timed(searcher.index.vector_index.search, vec, cand)[1])
        if searcher.lexical is not None:
            bm25_t.append(timed(searcher.lexical.scores_batch, [q], cand)[1])
    # BM25's candidate budget against exhaustive BM25 (every document scored: slow, not timed)
    agree, lex = [], searcher.lexical
    target_found = {"budgeted": [], "exhaustive": []}  # paraphrase's entry among BM25's top 50
    if lex is not None:
        from kb.lexical import tokenize

        pos = {r: d for d, r in enumerate(np.asarray(lex.doc_rows).tolist())}
        first_row: dict[str, int] = {}
        for r in searcher.rows:
            first_row.setdefault(r["entry_id"], r["row"])
        for i, q in enumerate(norms):
            ids = sorted({lex.vocab[t] for t in tokenize(q, lex.features, lex.stopwords) if t in lex.vocab})
            if not ids:
                continue
            full = np.asarray(lex.matrix[ids].sum(axis=0)).ravel()
            k = min(cand, int(np.count_nonzero(full)))
            kth = np.partition(full, -k)[-k]  # the exhaustive k-th best score (ties count as agreement)
            got = lex.scores_batch([q], cand)[0]
            agree.append(sum(full[pos[r]] >= kth - 1e-6 for r in got) / k)
            if i < len(expected):
                target = first_row[expected[i]]
                target_found["budgeted"].append(target in got)
                target_found["exhaustive"].append(
                    bool(full[pos[target]] > 0 and full[pos[target]] >= kth - 1e-6)
                )
    all_t = times["paraphrases"] + times["held-out"]
    st = proc_status()
    return {
        "entries": n,
        "rows": searcher.index.vector_index.size,
        "load_index_s": load_s,
        "bm25_build_s": bm25["s"],
        "searcher_s": searcher_s,
        "open_s": load_s + searcher_s,
        "rss_encoder_mb": base,
        "rss_loaded_mb": loaded_rss,
        "rss_end_mb": st["VmRSS"],
        "hwm_mb": st["VmHWM"],
        "p50_ms": pct(all_t, 50),
        "p95_ms": pct(all_t, 95),
        "n_queries": len(all_t),
        "per_set": {k: {"n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95)} for k, v in times.items()},
        "stages_p50_ms": {
            "encode": pct(enc_t, 50),
            "faiss": pct(faiss_t, 50),
            "bm25": pct(bm25_t, 50) if bm25_t else None,
        },
        "stages_p95_ms": {
            "encode": pct(enc_t, 95),
            "faiss": pct(faiss_t, 95),
            "bm25": pct(bm25_t, 95) if bm25_t else None,
        },
        "paraphrase_top1": top1,
        "paraphrase_top5": top5,
        "bm25_agreement": float(np.mean(agree)) if agree else None,
        "bm25_exhaustive_share": float(np.mean([a >= 1.0 for a in agree])) if agree else None,
        "bm25_target_found": {k: float(np.mean(v)) if v else None for k, v in target_found.items()},
        "classifier": searcher.classifier is not None,
        "load": load_avg(),
    }


def run_child(*args: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- reference section (this process)


def faiss_table(base_vectors, sizes, lines, n_queries=200):
    import faiss

    from kb.backend import VectorIndex

    rng = np.random.default_rng(0)
    lines += [
        "",
        "FAISS alone, flat vs HNSW (synthetic unit vectors near real query embeddings, single queries):",
        "",
        "| rows | flat build s | flat ms/query (p50) | HNSW32 build s | HNSW ms/query (p50) | HNSW recall@10 vs flat |",
        "|---|---|---|---|---|---|",
    ]
    queries = base_vectors[rng.choice(len(base_vectors), n_queries)]
    queries = queries + rng.normal(0, 0.02, queries.shape).astype("float32")
    faiss.normalize_L2(queries)
    for n in sizes:
        vecs = base_vectors[rng.choice(len(base_vectors), n)] + rng.normal(
            0, 0.03, (n, base_vectors.shape[1])
        ).astype("float32")
        faiss.normalize_L2(vecs)
        row = [f"{n}"]
        found = {}
        for kind, threshold in (("flat", n + 1), ("hnsw", 0)):
            index, build_s = timed(VectorIndex.build, vecs, threshold)
            times = []
            ids_all = []
            for q in queries:
                t = time.perf_counter()
                _, ids = index.search(q[None, :], 10)
                times.append(time.perf_counter() - t)
                ids_all.append(ids[0])
            found[kind] = ids_all
            row += [f"{build_s:.2f}", f"{pct(times, 50):.3f}"]
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found["flat"], found["hnsw"])])
        lines.append("| " + " | ".join(row) + f" | {recall:.3f} |")
        print(lines[-1], flush=True)


def reference_section(lines: list[str], crossover_sizes: list[int]) -> None:
    from kb.encoder import encode, load_encoder
    from kb.evaluate import load_queries
    from kb.faq import load_kb
    from kb.index import build_index
    from kb.normalize import normalize
    from kb.search import KBSearcher

    _, load_s = timed(load_encoder, ENCODER)
    kb = load_kb(ROOT / "kb" / "data" / "reference_faq.yml")
    queries = [q["text"] for q in load_queries()]
    with tempfile.TemporaryDirectory() as tmp:
        _, build_s = timed(build_index, kb, ENCODER, Path(tmp) / "ref")
        searcher, open_s = timed(KBSearcher.from_dir, Path(tmp) / "ref")
        lines += [
            "### Reference FAQ and 10k-question builds",
            "",
            "| measure | value |",
            "|---|---|",
            f"| import torch + sentence-transformers + load USE encoder | {load_s:.2f} s |",
            f"| build reference index (80 entries, {searcher.index.vector_index.size} rows) | {build_s:.2f} s |",
            f"| open a built index (hot reload: FAISS + rows + BM25 + classifier) | {open_s:.2f} s |",
        ]
        dense_only = {
            "lexical_weight": 0.0,
            "classifier_weight": 0.0,
            "centroid_weight": 0.0,
            "answer_weight": 0.0,
            "english_weight": 0.0,
        }
        for label, cfg in (("dense only", dense_only), ("engine default (centroid + BM25 + classifier)", {})):
            s = KBSearcher(searcher.index, searcher.encoder, config=cfg)
            for q in queries[:20]:
                s.search(q)
            times = [timed(s.search, q)[1] for q in queries]
            lines.append(
                f"| single query, {label}: p50 / p95 (n={len(times)}) | {pct(times, 50):.1f} / {pct(times, 95):.1f} ms |"
            )
        _, batch_s = timed(searcher.search_batch, queries)
        lines.append(
            f"| batch of {len(queries)} queries (search_batch) | {batch_s * 1000 / len(queries):.2f} ms/query |"
        )
        norms = [normalize(q) for q in queries]
        times = [timed(encode, searcher.encoder, [n])[1] for n in norms]
        lines.append(f"| of which USE encoding, single query p50 | {pct(times, 50):.1f} ms |")
        print("\n".join(lines), flush=True)
        import csv

        from kb.faq import Entry, KnowledgeBase

        pairs = [
            (r["text"], r["category"])
            for r in csv.DictReader(open("/work/shared/datasets/banking77/train.csv", encoding="utf-8"))
        ]
        texts = [t for t, _ in pairs]
        # Build time of a 10k-question KB, full pipeline (encoding, FAISS, centroids, classifier):
        # BANKING77 train as 77 entries, and the same texts as 3,335 entries of 3 questions (many classes).
        for label, key in (
            ("77 entries", lambda i, c: c),
            ("3,335 entries of 3 questions", lambda i, c: str(i // 3)),
        ):
            grouped: dict[str, list[str]] = {}
            for i, (t, c) in enumerate(pairs):
                grouped.setdefault(key(i, c), []).append(t)
            big = KnowledgeBase(
                [Entry(k, "x", {"en": v}, {"en": k}) for k, v in grouped.items()], "1", "", ("en",)
            )
            out, secs = timed(build_index, big, ENCODER, Path(tmp) / f"b{len(grouped)}")
            lines.append(
                f"| build a {len(texts):,}-question KB ({label}), encoding + classifier included | {secs:.1f} s |"
            )
            print(lines[-1], flush=True)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines.append(f"| peak RSS of this process (after the 10k builds) | {rss:.0f} MiB |")
        base = encode(searcher.encoder, texts)
    if crossover_sizes:
        faiss_table(base, crossover_sizes, lines)


# ---------------------------------------------------------------- the scale table


def scale_section(
    sizes: list[int], workdir: Path, n_queries: int, keep: bool, reuse: bool, encoder_threads: int
):
    import shutil

    builds, serves, reused = {}, {}, []
    for n in sizes:
        index_dir = workdir / f"syn-{n}"
        if reuse and (index_dir / "manifest.json").is_file() and (index_dir / "build.json").is_file():
            builds[n] = json.loads((index_dir / "build.json").read_text())
            reused.append(n)
            print(f"[{n}] reusing {index_dir}", flush=True)
        else:
            shutil.rmtree(index_dir, ignore_errors=True)
            print(f"[{n}] building (load {load_avg()})...", flush=True)
            builds[n] = run_child("_build", str(n), str(index_dir), str(encoder_threads))
            (index_dir / "build.json").write_text(json.dumps(builds[n]))
        print(f"[{n}] build: {json.dumps(builds[n])}", flush=True)
        serves[n] = run_child("_serve", str(n), str(index_dir), str(n_queries))
        print(f"[{n}] serve: {json.dumps(serves[n])}", flush=True)
        if not keep:
            shutil.rmtree(index_dir, ignore_errors=True)
    cols = [f"{n:,}" for n in sizes]
    B, S = [builds[n] for n in sizes], [serves[n] for n in sizes]

    def row(label, values):
        return f"| {label} | " + " | ".join(values) + " |"

    lines = [
        row("synthetic entries", cols),
        "|---|" + "---|" * len(sizes),
        row("indexed question rows", [f"{b['rows']:,}" for b in B]),
        row("FAISS index", [f"`{b['index_type']}`" for b in B]),
        row("entry classifier", ["yes" if b["classifier"] else "no (above `max_entries`)" for b in B]),
        row(
            "**single query p50 / p95, encoding included** (all queries)",
            [f"**{s['p50_ms']:.1f}** / {s['p95_ms']:.1f} ms (n={s['n_queries']})" for s in S],
        ),
        row(
            "… paraphrases of synthetic questions",
            [
                f"{s['per_set']['paraphrases']['p50_ms']:.1f} / {s['per_set']['paraphrases']['p95_ms']:.1f} ms"
                for s in S
            ],
        ),
        row(
            "… held-out queries (eval_queries.yml)",
            [
                f"{s['per_set']['held-out']['p50_ms']:.1f} / {s['per_set']['held-out']['p95_ms']:.1f} ms"
                for s in S
            ],
        ),
        row(
            "stage p50: USE encoding / FAISS search / BM25",
            [
                f"{s['stages_p50_ms']['encode']:.1f} / {s['stages_p50_ms']['faiss']:.2f} / "
                + (f"{s['stages_p50_ms']['bm25']:.2f} ms" if s["stages_p50_ms"]["bm25"] is not None else "–")
                for s in S
            ],
        ),
        row(
            "stage p95: USE encoding / FAISS search / BM25",
            [
                f"{s['stages_p95_ms']['encode']:.1f} / {s['stages_p95_ms']['faiss']:.2f} / "
                + (f"{s['stages_p95_ms']['bm25']:.2f} ms" if s["stages_p95_ms"]["bm25"] is not None else "–")
                for s in S
            ],
        ),
        row(
            "BM25 top-50 vs exhaustive BM25: mean share found / queries identical",
            [
                f"{s['bm25_agreement']:.3f} / {s['bm25_exhaustive_share']:.2f}"
                if s["bm25_agreement"] is not None
                else "–"
                for s in S
            ],
        ),
        row(
            "paraphrase's entry in BM25's top 50: as served / exhaustive BM25",
            [
                f"{s['bm25_target_found']['budgeted']:.2f} / {s['bm25_target_found']['exhaustive']:.2f}"
                if s.get("bm25_target_found", {}).get("budgeted") is not None
                else "–"
                for s in S
            ],
        ),
        row(
            "paraphrase → its entry: top-1 / in top 5",
            [f"{s['paraphrase_top1']:.2f} / {s['paraphrase_top5']:.2f}" for s in S],
        ),
        row("**build time** (`build_index`, encoding included)", [f"**{b['build_s']:.1f} s**" for b in B]),
        row("… USE encoding", [f"{b['phases']['encode']:.1f} s" for b in B]),
        row("… FAISS index", [f"{b['phases']['faiss']:.1f} s" for b in B]),
        row(
            "… centroids + classifier (its extra encoders' encoding included)",
            [f"{b['phases']['centroids']:.1f} + {b['phases']['classifier']:.1f} s" for b in B],
        ),
        row("… rest (rows, kb hash, JSON + index files)", [f"{b['rest_s']:.1f} s" for b in B]),
        row("peak RSS of the build process", [f"{b['hwm_mb']:,.0f} MiB" for b in B]),
        row("index on disk", [f"{b['disk_mb']:,.0f} MiB" for b in B]),
        row("**open the index** (load_index + KBSearcher)", [f"**{s['open_s']:.1f} s**" for s in S]),
        row(
            "… load_index (FAISS, rows, kb, centroids, classifier)", [f"{s['load_index_s']:.1f} s" for s in S]
        ),
        row("… BM25 build at load", [f"{s['bm25_build_s']:.1f} s" for s in S]),
        row(
            "**resident memory** of the serving process after the queries (VmRSS)",
            [f"**{s['rss_end_mb']:,.0f} MiB**" for s in S],
        ),
        row(
            "… of which the index (RSS minus the process with the encoder alone)",
            [f"{s['rss_end_mb'] - s['rss_encoder_mb']:,.0f} MiB" for s in S],
        ),
        row("peak RSS of the serving process (VmHWM)", [f"{s['hwm_mb']:,.0f} MiB" for s in S]),
        row(
            "load average (1/5/15 min) at the end of build / queries",
            [f"{b['load']} ; {s['load']}" for b, s in zip(B, S)],
        ),
    ]
    if reused:
        lines += [
            "",
            "The builds of "
            + ", ".join(f"{n:,}" for n in reused)
            + " entries were made by an earlier run of "
            "this harness (`--reuse`; finished "
            + ", ".join(str(builds[n].get("finished", "?")) for n in reused)
            + "); their load averages are those of the last row.",
        ]
    return lines, builds


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("_build", "_serve"):
        if sys.argv[1] == "_build":
            out = child_build(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        else:
            out = child_serve(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        print(json.dumps(out))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--sizes", default="1000,100000,1000000", help="synthetic KB sizes (entries)")
    ap.add_argument(
        "--queries", type=int, default=300, help="paraphrase queries per size (plus the held-out set)"
    )
    ap.add_argument(
        "--crossover-sizes",
        default="1000,10000,20000,50000",
        help="rows for the FAISS flat vs HNSW table ('' to skip)",
    )
    ap.add_argument(
        "--workdir", default=None, help="where the synthetic indexes are built (default: a temp dir)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the synthetic indexes (with --workdir)")
    ap.add_argument("--reuse", action="store_true", help="reuse indexes already in --workdir (no rebuild)")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument(
        "--encoder-threads",
        type=int,
        default=1,
        help="USE BLAS threads for the synthetic builds' batches (0: the encoder's default, 2). On this "
        "shared 2-core machine 2 threads encoded 3-7x slower than 1 whenever another job ran",
    )
    args = ap.parse_args()
    start_load = load_avg()
    started = time.strftime("%Y-%m-%d %H:%M")
    sizes = [int(x) for x in args.sizes.split(",") if x]
    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="kb_speed_")
        workdir = Path(tmp.name)
    scale, builds = (
        scale_section(
            sizes, workdir, args.queries, args.keep and tmp is None, args.reuse, args.encoder_threads
        )
        if sizes
        else ([], {})
    )
    encoder_threads = next((b.get("encoder_threads") for b in builds.values()), 2)
    print("\n".join(scale), flush=True)
    ref: list[str] = []
    if not args.skip_reference:
        reference_section(ref, [int(x) for x in args.crossover_sizes.split(",") if x])
    from kb.backend import faiss_module
    from kb.layout import search_defaults

    faiss = faiss_module()
    idx = search_defaults()["index"]
    end_load = load_avg()
    text = "\n".join(
        (
            [
                f"### Synthetic KBs: {', '.join(f'{n:,}' for n in sizes)} entries",
                "",
                "Each size is built by `kb.index.build_index` in a fresh process and served by `kb.search.KBSearcher` "
                "(the action server's object) in another fresh process; latency is `KBSearcher.search` on one query at a "
                f"time, warm, USE encoding included, over {args.queries} paraphrases of synthetic questions (another "
                "template of the entry's intent, same product and model code, 30 % in another language, some lower-cased, "
                "typos, model code without its hyphen) plus the 298 held-out queries of `kb/data/eval_queries.yml` "
                "(out of scope for these KBs). Entries (`bench/synthetic_kb.py`, seed 0): 20 intents x 3 question templates "
                "per language x 40 product types x 20 series x random model codes; each entry has 1 question in one "
                "language (en 40 %, zh-Hans 30 %, zh-Hant 30 %), 25 % a second phrasing, and a short answer in all three "
                "languages. Memory is VmRSS / VmHWM from `/proc/self/status` of the serving process; the encoder alone "
                "accounts for the difference to the *of which the index* row.",
                "",
                "*BM25 vs exhaustive*: BM25 reads only the posting lists of a query's rarest terms (at most 20,000 "
                "postings; `max_postings` in kb/lexical.py) to find candidates and scores them exactly with all the terms; "
                "the row compares its top 50 with scoring every document (the share of the exhaustive top 50 found, ties "
                "counted, and the share of queries where it is identical), and how often each finds a paraphrase's own "
                "entry: the rarest terms (model codes) are what tells these entries apart. *Paraphrase → its entry* "
                "(the engine's fused top hits) is a sanity check, not "
                "a quality figure: synthetic entries of one intent and product differ mainly by a random model code, which "
                "a sentence embedding barely tells apart, and BM25 weighs 5 % of the score; retrieval quality is measured "
                "by `bench/kb_quality.py`.",
                "",
                *scale,
                "",
            ]
            if sizes
            else []
        )
        + ref
        + [
            "",
            f"Threads: FAISS search {faiss.omp_get_max_threads()} (`faiss_threads`), HNSW construction all "
            f"{os.cpu_count()} cores, BLAS {idx.get('blas_threads')} (`blas_threads`), USE encoder 1 for a single "
            f"query (`kb.encoder.SMALL_BATCH`) and {encoder_threads} for the synthetic builds' batches "
            "(`--encoder-threads`; the encoder's default is 2, which encoded 3-7x slower than 1 on this machine "
            "whenever another job ran, and about 20 % faster when it was idle); HNSW from "
            f"{idx['hnsw_min_rows']:,} rows; CPU cores: {os.cpu_count()}.",
        ]
    )
    print(text)
    if args.write_docs:
        from kb_quality import replace_section  # same folder

        replace_section(
            "speed",
            "## Knowledge-base retrieval speed (`bench/kb_speed.py`)\n\n"
            f"`python bench/kb_speed.py --write-docs`, started {started} on {os.cpu_count()} CPU cores. "
            f"Load average (1/5/15 min) {start_load} at the start and {end_load} at the end: other jobs "
            "were running on the machine, so latencies and build times are upper bounds.\n\n" + text + "\n",
        )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
