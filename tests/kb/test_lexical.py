"""BM25 (kb/lexical.py): the posting-list scorer against a straightforward exhaustive computation,
and the candidate budget that keeps a query's cost independent of the KB size."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

import numpy as np
import pytest

from common.lang import to_simplified
from kb.cantonese import fold_cantonese
from kb.evaluate import load_queries
from kb.index import make_rows
from kb.lexical import LexicalIndex, tokenize
from kb.normalize import normalize


def exhaustive(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 of every document, textbook style: sum over the query's distinct terms."""
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    avgdl = max(sum(len(d) for d in docs) / n, 1.0)
    out = []
    for d in docs:
        tf = Counter(d)
        norm = k1 * (1 - b + b * len(d) / avgdl)
        out.append(
            sum(
                math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) * tf[t] * (k1 + 1) / (tf[t] + norm)
                for t in set(query)
                if t in tf
            )
        )
    return out


def self_score(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> float:
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    avgdl = max(sum(len(d) for d in docs) / n, 1.0)
    norm = k1 * (1 - b + b * len(query) / avgdl)
    max_idf = math.log(1 + (n + 0.5) / 0.5)
    return sum(
        (math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) if t in df else max_idf) * c * (k1 + 1) / (c + norm)
        for t, c in Counter(query).items()
    )


@pytest.fixture(scope="module")
def reference_docs(reference_kb):
    """One document per entry (its questions' tokens, every language), keyed by the entry's first row."""
    rows = make_rows(reference_kb)
    docs: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    for r in rows:
        docs.setdefault(r["entry_id"], []).extend(tokenize(normalize(r["question"])))
        first.setdefault(r["entry_id"], r["row"])
    return rows, list(docs.values()), [first[e] for e in docs]


def test_reference_kb_scores_match_exhaustive_bm25(reference_docs):
    """On the reference KB every query term nominates: same top hits and scores as exhaustive BM25."""
    rows, docs, doc_rows = reference_docs
    index = LexicalIndex.from_rows(rows)
    assert index.doc_rows.tolist() == doc_rows
    for q in load_queries():
        norm = normalize(q["text"])
        toks = tokenize(norm)
        full = np.array(exhaustive(docs, toks))
        denom = max(self_score(docs, toks), 1e-9)
        got = index.scores_batch([norm], top_n=10)[0]
        hits = np.flatnonzero(full > 0)
        expected = sorted(hits, key=lambda d: -full[d])[:10]
        assert len(got) == len(expected)
        # same scores (ties may swap documents at the 10th place)
        assert sorted(got.values(), reverse=True) == pytest.approx(
            [min(full[d] / denom, 1.0) for d in expected], abs=1e-5
        )
        for r, s in got.items():
            assert s == pytest.approx(min(full[doc_rows.index(r)] / denom, 1.0), abs=1e-5)


def test_row_and_entry_levels_key_scores_by_row_id():
    rows = [  # rows of one entry need not be adjacent, and ids need not start at 0 (filtered rows)
        {"row": 10, "entry_id": "a", "question": "reset my router"},
        {"row": 11, "entry_id": "b", "question": "router warranty"},
        {"row": 12, "entry_id": "a", "question": "router frozen"},
    ]
    entry = LexicalIndex.from_rows(rows)
    assert entry.doc_rows.tolist() == [10, 11]
    assert set(entry.scores_batch(["frozen router"])[0]) == {10, 11}
    assert max(entry.scores_batch(["frozen router"])[0].items(), key=lambda kv: kv[1])[0] == 10
    row = LexicalIndex.from_rows(rows, level="row")
    assert row.doc_rows.tolist() == [10, 11, 12]
    assert max(row.scores_batch(["frozen router"])[0].items(), key=lambda kv: kv[1])[0] == 12
    # the token-list constructor builds the same weights
    docs = [tokenize(normalize(r["question"])) for r in rows]
    direct = LexicalIndex(docs, doc_rows=[10, 11, 12])
    assert direct.scores_batch(["frozen router"])[0] == pytest.approx(row.scores_batch(["frozen router"])[0])


def _corpus():
    """400 documents: 'common' in all, 'often' in 1 of 2, 'some' in 1 of 10, 'rare' in 1 of 100."""
    docs = []
    for i in range(400):
        d = ["w:common", f"w:filler{i % 37}"] + ["w:often"] * (1 + i % 3 if i % 2 == 0 else 0)
        d += ["w:some"] if i % 10 == 0 else []
        d += ["w:rare"] if i % 100 == 7 else []
        docs.append(d)
    return docs


