"""Incremental index update: a new index directory from a published one and a slightly edited KB.

:func:`update_index` writes the same files and manifest as :func:`kb.index.build_index` (so
:func:`kb.index.load_index` accepts the result) but

* reuses the embedding of every row whose normalised text the base index already holds (read back
  from its FAISS index, bit for bit) and encodes only new or changed texts;
* rebuilds the FAISS index from those vectors, except when the base is an HNSW index that stays above
  ``hnsw_min_rows``: rebuilding HNSW takes tens of seconds, so the base index is copied, the new rows
  are added with new ids and the removed rows are kept as tombstones (``"deleted": true`` in rows.json,
  ``deleted_rows`` in the manifest; :class:`kb.search.KBSearcher` never returns them). Once tombstones
  exceed ``MAX_DELETED_FRACTION`` of the rows, the HNSW index is rebuilt from the vectors (no encoding);
* recomputes the entry centroids, and reuses the answer passages' embeddings (:mod:`kb.answers`) of every
  sentence the base holds, encoding only new ones;
* keeps the entry classifier's vocabulary, idf and the weights of every entry whose questions did not
  change, refits only the one-vs-rest problems of edited and added entries (the same liblinear
  problem :meth:`kb.classifier.EntryClassifier.train` solves for that class: positives weighted
  ``n / (classes * n_class)``, every other question row a negative) and drops deleted entries. Terms
  that only the changed questions contain are appended to the vocabulary while the weight budget allows.

The kept weights were fitted against the old negatives, so the result drifts from a full build as edits
accumulate: when more than ``MAX_CHANGED_FRACTION`` of the entries changed since the last full build
(or the classifier settings changed, or no classifier / a classifier would now be trained, or the KB
has fewer than three entries) :func:`update_index` does a full :func:`kb.index.build_index` instead.
Either way the manifest's ``incremental`` record names the base and what was done.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from kb.backend import VectorIndex
from kb.classifier import (
    DEFAULT_CONFIG,
    EntryClassifier,
    config_features,
    design_matrix,
    encode_extra,
    linear_svm,
    split_weights,
    trains_classifier,
)
from kb.encoder import Encoder, encode_chunks, load_encoder
from kb.faq import KnowledgeBase
from kb.index import (
    NORMALIZATION,
    LoadedIndex,
    answer_passages,
    build_and_publish,
    build_index,
    current_index_dir,
    entry_centroids,
    load_index,
    publish_new_build,
    read_manifest,
    write_index_dir,
    write_manifest,
)
from kb.layout import IndexMismatchError, Row, Vectors, make_rows, question_rows, row_texts, search_defaults

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

RowKey = tuple[str, str, str, str]  # entry id, language, kind, text

MAX_CHANGED_FRACTION = 0.2
MAX_DELETED_FRACTION = 0.2
MIN_ENTRIES = 3  # with two classes liblinear fits one shared model, not one per class


@dataclass
class KBDiff:
    added: list[str]
    edited: list[str]  # any field differs (answers, category, questions)
    deleted: list[str]
    retrain: list[str]  # added, or the normalised question texts differ: their classifier rows are refitted

    @property
    def changed(self) -> list[str]:
        return sorted(set(self.added) | set(self.edited) | set(self.deleted))

    @property
    def relevant(self) -> int:
        """Changes that move the kept classifier weights away from a full build's."""
        return len(set(self.retrain) | set(self.deleted))


@dataclass
class Rows:
    """Rows with the normalised texts they are encoded from (normalising 10k rows takes a noticeable while)."""

    rows: list[Row]
    texts: list[str]

    @classmethod
    def of(cls, rows: list[Row]) -> Rows:
        return cls(rows, row_texts(rows))


@dataclass
class RowPlan:
    rows: list[Row]
    texts: list[str]
    vectors: Vectors  # (rows, dimension), aligned with rows (tombstones included)
    index: VectorIndex
    reused: int
    encoded_rows: int
    encoded_texts: int
    index_action: str  # "rebuilt" | "appended" | "compacted"

    @property
    def deleted(self) -> int:
        return sum(1 for r in self.rows if r.get("deleted"))


