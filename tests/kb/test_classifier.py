"""The entry classifier built at index time: persisted without pickle, verified at load, fused at search."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from kb.classifier import JSON_FILE, NPZ_FILE, EntryClassifier, features
from kb.index import IndexMismatchError, build_index, load_index
from kb.search import KBSearcher, RawScores, fuse

from .conftest import ENCODER, tiny_kb

E5_SMALL = "multilingual-e5-small-4bit"
MINILM = "all-minilm-l6-v2"


def test_classifier_is_persisted_as_arrays_and_json(reference_index, reference_kb):
    manifest = json.loads((reference_index / "manifest.json").read_text())
    record = manifest["classifier"]
    assert (
        record["classes"] == len(reference_kb.entries) and record["dense_dimension"] == manifest["dimension"]
    )
    assert set(record["sha256"]) == {NPZ_FILE, JSON_FILE}
    assert manifest["centroids"]["shape"] == [len(reference_kb.entries), manifest["dimension"]]
    # no pickle anywhere: plain .npy members holding numeric arrays, and JSON
    assert not [p for p in reference_index.iterdir() if p.suffix in (".pkl", ".pickle", ".joblib")]
    with zipfile.ZipFile(reference_index / NPZ_FILE) as zf:
        assert sorted(zf.namelist()) == [
            "coef_dense.npy",
            "coef_extra.npy",
            "coef_sparse.npy",
            "extra_rows.npy",
            "idf.npy",
            "intercept.npy",
        ]
    with np.load(reference_index / NPZ_FILE, allow_pickle=False) as data:
        assert all(data[k].dtype.kind == "f" for k in data.files)
        assert data["coef_sparse"].shape == (record["classes"], record["sparse_features"])
        # the extra blocks (e5, then English-only MiniLM): their weights and the training rows' embeddings
        # (for incremental updates)
        assert (
            record["extra_encoder"] == f"{E5_SMALL} + english-only {MINILM}"
            and record["extra_dimension"] == 768
        )
        assert data["coef_extra"].shape == (record["classes"], 768)
        assert data["extra_rows"].shape == (manifest["row_count"], 768)
        english_part = np.abs(data["extra_rows"][:, 384:]).sum(axis=1) > 0
    rows = json.loads((reference_index / "rows.json").read_text(encoding="utf-8"))
    assert [r["language"] == "en" for r in rows] == english_part.tolist()
    assert np.load(reference_index / "centroids.npy", allow_pickle=False).dtype == np.float32
    meta = json.loads((reference_index / JSON_FILE).read_text(encoding="utf-8"))
    assert (
        meta["classes"] == [e.id for e in reference_kb.entries]
        and len(meta["vocab"]) == record["sparse_features"]
    )


def test_loaded_classifier_scores_like_the_trained_one(tmp_path):
    texts = [
        "退货期限是几天",
        "how many days do i have to return something",
        "客服几点上班",
        "what are your hours",
        "可以用信用卡付款吗",
        "can i pay by credit card",
    ]
    labels = ["returns", "returns", "hours", "hours", "payment", "payment"]
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(texts), 8)).astype("float32")
    clf = EntryClassifier.train(texts, labels, emb, {"dense_scale": 1.0})
    record = clf.save(tmp_path)
    loaded = EntryClassifier.load(tmp_path, record, ["hours", "payment", "returns"], 8)
    np.testing.assert_allclose(loaded.decision(texts, emb), clf.decision(texts, emb), rtol=1e-5, atol=1e-5)
    assert [loaded.classes[i] for i in loaded.decision(texts, emb).argmax(axis=1)] == labels


def test_binary_and_degenerate_kbs():
    emb = np.eye(4, dtype="float32")
    two = EntryClassifier.train(["a b", "a c", "x y", "x z"], ["1", "1", "2", "2"], emb)
    assert two.coef_sparse.shape[0] == 2 and list(two.decision(["a"], emb[:1]).argmax(axis=1)) == [0]
    assert EntryClassifier.train(["a", "b"], ["1", "1"], emb[:2]) is None  # one entry: nothing to learn
    assert EntryClassifier.train(["a b", "x y"], ["1", "2"], emb[:2], {"enabled": False}) is None


def test_training_cost_budget_gates_the_classifier():
    from kb.classifier import trains_classifier

    emb = np.eye(4, dtype="float32")
    texts, labels = ["a b", "a c", "x y", "x z"], ["1", "1", "2", "2"]
    assert trains_classifier({}, 3335, 1000) and not trains_classifier({}, 3335, 10003)  # 13 min on 2 cores
    assert trains_classifier({}, 150, 15000) and trains_classifier({}, 77, 10003)  # CLINC150, BANKING77
    assert EntryClassifier.train(texts, labels, emb, {"max_train_cost": 8}) is not None  # 2 entries x 4 rows
    assert EntryClassifier.train(texts, labels, emb, {"max_train_cost": 7}) is None


def test_features_cover_chinese_without_segmentation():
    toks = features("退货要几天 return")
    assert "c:退" in toks and "c:退货" in toks and "c:几天" in toks and "w:return" in toks and "c:<re" in toks


@pytest.fixture()
def index_copy(reference_index, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(reference_index, copy)
    return copy


def test_classifier_from_another_index_is_refused(index_copy, tmp_path):
    other = build_index(tiny_kb(), ENCODER, tmp_path / "tiny")
    for name in (NPZ_FILE, JSON_FILE):
        shutil.copy(other / name, index_copy / name)
    with pytest.raises(IndexMismatchError, match="checksum"):
        load_index(index_copy)
    # even with the checksums patched in, another KB's classifier is refused (classes / shapes differ)
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["classifier"]["sha256"] = json.loads((other / "manifest.json").read_text())["classifier"][
        "sha256"
    ]
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="classifier"):
        load_index(index_copy)


def test_missing_or_corrupt_classifier_is_refused(index_copy):
    (index_copy / NPZ_FILE).unlink()
    with pytest.raises(IndexMismatchError, match="missing"):
        load_index(index_copy)


def test_mismatched_centroids_are_refused(index_copy):
    np.save(index_copy / "centroids.npy", np.zeros((3, 512), dtype="float32"))
    with pytest.raises(IndexMismatchError, match="centroids"):
        load_index(index_copy)


def test_kb_without_classifier_uses_its_own_thresholds(tmp_path):
    from kb.faq import KnowledgeBase
    from kb.index import search_defaults

    kb = KnowledgeBase(tiny_kb().entries[:1], "1", "One")
    out = build_index(kb, ENCODER, tmp_path / "one")
    loaded = load_index(out)
    assert loaded.manifest["classifier"] is None and loaded.classifier is None
    expected = {**search_defaults()["search"], **search_defaults()["search_without_classifier"]}
    assert {k: loaded.search_config[k] for k in ("min_score", "answer_score", "margin")} == {
        k: expected[k] for k in ("min_score", "answer_score", "margin")
    }
    result = KBSearcher(loaded).search("How long do I have to return an item?")
    assert result.hits[0].entry_id == "returns"


def test_fuse_adds_entries_only_the_classifier_found():
    raw = RawScores({"a": (0.8, 3)}, {"b": (0.5, 7)}, 0.4, {"a": 0.2, "c": 0.7}, {"a": 0.9, "c": 0.6})
    fused = fuse(raw, 0.25, 0.5, 0.5)
    assert set(fused) == {"a", "b", "c"}
    assert fused["a"] == pytest.approx((0.5 * (0.75 * 0.85) + 0.5 * 0.2, 3))
    assert fused["c"][1] == -1 and fused["c"][0] == pytest.approx(0.5 * 0.75 * (0.5 * 0.4 + 0.5 * 0.6) + 0.35)
    assert fuse(raw, 0.0) == {"a": (0.8, 3)}  # dense alone, as before


def test_hit_for_a_classifier_only_entry_shows_its_question(reference_searcher):
    result = reference_searcher._result({"language": "en", "notice": None}, {"returns-policy": (0.9, -1)}, 3)
    assert result.hits[0].question == reference_searcher.entries["returns-policy"].questions["en"][0]


def test_decision_matches_the_matrix_product(reference_index, reference_kb):
    """decision() gathers each query's feature columns instead of ``x @ coef_sparse.T`` (which copies
    the whole weight matrix per call): same values, one query or a batch."""
    from kb.encoder import encode, load_encoder
    from kb.normalize import normalize

    clf = load_index(reference_index).classifier
    norms = [
        normalize(q) for q in ("退貨要幾天內申請？", "how do i cancel my order", "zzz", "付款方式有哪些")
    ]
    emb = encode(load_encoder(ENCODER), norms)
    x = clf.tfidf(clf._tokens(norms), clf.term_ids, clf.idf)
    english = encode(clf.tuned[MINILM], norms) * np.array([[0.0], [1.0], [1.0], [0.0]], dtype=np.float32)
    extra = np.hstack([encode(load_encoder(E5_SMALL), norms), english])
    expected = (
        np.asarray(x @ clf.coef_sparse.T) + emb @ clf.coef_dense.T + extra @ clf.coef_extra.T + clf.intercept
    )
    assert clf.decision(norms, emb) == pytest.approx(expected, abs=1e-5)
    assert clf.decision(norms[:1], emb[:1]) == pytest.approx(expected[:1], abs=1e-5)


def test_classifier_without_second_encoder(tmp_path):
    texts = [
        "退货期限是几天",
        "how many days do i have to return something",
        "客服几点上班",
        "what are your hours",
    ]
    labels = ["returns", "returns", "hours", "hours"]
    emb = np.random.default_rng(0).normal(size=(len(texts), 8)).astype("float32")
    clf = EntryClassifier.train(texts, labels, emb, {"extra_encoder": "", "english_encoder": ""})
    assert clf.coef_extra is None and clf.extra_encoder == ""
    record = clf.save(tmp_path)
    assert record["extra_encoder"] == "" and record["extra_dimension"] == 0
    loaded = EntryClassifier.load(tmp_path, record, ["hours", "returns"], 8)
    assert loaded.coef_extra is None
    np.testing.assert_allclose(loaded.decision(texts, emb), clf.decision(texts, emb), rtol=1e-5, atol=1e-5)


def test_second_encoder_block_changes_the_scores(tmp_path):
    """The e5 block is really used at query time: dropping its weights changes the decision values."""
    texts = [
        "退货期限是几天",
        "how many days do i have to return something",
        "客服几点上班",
        "what are your hours",
    ]
    labels = ["returns", "returns", "hours", "hours"]
    emb = np.zeros((len(texts), 8), dtype="float32")
    clf = EntryClassifier.train(
        texts, labels, emb, {"extra_encoder": E5_SMALL, "extra_scale": 2.0, "english_encoder": ""}
    )
    assert clf.coef_extra.shape == (2, 384) and clf.extra_rows.shape == (4, 384)
    with_block = clf.decision(["退货要几天内申请"], emb[:1])
    clf.coef_extra = np.zeros_like(clf.coef_extra)
    assert not np.allclose(with_block, clf.decision(["退货要几天内申请"], emb[:1]))


def test_english_block_is_used_for_english_text_only():
    """The English-only block: zero for rows and queries with Chinese characters, used for the others."""
    texts = [
        "退货期限是几天",
        "how many days do i have to return something",
        "客服几点上班",
        "what are your hours",
    ]
    labels = ["returns", "returns", "hours", "hours"]
    emb = np.zeros((len(texts), 8), dtype="float32")
    clf = EntryClassifier.train(
        texts, labels, emb, {"extra_encoder": "", "english_encoder": MINILM, "english_scale": 2.0}
    )
    assert clf.extra_encoder == f"english-only {MINILM}" and clf.coef_extra.shape == (2, 384)
    assert [bool(np.abs(r).sum()) for r in clf.extra_rows] == [False, True, False, True]
    queries = ["退货要几天内申请", "when do you open", "iPhone 退货"]
    before = clf.decision(queries, emb[:3])
    clf.coef_extra = np.zeros_like(clf.coef_extra)
    after = clf.decision(queries, emb[:3])
    assert np.allclose(before[[0, 2]], after[[0, 2]]) and not np.allclose(before[1], after[1])


def test_classifier_trained_with_another_second_encoder_is_refused(index_copy):
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["classifier"]["extra_encoder"] = "some-other-model"
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="extra encoders"):
        load_index(index_copy)