def test_budget_cut_frequent_terms_score_but_do_not_nominate():
    docs = _corpus()
    query = ["w:common", "w:often", "w:rare"]
    full = np.array(exhaustive(docs, query))
    # default budget: the 4 + 200 + 400 postings fit, every term nominates: exhaustive
    index = LexicalIndex(docs)
    got, scores = index.query_scores([index.vocab[t] for t in query], top_n=400)
    assert sorted(got.tolist()) == list(range(400))
    assert scores == pytest.approx(full[got])
    # budget of 100 postings: only 'rare' (df 4) nominates; 'often' and 'common' still add their weight
    small = LexicalIndex(docs, max_postings=100)
    got, scores = small.query_scores([small.vocab[t] for t in query], top_n=50)
    assert sorted(got.tolist()) == [7, 107, 207, 307]
    assert scores == pytest.approx(full[got])
    assert full[got].min() > np.delete(full, got).max()  # here the rare term decides the top anyway
    # budget of 300: 'rare' and 'often' (4 + 200) nominate; documents with 'common' alone are not candidates
    mid = LexicalIndex(docs, max_postings=300)
    got, scores = mid.query_scores([mid.vocab[t] for t in query], top_n=400)
    candidates = [d for d in range(400) if "w:rare" in docs[d] or "w:often" in docs[d]]
    assert sorted(got.tolist()) == candidates
    assert scores == pytest.approx(full[got])
    # with top_n 5, candidates that cannot reach the top 5 even with 'common' are dropped, the top 5 is exact
    got, scores = mid.query_scores([mid.vocab[t] for t in query], top_n=5)
    assert len(got) < len(candidates) and scores == pytest.approx(full[got])
    assert np.sort(scores)[-5:] == pytest.approx(np.sort(full)[-5:])  # (ties may swap documents)


def test_budget_always_keeps_the_rarest_term_and_shortlist_bounds_candidates():
    docs = _corpus()
    index = LexicalIndex(docs, max_postings=1, shortlist=30)
    ids = [index.vocab["w:common"], index.vocab["w:often"]]
    got, scores = index.query_scores(ids, top_n=10)
    # 'often' (df 200) nominates although over the budget; 30 shortlisted, exact scores
    assert len(got) == 30 and all("w:often" in docs[d] for d in got)
    assert scores == pytest.approx(np.array(exhaustive(docs, ["w:common", "w:often"]))[got])
    assert index.query_scores([], top_n=10)[0].size == 0
    assert index.scores_batch(["nothing known here"]) == [{}]


def test_budget_on_the_reference_kb_keeps_exact_scores(reference_docs):
    """A tiny budget forces the cut on real trilingual text: every returned score is still exact BM25,
    and every returned entry contains one of the query's nominating (rarest) terms."""
    rows, docs, doc_rows = reference_docs
    index = LexicalIndex.from_rows(rows, max_postings=8, shortlist=1000)
    df = Counter(t for d in docs for t in set(d))
    for q in load_queries()[::3]:
        norm = normalize(q["text"])
        toks = tokenize(norm)
        known = sorted({t for t in toks if t in df}, key=lambda t: (df[t], index.vocab[t]))
        if not known:
            continue
        cum = np.cumsum([df[t] for t in known])
        nominating = set(known[: max(int(np.searchsorted(cum, 8, side="right")), 1)])
        full = np.array(exhaustive(docs, toks))
        candidates = [d for d in range(len(docs)) if nominating & set(docs[d])]
        expected = sorted(candidates, key=lambda d: -full[d])[:10]
        denom = max(self_score(docs, toks), 1e-9)
        got = index.scores_batch([norm], top_n=10)[0]
        assert all(nominating & set(docs[doc_rows.index(r)]) for r in got)
        assert sorted(got.values(), reverse=True) == pytest.approx(
            [min(full[d] / denom, 1.0) for d in expected if full[d] > 0], abs=1e-5
        )


def test_normalize_fast_paths_are_exact():
    """normalize() skips OpenCC for ASCII words and translates symbols with a table: same output as
    the plain definition (NFKC, symbols to spaces, collapse, whole-text t2s, Cantonese folding, lower case)."""

    def plain(text):
        text = unicodedata.normalize("NFKC", text)
        text = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in text)
        text = " ".join(text.split())
        return fold_cantonese(to_simplified(text)).lower() if text else ""

    texts = [q["text"] for q in load_queries()] + [
        "ＡＢＣ１２３　Hello!! 發展 头发 頭髮",
        "乾燥的 衣服 幹部 干净",
        "café naïve ß İ ǅ ﬁ 臺灣 台灣",
        "a\u200bb\u00a0c\u3000d\u2028e",
        "emoji 😀👍🏽 mixed 中文English混排-test…",
        "\x00\x07 tab\tend",
        "",
    ]
    for t in texts:
        assert normalize(t) == plain(t), t
