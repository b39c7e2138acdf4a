"""Supervised entry classifier trained at index time on the KB's own question variants.

Every question row (all languages, normalised: Traditional folded to Simplified) is a training
example whose class is its entry id. Features are

* sparse: sublinear TF-IDF over character n-grams of each script run (CJK runs and Latin words, padded
  with a boundary mark, so that Chinese needs no word segmentation and typos still share n-grams)
  plus word tokens (jieba for Chinese, whitespace for Latin), L2-normalised;
* dense: the query's sentence embedding (the same vector the FAISS search uses) times ``dense_scale``;
* a second dense block (``extra_encoder``, default ``multilingual-e5-small-4bit``): the text's embedding
  by another multilingual encoder times ``extra_scale``. Two encoders trained differently make errors
  that only partly overlap; on validation (bench/kb_quality.py) the pair beats either one alone;
* an English-only block (``english_encoder``, default ``all-minilm-l6-v2``) times ``english_scale``: the
  embedding of a text with no Chinese character, a zero vector for any other text. The English encoder
  separates English paraphrases better than the multilingual ones, but its vectors of Chinese text are
  noise the SVM would fit, so Chinese rows and queries never see it.

A one-vs-rest linear SVM (liblinear) is fitted on the concatenation. At search time its decision
values become per-entry probabilities through a softmax with the ``classifier_temperature`` of
``search.json`` and are fused with the nearest-neighbour score (see :func:`kb.search.fuse`).

Persisted without pickle: ``classifier.npz`` (float32 weights, idf, and the training rows' extra-block
embeddings, which an incremental update reuses; read with ``allow_pickle=False``) and ``classifier.json``
(vocabulary, class order, feature settings). The manifest records the shapes and the sha256 of both
files; :meth:`EntryClassifier.load` refuses any mismatch.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kb import tuning
from kb.encoder import Encoder, embedding_dimension, encode, load_encoder
from kb.layout import Vectors, file_sha256
from kb.lexical import CJK_CHAR, SCRIPT_RUNS, STOPWORDS, tokenize

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.svm import LinearSVC

EncodeWith = Callable[[Encoder, list[str]], Vectors]

NPZ_FILE = "classifier.npz"
JSON_FILE = "classifier.json"
FORMAT = 3  # 2: second encoder block (coef_extra, extra_rows); 3: the block may add an English-only encoder


DEFAULT_CONFIG: dict[str, Any] = {
    "enabled": True,
    "char_ngrams": [1, 3],  # character n-gram lengths (inclusive) per padded script run
    "words": True,  # add word tokens (jieba / whitespace)
    "stopwords": False,  # drop function words (kb.lexical.STOPWORDS) from the sparse features
    "sparse": True,  # use the TF-IDF block at all (False: a linear model on the embedding alone)
    "dense_scale": 2.0,  # weight of the sentence embedding against the unit-norm TF-IDF block
    "extra_encoder": "multilingual-e5-small-4bit",  # second embedding block ("" = none; any kb.encoder name)
    "extra_scale": 2.0,  # weight of the second encoder's embedding
    "english_encoder": "all-minilm-l6-v2",  # English-only block: texts without Chinese characters ("" = none)
    # Weight of the English-only embedding. 2 had the best mean validation top-1 over the reference FAQ,
    # BANKING77 and CLINC150 (x1 0.917, x2 0.919, x3 0.918); bench/kb_quality.py --classifier-variants
    # puts x3 within 0.002 of it in validation utility.
    "english_scale": 2.0,
    # Fine-tuning of the English encoder on the KB's English questions at build (kb/tuning.py; {} = its
    # defaults, {"enabled": false} = the pretrained encoder).
    "english_tuning": {},
    "C": 0.5,  # SVM regularisation
    "max_weights": 40_000_000,  # budget for classes x sparse features (float32: 160 MB)
    "max_entries": 20_000,  # above this many entries no classifier is trained (nearest neighbours only)
    # Training cost budget, entries x question rows: liblinear fits one binary problem per entry over
    # every row, so a 10k-question KB of 3,335 entries took 13 min on 2 cores (bench/kb_incremental.py)
    # while BANKING77 (77 x 10k) takes ~30 s and CLINC150 (150 x 15k) ~45 s. Above the budget the KB
    # is served by nearest neighbours (centroid + BM25) with their own calibrated thresholds.
    "max_train_cost": 5_000_000,
}


class ClassifierMismatchError(RuntimeError):
    """``classifier.npz``/``classifier.json`` do not belong to this index (raised as IndexMismatchError)."""


def features(
    norm: str, char_ngrams: Sequence[int] = (1, 3), words: bool = True, stopwords: bool = False
) -> list[str]:
    """Feature tokens of one normalised text (see :func:`kb.normalize.normalize`).

    With ``stopwords``, Latin function words (``kb.lexical.STOPWORDS``) give no tokens at all and
    Chinese function words no word token (their characters still appear in the n-grams).
    """
    lo, hi = int(char_ngrams[0]), int(char_ngrams[1])
    tokens: list[str] = []
    for run in SCRIPT_RUNS.findall(norm) if hi >= lo else ():
        if stopwords and run in STOPWORDS:
            continue
        padded = f"<{run}>"
        for n in range(lo, hi + 1):
            if n == 1:
                tokens += ["c:" + ch for ch in run]
            else:
                tokens += ["c:" + padded[i : i + n] for i in range(len(padded) - n + 1)]
    if words:
        tokens += tokenize(norm, ("words",), stopwords=stopwords)
    return tokens


def config_features(norm: str, config: dict[str, Any]) -> list[str]:
    """:func:`features` with the settings of a classifier ``config`` (none when its sparse block is off)."""
    if not config.get("sparse", True):
        return []
    return features(norm, config["char_ngrams"], config["words"], config.get("stopwords", False))


def trains_classifier(config: dict[str, Any], n_classes: int, n_rows: int = 0) -> bool:
    """Whether :meth:`EntryClassifier.train` fits a model for this many entries and question rows
    (else it returns None): enabled, 2..``max_entries`` entries, entries x rows within ``max_train_cost``."""
    config = {**DEFAULT_CONFIG, **config}
    return (
        bool(config["enabled"])
        and 2 <= n_classes <= int(config["max_entries"])
        and n_classes * n_rows <= int(config["max_train_cost"])
    )


def linear_svm(config: dict[str, Any], class_weight: str | dict[int, float] = "balanced") -> LinearSVC:
    """The liblinear SVM every entry classifier is fitted with (one-vs-rest over the classes)."""
    from sklearn.svm import LinearSVC

    return LinearSVC(
        C=float(config["C"]), class_weight=class_weight, dual=True, max_iter=5000, random_state=0
    )


def design_matrix(
    x_sparse: csr_matrix, embeddings: Vectors, config: dict[str, Any], extra: Vectors | None = None
) -> csr_matrix:
    """Training features: the TF-IDF block, the embedding times ``dense_scale`` (if positive), then the
    extra blocks' embeddings (:func:`encode_extra`) times their per-column scales (:func:`extra_column_scales`)."""
    from scipy import sparse

    blocks = [x_sparse]
    scale = float(config["dense_scale"])
    if scale > 0:
        blocks.append(sparse.csr_matrix(np.asarray(embeddings, dtype=np.float32) * scale))
    if extra is not None and extra.shape[1]:
        blocks.append(sparse.csr_matrix(np.asarray(extra, dtype=np.float32) * extra_column_scales(config)))
    return sparse.hstack(blocks).tocsr() if len(blocks) > 1 else x_sparse


