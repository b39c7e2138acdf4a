"""Query-time retrieval: :class:`KBSearcher` (one index) and :class:`KBService` (hot-reloading).

Entry score (weights from the index's ``search.json``, defaults in ``kb/data/search_defaults.json``)::

    row   = cosine to the entry's best row; for a query without Chinese characters
            (1 - english_weight) * row + english_weight * the English encoder's cosine to its best English row
    dense = (1 - centroid_weight) * row + centroid_weight * cosine to its centroid
    nn    = (1 - lexical_weight) * dense + lexical_weight * normalised BM25
    fused = (1 - classifier_weight) * nn + classifier_weight * P(entry | query)
    score = fused + answer_weight * max(0, answer - fused)
    answer = the best cosine of the query to a sentence of the entry's answer
    score += english_offset for a query scored with the English rows

The centroid is the unit mean of all the entry's question embeddings (every language), so an entry is
matched by what its variants have in common, not only by its single closest phrasing. P is the softmax
(``classifier_temperature``) of the entry classifier trained at index time on the KB's question variants
(:mod:`kb.classifier`); an index without a classifier uses ``nn`` alone (with the thresholds of
``search_without_classifier``). The answer passages (:mod:`kb.answers`) let a question about a detail
that only the answer states find its entry; they only ever raise a score, so an entry whose questions
match well is not pushed down because its answer is worded otherwise (on validation, mixing them in
linearly moved questions that name the entry's topic to a neighbour whose answer shares their words).
The English rows (:mod:`kb.english`) give English queries a second nearest-row opinion from the
classifier's English encoder. Its cosines run lower than the multilingual encoder's, so an English
query's scores are shifted by ``english_offset`` (chosen with the thresholds on validation) before one
set of thresholds decides for every language; the shift moves no entry's rank.
Candidates are the entries that FAISS, BM25 or the classifier retrieved.

Decision rule, with ``top`` the best entry score and ``second`` the runner-up,

* ``top < min_score``                                   -> ``fallback`` (hand over / say we don't know)
* ``top < answer_score`` or ``top - second < margin``   -> ``clarify`` (offer the top hits)
* otherwise                                             -> ``answer`` (the first hit)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from common.lang import LANGUAGES, detect_language, to_simplified, to_traditional
from kb.answers import AnswerPassages
from kb.classifier import encode_extra, has_chinese, softmax
from kb.encoder import Encoder, encode, load_encoder
from kb.english import english_columns, english_rows
from kb.index import LoadedIndex, current_index_dir, load_index
from kb.layout import Vectors
from kb.lexical import LexicalIndex
from kb.normalize import normalize
from kb.segments import combine, normalized_windows

log = logging.getLogger(__name__)

NOTICE_EMPTY = "empty query"
NOTICE_TRUNCATED = "query truncated"
NOTICE_UNAVAILABLE = "knowledge base unavailable"


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float
    question: str
    answer: str
    category: str = ""


@dataclass(frozen=True)
class SearchResult:
    decision: str  # "answer" | "clarify" | "fallback"
    hits: list[Hit]
    language: str
    notice: str | None = None

    @property
    def answered(self) -> bool:
        return self.decision == "answer"

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_Text = TypeVar("_Text", str, list[str])


def pick_text(texts: Mapping[str, _Text], language: str) -> _Text:
    """Text for ``language``, converting between Chinese scripts when only the other one exists."""
    if language in texts:
        return texts[language]
    if language == "zh-Hans" and "zh-Hant" in texts:
        return _convert(texts["zh-Hant"], to_simplified)
    if language == "zh-Hant" and "zh-Hans" in texts:
        return _convert(texts["zh-Hans"], to_traditional)
    return texts.get("en") or next(iter(texts.values()))


def _convert(value: _Text, fn: Callable[[str], str]) -> _Text:
    return [fn(v) for v in value] if isinstance(value, list) else fn(value)


@dataclass(frozen=True)
class RawScores:
    dense: dict[str, tuple[float, int]]  # entry id -> (best cosine, row id)
    lexical: dict[str, tuple[float, int]]  # entry id -> (best normalised BM25, row id)
    dense_floor: float  # lowest retrieved cosine: stands in for entries not retrieved
    classifier: dict[str, float] = field(default_factory=dict)  # entry id -> probability (top candidates)
    centroid: dict[str, float] = field(default_factory=dict)  # entry id -> cosine to the entry centroid
    answer: dict[str, float] = field(default_factory=dict)  # entry id -> best cosine to an answer passage
    english: dict[str, float] = field(default_factory=dict)  # entry id -> English encoder, best English row


def fuse(
    raw: RawScores,
    weight: float,
    classifier_weight: float = 0.0,
    centroid_weight: float = 0.0,
    answer_weight: float = 0.0,
    english_weight: float = 0.0,
    english_offset: float = 0.0,
) -> dict[str, tuple[float, int]]:
    """Per entry ``f + aw * max(0, answer - f)`` (plus ``english_offset`` where the English rows are used) with
    ``f = (1 - cw) * ((1 - weight) * dense + weight * lexical) + cw * classifier``.

    ``dense`` is ``(1 - centroid_weight) * row + centroid_weight * centroid cosine`` with ``row`` the best
    row cosine, mixed with the English rows' cosine (``english_weight``) where the query has them; an entry
    without answer passages (English rows) gets the query's lowest answer (English) score.
    Candidates: the entries the dense search (``weight < 1``), BM25 (``weight > 0``) and the classifier
    (``cw > 0``) retrieved. The row id is the entry's best dense (else lexical) row, or -1.
    """
    use_classifier = classifier_weight > 0 and bool(raw.classifier)
    entries: set[str] = set()
    if weight < 1:
        entries |= raw.dense.keys()
    if weight > 0:
        entries |= raw.lexical.keys()
    if use_classifier:
        entries |= raw.classifier.keys()
    w = min(max(weight, 0.0), 1.0)
    cw = min(classifier_weight, 1.0) if use_classifier else 0.0
    lam = min(max(centroid_weight, 0.0), 1.0) if raw.centroid else 0.0
    aw = min(max(answer_weight, 0.0), 1.0) if raw.answer else 0.0
    answer_floor = min(raw.answer.values()) if aw > 0 else 0.0
    ew = min(max(english_weight, 0.0), 1.0) if raw.english else 0.0
    english_floor = min(raw.english.values()) if ew > 0 else 0.0
    fused = {}
    for entry in entries:
        dense, d_row = raw.dense.get(entry, (raw.dense_floor, -1))
        if ew > 0:
            dense = (1 - ew) * dense + ew * raw.english.get(entry, english_floor)
        if lam > 0 and entry in raw.centroid:
            dense = (1 - lam) * dense + lam * raw.centroid[entry]
        lexical, l_row = raw.lexical.get(entry, (0.0, -1))
        score = (1 - w) * dense + w * lexical if 0 < w < 1 else (dense if w == 0 else lexical)
        if cw > 0:
            score = (1 - cw) * score + cw * raw.classifier.get(entry, 0.0)
        if aw > 0:
            score += aw * max(raw.answer.get(entry, answer_floor) - score, 0.0)
        if ew > 0:
            score += english_offset
        fused[entry] = (score, d_row if d_row >= 0 else l_row)
    return fused


def decide(scores: Sequence[float], config: dict[str, Any]) -> str:
    """Apply the decision rule above to entry scores sorted best first."""
    if not scores or scores[0] < config["min_score"]:
        return "fallback"
    second = scores[1] if len(scores) > 1 else 0.0
    if scores[0] < config["answer_score"] or scores[0] - second < config["margin"]:
        return "clarify"
    return "answer"


class KBSearcher:
    """Searches one loaded index. Thread-safe: all state is read-only after construction."""

    def __init__(
        self, loaded: LoadedIndex, encoder: Encoder | None = None, config: dict[str, Any] | None = None
    ) -> None:
        self.index = loaded
        self.path: Path = loaded.path
        self.config: dict[str, Any] = {**loaded.search_config, **(config or {})}
        self.encoder = encoder or load_encoder(loaded.manifest["encoder"])
        self.entries = loaded.entries
        self.rows = loaded.rows
        self.classifier = loaded.classifier  # used when classifier_weight > 0
        self.centroids = loaded.centroids  # used when centroid_weight > 0
        self.answers = loaded.answers  # used when answer_weight > 0
        self.english: AnswerPassages | None = None  # used when english_weight > 0 (the classifier's vectors)
        self._english_columns: slice | None = None
        if self.classifier is not None:
            self._english_columns = english_columns(self.classifier.config)
            self.english = english_rows(self.classifier, self.rows, list(self.entries), self._english_columns)
        self._entry_pos = {e: i for i, e in enumerate(self.entries)}
        # Rows an incremental update tombstoned (kb/incremental.py) stay in FAISS but are never returned.
        self._deleted = frozenset(r["row"] for r in self.rows if r.get("deleted"))
        self.lexical: LexicalIndex | None = None
        if float(self.config.get("lexical_weight", 0.0)) > 0:
            live = [r for r in self.rows if not r.get("deleted")]
            self.lexical = LexicalIndex.from_rows(live, **self.config.get("lexical", {}))

    @classmethod
    def from_dir(
        cls, index_dir: str | Path, expected_encoder: str | None = None, expected_kb_hash: str | None = None
    ) -> KBSearcher:
        return cls(load_index(index_dir, expected_encoder, expected_kb_hash))

    # ------------------------------------------------------------------ public API
    def lookup(self, entry_id: str, language: str | None = None) -> Hit | None:
        """The entry itself (a clarification button names it): its first question and answer
        in ``language``, or None when the index no longer has it."""
        entry = self.entries.get(entry_id) if isinstance(entry_id, str) else None
        if entry is None:
            return None
        language = language if language in LANGUAGES else "en"
        return Hit(
            entry_id,
            1.0,
            pick_text(entry.questions, language)[0],
            pick_text(entry.answers, language),
            entry.category,
        )

    def search(self, text: str, language: str | None = None, k: int = 5) -> SearchResult:
        return self.search_batch([text], [language], k)[0]

    def search_batch(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, k: int = 5
    ) -> list[SearchResult]:
        """Search many queries with one encoder call (used by the CLI ``query`` command and benches)."""
        languages = list(languages) if languages is not None else [None] * len(texts)
        prepared = [self._prepare(t, lang) for t, lang in zip(texts, languages)]
        todo = [i for i, p in enumerate(prepared) if p["norm"]]
        entry_scores = self.score_queries(
            [prepared[i]["norm"] for i in todo], [prepared[i]["windows"] for i in todo]
        )
        results: list[SearchResult | None] = [None] * len(texts)
        for i, scores in zip(todo, entry_scores):
            results[i] = self._result(prepared[i], scores, k)
        for i, p in enumerate(prepared):
            if results[i] is None:
                results[i] = SearchResult("fallback", [], p["language"], p["notice"] or NOTICE_EMPTY)
        return results  # type: ignore[return-value]

    # ------------------------------------------------------------------ internals
    def _prepare(self, text: str | None, language: str | None) -> dict[str, Any]:
        text = text if isinstance(text, str) else ""
        notice = None
        limit = int(self.config.get("max_query_chars", 1000))
        if len(text) > limit:
            text, notice = text[:limit], NOTICE_TRUNCATED
        if language not in LANGUAGES:
            language = detect_language(text)
        norm = normalize(text)
        if not norm:
            notice = NOTICE_EMPTY
        return {
            "text": text,
            "norm": norm,
            "language": language,
            "notice": notice,
            "windows": self.windows(text, norm) if norm else [],
        }

    def windows(self, text: str, norm: str) -> list[str]:
        """Normalised clause windows of a long query (:mod:`kb.segments`), ``[]`` when segmenting is off."""
        if self.segment_weight <= 0:
            return []

        return normalized_windows(
            text, norm, int(self.config.get("segment_min_chars", 0)), int(self.config.get("max_clauses", 8))
        )

    def encode(self, norms: list[str]) -> Vectors:
        return encode(self.encoder, norms)

    def dense_scores(self, norms: list[str], vectors: Vectors | None = None) -> list[dict[int, float]]:
        """Cosine similarity of each query to its nearest live rows: [{row id: score}]."""
        if not norms:
            return []
        vectors = self.encode(norms) if vectors is None else vectors
        n = min(int(self.config.get("candidates", 50)), self.index.vector_index.live)
        if n <= 0:
            return [{} for _ in norms]
        scores, ids = self.index.vector_index.search(vectors, n)
        return [
            {int(r): float(s) for r, s in zip(id_row, sc_row) if r >= 0}
            for sc_row, id_row in zip(scores, ids)
        ]

    def classifier_decisions(
        self, norms: list[str], vectors: Vectors, extra: Vectors | None = None
    ) -> Vectors:
        """Entry classifier decision values, shape (queries, entries) in ``self.classifier.classes`` order
        (``extra``: the queries' extra-block embeddings, see :meth:`classifier_extra`)."""
        assert self.classifier is not None, "the index has no entry classifier"
        return self.classifier.decision(norms, vectors, extra)

    def classifier_extra(self, norms: list[str]) -> Vectors | None:
        """The queries' embeddings by the classifier's extra encoders (None when it has none)."""
        classifier = self.classifier
        assert classifier is not None, "the index has no entry classifier"
        if classifier.coef_extra is None:
            return None
        return encode_extra(classifier.config, norms, models=classifier.tuned)

    def english_scores(
        self, norms: list[str], extra: Vectors | None, candidates: list[set[str]]
    ) -> list[dict[str, float]]:
        """Per query without Chinese characters, the English encoder's best cosine to each candidate
        entry's English rows (:mod:`kb.english`); ``{}`` for the others."""
        cols, english = self._english_columns, self.english
        assert extra is not None and english is not None, "the index has no English rows"
        return [
            {} if has_chinese(norm) else english.scores(extra[i, cols], entries)
            for i, (norm, entries) in enumerate(zip(norms, candidates))
        ]

    def classifier_probabilities(
        self, decisions: Vectors, temperature: float | None = None
    ) -> list[dict[str, float]]:
        """Softmax of decision values; per query the ``candidates`` most probable entries."""
        temperature = (
            float(self.config.get("classifier_temperature", 0.3)) if temperature is None else temperature
        )
        probs = softmax(decisions, temperature)
        n = min(int(self.config.get("candidates", 50)), probs.shape[1])
        top = (
            np.argpartition(-probs, n - 1, axis=1)[:, :n]
            if n < probs.shape[1]
            else np.tile(np.arange(probs.shape[1]), (len(probs), 1))
        )
        assert self.classifier is not None, "the index has no entry classifier"
        classes = self.classifier.classes
        return [{classes[j]: float(p[j]) for j in t} for p, t in zip(probs, top)]

    def centroid_scores(self, vectors: Vectors, candidates: list[set[str]]) -> list[dict[str, float]]:
        """Cosine of each query to the centroid of each of its candidate entries."""
        centroids = self.centroids
        assert centroids is not None, "the index has no entry centroids"
        out: list[dict[str, float]] = []
        for vector, entries in zip(vectors, candidates):
            ids = sorted(entries)
            if not ids:
                out.append({})
                continue
            sims = (
                centroids[np.fromiter((self._entry_pos[e] for e in ids), dtype=np.int64, count=len(ids))]
                @ vector
            )
            out.append(dict(zip(ids, sims.tolist())))
        return out

    def raw_scores(
        self,
        norms: list[str],
        weight: float | None = None,
        classifier_weight: float | None = None,
        centroid_weight: float | None = None,
        answer_weight: float | None = None,
        english_weight: float | None = None,
    ) -> list[RawScores]:
        """Per query, the dense, centroid, lexical, classifier, answer and English per-entry scores before
        fusion."""
        weight = self.lexical_weight if weight is None else weight
        classifier_weight = self.classifier_weight if classifier_weight is None else classifier_weight
        centroid_weight = self.centroid_weight if centroid_weight is None else centroid_weight
        answer_weight = self.answer_weight if answer_weight is None else answer_weight
        english_weight = self.english_weight if english_weight is None else english_weight
        use_classifier = classifier_weight > 0 and self.classifier is not None
        use_centroid = centroid_weight > 0 and self.centroids is not None and weight < 1.0
        use_answers = answer_weight > 0 and self.answers is not None
        use_english = english_weight > 0 and self.english is not None
        candidates = int(self.config.get("candidates", 50))
        vectors = self.encode(norms) if norms and (weight < 1.0 or use_classifier or use_answers) else None
        dense = (
            [self._per_entry(d) for d in self.dense_scores(norms, vectors)]
            if weight < 1.0
            else [{} for _ in norms]
        )
        floors = [min(s for s, _ in d.values()) if d else 0.0 for d in dense]
        lexical = (
            [self._per_entry(l) for l in self.lexical.scores_batch(norms, candidates)]
            if (weight > 0 and self.lexical is not None)
            else [{} for _ in norms]
        )
        extra = self.classifier_extra(norms) if (use_classifier or use_english) and norms else None
        # ``vectors`` is set whenever ``norms`` is not empty and the classifier, centroids or answers are used
        probs = (
            self.classifier_probabilities(self.classifier_decisions(norms, vectors, extra))
            if use_classifier and vectors is not None
            else [{} for _ in norms]
        )
        pool = [d.keys() | l.keys() | p.keys() for d, l, p in zip(dense, lexical, probs)]
        cents = (
            self.centroid_scores(vectors, pool)
            if use_centroid and vectors is not None
            else [{} for _ in norms]
        )
        answers = (
            [self.answers.scores(v, entries) for v, entries in zip(vectors, pool)]
            if use_answers and self.answers is not None and vectors is not None
            else [{} for _ in norms]
        )
        english = self.english_scores(norms, extra, pool) if use_english and norms else [{} for _ in norms]
        return [RawScores(*parts) for parts in zip(dense, lexical, floors, probs, cents, answers, english)]

    def _per_entry(self, rows: dict[int, float]) -> dict[str, tuple[float, int]]:
        best: dict[str, tuple[float, int]] = {}
        for row_id, score in rows.items():
            if row_id in self._deleted:
                continue
            entry = self.rows[row_id]["entry_id"]
            if entry not in best or score > best[entry][0]:
                best[entry] = (score, row_id)
        return best

    def _weight(self, key: str, part: object) -> float:
        """The configured weight ``key``; 0 when this index lacks the ``part`` it weighs."""
        return float(self.config.get(key, 0.0)) if part is not None else 0.0

    lexical_weight = property(lambda self: self._weight("lexical_weight", self.lexical))
    classifier_weight = property(lambda self: self._weight("classifier_weight", self.classifier))
    centroid_weight = property(lambda self: self._weight("centroid_weight", self.centroids))
    answer_weight = property(lambda self: self._weight("answer_weight", self.answers))
    english_weight = property(lambda self: self._weight("english_weight", self.english))

    @property
    def segment_weight(self) -> float:
        return float(self.config.get("segment_weight", 0.0))

    def score_queries(self, norms: list[str], windows: list[list[str]]) -> list[dict[str, tuple[float, int]]]:
        """:meth:`score_entries` of each query mixed with that of its windows (one encoder call in all)."""
        flat = list(norms) + [w for ws in windows for w in ws]
        scored = self.score_entries(flat)
        out, pos = [], len(norms)
        for i, ws in enumerate(windows):
            out.append(combine(scored[i], scored[pos : pos + len(ws)], self.segment_weight))
            pos += len(ws)
        return out

    def score_entries(self, norms: list[str]) -> list[dict[str, tuple[float, int]]]:
        """Per query: {entry id: (fused score, row id to show)}."""
        weight, cw, lam = self.lexical_weight, self.classifier_weight, self.centroid_weight
        aw, ew = self.answer_weight, self.english_weight
        offset = float(self.config.get("english_offset", 0.0))
        return [
            fuse(raw, weight, cw, lam, aw, ew, offset)
            for raw in self.raw_scores(norms, weight, cw, lam, aw, ew)
        ]

    def _result(self, prepared: dict[str, Any], scores: dict[str, tuple[float, int]], k: int) -> SearchResult:
        ranked = sorted(scores.items(), key=lambda kv: kv[1][0], reverse=True)
        language = prepared["language"]
        hits = []
        for entry_id, (score, row_id) in ranked[: max(k, 1)]:
            entry = self.entries[entry_id]
            row = self.rows[row_id] if row_id >= 0 else None
            question = (
                row["question"]
                if row is not None and row["language"] == language and row.get("kind") == "question"
                else pick_text(entry.questions, language)[0]
            )
            hits.append(
                Hit(entry_id, round(score, 4), question, pick_text(entry.answers, language), entry.category)
            )
        decision = decide([s for _, (s, _) in ranked], self.config)
        return SearchResult(decision, hits[:k], language, prepared["notice"])


class KBService:
    """Hot-reloading front end over ``root/CURRENT`` for long-running processes; ``encoder_name`` is the
    encoder an index must have been built with (callers pass their settings' ``kb_index_root``/``kb_encoder``).

    ``search`` never fails because of a reload: the pointer is re-read at most every
    ``check_interval`` seconds by one thread (others keep using the current searcher), the new
    searcher is fully loaded before the reference is swapped, and a failed load keeps the old one.
    """

    def __init__(self, root: str | Path, encoder_name: str, check_interval: float = 1.0) -> None:
        self.root = Path(root)
        self.encoder_name = encoder_name
        self.check_interval = check_interval
        self._searcher: KBSearcher | None = None
        self._loaded_dir: Path | None = None
        self._failed_dir: Path | None = None
        self._next_check = 0.0
        self._reload_lock = threading.Lock()

    @property
    def current_dir(self) -> Path | None:
        return self._loaded_dir

    def searcher(self) -> KBSearcher | None:
        """Current searcher, reloading first if ``CURRENT`` changed (checked at most once per interval)."""
        now = time.monotonic()
        if now >= self._next_check and self._reload_lock.acquire(blocking=self._searcher is None):
            try:
                self._next_check = now + self.check_interval
                self._maybe_reload()
            finally:
                self._reload_lock.release()
        return self._searcher

    def _maybe_reload(self) -> None:
        target = current_index_dir(self.root)
        if target is None or target == self._loaded_dir or target == self._failed_dir:
            return
        try:
            searcher = KBSearcher.from_dir(target, expected_encoder=self.encoder_name)
        except Exception:  # keep serving the previous index
            log.exception("kb: could not load index %s; keeping %s", target, self._loaded_dir)
            self._failed_dir = target
            return
        self._searcher, self._loaded_dir, self._failed_dir = searcher, target, None
        log.info("kb: now serving %s", target)

    def lookup(self, entry_id: str, language: str | None = None) -> Hit | None:
        searcher = self.searcher()
        return searcher.lookup(entry_id, language) if searcher is not None else None

    def search(self, text: str, language: str | None = None, k: int = 5) -> SearchResult:
        searcher = self.searcher()
        if searcher is None:
            log.error("kb: no usable index under %s (run `python -m kb build`)", self.root)
            lang = (
                language if language in LANGUAGES else detect_language(text if isinstance(text, str) else "")
            )
            return SearchResult("fallback", [], lang, NOTICE_UNAVAILABLE)
        return searcher.search(text, language, k)
