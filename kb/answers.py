"""Answer passages: a query is also matched against the sentences of every entry's answer.

Customers often ask about a detail that only the answer states: "does the coupon come back if I
cancel?" is answered by the cancellation entry, whose questions never mention coupons. At index time
each answer (every language) is split into sentences, normalised and encoded with the index's encoder.
An entry's answer score for a query is the best cosine of the query to one of its passages; where it
exceeds the entry's fused score it raises that score by ``answer_weight`` of the difference
(:func:`kb.search.fuse`).

Only the candidate entries of a query are scored, by a product with their passages (a few hundred
rows), so a query costs no FAISS search and no extra encoding. The passages are stored for KBs of up to
``index.answers.max_entries`` entries (like the entry classifier, larger KBs go without).

Files: ``answers.npy`` (float32, passages grouped by entry in ``kb.json`` order) and ``answers.json``
(``{"entries": [entry id per group], "texts": [[normalised passage, ...] per group]}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kb.layout import Vectors, file_sha256
from kb.normalize import normalize

# Sentence ends: sentence punctuation of either width, semicolons and line breaks; a full stop only
# before a space or the end, so that URLs, "7.5" and "e.g" stay whole.
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=\.)(?=\s|$)")
MIN_CHARS = 6  # shorter normalised sentences ("Thank you.") are no passage of their own
DATA_FILE, TEXTS_FILE = "answers.npy", "answers.json"


class AnswerPassagesMismatchError(RuntimeError):
    """The stored passages do not match the manifest or the index."""


def sentences(answer: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(answer or "") if s and s.strip()]


def entry_passages(answers: dict[str, str], min_chars: int = MIN_CHARS) -> list[str]:
    """The distinct normalised sentences of an entry's answers (every language) of at least ``min_chars``
    characters; the whole normalised answers when no sentence is that long."""
    out: dict[str, None] = {}
    for answer in answers.values():
        for sentence in sentences(answer):
            norm = normalize(sentence)
            if len(norm) >= min_chars:
                out.setdefault(norm)
    if not out:
        for answer in answers.values():
            if norm := normalize(answer):
                out.setdefault(norm)
    return list(out)


def builds_passages(config: dict[str, Any], n_entries: int) -> bool:
    return bool(config.get("enabled", True)) and 0 < n_entries <= int(config.get("max_entries", 20000))


class AnswerPassages:
    """Passage embeddings grouped by entry; read-only after construction."""

    def __init__(self, entry_ids: Sequence[str], texts: Sequence[Sequence[str]], vectors: ArrayLike) -> None:
        self.entry_ids = list(entry_ids)
        self.texts = [list(t) for t in texts]
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        counts = np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))
        self.starts = np.r_[0, np.cumsum(counts)]
        if self.vectors.shape[0] != self.starts[-1]:
            raise AnswerPassagesMismatchError(
                f"{self.vectors.shape[0]} passage vectors for {self.starts[-1]} passages"
            )
        self._pos = {e: i for i, e in enumerate(self.entry_ids)}

    @classmethod
    def build(
        cls,
        entries: Iterable[tuple[str, dict[str, str]]],
        encode_texts: Callable[[list[str]], Any],
        dimension: int,
        known: dict[str, Any] | None = None,
        min_chars: int = MIN_CHARS,
    ) -> AnswerPassages:
        """Passages of ``(entry id, answers by language)`` pairs; ``encode_texts`` encodes the texts that
        ``known`` (normalised text -> vector, e.g. a previous build's) does not hold."""
        known = known or {}
        ids, texts = [], []
        for entry_id, answers in entries:
            ids.append(entry_id)
            texts.append(entry_passages(answers, min_chars))
        flat = [t for group in texts for t in group]
        todo = list(dict.fromkeys(t for t in flat if t not in known))
        fresh = dict(zip(todo, encode_texts(todo))) if todo else {}
        vectors = np.zeros((len(flat), dimension), dtype=np.float32)
        for i, text in enumerate(flat):
            vectors[i] = known[text] if text in known else fresh[text]
        return cls(ids, texts, vectors)

    def by_text(self) -> dict[str, Any]:
        return {
            text: self.vectors[self.starts[i] + j]
            for i, group in enumerate(self.texts)
            for j, text in enumerate(group)
        }

    @property
    def encoded_count(self) -> int:
        return int(self.starts[-1])

    def scores(self, vector: Vectors, entry_ids: Iterable[str]) -> dict[str, float]:
        """Best cosine of the (unit) query ``vector`` to each given entry's passages; entries without
        passages are left out."""
        pos = [(e, self._pos[e]) for e in entry_ids if e in self._pos]
        pos = [(e, p) for e, p in pos if self.starts[p + 1] > self.starts[p]]
        if not pos:
            return {}
        starts = self.starts[[p for _, p in pos]]
        ends = self.starts[[p + 1 for _, p in pos]]
        lengths = ends - starts
        rows = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
        sims = self.vectors[rows] @ vector
        best = np.maximum.reduceat(sims, np.r_[0, np.cumsum(lengths)[:-1]])
        return dict(zip((e for e, _ in pos), best.tolist()))

    def save(self, out_dir: str | Path) -> dict[str, Any]:
        out_dir = Path(out_dir)
        np.save(out_dir / DATA_FILE, self.vectors)
        (out_dir / TEXTS_FILE).write_text(
            json.dumps({"entries": self.entry_ids, "texts": self.texts}, ensure_ascii=False), encoding="utf-8"
        )
        return {
            "file": DATA_FILE,
            "texts": TEXTS_FILE,
            "shape": list(self.vectors.shape),
            "sha256": file_sha256(out_dir / DATA_FILE),
            "texts_sha256": file_sha256(out_dir / TEXTS_FILE),
        }

    @classmethod
    def load(
        cls, index_dir: str | Path, record: dict[str, Any], entry_ids: Sequence[str], dimension: int
    ) -> AnswerPassages:
        """Load and check against the manifest ``record``, the index's entries and its dimension."""
        index_dir = Path(index_dir)
        data, texts = index_dir / record.get("file", DATA_FILE), index_dir / record.get("texts", TEXTS_FILE)
        for path, key in ((data, "sha256"), (texts, "texts_sha256")):
            if not path.is_file() or file_sha256(path) != record.get(key):
                raise AnswerPassagesMismatchError(f"{path}: missing or checksum differs from the manifest")
        vectors = np.load(data, allow_pickle=False)
        stored = json.loads(texts.read_text(encoding="utf-8"))
        if (
            list(vectors.shape) != list(record.get("shape", []))
            or vectors.ndim != 2
            or vectors.shape[1] != dimension
        ):
            raise AnswerPassagesMismatchError(
                f"{data}: shape {vectors.shape}, expected {record.get('shape')} of dimension {dimension}"
            )
        if stored.get("entries") != list(entry_ids):
            raise AnswerPassagesMismatchError(f"{texts}: entries differ from the index's")
        return cls(stored["entries"], stored["texts"], vectors)
