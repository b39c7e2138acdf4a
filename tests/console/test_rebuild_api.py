"""The trainer console's rebuild: the endpoint only queues a request; the KB worker builds; the
page sees the worker's stages, the switch of this gateway to the new build, and the result."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from crm.db import session_scope
from crm.models import KBRebuildJob
from crm.orm.base import utcnow
from crm.repo import kb_jobs
from crm.repo.kb import save_kb_version
from gateway.console.rebuild import RebuildDesk
from worker.loop import KBWorker


@pytest.fixture
def seeded_kb(factory):
    with session_scope(factory) as session:
        save_kb_version(
            session,
            key="returns-policy",
            category="returns",
            questions={"en": ["How long do I have to return an item?"]},
            answers={"en": "Within 7 days of delivery."},
        )


@pytest.fixture
def fake_build(monkeypatch, settings):
    import kb.encoder
    import kb.index

    built = []

    def build(kb_, encoder, root):
        built.append([e.id for e in kb_.entries])
        path = root / "builds" / "20300101T000000Z-test"
        path.mkdir(parents=True)
        (root / "CURRENT").write_text("builds/20300101T000000Z-test\n")
        return path

    monkeypatch.setattr(kb.encoder, "load_encoder", lambda name: None)
    monkeypatch.setattr(kb.index, "build_and_publish", build)
    return built


def jobs(factory) -> list[tuple[str, str]]:
    with session_scope(factory) as session:
        return [(j.status, j.requested_by) for j in session.query(KBRebuildJob).order_by(KBRebuildJob.id)]


def test_the_endpoint_only_queues_a_request(as_user, factory, seeded_kb, fake_build):
    trainer = as_user("trainer1")
    state = trainer.post("/api/trainer/rebuild").json()
    assert (state["status"], state["stage"], state["progress"], state["by"]) == (
        "running",
        "queued",
        0,
        "trainer1",
    )
    time.sleep(0.3)
    assert jobs(factory) == [("queued", "trainer1")] and fake_build == []  # nothing built by the gateway
    again = trainer.post("/api/trainer/rebuild")
    assert again.status_code == 409 and again.json()["error"] == "running"  # one at a time
    assert trainer.get("/api/trainer/rebuild").json()["stage"] == "queued"
    assert as_user("agent1").post("/api/trainer/rebuild").status_code == 403


def test_the_page_follows_the_worker_to_done(as_user, settings, factory, seeded_kb, fake_build):
    trainer = as_user("trainer1")
    trainer.post("/api/trainer/rebuild")
    assert KBWorker(factory, settings.kb_encoder, settings.kb_index_root).run_once() is not None
    state = trainer.get("/api/trainer/rebuild").json()
    assert (state["status"], state["stage"], state["progress"]) == ("done", "done", 100)
    assert (state["entries"], state["mode"], state["build"]) == (1, "full", "20300101T000000Z-test")
    assert state["by"] == "trainer1" and state["finished"] >= state["started"]
    assert fake_build == [["returns-policy"]]
    assert trainer.post("/api/trainer/rebuild").status_code == 200  # a new request once it is done


def test_a_failed_rebuild_is_reported(as_user, settings, factory, fake_build):
    trainer = as_user("trainer1")
    trainer.post("/api/trainer/rebuild")  # the CRM holds no entries
    KBWorker(factory, settings.kb_encoder, settings.kb_index_root).run_once()
    state = trainer.get("/api/trainer/rebuild").json()
    assert state["status"] == "failed" and "no published" in state["error"]


def test_build_progress_is_estimated_from_the_last_build_of_the_mode(factory):
    with session_scope(factory) as session:
        previous = kb_jobs.request_rebuild(session, "trainer1")
        assert kb_jobs.claim_job(session, previous.id, "w:1")
        kb_jobs.finish_job(
            session, previous.id, build="b1", entries=1, mode="full", how="full build", build_s=20
        )
        job = kb_jobs.request_rebuild(session, "trainer1")
        assert kb_jobs.claim_job(session, job.id, "w:1")
        kb_jobs.set_stage(session, job.id, "build", mode="full", now=utcnow() - timedelta(seconds=10))
    state = RebuildDesk(factory, Served("b1")).status()
    assert state["stage"] == "build" and state["estimated"] is True
    assert 55 <= state["progress"] <= 65  # half of the 20 s the last full build took: 30 + 0.5 * 60


class Served:
    """The gateway's KB view: serves ``build`` until reloaded; ``reload`` waits for ``gate``."""

    def __init__(self, build: str | None) -> None:
        self.build, self.reloads = build, 0
        self.gate = threading.Event()

    def current_build(self) -> str | None:
        return self.build

    def reload(self) -> bool:
        self.reloads += 1
        assert self.gate.wait(10)
        self.build = "new"
        return True


def finished_job(factory, build: str = "new") -> int:
    with session_scope(factory) as session:
        job = kb_jobs.request_rebuild(session, "trainer1")
        assert kb_jobs.claim_job(session, job.id, "w:1")
        kb_jobs.finish_job(session, job.id, build=build, entries=3, mode="full", how="full build", build_s=2)
        return job.id


def test_done_waits_until_this_gateway_serves_the_new_build(factory):
    finished_job(factory)
    served = Served("old")
    desk = RebuildDesk(factory, served)
    state = desk.status()
    assert (state["status"], state["stage"], state["progress"]) == ("running", "reload", 95)
    assert desk.status()["stage"] == "reload"  # still switching; one reload only
    served.gate.set()
    deadline = time.monotonic() + 10
    while desk.status()["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert desk.status()["status"] == "done" and served.reloads == 1


@pytest.mark.parametrize("serving", [None, "new"])
def test_no_switch_when_the_gateway_serves_nothing_yet_or_the_new_build(factory, serving):
    finished_job(factory)
    served = Served(serving)
    assert RebuildDesk(factory, served).status()["status"] == "done" and served.reloads == 0
