"""KB rebuild requests (table ``kb_rebuild_jobs``): the console enqueues, the KB worker claims.

Functions take a Session and never commit; the worker commits after each step so the console
sees the stage move and no transaction stays open during a build. Every state change is one
conditional UPDATE on the expected status, so a job lost to another process (or taken back as
abandoned) is never overwritten: the functions then return False.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.models import KBRebuildJob
from crm.orm.base import utcnow

STAGES = ("export", "encoder", "build", "publish", "done")
ACTIVE = ("queued", "running")
MAX_ERROR_CHARS = 300


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_ERROR_CHARS]


def _rows_changed(session: Session, stmt: Update) -> int:
    """Run one UPDATE; how many rows it changed."""
    result = session.execute(stmt.execution_options(synchronize_session=False))
    return result.rowcount if isinstance(result, CursorResult) else 0


def request_rebuild(session: Session, requested_by: str, now: datetime | None = None) -> KBRebuildJob:
    """Queue a rebuild; the worker runs queued jobs one at a time, oldest first."""
    job = KBRebuildJob(status="queued", requested_by=requested_by, requested_at=_now(now), attempts=0)
    session.add(job)
    session.flush()
    return job


def active_job(session: Session) -> KBRebuildJob | None:
    """The running job, else the oldest queued one (None when nothing is waiting)."""
    running = session.scalars(select(KBRebuildJob).where(KBRebuildJob.status == "running")).first()
    if running is not None:
        return running
    return session.scalars(
        select(KBRebuildJob).where(KBRebuildJob.status == "queued").order_by(KBRebuildJob.id).limit(1)
    ).first()


def job_to_show(session: Session) -> KBRebuildJob | None:
    """What the trainer console shows: the active job, else the last one that finished."""
    return (
        active_job(session)
        or session.scalars(select(KBRebuildJob).order_by(KBRebuildJob.id.desc()).limit(1)).first()
    )


def get_job(session: Session, job_id: int) -> KBRebuildJob | None:
    return session.get(KBRebuildJob, job_id)


def next_queued(session: Session) -> int | None:
    """The oldest queued job's id (served by ``ix_kb_rebuild_jobs_status``)."""
    return session.scalars(
        select(KBRebuildJob.id).where(KBRebuildJob.status == "queued").order_by(KBRebuildJob.id).limit(1)
    ).first()


def claim_job(session: Session, job_id: int, worker: str, now: datetime | None = None) -> bool:
    """Start a queued job (``running``, stage ``export``). False when it is no longer queued or
    another job runs (the partial unique index refuses a second ``running`` row)."""
    now = _now(now)
    try:
        with session.begin_nested():
            changed = _rows_changed(
                session,
                update(KBRebuildJob)
                .where(KBRebuildJob.id == job_id, KBRebuildJob.status == "queued")
                .values(
                    status="running",
                    stage=STAGES[0],
                    started_at=now,
                    stage_at=now,
                    heartbeat_at=now,
                    attempts=KBRebuildJob.attempts + 1,
                    worker=worker[:100],
                    error=None,
                ),
            )
    except IntegrityError:
        return False
    return changed == 1


def _update_running(session: Session, job_id: int, **values: Any) -> bool:
    changed = _rows_changed(
        session,
        update(KBRebuildJob)
        .where(KBRebuildJob.id == job_id, KBRebuildJob.status == "running")
        .values(**values),
    )
    return changed == 1


def set_stage(
    session: Session, job_id: int, stage: str, *, mode: str | None = None, now: datetime | None = None
) -> bool:
    if stage not in STAGES:
        raise ValueError(f"unknown rebuild stage {stage!r}")
    now = _now(now)
    values: dict[str, Any] = {"stage": stage, "stage_at": now, "heartbeat_at": now}
    if mode is not None:
        values["mode"] = mode
    return _update_running(session, job_id, **values)


def heartbeat(session: Session, job_id: int, worker: str, now: datetime | None = None) -> bool:
    """Renew the job's heartbeat; False when the job is no longer this worker's."""
    changed = _rows_changed(
        session,
        update(KBRebuildJob)
        .where(KBRebuildJob.id == job_id, KBRebuildJob.status == "running", KBRebuildJob.worker == worker)
        .values(heartbeat_at=_now(now)),
    )
    return changed == 1


def finish_job(
    session: Session,
    job_id: int,
    *,
    build: str,
    entries: int,
    mode: str,
    how: str,
    build_s: float,
    now: datetime | None = None,
) -> bool:
    now = _now(now)
    return _update_running(
        session,
        job_id,
        status="done",
        stage="done",
        stage_at=now,
        finished_at=now,
        build=build,
        entries=entries,
        mode=mode,
        how=how,
        build_s=build_s,
    )


def fail_job(session: Session, job_id: int, error: str, now: datetime | None = None) -> bool:
    """The rebuild failed; the published index is unchanged."""
    return _update_running(session, job_id, status="failed", error=_one_line(error), finished_at=_now(now))


def release_job(session: Session, job_id: int) -> bool:
    """Put a job the worker stopped on purpose (shutdown) back in the queue, attempt not counted."""
    return _update_running(
        session,
        job_id,
        status="queued",
        stage=None,
        stage_at=None,
        heartbeat_at=None,
        worker=None,
        attempts=KBRebuildJob.attempts - 1,
    )


def running_jobs(session: Session) -> list[KBRebuildJob]:
    return list(session.scalars(select(KBRebuildJob).where(KBRebuildJob.status == "running")))


def recover_abandoned(
    session: Session, job: KBRebuildJob, max_attempts: int, now: datetime | None = None
) -> str | None:
    """A running job whose worker is gone: back to ``queued`` while it has attempts left, else
    ``failed`` with a clear error. Returns the new status (None when the job moved on meanwhile)."""
    where = f"the worker stopped during the {job.stage or 'export'} stage"
    if job.attempts < max_attempts:
        values: dict[str, Any] = {
            "status": "queued",
            "stage": None,
            "stage_at": None,
            "heartbeat_at": None,
            "worker": None,
            "error": _one_line(f"{where}; retrying"),
        }
    else:
        values = {
            "status": "failed",
            "finished_at": _now(now),
            "error": _one_line(
                f"{where} ({job.attempts} attempts); the published index is unchanged, request a new rebuild"
            ),
        }
    changed = _rows_changed(
        session,
        update(KBRebuildJob)
        .where(
            KBRebuildJob.id == job.id,
            KBRebuildJob.status == "running",
            KBRebuildJob.heartbeat_at == job.heartbeat_at,
        )
        .values(**values),
    )
    return str(values["status"]) if changed == 1 else None


def last_build_seconds(session: Session, mode: str) -> float | None:
    """How long the last successful build of ``mode`` took (to estimate a running one)."""
    return session.scalars(
        select(KBRebuildJob.build_s)
        .where(KBRebuildJob.status == "done", KBRebuildJob.mode == mode, KBRebuildJob.build_s.is_not(None))
        .order_by(KBRebuildJob.id.desc())
        .limit(1)
    ).first()
