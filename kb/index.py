"""FAISS index build / load / publish.

An index is one directory::

    index.faiss     FAISS IndexIDMap2 (ids = row ids) over IndexFlatIP, or HNSW for large KBs
    rows.json       [{"row": id, "entry_id", "language", "question", "kind"}]  (kind: question|answer)
    kb.json         the entries (answers per language) so the searcher needs no source file
    manifest.json   model name, dimension, kb hash, library versions, build time, row count, index type,
                    and the entry classifier's shapes and file checksums (``classifier``, null if none)
    search.json     fusion weights and decision thresholds (see kb/data/search_defaults.json)
    centroids.npy   per entry, the unit-length mean of its question embeddings (kb.json entry order)
    classifier.npz  entry classifier weights (float32 arrays, no pickle; see kb/classifier.py)
    classifier.json its vocabulary, class order and feature settings

Lifecycle under a root directory: builds are written to ``root/builds/.partial-*`` then renamed to
``root/builds/<UTC timestamp>-<kb hash8>/``; :func:`publish` swaps ``root/CURRENT`` (a one-line
relative path) atomically with a temp file + ``os.replace``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from kb.faq import Entry, KnowledgeBase, kb_hash
from kb.normalize import normalize

FORMAT_VERSION = 1
DEFAULTS_FILE = Path(__file__).parent / "data" / "search_defaults.json"


class IndexMismatchError(RuntimeError):
    """The index on disk was not built for the expected encoder / knowledge base / format."""


def search_defaults() -> dict[str, Any]:
    return json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


_faiss_ready = False


def faiss_module():
    """Import faiss, limiting its OpenMP threads once per process (``index.faiss_threads``).

    Measured on 2 cores (bench/kb_speed.py): with OpenMP's default team, FAISS threads spin-wait
    and compete with the encoder's BLAS threads; one thread halves single-query latency and build time.
    """
    global _faiss_ready
    import faiss

    if not _faiss_ready:
        threads = int(search_defaults()["index"].get("faiss_threads", 0) or 0)
        if threads > 0:
            faiss.omp_set_num_threads(threads)
        _faiss_ready = True
    return faiss


@dataclass
class LoadedIndex:
    path: Path
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    entries: dict[str, Entry]
    faiss_index: Any
    search_config: dict[str, Any]
    classifier: Any = None  # kb.classifier.EntryClassifier, or None when the index has none
    centroids: Any = None   # (entries, dimension) float32, or None


def _library_versions() -> dict[str, str]:
    import numpy
    import sentence_transformers
    import sklearn

    return {"faiss": faiss_module().__version__, "sentence_transformers": sentence_transformers.__version__,
            "numpy": numpy.__version__, "scikit_learn": sklearn.__version__}


def make_rows(kb: KnowledgeBase, include_answers: bool = False) -> list[dict[str, Any]]:
    """One row per (entry, language, question); optionally one per (entry, language) answer."""
    rows: list[dict[str, Any]] = []
    for entry in kb.entries:
        for lang in kb.languages:
            for question in entry.questions[lang]:
                rows.append({"row": len(rows), "entry_id": entry.id, "language": lang,
                             "question": question, "kind": "question"})
            if include_answers:
                rows.append({"row": len(rows), "entry_id": entry.id, "language": lang,
                             "question": entry.answers[lang], "kind": "answer"})
    return rows


def make_faiss_index(vectors, hnsw_min_rows: int, hnsw_m: int = 32):
    """Exact inner product for small KBs; HNSW (approximate) from ``hnsw_min_rows`` rows upwards."""
    import numpy as np

    faiss = faiss_module()
    n, dim = vectors.shape
    if n >= hnsw_min_rows:
        base = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = 80
        base.hnsw.efSearch = 128
        kind = f"IDMap2,HNSW{hnsw_m},IP"
    else:
        base = faiss.IndexFlatIP(dim)
        kind = "IDMap2,FlatIP"
    index = faiss.IndexIDMap2(base)
    index.add_with_ids(vectors, np.arange(n, dtype="int64"))
    return index, kind


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def build_index(kb: KnowledgeBase, encoder_name: str, out_dir: str | Path, *,
                include_answers: bool | None = None, hnsw_min_rows: int | None = None,
                progress: bool = False, search_config: dict[str, Any] | None = None) -> Path:
    """Encode every normalised question of ``kb`` and write the index directory ``out_dir``."""
    faiss = faiss_module()
    from kb.encoder import embedding_dimension, encode, load_encoder

    defaults = search_defaults()
    include_answers = defaults["index"]["include_answers"] if include_answers is None else include_answers
    hnsw_min_rows = defaults["index"]["hnsw_min_rows"] if hnsw_min_rows is None else hnsw_min_rows
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_encoder(encoder_name)
    rows = make_rows(kb, include_answers)
    texts = [normalize(r["question"]) or r["question"] for r in rows]
    vectors = _encode_chunks(model, texts, progress, encode)
    index, kind = make_faiss_index(vectors, hnsw_min_rows)
    faiss.write_index(index, str(out_dir / "index.faiss"))
    if progress:
        import sys

        print(f"training the entry classifier ({len(kb.entries)} entries, {len(rows)} rows)...", file=sys.stderr)
    centroids = entry_centroids(kb, rows, vectors)
    import numpy as np

    np.save(out_dir / "centroids.npy", centroids)
    classifier = train_classifier(kb, rows, texts, vectors, defaults["index"].get("classifier", {}))
    classifier_record = classifier.save(out_dir) if classifier is not None else None
    if search_config is None:
        search_config = dict(defaults["search"])
        if classifier is None:  # thresholds calibrated for nearest neighbours alone
            search_config.update(defaults.get("search_without_classifier", {}))
    _write_json(out_dir / "rows.json", rows)
    _write_json(out_dir / "kb.json", {"version": kb.version, "company": kb.company,
                                      "languages": list(kb.languages),
                                      "entries": [asdict(e) for e in kb.entries]})
    _write_json(out_dir / "search.json", search_config)
    manifest = {
        "format_version": FORMAT_VERSION, "encoder": encoder_name, "dimension": embedding_dimension(model),
        "kb_hash": kb_hash(kb), "kb_version": kb.version, "entries": len(kb.entries), "row_count": len(rows),
        "index_type": kind, "include_answers": include_answers, "normalization": "nfkc+t2s+lower+nopunct",
        "centroids": {"file": "centroids.npy", "shape": list(centroids.shape),
                      "sha256": file_sha256(out_dir / "centroids.npy")},
        "classifier": classifier_record,
        "libraries": _library_versions(), "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_json(out_dir / "manifest.json", manifest)  # written last: its presence marks a complete build
    return out_dir


def entry_centroids(kb: KnowledgeBase, rows: list[dict[str, Any]], vectors):
    """Unit-length mean of each entry's question-row embeddings, in ``kb.entries`` order.

    An entry is matched both by its best row and by its centroid, which pools all its variants and
    languages (see ``centroid_weight`` in kb/data/search_defaults.json).
    """
    import numpy as np

    pos = {e.id: i for i, e in enumerate(kb.entries)}
    keep = [i for i, r in enumerate(rows) if r.get("kind", "question") == "question"]
    dim = vectors.shape[1] if vectors.ndim == 2 else 1
    sums = np.zeros((len(kb.entries), dim), dtype=np.float64)
    if keep:
        np.add.at(sums, np.array([pos[rows[i]["entry_id"]] for i in keep]), vectors[np.asarray(keep)])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def file_sha256(path: str | Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train_classifier(kb: KnowledgeBase, rows: list[dict[str, Any]], texts: list[str], vectors,
                     config: dict[str, Any]):
    """Entry classifier over the question rows (answers, if indexed, are not training examples)."""
    import numpy as np

    from kb.classifier import EntryClassifier

    keep = [i for i, r in enumerate(rows) if r.get("kind", "question") == "question"]
    if not keep:
        return None
    return EntryClassifier.train([texts[i] for i in keep], [rows[i]["entry_id"] for i in keep],
                                 vectors[np.asarray(keep)], config, classes=[e.id for e in kb.entries])


def _encode_chunks(model, texts: list[str], progress: bool, encode: Callable):
    import numpy as np

    chunk = 512
    starts = range(0, len(texts), chunk)
    if progress and len(texts) > chunk:
        from tqdm import tqdm

        starts = tqdm(starts, desc="encoding", unit="chunk")
    parts = [encode(model, texts[i:i + chunk]) for i in starts]
    return np.vstack(parts) if parts else np.zeros((0, 1), dtype="float32")


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    path = Path(index_dir) / "manifest.json"
    if not path.is_file():
        raise IndexMismatchError(f"{index_dir}: not an index directory (no manifest.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexMismatchError(f"{path}: unreadable manifest ({exc})") from None


def load_index(index_dir: str | Path, expected_encoder: str | None = None,
               expected_kb_hash: str | None = None) -> LoadedIndex:
    """Load an index directory, refusing it when the manifest does not match expectations."""
    faiss = faiss_module()
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(f"{index_dir}: index format {manifest.get('format_version')} "
                                 f"but this code reads format {FORMAT_VERSION}; rebuild with `python -m kb build`")
    if expected_encoder is not None and manifest.get("encoder") != expected_encoder:
        raise IndexMismatchError(f"{index_dir}: built with encoder {manifest.get('encoder')!r} but "
                                 f"{expected_encoder!r} is configured; rebuild with `python -m kb build`")
    if expected_kb_hash is not None and manifest.get("kb_hash") != expected_kb_hash:
        raise IndexMismatchError(f"{index_dir}: built from knowledge base {str(manifest.get('kb_hash'))[:8]} but "
                                 f"the source is {expected_kb_hash[:8]}; rebuild with `python -m kb build`")
    index = faiss.read_index(str(index_dir / "index.faiss"))
    rows = json.loads((index_dir / "rows.json").read_text(encoding="utf-8"))
    if index.ntotal != manifest.get("row_count") or len(rows) != index.ntotal or index.d != manifest.get("dimension"):
        raise IndexMismatchError(f"{index_dir}: index.faiss ({index.ntotal} rows, dim {index.d}) does not match "
                                 f"manifest ({manifest.get('row_count')} rows, dim {manifest.get('dimension')})")
    data = json.loads((index_dir / "kb.json").read_text(encoding="utf-8"))
    entries = {e["id"]: Entry(**e) for e in data["entries"]}
    centroids = None
    record = manifest.get("centroids")
    if record:
        import numpy as np

        path = index_dir / record.get("file", "centroids.npy")
        if not path.is_file() or file_sha256(path) != record.get("sha256"):
            raise IndexMismatchError(f"{path}: missing or checksum differs from the manifest; "
                                     "rebuild with `python -m kb build`")
        centroids = np.load(path, allow_pickle=False)
        if centroids.shape != (len(entries), index.d):
            raise IndexMismatchError(f"{path}: shape {centroids.shape} but the index has {len(entries)} entries "
                                     f"of dimension {index.d}; rebuild with `python -m kb build`")
    classifier = None
    if manifest.get("classifier"):
        from kb.classifier import ClassifierMismatchError, EntryClassifier

        try:
            classifier = EntryClassifier.load(index_dir, manifest["classifier"], list(entries), index.d)
        except ClassifierMismatchError as exc:
            raise IndexMismatchError(f"{exc}; rebuild with `python -m kb build`") from None
    config = search_defaults()["search"]
    search_file = index_dir / "search.json"
    if search_file.is_file():
        config = {**config, **json.loads(search_file.read_text(encoding="utf-8"))}
    return LoadedIndex(index_dir, manifest, rows, entries, index, config, classifier, centroids)


# ---------------------------------------------------------------- lifecycle under a root directory

def current_index_dir(root: str | Path) -> Path | None:
    """The published build directory named by ``root/CURRENT``, or None if nothing is published."""
    root = Path(root)
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return (root / name) if name else None


def new_build_dir(root: str | Path, kb: KnowledgeBase) -> Path:
    builds = Path(root) / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    now = time.time()  # microseconds keep names unique and sortable in build order
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    name, n = f"{stamp}-{kb_hash(kb)[:8]}", 1
    while (builds / name).exists():
        n += 1
        name = f"{stamp}-{kb_hash(kb)[:8]}-{n}"
    return builds / name


def publish(root: str | Path, build_dir: str | Path) -> Path:
    """Point ``root/CURRENT`` at ``build_dir`` (which must be inside ``root``) atomically."""
    root, build_dir = Path(root).resolve(), Path(build_dir).resolve()
    read_manifest(build_dir)  # refuse to publish an incomplete build
    rel = os.path.relpath(build_dir, root)
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT.", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(rel + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")
    return build_dir


def build_and_publish(kb: KnowledgeBase, encoder_name: str, root: str | Path, *, keep: int = 3,
                      progress: bool = False, **build_kwargs: Any) -> Path:
    """Build into a partial directory, rename it into ``root/builds/``, publish it, prune old builds."""
    final = new_build_dir(root, kb)
    partial = final.with_name(".partial-" + final.name)
    try:
        build_index(kb, encoder_name, partial, progress=progress, **build_kwargs)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    publish(root, final)
    prune_builds(root, keep)
    return final


def prune_builds(root: str | Path, keep: int = 3) -> list[Path]:
    """Delete all but the newest ``keep`` builds, never the published one."""
    current = current_index_dir(root)
    builds = sorted((p for p in (Path(root) / "builds").iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: p.name, reverse=True)
    removed = []
    for old in builds[keep:]:
        if current is not None and old.resolve() == current.resolve():
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed
