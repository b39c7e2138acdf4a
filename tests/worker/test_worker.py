"""The KB worker: requests from the CRM run one at a time, with stages, results and recovery."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from crm.db import session_scope
from crm.models import AuditLog, KBRebuildJob
from crm.orm.base import utcnow
from crm.repo import kb_jobs
from tests.worker.conftest import wait_until
from worker.loop import KBWorker, Liveness, Shutdown, WorkerConfig


def request(factory, by: str = "trainer1") -> int:
    with session_scope(factory) as session:
        return kb_jobs.request_rebuild(session, by).id


def job(factory, job_id: int) -> KBRebuildJob:
    with session_scope(factory) as session:
        found = kb_jobs.get_job(session, job_id)
        assert found is not None
        return found


def make_worker(settings, factory, **kw) -> KBWorker:
    return KBWorker(factory, settings.kb_encoder, settings.kb_index_root, **kw)


def test_a_request_is_built_published_and_recorded(settings, factory, seeded_kb, fake_builds):
    stages = []
    job_id = request(factory)
    worker = make_worker(settings, factory)
    real_stage = worker._stage
    worker._stage = lambda j, stage, mode: (
        stages.append((stage, job(factory, j).status)),
        real_stage(j, stage, mode),
    )
    assert worker.run_once() == job_id
    done = job(factory, job_id)
    assert (done.status, done.stage, done.mode, done.entries, done.attempts) == ("done", "done", "full", 1, 1)
    assert done.build == "full-1" and done.how == "full build" and done.build_s >= 1.0 and done.error is None
    assert [s for s, _ in stages] == ["encoder", "build", "publish"]
    assert (settings.kb_index_root / "CURRENT").read_text() == "builds/full-1\n"
    assert fake_builds.entries == [["returns-policy"]]
    with session_scope(factory) as session:
        audit = session.query(AuditLog).filter_by(action="kb.rebuilt").one()
        assert (audit.actor, audit.target, audit.details["mode"]) == ("trainer1", "index:full-1", "full")
    assert worker.run_once() is None  # nothing left


@pytest.mark.parametrize("update_fails", [False, True])
def test_a_published_index_is_updated_incrementally(settings, factory, seeded_kb, fake_builds, update_fails):
    root = settings.kb_index_root
    (root / "builds" / "old").mkdir(parents=True)
    (root / "CURRENT").write_text("builds/old\n")
    fake_builds.fail_update = update_fails
    job_id = request(factory)
    make_worker(settings, factory).run_once()
    done = job(factory, job_id)
    assert done.status == "done"
    if update_fails:
        assert fake_builds.calls == ["incremental", "full"] and (done.mode, done.build) == ("full", "full-2")
    else:
        assert fake_builds.calls == ["incremental"] and done.mode == "incremental" and "1 encoded" in done.how


def test_a_failed_build_is_recorded_and_the_worker_goes_on(settings, factory, fake_builds):
    first = request(factory)  # the CRM holds no entries: the export fails
    worker = make_worker(settings, factory)
    assert worker.run_once() == first
    failed = job(factory, first)
    assert failed.status == "failed" and "no published" in failed.error and failed.finished_at is not None
    assert fake_builds.calls == [] and not (settings.kb_index_root / "CURRENT").exists()
    second = request(factory)
    assert worker.run_once() == second  # the loop is not stuck on the failure


def test_a_second_request_waits_while_one_runs(settings, factory, seeded_kb, fake_builds):
    fake_builds.gate = threading.Event()
    first, second = request(factory, "trainer1"), request(factory, "trainer2")
    one = make_worker(settings, factory, identity="host-a:1")
    runner = threading.Thread(target=one.run_once)
    runner.start()
    try:
        assert fake_builds.started.wait(10)
        assert job(factory, first).status == "running" and job(factory, first).stage == "build"
        other = make_worker(settings, factory, identity="host-b:2")  # a second worker process
        assert other.run_once() is None
        with session_scope(factory) as session:
            assert not kb_jobs.claim_job(session, second, "host-b:2")  # one running row at most
        assert job(factory, second).status == "queued"
    finally:
        fake_builds.gate.set()
        runner.join(10)
    assert job(factory, first).status == "done" and job(factory, second).status == "queued"
    assert one.run_once() == second and job(factory, second).status == "done"
    assert fake_builds.calls == ["full", "incremental"]


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def claim_as(factory, job_id: int, worker: str, beat_age_s: float = 0.0) -> None:
    with session_scope(factory) as session:
        assert kb_jobs.claim_job(session, job_id, worker)
        kb_jobs.set_stage(session, job_id, "build", mode="full", now=utcnow() - timedelta(seconds=beat_age_s))


def test_a_job_left_running_by_a_killed_worker_is_retried_then_failed(
    settings, factory, seeded_kb, fake_builds
):
    worker = make_worker(settings, factory)
    job_id = request(factory)
    claim_as(factory, job_id, f"{worker.host}:{dead_pid()}")
    assert worker.recover() == [(job_id, "queued")]
    retried = job(factory, job_id)
    assert retried.status == "queued" and "worker stopped during the build stage" in retried.error
    claim_as(factory, job_id, f"{worker.host}:{dead_pid()}")  # killed again on its second attempt
    assert worker.run_once() is None
    failed = job(factory, job_id)
    assert failed.status == "failed" and failed.attempts == 2 and failed.finished_at is not None
    assert "worker stopped during the build stage (2 attempts)" in failed.error
    assert "request a new rebuild" in failed.error and fake_builds.calls == []


def test_a_restarted_worker_with_the_same_pid_recovers_its_own_job(settings, factory, seeded_kb, fake_builds):
    worker = make_worker(settings, factory)  # a container restarts its worker as pid 1 again
    job_id = request(factory)
    claim_as(factory, job_id, worker.identity)
    assert worker.run_once() == job_id  # requeued, then run
    assert job(factory, job_id).status == "done" and job(factory, job_id).attempts == 2


def test_another_hosts_job_is_left_alone_until_its_heartbeat_is_stale(settings, factory, seeded_kb):
    worker = make_worker(settings, factory, config=WorkerConfig(stale_s=60))
    job_id = request(factory)
    claim_as(factory, job_id, "elsewhere:4242", beat_age_s=5)
    assert worker.recover() == [] and job(factory, job_id).status == "running"
    with session_scope(factory) as session:
        kb_jobs.heartbeat(session, job_id, "elsewhere:4242", now=utcnow() - timedelta(seconds=120))
    assert worker.recover() == [(job_id, "queued")]


def test_the_heartbeat_keeps_a_long_job_alive(settings, factory, seeded_kb, fake_builds):
    fake_builds.gate = threading.Event()
    job_id = request(factory)
    worker = make_worker(settings, factory, config=WorkerConfig(heartbeat_s=0.05))
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    try:
        assert fake_builds.started.wait(10)
        first = job(factory, job_id).heartbeat_at
        wait_until(lambda: job(factory, job_id).heartbeat_at > first)
        assert worker.liveness.job == job_id
    finally:
        fake_builds.gate.set()
        runner.join(10)
    assert job(factory, job_id).status == "done" and worker.liveness.job is None


def test_a_shutdown_during_a_job_puts_it_back_in_the_queue(settings, factory, seeded_kb, monkeypatch):
    import kb.encoder

    def interrupted(name):
        raise Shutdown("SIGTERM")

    monkeypatch.setattr(kb.encoder, "load_encoder", interrupted)
    job_id = request(factory)
    with pytest.raises(Shutdown):
        make_worker(settings, factory).run_once()
    back = job(factory, job_id)
    assert (back.status, back.stage, back.worker, back.attempts) == ("queued", None, None, 0)


def test_the_health_endpoint_follows_the_loops_contact_with_the_crm():
    from tests.e2e.stack import free_port
    from worker.health import serve_health

    liveness, port = Liveness(), free_port()
    server = serve_health("127.0.0.1", port, liveness, max_age_s=0.3)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            assert reply.status == 200 and json.loads(reply.read())["ok"] is True
        wait_until(lambda: liveness.age_s() > 0.3)
        with pytest.raises(urllib.error.HTTPError) as stale:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert stale.value.code == 503
        liveness.beat()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            assert reply.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_run_forever_stops_when_told(settings, factory, seeded_kb, fake_builds):
    stop = threading.Event()
    worker = make_worker(settings, factory, config=WorkerConfig(poll_s=0.02))
    loop = threading.Thread(target=worker.run_forever, args=(stop,))
    loop.start()
    job_id = request(factory)
    wait_until(lambda: job(factory, job_id).status == "done")
    stop.set()
    loop.join(5)
    assert not loop.is_alive()
