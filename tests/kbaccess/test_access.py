"""kbaccess: the one lazily loaded, hot-reloading KB front end of the action server and the gateway."""

from __future__ import annotations

import threading

import numpy as np

import kbaccess.access as access_module
from kb.index import build_and_publish
from kb.search import NOTICE_UNAVAILABLE
from kbaccess import KBAccess, shared_kb
from tests.kb.conftest import ENCODER, tiny_kb


def test_nothing_loads_until_first_use_and_no_index_falls_back(tmp_path):
    kb = KBAccess(tmp_path / "empty", ENCODER)
    assert kb.current_build() is None and kb.published_build() is None and kb.embedder() is None
    assert kb.search("退貨要幾天內申請？").notice == NOTICE_UNAVAILABLE
    assert kb.lookup("hours", "en") is None and kb.closest_entry("hours") is None
    assert kb.reload() is True  # nothing published: nothing to wait for


def test_search_lookup_report_and_embed_on_the_published_build(tmp_path):
    root = tmp_path / "root"
    build = build_and_publish(tiny_kb(), ENCODER, root)
    kb = KBAccess(root, ENCODER)
    assert kb.embedder() is None  # never loads by itself
    assert kb.search("客服幾點上班？").hits[0].entry_id == "hours"
    assert kb.current_build() == build.name == kb.published_build()
    hit = kb.lookup("hours", "en")
    assert hit is not None and hit.answer.endswith("18")
    report = kb.report("Can I pay by credit card?", "en", 3)
    assert report["index"] == build.name and report["hits"][0]["entry_id"] == "payment"
    assert set(report["thresholds"]) == {"min_score", "answer_score", "margin"}
    assert kb.closest_entry("客服幾點上班？") == "hours"
    embed = kb.embedder()
    assert embed is not None
    vectors = embed(["hello", "退貨", "hello"])
    assert vectors.shape[0] == 3 and np.allclose(vectors[0], vectors[2])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_reload_serves_a_newly_published_build(tmp_path):
    root = tmp_path / "root"
    build_and_publish(tiny_kb(" (v1)"), ENCODER, root)
    kb = KBAccess(root, ENCODER, check_interval=30.0)  # the periodic check alone would wait 30 s
    assert kb.search("Can I pay by credit card?").hits[0].answer == "Yes (v1)"
    second = build_and_publish(tiny_kb(" (v2)"), ENCODER, root)
    assert kb.current_build() != second.name
    assert kb.reload(timeout_s=60) is True
    assert kb.current_build() == second.name
    assert kb.search("Can I pay by credit card?").hits[0].answer == "Yes (v2)"


def test_the_service_is_created_once_across_threads(tmp_path):
    kb = KBAccess(tmp_path / "empty", ENCODER)
    seen, barrier = [], threading.Barrier(8)

    def grab():
        barrier.wait()
        seen.append(kb.service())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1


def test_shared_kb_follows_the_settings(tmp_path, monkeypatch):
    from common.settings import get_settings

    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr(access_module, "_shared", None)
    get_settings.cache_clear()
    try:
        kb = shared_kb()
        assert kb is shared_kb() and kb.index_root == tmp_path / "index" and kb.encoder_name == ENCODER
    finally:
        get_settings.cache_clear()
