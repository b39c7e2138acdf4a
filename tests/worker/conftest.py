"""KB worker tests: a migrated SQLite CRM per test (the console tests' fixtures) and a fake index
build (loading the encoder and building a real index take minutes; tests/kb covers those)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crm.db import session_scope
from crm.repo.kb import save_kb_version
from tests.console.conftest import factory, fast_password_hashing, settings, template_db  # noqa: F401


@pytest.fixture
def seeded_kb(factory):  # noqa: F811
    with session_scope(factory) as session:
        save_kb_version(
            session,
            key="returns-policy",
            category="returns",
            author="import",
            questions={"zh-Hant": ["退貨要幾天內申請？"], "en": ["How long do I have to return an item?"]},
            answers={"zh-Hant": "收到商品7天內。", "en": "Within 7 days of delivery."},
        )


class FakeBuilds:
    """Stands in for ``kb``'s encoder load, full build and incremental update; each publishes a
    build directory under the index root like the real ones. ``gate``: builds wait for it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.entries: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.fail_update = False

    def _publish(self, root: Path, name: str, manifest: dict[str, Any]) -> Path:
        path = Path(root) / "builds" / name
        path.mkdir(parents=True)
        (path / "manifest.json").write_text(json.dumps(manifest))
        (Path(root) / "CURRENT").write_text(f"builds/{name}\n")
        return path

    def _wait(self) -> None:
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(20), "the test never opened the gate"

    def full(self, kb: Any, encoder: str, root: Path) -> Path:
        self.calls.append("full")
        self.entries.append([e.id for e in kb.entries])
        self._wait()
        return self._publish(root, f"full-{len(self.calls)}", {"row_count": 3})

    def update(self, kb: Any, encoder: str, root: Path) -> Path:
        self.calls.append("incremental")
        self.entries.append([e.id for e in kb.entries])
        self._wait()
        if self.fail_update:
            raise RuntimeError("unreadable base")
        record = {
            "base": "old",
            "changed_entries": ["returns-policy"],
            "reused_rows": 2,
            "encoded_rows": 1,
            "retrained_classes": 1,
            "index": "rebuilt",
        }
        return self._publish(root, f"incremental-{len(self.calls)}", {"row_count": 3, "incremental": record})


@pytest.fixture
def fake_builds(monkeypatch) -> FakeBuilds:
    import kb.encoder
    import kb.incremental
    import kb.index

    builds = FakeBuilds()
    monkeypatch.setattr(kb.encoder, "load_encoder", lambda name: None)
    monkeypatch.setattr(kb.index, "build_and_publish", builds.full)
    monkeypatch.setattr(kb.incremental, "update_and_publish", builds.update)
    return builds


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
