"""BM25 lexical retrieval over the normalised question texts.

Tokens (namespaced so they never collide): jieba words for Chinese runs (``w:``), Chinese character
bigrams (``b:``), Latin/digit words (``w:``) and their character trigrams (``t:``, for typos).
Scores are normalised to roughly [0, 1] by the query's own BM25 score against itself (unknown
query terms count at the maximum idf), so that they can be fused with cosine similarities and
thresholded: a query whose words the KB has never seen scores low everywhere.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from typing import Iterable

from kb.normalize import normalize

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

DEFAULT_FEATURES = ("words", "bigrams", "trigrams")


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokenize(norm: str, features: Iterable[str] = DEFAULT_FEATURES) -> list[str]:
    """Tokens of an already normalised text (see :func:`kb.normalize.normalize`)."""
    features = set(features)
    tokens: list[str] = []
    for run in _RUNS.findall(norm):
        if _CJK.match(run):
            if "words" in features:
                tokens += ["w:" + w for w in _jieba().lcut(run) if w.strip()]
            if "bigrams" in features:
                tokens += ["b:" + run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else ["b:" + run]
            if "unigrams" in features:
                tokens += ["u:" + ch for ch in run]
        else:
            if "words" in features:
                tokens.append("w:" + run)
            if "trigrams" in features and len(run) > 3:
                padded = f"<{run}>"
                tokens += ["t:" + padded[i:i + 3] for i in range(len(padded) - 2)]
    return tokens


class LexicalIndex:
    """Okapi BM25 over a list of documents, scored with scipy sparse matrices."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75,
                 features: Iterable[str] = DEFAULT_FEATURES):
        import numpy as np
        from scipy import sparse

        self.k1, self.b, self.features = k1, b, tuple(features)
        self.vocab: dict[str, int] = {}
        counts = [Counter(d) for d in docs]
        for c in counts:
            for term in c:
                self.vocab.setdefault(term, len(self.vocab))
        n = max(len(docs), 1)
        df = np.zeros(len(self.vocab))
        for c in counts:
            for term in c:
                df[self.vocab[term]] += 1
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        self.max_idf = math.log(1.0 + (n + 0.5) / 0.5)
        self.avgdl = max(sum(len(d) for d in docs) / n, 1.0)
        indptr, indices, data = [0], [], []
        for doc, c in zip(docs, counts):
            norm = k1 * (1 - b + b * len(doc) / self.avgdl)
            for term, tf in c.items():
                t = self.vocab[term]
                indices.append(t)
                data.append(self.idf[t] * tf * (k1 + 1) / (tf + norm))
            indptr.append(len(indices))
        self.matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(docs), len(self.vocab)),
                                        dtype="float32").T.tocsr()  # terms x docs

    @classmethod
    def from_rows(cls, rows: list[dict], **params) -> "LexicalIndex":
        features = params.get("features", DEFAULT_FEATURES)
        return cls([tokenize(normalize(r["question"]), features) for r in rows], **params)

    def _self_score(self, tokens: list[str]) -> float:
        c = Counter(tokens)
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.avgdl)
        total = 0.0
        for term, tf in c.items():
            idf = self.idf[self.vocab[term]] if term in self.vocab else self.max_idf
            total += idf * tf * (self.k1 + 1) / (tf + norm)
        return total

    def scores_batch(self, norms: list[str], top_n: int = 50) -> list[dict[int, float]]:
        """For each normalised query: {row id: normalised BM25 score} for its ``top_n`` best rows."""
        import numpy as np

        out: list[dict[int, float]] = []
        n_docs = self.matrix.shape[1]
        for start in range(0, len(norms), 256):
            chunk = [tokenize(q, self.features) for q in norms[start:start + 256]]
            terms = [[self.vocab[t] for t in set(toks) if t in self.vocab] for toks in chunk]
            for toks, ids in zip(chunk, terms):
                if not ids:
                    out.append({})
                    continue
                scores = np.asarray(self.matrix[ids].sum(axis=0)).ravel()
                k = min(top_n, n_docs)
                best = np.argpartition(-scores, k - 1)[:k] if k < n_docs else np.arange(n_docs)
                denom = max(self._self_score(toks), 1e-9)
                out.append({int(r): min(float(scores[r]) / denom, 1.0) for r in best if scores[r] > 0})
        return out