def extra_blocks(config: dict[str, Any]) -> list[tuple[str, float, bool]]:
    """(encoder name, scale, English only) of each extra embedding block of ``config``, in column order."""
    config = {**DEFAULT_CONFIG, **config}
    blocks = []
    for key, english_only in (("extra", False), ("english", True)):
        name, scale = str(config.get(f"{key}_encoder") or ""), float(config.get(f"{key}_scale", 0.0))
        if name and scale > 0:
            blocks.append((name, scale, english_only))
    return blocks


def english_encoders(config: dict[str, Any]) -> list[str]:
    """Names of the English-only extra blocks' encoders of ``config`` (at most one in practice)."""
    return [name for name, _, english_only in extra_blocks(config) if english_only]


def extra_encoder_name(config: dict[str, Any]) -> str:
    """The extra encoders of ``config`` as recorded in the manifest ("" when the classifier has none)."""
    return " + ".join(
        ("english-only " if english else "") + name for name, _, english in extra_blocks(config)
    )


def has_chinese(norm: str) -> bool:
    return CJK_CHAR.search(norm) is not None


def encode_extra(
    config: dict[str, Any],
    norms: Sequence[str],
    encode_with: EncodeWith | None = None,
    models: Mapping[str, Encoder] | None = None,
) -> Vectors | None:
    """Extra-block embeddings of normalised texts, the blocks side by side, unscaled (None when ``config``
    has none). English-only blocks encode only the texts without Chinese characters; the others' rows
    stay zero. ``encode_with(model, texts)`` defaults to :func:`kb.encoder.encode`; ``models`` maps an
    encoder name to the model to use instead of the shared pretrained one (a tuned English encoder)."""
    blocks = extra_blocks(config)
    if not blocks:
        return None
    encode_with = encode_with or encode
    norms, parts = list(norms), []
    for name, _, english_only in blocks:
        model = (models or {}).get(name) or load_encoder(name)
        if not english_only:
            parts.append(np.asarray(encode_with(model, norms), dtype=np.float32))
            continue
        part = np.zeros((len(norms), embedding_dimension(model)), dtype=np.float32)
        latin = [i for i, n in enumerate(norms) if not has_chinese(n)]
        if latin:
            part[latin] = encode_with(model, [norms[i] for i in latin])
        parts.append(part)
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)


def extra_column_scales(config: dict[str, Any]) -> Vectors:
    """Per-column scale of the extra blocks (their encoders are loaded to learn the dimensions)."""
    return np.concatenate(
        [
            np.full(embedding_dimension(load_encoder(name)), scale, dtype=np.float32)
            for name, scale, _ in extra_blocks(config)
        ]
        or [np.zeros(0, np.float32)]
    )


class EntryClassifier:
    """Linear entry classifier:
    ``scores = tfidf(text) @ W_sparse.T + emb @ W_dense.T + extra_emb @ W_extra.T + b`` (scales folded in)."""

    def __init__(
        self,
        classes: list[str],
        vocab: list[str],
        idf: Vectors,
        coef_sparse: Vectors,
        coef_dense: Vectors,
        intercept: Vectors,
        config: dict[str, Any],
        coef_extra: Vectors | None = None,
        extra_rows: Vectors | None = None,
        tuned: Mapping[str, Encoder] | None = None,
    ) -> None:
        self.classes = list(classes)
        self.vocab = list(vocab)
        self.term_ids = {t: i for i, t in enumerate(self.vocab)}
        self.idf = idf
        self.coef_sparse = coef_sparse  # (classes, vocab) float32
        self.coef_dense = coef_dense  # (classes, dim) float32, dense_scale folded in
        self.intercept = intercept  # (classes,) float32
        self.config = {**DEFAULT_CONFIG, **config}
        self.coef_extra = (
            coef_extra  # (classes, extra dim) float32, per-column scales folded in; None: no block
        )
        self.extra_rows = extra_rows  # (training rows, extra dim): the training rows' extra embeddings
        self.tuned = dict(tuned or {})  # encoder name -> the model tuned on this KB (kb/tuning.py)

    @property
    def extra_encoder(self) -> str:
        return extra_encoder_name(self.config) if self.coef_extra is not None else ""

    # ------------------------------------------------------------------ features
    def _tokens(self, norms: Iterable[str]) -> list[list[str]]:
        return [config_features(n, self.config) for n in norms]

    @staticmethod
    def tfidf(
        token_lists: list[list[str]], term_ids: dict[str, int], idf: NDArray[np.floating[Any]]
    ) -> csr_matrix:
        from scipy import sparse

        indptr, indices, data = [0], [], []
        for toks in token_lists:
            counts = Counter(term_ids[t] for t in toks if t in term_ids)
            if counts:
                ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                w = (1.0 + np.log(tf)) * idf[ids]
                w /= max(float(np.sqrt(np.dot(w, w))), 1e-12)
                indices.extend(ids.tolist())
                data.extend(w.tolist())
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(token_lists), len(term_ids)),
        )

    # ------------------------------------------------------------------ training
    @classmethod
    def train(
        cls,
        norms: Sequence[str],
        labels: Sequence[str],
        embeddings: Vectors,
        config: dict[str, Any] | None = None,
        classes: Sequence[str] | None = None,
        extra: Vectors | None = None,
        tuned: Mapping[str, Encoder] | None = None,
    ) -> EntryClassifier | None:
        """Fit on normalised question texts, their entry ids and their embeddings (rows aligned).

        ``extra``: the rows' extra-block embeddings (:func:`encode_extra`; encoded here when the config
        names extra encoders and they are not given). ``tuned``: encoder name -> the model tuned on this KB
        that encoded (or encodes) its block.

        Returns None when there is nothing to learn (fewer than two entries) or the KB is beyond
        ``max_entries`` / ``max_train_cost`` (see :func:`trains_classifier`). ``classes`` fixes the class order (default: first appearance in ``labels``).
        """
        config = {**DEFAULT_CONFIG, **(config or {})}
        classes = list(classes) if classes is not None else list(dict.fromkeys(labels))
        if not trains_classifier(config, len(classes), len(norms)):
            return None
        token_lists = [config_features(n, config) for n in norms]
        df: Counter[str] = Counter()
        for toks in token_lists:
            df.update(set(toks))
        # Keep the most frequent terms within the weight budget (classes x terms), ties in first-seen order.
        limit = max(int(config["max_weights"]) // len(classes), 1000)
        vocab = (
            [t for t, _ in sorted(df.items(), key=lambda kv: -kv[1])[:limit]] if len(df) > limit else list(df)
        )
        term_ids = {t: i for i, t in enumerate(vocab)}
        n = len(token_lists)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocab], dtype=np.float64)
        x_sparse = cls.tfidf(token_lists, term_ids, idf)
        emb = np.asarray(embeddings, dtype=np.float32)
        if not extra_encoder_name(config):
            extra = None
        elif extra is None:
            extra = encode_extra(config, norms, models=tuned)
        design = design_matrix(x_sparse, emb, config, extra)
        index_of = {c: i for i, c in enumerate(classes)}
        y = np.array([index_of[label] for label in labels])
        svm = linear_svm(config)
        svm.fit(design, y)
        coef = np.zeros((len(classes), design.shape[1]), dtype=np.float32)
        intercept = np.full(len(classes), -1e3, dtype=np.float32)  # a class with no rows never wins
        if len(svm.classes_) == 2:  # liblinear keeps one row for two classes
            rows = np.vstack([-svm.coef_[0], svm.coef_[0]])
            bias = np.array([-svm.intercept_[0], svm.intercept_[0]])
        else:
            rows, bias = svm.coef_, svm.intercept_
        coef[svm.classes_] = rows
        intercept[svm.classes_] = bias
        coef_sparse, coef_dense, coef_extra = split_weights(
            coef, len(vocab), emb.shape[1], config, None if extra is None else extra.shape[1]
        )
        return cls(
            classes,
            vocab,
            idf.astype(np.float32),
            coef_sparse,
            coef_dense,
            intercept,
            config,
            coef_extra,
            None if extra is None else np.ascontiguousarray(extra, dtype=np.float32),
            tuned if extra is not None else None,
        )

    # ------------------------------------------------------------------ inference
    def decision(self, norms: Sequence[str], embeddings: Vectors, extra: Vectors | None = None) -> Vectors:
        """Decision values, shape (queries, classes), in ``self.classes`` order.

        ``extra``: the texts' extra-block embeddings (encoded here when needed and not given).
        """
        x = self.tfidf(self._tokens(norms), self.term_ids, self.idf)
        scores = np.asarray(embeddings, dtype=np.float32) @ self.coef_dense.T
        if self.coef_extra is not None and len(norms):
            extra = encode_extra(self.config, norms, models=self.tuned) if extra is None else extra
            scores += np.asarray(extra, dtype=np.float32) @ self.coef_extra.T
        # Per query, only the columns of its own features: ``x @ coef_sparse.T`` would make scipy copy
        # the whole (vocab x classes) matrix to C order on every call (~20 ms at 1,000 entries).
        for i in range(x.shape[0]):
            start, end = x.indptr[i], x.indptr[i + 1]
            if end > start:
                scores[i] += self.coef_sparse[:, x.indices[start:end]] @ x.data[start:end]
        scores += self.intercept
        return scores

    # ------------------------------------------------------------------ persistence (no pickle)
    def save(self, out_dir: str | Path) -> dict[str, Any]:
        """Write ``classifier.npz`` + ``classifier.json``; return the manifest record."""
        out_dir = Path(out_dir)
        extra_dim = 0 if self.coef_extra is None else int(self.coef_extra.shape[1])
        coef_extra = (
            self.coef_extra if self.coef_extra is not None else np.zeros((len(self.classes), 0), np.float32)
        )
        extra_rows = self.extra_rows if self.extra_rows is not None else np.zeros((0, extra_dim), np.float32)
        np.savez(
            out_dir / NPZ_FILE,
            idf=self.idf,
            coef_sparse=self.coef_sparse,
            coef_dense=self.coef_dense,
            intercept=self.intercept,
            coef_extra=coef_extra,
            extra_rows=extra_rows,
        )
        meta = {"format": FORMAT, "classes": self.classes, "vocab": self.vocab, "config": self.config}
        (out_dir / JSON_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tuned = {}
        if self.tuned:
            ((name, model),) = self.tuned.items()
            tuned = {"tuned": tuning.save(model, out_dir, name, self.config["english_tuning"])}
        return {
            **tuned,
            "format": FORMAT,
            "type": "linear-svm-ovr",
            "classes": len(self.classes),
            "sparse_features": len(self.vocab),
            "dense_dimension": int(self.coef_dense.shape[1]),
            "extra_encoder": self.extra_encoder,
            "extra_dimension": extra_dim,
            "config": self.config,
            "sha256": {
                NPZ_FILE: file_sha256(out_dir / NPZ_FILE),
                JSON_FILE: file_sha256(out_dir / JSON_FILE),
            },
        }

    @classmethod
    def load(
        cls, index_dir: str | Path, record: dict[str, Any], entry_ids: Sequence[str], dimension: int
    ) -> EntryClassifier:
        """Load and verify against the manifest ``record``, the index's entry ids and embedding size."""
        index_dir = Path(index_dir)
        for name in (NPZ_FILE, JSON_FILE):
            path = index_dir / name
            if not path.is_file():
                raise ClassifierMismatchError(f"{path}: missing (the manifest lists a classifier)")
            if file_sha256(path) != record.get("sha256", {}).get(name):
                raise ClassifierMismatchError(f"{path}: checksum differs from the manifest")
        meta = json.loads((index_dir / JSON_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ClassifierMismatchError(
                f"{index_dir / JSON_FILE}: format {meta.get('format')}, expected {FORMAT}"
            )
        try:
            with np.load(index_dir / NPZ_FILE, allow_pickle=False) as data:
                arrays = {
                    k: data[k]
                    for k in ("idf", "coef_sparse", "coef_dense", "intercept", "coef_extra", "extra_rows")
                }
        except (KeyError, ValueError, OSError) as exc:
            raise ClassifierMismatchError(f"{index_dir / NPZ_FILE}: unreadable ({exc})") from None
        classes, vocab = meta["classes"], meta["vocab"]
        c, v = len(classes), len(vocab)
        e = int(record.get("extra_dimension", -1))
        shapes_ok = (
            arrays["coef_sparse"].shape == (c, v)
            and arrays["idf"].shape == (v,)
            and arrays["coef_dense"].shape == (c, dimension)
            and arrays["intercept"].shape == (c,)
            and arrays["coef_extra"].shape == (c, e)
            and arrays["extra_rows"].shape[1:] == (e,)
        )
        if not shapes_ok or c != record.get("classes") or v != record.get("sparse_features"):
            raise ClassifierMismatchError(
                f"{index_dir}: classifier shapes do not match the manifest "
                f"({c} classes, {v} features, embedding dim {dimension})"
            )
        if sorted(classes) != sorted(entry_ids):
            raise ClassifierMismatchError(f"{index_dir}: classifier classes differ from the index's entries")
        config = meta.get("config", {})
        if bool(e) != bool(extra_encoder_name(config)) or (
            e and record.get("extra_encoder") != extra_encoder_name(config)
        ):
            raise ClassifierMismatchError(
                f"{index_dir}: the classifier's extra encoders do not match the manifest"
            )
        if e:
            try:
                got = len(extra_column_scales(config))
            except Exception as exc:  # a missing package or an unreachable hub model
                raise ClassifierMismatchError(
                    f"{index_dir}: extra encoder {extra_encoder_name(config)!r} cannot be loaded ({exc})"
                ) from None
            if got != e:
                raise ClassifierMismatchError(
                    f"{index_dir}: extra encoder {extra_encoder_name(config)!r} gives "
                    f"dimension {got}, the classifier was trained on {e}"
                )
        return cls(
            classes,
            vocab,
            arrays["idf"],
            arrays["coef_sparse"],
            arrays["coef_dense"],
            arrays["intercept"],
            config,
            arrays["coef_extra"] if e else None,
            arrays["extra_rows"] if e else None,
            _load_tuned(index_dir, record.get("tuned"), config) if e else None,
        )


def _load_tuned(index_dir: Path, record: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Encoder]:
    """{English encoder name: its tuned model} from the manifest's ``tuned`` record ({} when none)."""
    if not record:
        return {}

    english = english_encoders(config)
    if record.get("base") not in english:
        raise ClassifierMismatchError(
            f"{index_dir}: tuned encoder {record.get('base')!r} is not the "
            f"classifier's English encoder {english}"
        )
    try:
        return {record["base"]: tuning.load(index_dir, record)}
    except tuning.TunedEncoderMismatchError as exc:
        raise ClassifierMismatchError(str(exc)) from None


def split_weights(
    coef: ArrayLike, n_terms: int, dim: int, config: dict[str, Any], extra_dim: int | None
) -> tuple[Vectors, Vectors, Vectors | None]:
    """Split one weight matrix over :func:`design_matrix`'s columns into (sparse, dense, extra) blocks,
    with the scales folded into the dense blocks (extra is None without extra encoders)."""
    coef = np.asarray(coef, dtype=np.float32)
    scale = float(config["dense_scale"])
    extra_scale = extra_column_scales(config) if extra_dim else None
    k, col = coef.shape[0], n_terms
    if scale > 0:
        dense, col = coef[:, col : col + dim] * scale, col + dim
    else:
        dense = np.zeros((k, dim), dtype=np.float32)
    extra = coef[:, col : col + extra_dim] * extra_scale if extra_dim else None
    return (
        np.ascontiguousarray(coef[:, :n_terms]),
        np.ascontiguousarray(dense, dtype=np.float32),
        None if extra is None else np.ascontiguousarray(extra, dtype=np.float32),
    )


def softmax(scores: ArrayLike, temperature: float) -> NDArray[np.float64]:
    """Row-wise softmax of ``scores / temperature``."""
    z = np.asarray(scores, dtype=np.float64) / max(float(temperature), 1e-6)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z
