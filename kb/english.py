"""English rows: an English query is also matched by the English encoder against the English questions.

The entry classifier embeds every question row, and every query, that has no Chinese character with
an English-only encoder (``english_encoder``: all-MiniLM-L6-v2 by default), because that encoder
separates English paraphrases better than the multilingual one the FAISS index uses. On the reference
FAQ's validation half the best cosine to an entry's English rows by that encoder alone ranks the right
entry first for 0.80 of the English queries, against 0.69 for the multilingual encoder's best row.
The same vectors therefore give a second best-row cosine: :func:`kb.search.fuse` mixes it into the
multilingual one with ``english_weight`` for queries without Chinese characters. Chinese queries never
see it.

Nothing is stored for it: the row vectors are the classifier's ``extra_rows`` (aligned with the index's
live question rows, sha-checked with the classifier) and the query's vector is the one the classifier
encodes anyway, so it costs one product with the candidates' English rows per query. An index without
a classifier, or whose classifier has no English block, has no English rows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from kb.answers import AnswerPassages
from kb.classifier import EntryClassifier, extra_blocks
from kb.encoder import embedding_dimension, load_encoder
from kb.layout import Row, question_rows

log = logging.getLogger(__name__)


def english_columns(config: dict[str, Any]) -> slice | None:
    """Columns of the English-only block in the classifier's extra embeddings, None if it has none."""
    start = 0
    for name, _, english_only in extra_blocks(config):
        dim = embedding_dimension(load_encoder(name))
        if english_only:
            return slice(start, start + dim)
        start += dim
    return None


def english_rows(
    classifier: EntryClassifier | None, rows: list[Row], entry_ids: list[str], cols: slice | None
) -> AnswerPassages | None:
    """The English-encoder vectors (``cols`` of the classifier's extra embeddings) of the live question rows
    without Chinese characters, grouped by entry (``entry_ids`` order) as :class:`kb.answers.AnswerPassages`
    (which scores grouped vectors); None when there is no English block or the classifier's rows do not
    line up with ``rows``."""
    if classifier is None or classifier.extra_rows is None or cols is None:
        return None
    keep = question_rows(rows)
    if classifier.extra_rows.shape[0] != len(keep) or classifier.extra_rows.shape[1] < cols.stop:
        log.warning(
            "kb: the classifier's %d embedded rows do not match the index's %d question rows; "
            "English rows are off",
            classifier.extra_rows.shape[0],
            len(keep),
        )
        return None
    block = classifier.extra_rows[:, cols]
    english = np.flatnonzero(np.abs(block).sum(axis=1) > 0)  # Chinese rows have a zero block
    grouped: dict[str, list[int]] = {e: [] for e in entry_ids}
    for k in english:
        entry = rows[keep[k]]["entry_id"]
        if entry in grouped:
            grouped[entry].append(int(k))
    order = [k for e in entry_ids for k in grouped[e]]
    texts = [[rows[keep[k]]["question"] for k in grouped[e]] for e in entry_ids]
    vectors = (
        block[np.asarray(order, dtype=np.int64)]
        if order
        else np.zeros((0, cols.stop - cols.start), np.float32)
    )
    return AnswerPassages(entry_ids, texts, vectors)
