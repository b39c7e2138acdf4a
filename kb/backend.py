"""The vector index behind the dense search: FAISS, over explicit int64 ids (row ids).

:class:`VectorIndex` is the only place in kb that imports faiss: build, add, remove, search, save, load.
Small KBs get an exact inner-product index, large ones HNSW (approximate), both inside an ``IndexIDMap2``
so that every vector carries its row id. ``remove`` tombstones ids: their vectors stay stored (an HNSW
graph cannot drop nodes) and searches skip them.

Thread settings (``index.faiss_threads`` / ``index.blas_threads`` of kb/data/search_defaults.json) are
applied once per process, on first use. ``faiss_threads``: FAISS's OpenMP threads. ``blas_threads``:
threads of the BLAS libraries (numpy's OpenBLAS: the classifier's and the centroids' products of each
query; the encoder sets its own per call, see kb/encoder.py). Measured on 2 cores (bench/kb_speed.py):
multi-threaded teams spin-wait and compete with each other and with other processes; one thread halves
single-query latency, and on a busy machine one BLAS thread takes a 1,000-entry query from ~30 ms p50 /
~100 ms p95 to ~8 / ~10 ms. Building an HNSW index uses every core.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.layout import Vectors, search_defaults

if TYPE_CHECKING:
    import faiss

HNSW_M = 32
_faiss_ready = False


def faiss_module() -> ModuleType:
    """Import faiss; once per process, apply the query path's thread settings (see the module docstring)."""
    global _faiss_ready
    import faiss

    if not _faiss_ready:
        settings = search_defaults()["index"]
        threads = int(settings.get("faiss_threads", 0) or 0)
        if threads > 0:
            faiss.omp_set_num_threads(threads)
        blas = int(settings.get("blas_threads", 0) or 0)
        if blas > 0:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:  # optional: without it BLAS keeps its default team
                pass
            else:
                threadpool_limits(blas, user_api="blas")
        _faiss_ready = True
    return faiss


def library_version() -> str:
    return str(faiss_module().__version__)


class VectorIndex:
    """Unit vectors searched by inner product, each under an int64 id; ``kind`` names the structure
    (recorded in the manifest as ``index_type``)."""

    def __init__(self, index: faiss.IndexIDMap2, kind: str) -> None:
        self._index = index
        self.kind = kind
        self._removed: frozenset[int] = frozenset()
        self._params: tuple[Any, ...] | None = None  # search parameters that skip the removed ids

    @classmethod
    def build(cls, vectors: Vectors, hnsw_min_rows: int, hnsw_m: int = HNSW_M) -> VectorIndex:
        """Exact inner product for small KBs; HNSW (approximate) from ``hnsw_min_rows`` rows upwards.
        The vectors get the ids ``0..n-1``."""
        faiss = faiss_module()
        n, dim = vectors.shape
        if n >= hnsw_min_rows:
            base = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = 80
            base.hnsw.efSearch = 128
            kind = f"IDMap2,HNSW{hnsw_m},IP"
        else:
            base = faiss.IndexFlatIP(dim)
            kind = "IDMap2,FlatIP"
        index = cls(faiss.IndexIDMap2(base), kind)
        threads = faiss.omp_get_max_threads()
        if n >= hnsw_min_rows:  # building the graph is the slow part of a large build: use every core for it
            faiss.omp_set_num_threads(max(os.cpu_count() or 1, threads))
        try:
            index.add(vectors, np.arange(n, dtype="int64"))
        finally:
            faiss.omp_set_num_threads(threads)  # back to ``faiss_threads`` for searching
        return index

    @property
    def size(self) -> int:
        """Stored vectors, removed ones included."""
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def live(self) -> int:
        """Vectors a search can return."""
        return self.size - len(self._removed)

    def add(self, vectors: Vectors, ids: Iterable[int]) -> None:
        self._index.add_with_ids(vectors, np.fromiter(ids, dtype="int64"))

    def remove(self, ids: Iterable[int]) -> None:
        """Tombstone ``ids``: kept in storage (and in :meth:`save`), never returned by :meth:`search`."""
        self._removed = self._removed | frozenset(int(i) for i in ids)
        self._params = self._skip_params() if self._removed else None

    def _skip_params(self) -> tuple[Any, ...]:
        """FAISS search parameters that skip the removed ids, with the selectors they point to (which must
        stay alive as long as they do). Searches only read them."""
        faiss = faiss_module()
        batch = faiss.IDSelectorBatch(np.fromiter(self._removed, dtype="int64"))
        selector = faiss.IDSelectorNot(batch)
        inner = faiss.downcast_index(self._index.index)
        if hasattr(inner, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
        else:
            params = faiss.SearchParameters(sel=selector)
        return params, selector, batch

    def search(self, vectors: Vectors, k: int) -> tuple[Vectors, np.ndarray[Any, np.dtype[np.int64]]]:
        """(scores, ids), each of shape (queries, k), best first; id -1 where fewer than ``k`` were found."""
        if self._params is not None:
            scores, ids = self._index.search(vectors, k, params=self._params[0])
        else:
            scores, ids = self._index.search(vectors, k)
        return scores, ids

    def stored_vectors(self) -> Vectors:
        """Every stored vector (removed ones included), row ``i`` being id ``i``; the ids must be ``0..n-1``."""
        faiss = faiss_module()
        n = self.size
        ids = faiss.vector_to_array(self._index.id_map)
        stored = faiss.downcast_index(self._index.index).reconstruct_n(0, n)
        if len(ids) != n or sorted(ids.tolist()) != list(range(n)):
            raise ValueError(f"the index's ids are not 0..{n - 1}")
        vectors: Vectors = np.empty_like(stored)
        vectors[ids] = stored
        return vectors

    def save(self, path: str | Path) -> None:
        faiss_module().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | Path, kind: str) -> VectorIndex:
        return cls(faiss_module().read_index(str(path)), kind)