def diff_kb(
    base: LoadedIndex, kb: KnowledgeBase, old_rows: Rows | None = None, new_rows: Rows | None = None
) -> KBDiff:
    """Entries added, edited, deleted and whose classifier rows must be refitted, against ``base``."""
    old = base.entries
    new_ids = [e.id for e in kb.entries]
    old_texts = _question_texts(old_rows or Rows.of(base.rows))
    new_texts = _question_texts(new_rows or Rows.of(make_rows(kb)))
    kept = set(new_ids)
    added = [eid for eid in new_ids if eid not in old]
    edited = [e.id for e in kb.entries if e.id in old and e != old[e.id]]
    deleted = [eid for eid in old if eid not in kept]
    retrain = added + [eid for eid in edited if new_texts.get(eid, []) != old_texts.get(eid, [])]
    return KBDiff(added, edited, deleted, retrain)


def _question_texts(rows: Rows) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in question_rows(rows.rows):
        out.setdefault(rows.rows[i]["entry_id"], []).append(rows.texts[i])
    return {eid: sorted(t) for eid, t in out.items()}


def full_build_reason(base: LoadedIndex, kb: KnowledgeBase, diff: KBDiff, max_changed: float) -> str | None:
    """Why this update must be a full build, or None when the incremental path applies."""
    config = {**DEFAULT_CONFIG, **search_defaults()["index"].get("classifier", {})}
    wanted = trains_classifier(
        config, len(kb.entries), sum(len(q) for e in kb.entries for q in e.questions.values())
    )
    if len(kb.entries) < MIN_ENTRIES:
        return f"{len(kb.entries)} entries (fewer than {MIN_ENTRIES})"
    if wanted and base.classifier is None:
        return "the base index has no entry classifier"
    if not wanted and base.classifier is not None:
        return f"{len(kb.entries)} entries: no entry classifier is trained for this KB"
    if base.classifier is not None and json.loads(json.dumps(config)) != base.classifier.config:
        return "the entry classifier settings changed"
    since_full = changed_since_full(base, diff)
    if since_full > max_changed * max(len(kb.entries), len(base.entries)):
        return (
            f"{since_full} entries changed since the last full build "
            f"(more than {max_changed:.0%} of {max(len(kb.entries), len(base.entries))})"
        )
    return None


def changed_since_full(base: LoadedIndex, diff: KBDiff) -> int:
    """Entries added, deleted or with new questions over the chain of incremental updates, this one included."""
    return int((base.manifest.get("incremental") or {}).get("changed_since_full", 0)) + diff.relevant


# ---------------------------------------------------------------- rows and vectors


def _row_key(row: Row) -> RowKey:
    return row["entry_id"], row["language"], row.get("kind", "question"), row["question"]


def base_vectors(base: LoadedIndex) -> Vectors:
    """Every row's stored embedding, indexed by row id (exactly what FAISS holds)."""
    n = base.vector_index.size
    try:
        if len(base.rows) != n:
            raise ValueError(f"{len(base.rows)} rows")
        return base.vector_index.stored_vectors()
    except ValueError:
        raise IndexMismatchError(
            f"{base.path}: FAISS ids are not the row ids 0..{n - 1}; rebuild with `python -m kb build`"
        ) from None


