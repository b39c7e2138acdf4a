"""BM25 lexical retrieval over the normalised question texts.

Tokens (namespaced so they never collide): jieba words for Chinese runs (``w:``), Chinese character
bigrams (``b:``), Latin/digit words (``w:``) and their character trigrams (``t:``, for typos).
Scores are normalised to roughly [0, 1] by the query's own BM25 score against itself (unknown
query terms count at the maximum idf), so that they can be fused with cosine similarities and
thresholded: a query whose words the KB has never seen scores low everywhere.

Scoring reads only posting lists of the query's terms, never a pass over all documents, so that
a query costs about the same at 1k and at 1M documents (bench/kb_speed.py):

* the query's terms *nominate* candidates rarest first, as long as their posting lists together hold
  at most ``max_postings`` entries (20,000; always at least the rarest term). In the reference KB, and
  for any query whose terms total fewer postings, every term nominates: the result is exhaustive BM25;
* the remaining terms are the query's most frequent ones (lowest idf: words and n-grams shared by
  thousands of entries). They add their exact weights to the candidates' scores (binary search in
  their posting lists) but nominate no document. Before that, candidates that cannot reach the
  ``top_n`` even with every remaining term's largest weight are dropped (exact), and of the rest only
  the ``shortlist`` (1,000, at least ``top_n``) best by their partial score are kept.

So a document that contains only a query's frequent terms, or that is outside the shortlist, is not
retrieved by BM25 (the dense search still sees it); a retrieved document's score is its exact BM25.
"""

from __future__ import annotations

import logging
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from common.lang import CJK, CJK_CHARS
from kb.normalize import normalize

if TYPE_CHECKING:
    from kb.layout import Row

# Script runs (a CJK run or a whitespace-free non-CJK run) and one CJK character; kb/classifier.py uses both.
SCRIPT_RUNS = re.compile(rf"[{CJK_CHARS}]+|[^\s{CJK_CHARS}]+")
CJK_CHAR = CJK

DEFAULT_FEATURES = ("words", "bigrams", "trigrams")
# Function words dropped from the word tokens (character n-grams are kept): they carry no topic and
# otherwise make "How do I return an item?" look like "How long do I have to return an item?".
STOPWORDS = frozenset(
    "a an the i me my we our you your it its is are am was be been do does did have has had to of for in on at "
    "by with and or if so can could would will should how what when where why which who this that there please "
    "pls hi hello 的 了 吗 呢 吧 啊 呀 我 我的 你 你们 是 要 有 在 和 跟 请问 请 可以 能 怎么 怎么办 什么 为什么 "
    "还 就 都 也 会 个 一下 吗 嗎".split()
)
# Candidate generation bounds (see the module docstring): postings read to nominate candidates, and
# candidates scored with the query's remaining (frequent) terms.
MAX_POSTINGS = 20_000
SHORTLIST = 1_000


def _jieba() -> ModuleType:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    module: ModuleType = jieba
    return module


def tokenize(norm: str, features: Iterable[str] = DEFAULT_FEATURES, stopwords: bool = True) -> list[str]:
    """Tokens of an already normalised text (see :func:`kb.normalize.normalize`)."""
    features = frozenset(features)
    tokens: list[str] = []
    for run in SCRIPT_RUNS.findall(norm):
        tokens += _run_tokens(run, features, stopwords)
    return tokens


@lru_cache(maxsize=1 << 16)
def _run_tokens(run: str, features: frozenset[str], stopwords: bool) -> tuple[str, ...]:
    """Tokens of one script run (cached: product names and template phrases repeat across a KB)."""
    stop = STOPWORDS if stopwords else frozenset()
    tokens: list[str] = []
    if CJK_CHAR.match(run):
        if "words" in features:
            tokens += ["w:" + w for w in _jieba().lcut(run) if w.strip() and w not in stop]
        if "bigrams" in features:
            tokens += ["b:" + run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else ["b:" + run]
        if "unigrams" in features:
            tokens += ["u:" + ch for ch in run]
    else:
        if "words" in features and run not in stop:
            tokens.append("w:" + run)
        if "trigrams" in features and len(run) > 3:
            padded = f"<{run}>"
            tokens += ["t:" + padded[i : i + 3] for i in range(len(padded) - 2)]
    return tuple(tokens)


def _term_ids(tokens: Iterable[str], vocab: dict[str, int]) -> list[int]:
    """Ids of ``tokens`` in ``vocab``, adding the new ones."""
    get = vocab.get
    out = []
    for t in tokens:
        i = get(t)
        if i is None:
            i = vocab[t] = len(vocab)
        out.append(i)
    return out


class LexicalIndex:
    """Okapi BM25 over a list of documents: term-major CSR postings (``matrix``, terms x documents).

    ``matrix[t, d]`` is term ``t``'s BM25 weight in document ``d`` (idf x saturated tf); a document's
    score for a query is the sum over the query's distinct terms. ``max_postings`` / ``shortlist``:
    see the module docstring.
    """

    def __init__(
        self,
        docs: list[list[str]],
        k1: float = 1.2,
        b: float = 0.75,
        features: Iterable[str] = DEFAULT_FEATURES,
        stopwords: bool = True,
        doc_rows: Sequence[int] | None = None,
        max_postings: int = MAX_POSTINGS,
        shortlist: int = SHORTLIST,
    ):
        vocab: dict[str, int] = {}
        terms: list[int] = []
        lengths = np.zeros(len(docs), dtype=np.int64)
        for d, toks in enumerate(docs):
            ids = _term_ids(toks, vocab)
            terms += ids
            lengths[d] = len(ids)
        doc_of_token = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
        self._build(
            vocab,
            np.asarray(terms, dtype=np.int32),
            doc_of_token,
            len(docs),
            k1,
            b,
            features,
            stopwords,
            doc_rows if doc_rows is not None else range(len(docs)),
            max_postings,
            shortlist,
        )

    def _build(
        self,
        vocab: dict[str, int],
        terms: NDArray[np.int32],
        doc_of_token: NDArray[np.int32],
        n_docs: int,
        k1: float,
        b: float,
        features: Iterable[str],
        stopwords: bool,
        doc_rows: Sequence[int],
        max_postings: int,
        shortlist: int,
    ) -> None:
        """Weights from one (term id, document) pair per token; duplicates are the term frequency."""
        from scipy import sparse

        self.k1, self.b, self.features, self.stopwords = k1, b, tuple(features), stopwords
        self.vocab = vocab
        self.doc_rows = np.asarray(doc_rows, dtype=np.int64)
        n = max(n_docs, 1)
        ones = np.ones(len(terms), dtype=np.float32)
        tf = sparse.csr_matrix((ones, (terms, doc_of_token)), shape=(len(vocab), n_docs))  # sums duplicates
        del ones
        tf.sum_duplicates()  # canonical: each posting list sorted by document
        self.df = np.diff(tf.indptr)
        self.idf = np.log(1.0 + (n - self.df + 0.5) / (self.df + 0.5))
        self.max_idf = math.log(1.0 + (n + 0.5) / 0.5)
        doc_len = np.bincount(doc_of_token, minlength=n_docs)
        self.avgdl = max(float(doc_len.sum()) / n, 1.0)
        norm = k1 * (1 - b + b * doc_len / self.avgdl)
        f = tf.data.astype(np.float64)
        tf.data = (np.repeat(self.idf, self.df) * f * (k1 + 1) / (f + norm[tf.indices])).astype(np.float32)
        self.matrix = tf  # terms x docs
        self.term_max = (
            np.maximum.reduceat(tf.data, tf.indptr[:-1]) if tf.nnz else np.zeros(len(vocab), np.float32)
        )
        self.max_postings, self.shortlist = int(max_postings), int(shortlist)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Row],
        level: str = "entry",
        *,
        k1: float = 1.2,
        b: float = 0.75,
        features: Iterable[str] = DEFAULT_FEATURES,
        stopwords: bool = True,
        max_postings: int = MAX_POSTINGS,
        shortlist: int = SHORTLIST,
    ) -> LexicalIndex:
        """One BM25 document per entry (all its questions concatenated; ``level="entry"``) or per row.

        Scores are keyed by row id either way; at entry level by the entry's first row.
        Rows are tokenised one at a time into term ids (no per-row token lists are kept).
        """
        features = frozenset(features)
        vocab: dict[str, int] = {}
        run_ids: dict[str, list[int]] = {}  # script run -> its term ids (runs repeat a lot)
        findall = SCRIPT_RUNS.findall
        terms = array("i")  # one term id per token: 4 bytes each
        lengths = np.zeros(len(rows), dtype=np.int64)
        doc_of_row = np.zeros(len(rows), dtype=np.int32)
        doc_of: dict[str, int] = {}
        doc_rows: list[int] = []
        for i, row in enumerate(rows):
            start = len(terms)
            for run in findall(normalize(row["question"])):
                ids = run_ids.get(run)
                if ids is None:
                    ids = _term_ids(_run_tokens(run, features, stopwords), vocab)
                    if len(run_ids) < 1 << 18:
                        run_ids[run] = ids
                terms.extend(ids)
            lengths[i] = len(terms) - start
            if level == "row":
                doc_of_row[i] = i
                doc_rows.append(row["row"])
            else:
                d = doc_of.get(row["entry_id"])
                if d is None:
                    d = doc_of[row["entry_id"]] = len(doc_rows)
                    doc_rows.append(row["row"])
                doc_of_row[i] = d
        del run_ids
        index = cls.__new__(cls)
        index._build(
            vocab,
            np.frombuffer(terms, dtype=np.int32),
            np.repeat(doc_of_row, lengths),
            len(doc_rows),
            k1,
            b,
            features,
            stopwords,
            doc_rows,
            max_postings,
            shortlist,
        )
        return index

    def _self_score(self, tokens: list[str]) -> float:
        c = Counter(tokens)
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.avgdl)
        total = 0.0
        for term, tf in c.items():
            idf = self.idf[self.vocab[term]] if term in self.vocab else self.max_idf
            total += idf * tf * (self.k1 + 1) / (tf + norm)
        return total

    def _postings(self, term: int) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        s, e = self.matrix.indptr[term], self.matrix.indptr[term + 1]
        return self.matrix.indices[s:e], self.matrix.data[s:e]

    def query_scores(
        self, term_ids: Sequence[int], top_n: int = 50
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """(documents, BM25 scores) of the candidate documents for these distinct term ids.

        Candidates are nominated by the rarest terms within ``max_postings`` and scored exactly with
        all the terms (see the module docstring).
        """
        ids = np.asarray(term_ids, dtype=np.int64)
        if not ids.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = ids[np.argsort(self.df[ids], kind="stable")]
        n_nominating = max(int(np.searchsorted(np.cumsum(self.df[ids]), self.max_postings, side="right")), 1)
        lists = [self._postings(t) for t in ids[:n_nominating]]
        if len(lists) == 1:
            docs, scores = lists[0][0], lists[0][1].astype(np.float64)
        else:  # merge the sorted posting lists (timsort finds the runs) and sum per document
            all_docs = np.concatenate([p[0] for p in lists])
            order = np.argsort(all_docs, kind="stable")
            all_docs = all_docs[order]
            first = np.empty(len(all_docs), dtype=bool)
            first[0] = True
            np.not_equal(all_docs[1:], all_docs[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            docs = all_docs[starts]
            scores = np.add.reduceat(np.concatenate([p[1] for p in lists])[order].astype(np.float64), starts)
        rest = ids[n_nominating:]
        if rest.size:
            if len(docs) > top_n:  # final >= partial score: drop those that cannot reach the partial top_n
                keep = scores + float(self.term_max[rest].sum()) >= np.partition(scores, -top_n)[-top_n]
                docs, scores = docs[keep], scores[keep]
            shortlist = max(self.shortlist, top_n)
            if len(docs) > shortlist:
                best = np.sort(np.argpartition(-scores, shortlist - 1)[:shortlist])
                docs, scores = docs[best], scores[best]
            for t in rest:
                post, weights = self._postings(t)
                pos = np.minimum(np.searchsorted(post, docs), len(post) - 1)
                hit = post[pos] == docs
                scores[hit] += weights[pos[hit]]
        return docs, scores

    def scores_batch(self, norms: list[str], top_n: int = 50) -> list[dict[int, float]]:
        """For each normalised query: {row id: normalised BM25 score} for its ``top_n`` best rows."""
        out: list[dict[int, float]] = []
        for q in norms:
            toks = tokenize(q, self.features, self.stopwords)
            ids = {self.vocab[t] for t in toks if t in self.vocab}
            docs, scores = self.query_scores(sorted(ids), top_n)
            if not docs.size:
                out.append({})
                continue
            if len(docs) > top_n:
                best = np.argpartition(-scores, top_n - 1)[:top_n]
                docs, scores = docs[best], scores[best]
            denom = float(max(self._self_score(toks), 1e-9))
            rows = self.doc_rows[docs].tolist()
            out.append({r: min(s / denom, 1.0) for r, s in zip(rows, scores.tolist()) if s > 0})
        return out
