"""kb/backend.py: the FAISS index behind one small interface over int64 ids."""

from __future__ import annotations

import numpy as np
import pytest

from kb.backend import VectorIndex


def _unit(rows: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("hnsw_min_rows, kind", [(1000, "IDMap2,FlatIP"), (10, "IDMap2,HNSW32,IP")])
def test_build_search_finds_each_vector_under_its_row_id(hnsw_min_rows, kind):
    vectors = _unit(50)
    index = VectorIndex.build(vectors, hnsw_min_rows)
    assert index.kind == kind and index.size == index.live == 50 and index.dimension == 16
    scores, ids = index.search(vectors[[7, 31]], 3)
    assert ids[:, 0].tolist() == [7, 31] and scores[:, 0] == pytest.approx([1.0, 1.0], abs=1e-5)


def test_add_remove_and_stored_vectors():
    vectors = _unit(20)
    index = VectorIndex.build(vectors[:10], 1000)
    index.add(vectors[10:], range(10, 20))
    index.remove([3, 15])
    assert index.size == 20 and index.live == 18
    _, ids = index.search(vectors[[3, 15]], 20)
    assert not {3, 15} & set(ids.ravel().tolist()) and (ids >= 0).sum() == 2 * 18
    assert np.array_equal(index.stored_vectors(), vectors)  # removed ids stay stored


def test_save_and_load_keep_vectors_and_ids(tmp_path):
    vectors = _unit(30)
    index = VectorIndex.build(vectors, 10)
    index.save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", index.kind)
    assert loaded.kind == index.kind and loaded.size == 30
    assert np.array_equal(loaded.stored_vectors(), vectors)
    assert loaded.search(vectors[:1], 1)[1][0, 0] == 0


def test_stored_vectors_refuses_ids_that_are_not_row_numbers():
    vectors = _unit(4)
    index = VectorIndex.build(vectors[:2], 1000)
    index.add(vectors[2:], [7, 9])
    with pytest.raises(ValueError, match="ids are not 0..3"):
        index.stored_vectors()
