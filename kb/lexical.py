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
# Function words dropped from the word tokens (character n-grams are kept): they carry no topic and
# otherwise make "How do I return an item?" look like "How long do I have to return an item?".
STOPWORDS = frozenset(
    "a an the i me my we our you your it its is are am was be been do does did have has had to of for in on at "
    "by with and or if so can could would will should how what when where why which who this that there please "
    "pls hi hello 的 了 吗 呢 吧 啊 呀 我 我的 你 你们 是 要 有 在 和 跟 请问 请 可以 能 怎么 怎么办 什么 为什么 "
    "还 就 都 也 会 个 一下 吗 嗎".split())


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokenize(norm: str, features: Iterable[str] = DEFAULT_FEATURES, stopwords: bool = True) -> list[str]:
    """Tokens of an already normalised text (see :func:`kb.normalize.normalize`)."""
    features = set(features)
    stop = STOPWORDS if stopwords else frozenset()
    tokens: list[str] = []
    for run in _RUNS.findall(norm):
        if _CJK.match(run):
            if "words" in features:
                tokens += ["w:" + w for w in _jieba().lcut(run) if w.strip() and w not in stop]
            if "bigrams" in features:
                tokens += ["b:" + run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else ["b:" + run]
            if "unigrams" in features:
                tokens += ["u:" + ch for ch in run]
        else:
            if "words" in features and run not in stop:
                tokens.append("w:" + run)
            if "trigrams" in features and len(run) > 3:
                padded = f"<{run}>"
                tokens += ["t:" + padded[i:i + 3] for i in range(len(padded) - 2)]
    return tokens


class LexicalIndex:
    """Okapi BM25 over a list of documents, scored with scipy sparse matrices."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75,
                 features: Iterable[str] = DEFAULT_FEATURES, stopwords: bool = True,
                 doc_rows: list[int] | None = None):
        import numpy as np
        from scipy import sparse

        self.k1, self.b, self.features, self.stopwords = k1, b, tuple(features), stopwords
        self.doc_rows = doc_rows if doc_rows is not None else list(range(len(docs)))
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
    def from_rows(cls, rows: list[dict], level: str = "entry", **params) -> "LexicalIndex":
        """One BM25 document per entry (all its questions concatenated; ``level="entry"``) or per row.

        Scores are keyed by row id either way; at entry level by the entry's first row.
        """
        features, stopwords = params.get("features", DEFAULT_FEATURES), params.get("stopwords", True)
        tokens = [tokenize(normalize(r["question"]), features, stopwords) for r in rows]
        if level == "row":
            return cls(tokens, **params)
        docs: dict[str, list[str]] = {}
        first: dict[str, int] = {}
        for row, toks in zip(rows, tokens):
            docs.setdefault(row["entry_id"], []).extend(toks)
            first.setdefault(row["entry_id"], row["row"])
        return cls(list(docs.values()), doc_rows=[first[e] for e in docs], **params)

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
            chunk = [tokenize(q, self.features, self.stopwords) for q in norms[start:start + 256]]
            terms = [[self.vocab[t] for t in set(toks) if t in self.vocab] for toks in chunk]
            for toks, ids in zip(chunk, terms):
                if not ids:
                    out.append({})
                    continue
                scores = np.asarray(self.matrix[ids].sum(axis=0)).ravel()
                k = min(top_n, n_docs)
                best = np.argpartition(-scores, k - 1)[:k] if k < n_docs else np.arange(n_docs)
                denom = max(self._self_score(toks), 1e-9)
                out.append({self.doc_rows[r]: min(float(scores[r]) / denom, 1.0) for r in best if scores[r] > 0})
        return out
