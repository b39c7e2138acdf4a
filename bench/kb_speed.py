"""Speed of kb/: encoder load, index build, per-query latency, FAISS flat vs HNSW crossover.

Usage: ``python bench/kb_speed.py [--write-docs] [--sizes 1000,10000,50000,200000]``
The HNSW table uses synthetic unit vectors near real query embeddings (real sentences + noise),
searched with single queries as the chat path does, on the cores this machine has.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.evaluate import load_queries  # noqa: E402
from kb.faq import load_kb  # noqa: E402


def pct(values, p):
    return float(np.percentile(np.array(values) * 1000, p))


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def faiss_table(base_vectors, sizes, lines, n_queries=200):
    import faiss

    from kb.index import make_faiss_index

    rng = np.random.default_rng(0)
    lines += ["", "| rows | flat build s | flat ms/query (p50) | HNSW32 build s | HNSW ms/query (p50) | HNSW recall@10 vs flat |",
              "|---|---|---|---|---|---|"]
    queries = base_vectors[rng.choice(len(base_vectors), n_queries)]
    queries = queries + rng.normal(0, 0.02, queries.shape).astype("float32")
    faiss.normalize_L2(queries)
    for n in sizes:
        vecs = base_vectors[rng.choice(len(base_vectors), n)] + rng.normal(0, 0.03, (n, base_vectors.shape[1])).astype("float32")
        faiss.normalize_L2(vecs)
        row = [f"{n}"]
        found = {}
        for kind, threshold in (("flat", n + 1), ("hnsw", 0)):
            (index, _), build_s = timed(make_faiss_index, vecs, threshold)
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--sizes", default="1000,5000,10000,20000,50000,100000")
    args = ap.parse_args()
    lines = []
    from kb.encoder import encode, load_encoder
    from kb.index import build_index
    from kb.normalize import normalize
    from kb.search import KBSearcher

    _, load_s = timed(load_encoder, "use-multilingual-v3")
    kb = load_kb(ROOT / "kb" / "data" / "reference_faq.yml")
    queries = [q["text"] for q in load_queries()]
    with tempfile.TemporaryDirectory() as tmp:
        _, build_s = timed(build_index, kb, "use-multilingual-v3", Path(tmp) / "ref")
        searcher, open_s = timed(KBSearcher.from_dir, Path(tmp) / "ref")
        lines += ["| measure | value |", "|---|---|",
                  f"| import torch + sentence-transformers + load USE encoder | {load_s:.2f} s |",
                  f"| build reference index (80 entries, {searcher.index.faiss_index.ntotal} rows) | {build_s:.2f} s |",
                  f"| open a built index (hot reload: FAISS + rows + BM25) | {open_s:.2f} s |"]
        for label, weight in (("dense only", 0.0), (f"fused (w={searcher.lexical_weight:g}, default)", None)):
            cfg = {} if weight is None else {"lexical_weight": weight}
            s = KBSearcher(searcher.index, searcher.encoder, config=cfg)
            for q in queries[:20]:
                s.search(q)
            times = [timed(s.search, q)[1] for q in queries]
            lines.append(f"| single query, {label}: p50 / p95 (n={len(times)}) | {pct(times, 50):.1f} / {pct(times, 95):.1f} ms |")
        _, batch_s = timed(searcher.search_batch, queries)
        lines.append(f"| batch of {len(queries)} queries (search_batch) | {batch_s * 1000 / len(queries):.2f} ms/query |")
        norms = [normalize(q) for q in queries]
        times = [timed(encode, searcher.encoder, [n])[1] for n in norms]
        lines.append(f"| of which USE encoding, single query p50 | {pct(times, 50):.1f} ms |")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines.append(f"| peak RSS of this process so far | {rss:.0f} MiB |")
        print("\n".join(lines), flush=True)
        import csv

        texts = [r["text"] for r in csv.DictReader(open("/work/shared/datasets/banking77/train.csv", encoding="utf-8"))]
        base = encode(searcher.encoder, texts)
    faiss_table(base, [int(x) for x in args.sizes.split(",")], lines)
    lines.append(f"\nFAISS threads: {__import__('faiss').omp_get_max_threads()}, CPU cores: {os.cpu_count()}.")
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        from kb_quality import replace_section  # same folder

        replace_section("speed", "## Knowledge-base retrieval speed (`bench/kb_speed.py`)\n\n"
                        f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores; load average at the end "
                        f"{os.getloadavg()[0]:.1f} (other work was running on the machine, so latencies are "
                        "upper bounds).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
