from __future__ import annotations

import threading
import time

from kb.index import build_and_publish, build_index, publish
from kb.search import NOTICE_UNAVAILABLE, KBService

from .conftest import ENCODER, tiny_kb


def test_service_without_index_falls_back(tmp_path):
    service = KBService(tmp_path / "empty", encoder_name=ENCODER)
    result = service.search("退貨要幾天內申請？")
    assert result.decision == "fallback" and result.notice == NOTICE_UNAVAILABLE


def test_hot_reload_swaps_without_failing_in_flight_calls(tmp_path):
    root = tmp_path / "root"
    build_and_publish(tiny_kb(" (v1)"), ENCODER, root)
    service = KBService(root, encoder_name=ENCODER, check_interval=0.05)
    assert service.search("Can I pay by credit card?").hits[0].answer == "Yes (v1)"

    stop, errors, answers = threading.Event(), [], set()

    def hammer():
        while not stop.is_set():
            try:
                answers.add(service.search("Can I pay by credit card?").hits[0].answer)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        build_and_publish(tiny_kb(" (v2)"), ENCODER, root)
        deadline = time.monotonic() + 10
        while service.search("Can I pay by credit card?").hits[0].answer != "Yes (v2)":
            assert time.monotonic() < deadline, "service did not reload"
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert answers <= {"Yes (v1)", "Yes (v2)"}


def test_mismatched_new_index_keeps_serving_old(tmp_path):
    root = tmp_path / "root"
    good = build_and_publish(tiny_kb(), ENCODER, root)
    service = KBService(root, encoder_name=ENCODER, check_interval=0.0)
    assert service.search("客服幾點上班？").hits[0].entry_id == "hours"
    # A build whose manifest names another encoder is published by mistake: refused, old one kept.
    import json

    other = build_index(tiny_kb(" x"), ENCODER, root / "builds" / "other")
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "encoder": "another-model"}))
    publish(root, other)
    result = service.search("客服幾點上班？")
    assert result.hits[0].answer.endswith("18") and service.current_dir.resolve() == good.resolve()


def test_lookup_returns_the_named_entry_in_the_asked_language(tmp_path):
    """A clarification button names an entry id: the action answers that entry, no search."""
    root = tmp_path / "root"
    build_and_publish(tiny_kb(), ENCODER, root)
    service = KBService(root, encoder_name=ENCODER, check_interval=0.0)
    hit = service.lookup("hours", "en")
    assert hit is not None and hit.entry_id == "hours" and hit.answer.endswith("18")
    assert service.lookup("no-such-entry", "en") is None
    assert KBService(tmp_path / "empty", encoder_name=ENCODER).lookup("hours", "en") is None
