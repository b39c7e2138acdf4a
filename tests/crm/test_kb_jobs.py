"""KB rebuild requests (crm/repo/kb_jobs.py) on SQLite and PostgreSQL: one running job at most,
conditional state changes, recovery of a job whose worker is gone."""

from __future__ import annotations

from crm.db import session_scope
from crm.repo import kb_jobs


def test_one_job_runs_at_a_time_and_changes_are_conditional(session_factory):
    with session_scope(session_factory) as s:
        first, second = kb_jobs.request_rebuild(s, "t1").id, kb_jobs.request_rebuild(s, "t2").id
    with session_scope(session_factory) as s:
        assert kb_jobs.next_queued(s) == first
        assert kb_jobs.claim_job(s, first, "host:1")
        assert not kb_jobs.claim_job(s, first, "host:2")  # no longer queued
        assert not kb_jobs.claim_job(s, second, "host:2")  # the partial unique index refuses it
        assert kb_jobs.active_job(s).id == first
    with session_scope(session_factory) as s:
        assert kb_jobs.get_job(s, second).status == "queued"
        assert kb_jobs.set_stage(s, first, "build", mode="full")
        assert not kb_jobs.heartbeat(s, first, "host:2")  # not that worker's job
        assert kb_jobs.heartbeat(s, first, "host:1")
        assert kb_jobs.finish_job(
            s, first, build="b1", entries=3, mode="full", how="full build", build_s=12.5
        )
        assert not kb_jobs.fail_job(s, first, "too late")  # finished already
        assert kb_jobs.claim_job(s, second, "host:2")
    with session_scope(session_factory) as s:
        assert (
            kb_jobs.last_build_seconds(s, "full") == 12.5
            and kb_jobs.last_build_seconds(s, "incremental") is None
        )
        assert kb_jobs.job_to_show(s).id == second


def test_a_lost_job_is_queued_once_then_failed(session_factory):
    with session_scope(session_factory) as s:
        job_id = kb_jobs.request_rebuild(s, "t1").id
        assert kb_jobs.claim_job(s, job_id, "host:1")
    with session_scope(session_factory) as s:
        (job,) = kb_jobs.running_jobs(s)
        assert kb_jobs.recover_abandoned(s, job, max_attempts=2) == "queued"
    with session_scope(session_factory) as s:
        assert kb_jobs.claim_job(s, job_id, "host:2")
    with session_scope(session_factory) as s:
        (job,) = kb_jobs.running_jobs(s)
        assert kb_jobs.recover_abandoned(s, job, max_attempts=2) == "failed"
        assert kb_jobs.recover_abandoned(s, job, max_attempts=2) is None  # moved on meanwhile
    with session_scope(session_factory) as s:
        failed = kb_jobs.get_job(s, job_id)
        assert failed.status == "failed" and "(2 attempts)" in failed.error
        assert kb_jobs.active_job(s) is None and kb_jobs.job_to_show(s).id == job_id