class _Vectors:
    """Row embeddings: the base row's own vector for an unchanged row, else any base row's with the same
    normalised text, else a fresh encoding (each new text once)."""

    def __init__(
        self, base: LoadedIndex, base_rows: Rows, encoder_name: str, encoder: Encoder | None, progress: bool
    ) -> None:
        self.stored = base_vectors(base)
        self.known = {t: i for i, t in enumerate(base_rows.texts)}
        self.by_key: dict[RowKey, list[int]] = {}
        for r in base.rows:
            if not r.get("deleted"):
                self.by_key.setdefault(_row_key(r), []).append(r["row"])
        self.dimension = int(base.manifest["dimension"])
        self.encoder_name, self.encoder, self.progress = encoder_name, encoder, progress
        self.fresh: dict[str, Vectors] = {}

    def for_rows(self, rows: Rows) -> tuple[Vectors, int, int]:
        """(embedding matrix aligned with ``rows``, rows that needed encoding, texts encoded now)."""
        by_key = {k: list(v) for k, v in self.by_key.items()}
        texts = rows.texts
        sources = []
        for row, text in zip(rows.rows, texts):
            ids = by_key.get(_row_key(row))
            sources.append(ids.pop(0) if ids else self.known.get(text))
        encoded = self._encode_missing([t for t, src in zip(texts, sources) if src is None])
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, (text, src) in enumerate(zip(texts, sources)):
            out[i] = self.stored[src] if src is not None else self.fresh[text]
        return out, sum(1 for src in sources if src is None), encoded

    def encode_texts(self, texts: list[str]) -> Vectors:
        """Fresh embeddings of ``texts`` (encoded once each), one row per text."""
        self._encode_missing(texts)
        return (
            np.stack([self.fresh[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        )

    def _encode_missing(self, texts: list[str]) -> int:
        todo = [t for t in dict.fromkeys(texts) if t not in self.fresh]
        if not todo:
            return 0
        if self.progress:
            print(f"encoding {len(todo)} new or changed texts...", file=sys.stderr)
        model = self.encoder if self.encoder is not None else load_encoder(self.encoder_name)
        vectors = encode_chunks(model, todo, self.progress)
        if vectors.shape[1] != self.dimension:
            raise IndexMismatchError(
                f"encoder {self.encoder_name!r} gives dimension {vectors.shape[1]} "
                f"but the base index has {self.dimension}"
            )
        self.fresh.update(zip(todo, vectors))
        return len(todo)


def rebuild_rows(new_rows: Rows, vectors: _Vectors, hnsw_min_rows: int) -> RowPlan:
    """Rows numbered afresh in KB order and a FAISS index built from the (mostly reused) vectors."""
    matrix, encoded_rows, encoded_texts = vectors.for_rows(new_rows)
    return RowPlan(
        new_rows.rows,
        new_rows.texts,
        matrix,
        VectorIndex.build(matrix, hnsw_min_rows),
        len(new_rows.rows) - encoded_rows,
        encoded_rows,
        encoded_texts,
        "rebuilt",
    )


def append_rows(base: LoadedIndex, base_rows: Rows, new_rows: Rows, vectors: _Vectors) -> RowPlan:
    """Keep the base HNSW index: tombstone the rows that went away, add the new ones with new ids."""
    live = {k: list(v) for k, v in vectors.by_key.items()}
    rows = [Row(**r) for r in base.rows]
    added: list[Row] = []
    added_texts: list[str] = []
    for r, text in zip(new_rows.rows, new_rows.texts):
        if live.get(_row_key(r)):
            live[_row_key(r)].pop(0)
        else:
            added.append(Row(**{**r, "row": len(rows) + len(added)}))
            added_texts.append(text)
    for ids in live.values():
        for row_id in ids:
            rows[row_id]["deleted"] = True
    new, encoded_rows, encoded_texts = vectors.for_rows(Rows(added, added_texts))
    index = base.vector_index
    if added:
        index.add(new, (r["row"] for r in added))
    matrix = np.vstack([vectors.stored, new]) if added else vectors.stored
    rows += added
    live_rows = sum(1 for r in rows if not r.get("deleted"))
    return RowPlan(
        rows,
        base_rows.texts + added_texts,
        matrix,
        index,
        live_rows - encoded_rows,
        encoded_rows,
        encoded_texts,
        "appended",
    )


# ---------------------------------------------------------------- classifier


def update_classifier(
    base: EntryClassifier,
    kb: KnowledgeBase,
    rows: list[Row],
    texts: list[str],
    vectors: Vectors,
    retrain: list[str],
    base_texts: list[str],
) -> EntryClassifier:
    """A new EntryClassifier: base weights for unchanged entries, refitted one-vs-rest rows for ``retrain``.

    ``base_texts``: the texts of the base classifier's training rows (aligned with its ``extra_rows``), so
    that only new texts are encoded by the extra encoders.
    """
    config = base.config
    keep = question_rows(rows)
    labels = [rows[i]["entry_id"] for i in keep]
    token_lists = [config_features(texts[i], config) for i in keep]
    vocab, idf = extend_vocab(base, token_lists, labels, set(retrain), len(kb.entries))
    term_ids = {t: i for i, t in enumerate(vocab)}
    x_sparse = EntryClassifier.tfidf(token_lists, term_ids, idf.astype(np.float64))
    emb = vectors[np.asarray(keep, dtype=np.int64)] if keep else np.zeros((0, vectors.shape[1]), np.float32)
    extra = _extra_rows(base, [texts[i] for i in keep], base_texts)
    design = design_matrix(x_sparse, emb, config, extra)
    classes = [e.id for e in kb.entries]
    coef_sparse, coef_dense, coef_extra, intercept = _kept_weights(base, classes, len(vocab), set(retrain))
    extra_dim = None if extra is None else extra.shape[1]
    for c, weights, bias in _refit(design, labels, retrain, config):
        i = classes.index(c)
        sparse_w, dense_w, extra_w = split_weights(
            weights[None, :], len(vocab), emb.shape[1], config, extra_dim
        )
        coef_sparse[i], coef_dense[i], intercept[i] = sparse_w[0], dense_w[0], bias
        if extra_w is not None and coef_extra is not None:
            coef_extra[i] = extra_w[0]
    return EntryClassifier(
        classes, vocab, idf, coef_sparse, coef_dense, intercept, config, coef_extra, extra, base.tuned
    )


def _extra_rows(base: EntryClassifier, texts: list[str], base_texts: list[str]) -> Vectors | None:
    """Extra-block embeddings of ``texts``: the base's where the text is unchanged, else encoded now."""
    stored = base.extra_rows
    if stored is None:
        return None
    known = dict(zip(base_texts, stored)) if len(base_texts) == len(stored) else {}
    todo = list(dict.fromkeys(t for t in texts if t not in known))
    if todo:
        encoded = encode_extra(base.config, todo, models=base.tuned)
        assert encoded is not None  # the base has extra rows, so its config names extra encoders
        known.update(zip(todo, encoded))
    if not texts:
        return np.zeros((0, stored.shape[1]), dtype=np.float32)
    return np.ascontiguousarray(np.vstack([known[t] for t in texts]), dtype=np.float32)


def extend_vocab(
    base: EntryClassifier, token_lists: list[list[str]], labels: list[str], retrain: set[str], n_classes: int
) -> tuple[list[str], Vectors]:
    """The base vocabulary and idf, plus the terms only refitted entries' rows bring, within the weight budget."""
    import math

    vocab = list(base.vocab)
    limit = max(int(base.config["max_weights"]) // max(n_classes, 1), 1000)
    new_terms = list(
        dict.fromkeys(
            t
            for toks, label in zip(token_lists, labels)
            if label in retrain
            for t in toks
            if t not in base.term_ids
        )
    )
    if not new_terms or len(vocab) + len(new_terms) > limit:
        return vocab, np.asarray(base.idf, dtype=np.float32)
    df: Counter[str] = Counter()
    wanted = set(new_terms)
    for toks in token_lists:
        df.update(wanted.intersection(toks))
    n = len(token_lists)
    extra = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in new_terms], dtype=np.float32)
    return vocab + new_terms, np.concatenate([np.asarray(base.idf, dtype=np.float32), extra])


def _kept_weights(
    base: EntryClassifier, classes: list[str], n_terms: int, retrain: set[str]
) -> tuple[Vectors, Vectors, Vectors | None, Vectors]:
    coef_sparse = np.zeros((len(classes), n_terms), dtype=np.float32)
    coef_dense = np.zeros((len(classes), base.coef_dense.shape[1]), dtype=np.float32)
    coef_extra = (
        None if base.coef_extra is None else np.zeros((len(classes), base.coef_extra.shape[1]), np.float32)
    )
    intercept = np.full(len(classes), -1e3, dtype=np.float32)  # a class with no rows never wins
    pos = {c: i for i, c in enumerate(base.classes)}
    kept = [(i, pos[c]) for i, c in enumerate(classes) if c in pos and c not in retrain]
    if kept:
        new_i, old_i = (np.array(x, dtype=np.int64) for x in zip(*kept))
        coef_sparse[new_i, : base.coef_sparse.shape[1]] = base.coef_sparse[old_i]
        coef_dense[new_i] = base.coef_dense[old_i]
        if coef_extra is not None and base.coef_extra is not None:
            coef_extra[new_i] = base.coef_extra[old_i]
        intercept[new_i] = base.intercept[old_i]
    return coef_sparse, coef_dense, coef_extra, intercept


def _refit(
    design: csr_matrix, labels: list[str], retrain: list[str], config: dict[str, Any]
) -> Iterator[tuple[str, NDArray[np.float64], float]]:
    """Yield (class, weights, intercept) of each one-vs-rest problem, as liblinear's multi-class OvR poses it.

    ``class_weight="balanced"`` in a multi-class fit weights class c's positives by n / (K * n_c) and
    leaves the negatives at weight 1; the binary fit below is that same problem.
    """
    counts = Counter(labels)
    y_all = np.asarray(labels, dtype=object)
    n, k = len(labels), len(counts)
    for c in retrain:
        if not counts.get(c) or counts[c] == n:
            continue
        y = (y_all == c).astype(np.int64)
        svm = linear_svm(config, {0: 1.0, 1: n / (k * counts[c])}).fit(design, y)
        yield c, svm.coef_[0], float(svm.intercept_[0])


# ---------------------------------------------------------------- entry points


def update_index(
    base_dir: str | Path,
    kb: KnowledgeBase,
    encoder_name: str,
    out_dir: str | Path,
    *,
    encoder: Encoder | None = None,
    include_answers: bool | None = None,
    hnsw_min_rows: int | None = None,
    search_config: dict[str, Any] | None = None,
    max_changed: float = MAX_CHANGED_FRACTION,
    progress: bool = False,
) -> Path:
    """Write the index of ``kb`` to ``out_dir`` from the index ``base_dir`` built for a slightly different KB.

    ``encoder``: an already loaded model (default: ``load_encoder(encoder_name)``, only if something must be
    encoded). ``include_answers`` defaults to the base's; ``search_config`` to the base's ``search.json``.
    Raises IndexMismatchError when the base was built with another encoder, format or normalisation.
    """
    base_dir, out_dir = Path(base_dir), Path(out_dir)
    base = load_index(base_dir, expected_encoder=encoder_name)
    if base.manifest.get("normalization") != NORMALIZATION:
        raise IndexMismatchError(
            f"{base_dir}: texts normalised as {base.manifest.get('normalization')!r}, "
            f"this code uses {NORMALIZATION!r}; rebuild with `python -m kb build`"
        )
    defaults = search_defaults()["index"]
    include_answers = (
        bool(base.manifest.get("include_answers")) if include_answers is None else include_answers
    )
    hnsw_min_rows = defaults["hnsw_min_rows"] if hnsw_min_rows is None else hnsw_min_rows
    base_rows, new_rows = Rows.of(base.rows), Rows.of(make_rows(kb, include_answers))
    diff = diff_kb(base, kb, base_rows, new_rows)
    reason = full_build_reason(base, kb, diff, max_changed)
    if reason is not None:
        return _full_build(
            kb,
            encoder_name,
            out_dir,
            base_dir,
            reason,
            include_answers=include_answers,
            hnsw_min_rows=hnsw_min_rows,
            search_config=search_config,
            progress=progress,
        )
    vectors = _Vectors(base, base_rows, encoder_name, encoder, progress)
    plan = _plan_rows(base, base_rows, new_rows, vectors, hnsw_min_rows)
    classifier = None
    if base.classifier is not None:
        if progress:
            print(f"refitting the entry classifier for {len(diff.retrain)} entries...", file=sys.stderr)
        base_texts = [base_rows.texts[i] for i in question_rows(base.rows)]
        classifier = update_classifier(
            base.classifier, kb, plan.rows, plan.texts, plan.vectors, diff.retrain, base_texts
        )
    answers = answer_passages(
        kb,
        defaults.get("answers", {}),
        vectors.encode_texts,
        vectors.dimension,
        base.answers.by_text() if base.answers is not None else None,
    )
    if search_config is None and (base_dir / "search.json").is_file():
        search_config = json.loads((base_dir / "search.json").read_text(encoding="utf-8"))
    extra: dict[str, Any] = {
        "incremental": {
            "base": base_dir.resolve().name,
            "changed_entries": diff.changed,
            "added": diff.added,
            "edited": diff.edited,
            "deleted": diff.deleted,
            "retrained_classes": len(diff.retrain) if classifier is not None else 0,
            "reused_rows": plan.reused,
            "encoded_rows": plan.encoded_rows,
            "encoded_texts": plan.encoded_texts,
            "index": plan.index_action,
            "changed_since_full": changed_since_full(base, diff),
        }
    }
    if plan.deleted:
        extra["deleted_rows"] = plan.deleted
    write_index_dir(
        out_dir,
        kb,
        plan.rows,
        plan.index,
        entry_centroids(kb, plan.rows, plan.vectors),
        classifier,
        search_config,
        encoder_name=encoder_name,
        dimension=base.manifest["dimension"],
        include_answers=include_answers,
        extra=extra,
        answers=answers,
    )
    return out_dir


def _plan_rows(
    base: LoadedIndex, base_rows: Rows, new_rows: Rows, vectors: _Vectors, hnsw_min_rows: int
) -> RowPlan:
    """Append to a base HNSW index that stays HNSW; otherwise rebuild (flat is instant)."""
    if "HNSW" in str(base.manifest.get("index_type")) and len(new_rows.rows) >= hnsw_min_rows:
        plan = append_rows(base, base_rows, new_rows, vectors)
        if plan.deleted <= MAX_DELETED_FRACTION * len(plan.rows):
            return plan
        compacted = rebuild_rows(new_rows, vectors, hnsw_min_rows)
        compacted.index_action, compacted.encoded_texts = "compacted", plan.encoded_texts
        return compacted
    return rebuild_rows(new_rows, vectors, hnsw_min_rows)


def _full_build(
    kb: KnowledgeBase, encoder_name: str, out_dir: Path, base_dir: Path, reason: str, **build_kwargs: Any
) -> Path:
    if build_kwargs.get("progress"):
        print(f"full build: {reason}", file=sys.stderr)
    build_index(kb, encoder_name, out_dir, **build_kwargs)
    manifest = read_manifest(out_dir)
    manifest["incremental"] = {"base": base_dir.resolve().name, "full_build": reason}
    write_manifest(out_dir, manifest)
    return out_dir


def update_and_publish(
    kb: KnowledgeBase,
    encoder_name: str,
    root: str | Path,
    *,
    keep: int = 3,
    progress: bool = False,
    encoder: Encoder | None = None,
    **update_kwargs: Any,
) -> Path:
    """Update the index published under ``root`` into a new build and publish it, like build_and_publish.

    Without a published index this is :func:`kb.index.build_and_publish`.
    """
    base = current_index_dir(root)
    if base is None:
        build_kwargs = {
            k: v
            for k, v in update_kwargs.items()
            if k in ("include_answers", "hnsw_min_rows", "search_config")
        }
        return build_and_publish(kb, encoder_name, root, keep=keep, progress=progress, **build_kwargs)
    return publish_new_build(
        root,
        kb,
        lambda out: update_index(
            base, kb, encoder_name, out, encoder=encoder, progress=progress, **update_kwargs
        ),
        keep,
    )


def describe(index_dir: str | Path) -> str:
    """One line on how ``index_dir`` was made (for the CLI and the trainer console)."""
    manifest = read_manifest(index_dir)
    record = manifest.get("incremental")
    if not record:
        return f"full build: {manifest['row_count']} rows encoded"
    if "full_build" in record:
        return f"full build ({record['full_build']}): {manifest['row_count']} rows encoded"
    return (
        f"incremental update of {record['base']}: {len(record['changed_entries'])} entries changed, "
        f"{record['reused_rows']} rows reused, {record['encoded_rows']} encoded, "
        f"{record['retrained_classes']} classifier classes refitted, index {record['index']}"
        + (f", {manifest['deleted_rows']} tombstoned rows" if manifest.get("deleted_rows") else "")
    )
