"""The KB worker's loop: take queued rebuild requests from the CRM and run them one at a time.

Each job is claimed with a conditional UPDATE (``crm.repo.kb_jobs.claim_job``), its stage is
committed as it moves (the trainer console polls it), and a heartbeat thread renews
``heartbeat_at`` while it runs. A job left ``running`` by a worker that died (killed, machine
restarted) is recognised at the next poll, by any worker: on the same host when the recorded
process is gone, elsewhere when its heartbeat is older than ``stale_s``. It is queued again once
(``max_attempts``), then failed with a clear error, never left running. A worker told to stop
(SIGTERM) in the middle of a job puts the job back in the queue, attempt not counted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import KBRebuildJob
from crm.orm.base import utcnow
from crm.repo import kb_jobs
from worker.rebuild import RebuildResult, rebuild

logger = logging.getLogger(__name__)


class Shutdown(BaseException):
    """Raised in the main thread by the stop signal while a job runs (not an ``Exception``, so no
    stage's error handling swallows it)."""


@dataclass(frozen=True)
class WorkerConfig:
    poll_s: float = 1.0
    heartbeat_s: float = 5.0
    stale_s: float = 60.0
    max_attempts: int = 2


class Liveness:
    """When the worker last reached the CRM (a poll or a heartbeat); read by the health check."""

    def __init__(self) -> None:
        self._at = time.monotonic()
        self._lock = threading.Lock()
        self.job: int | None = None

    def beat(self) -> None:
        with self._lock:
            self._at = time.monotonic()

    def age_s(self) -> float:
        with self._lock:
            return time.monotonic() - self._at


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class KBWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        encoder: str,
        index_root: Path,
        *,
        config: WorkerConfig | None = None,
        identity: str | None = None,
        liveness: Liveness | None = None,
    ) -> None:
        self.factory, self.encoder, self.index_root = factory, encoder, index_root
        self.config = config or WorkerConfig()
        self.host = socket.gethostname()
        self.identity = identity or f"{self.host}:{os.getpid()}"
        self.liveness = liveness or Liveness()
        self.busy = False

    # ------------------------------------------------------------------ recovery
    def abandoned(self, job: KBRebuildJob) -> bool:
        """Whether ``job`` (running) lost its worker."""
        host, _, pid = (job.worker or "").rpartition(":")
        if host == self.host and pid.isdigit():
            if job.worker == self.identity or not process_alive(int(pid)):
                return True
        beat = job.heartbeat_at or job.started_at
        return beat is None or utcnow() - beat > timedelta(seconds=self.config.stale_s)

    def recover(self) -> list[tuple[int, str]]:
        """Requeue or fail the running jobs whose worker is gone: [(job id, new status)]."""
        done = []
        with session_scope(self.factory) as session:
            for job in kb_jobs.running_jobs(session):
                if not self.abandoned(job):
                    continue
                status = kb_jobs.recover_abandoned(session, job, self.config.max_attempts)
                if status is not None:
                    logger.warning("kb rebuild job %s lost its worker %s: now %s", job.id, job.worker, status)
                    done.append((job.id, status))
        return done

    # ------------------------------------------------------------------ the loop
    def run_once(self) -> int | None:
        """Recover abandoned jobs, then run the oldest queued one if none runs: its id, or None."""
        self.recover()
        with session_scope(self.factory) as session:
            job_id = kb_jobs.next_queued(session)
            claimed = job_id is not None and kb_jobs.claim_job(session, job_id, self.identity)
        self.liveness.beat()
        if job_id is None or not claimed:
            return None
        self.run_job(job_id)
        return job_id

    def run_forever(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                ran = self.run_once()
                failures = 0
            except Exception:  # CRM unreachable and the like: retry with backoff, health turns red
                failures += 1
                logger.exception("kb worker: poll failed (%d in a row)", failures)
                ran = None
                stop.wait(min(2.0**failures, 30.0))
                continue
            if ran is None:
                stop.wait(self.config.poll_s)

    # ------------------------------------------------------------------ one job
    def run_job(self, job_id: int) -> None:
        """Run a claimed job to ``done`` or ``failed`` (``queued`` again on :class:`Shutdown`)."""
        with session_scope(self.factory) as session:
            job = kb_jobs.get_job(session, job_id)
            requested_by = job.requested_by if job is not None else "worker"
        self.busy, self.liveness.job = True, job_id
        stop_beating = threading.Event()
        beater = threading.Thread(
            target=self._heartbeat, args=(job_id, stop_beating), name="kb-job-heartbeat", daemon=True
        )
        beater.start()
        logger.info("kb rebuild job %s (by %s): started", job_id, requested_by)
        try:
            result = rebuild(
                self.factory,
                self.encoder,
                self.index_root,
                requested_by,
                lambda stage, mode: self._stage(job_id, stage, mode),
            )
        except Shutdown:
            self._finish(lambda s: kb_jobs.release_job(s, job_id))
            logger.warning("kb rebuild job %s: stopped by a shutdown, queued again", job_id)
            raise
        except Exception as exc:  # reported on the job; the published index is unchanged
            logger.exception("kb rebuild job %s failed", job_id)
            error = str(exc) or type(exc).__name__
            self._finish(lambda s: kb_jobs.fail_job(s, job_id, error))
        else:
            self._finish(lambda s: self._done(s, job_id, result))
            logger.info("kb rebuild job %s: published %s (%s)", job_id, result.build, result.how)
        finally:
            stop_beating.set()
            beater.join(timeout=self.config.heartbeat_s + 5)
            self.busy, self.liveness.job = False, None

    @staticmethod
    def _done(session: Session, job_id: int, result: RebuildResult) -> bool:
        return kb_jobs.finish_job(
            session,
            job_id,
            build=result.build,
            entries=result.entries,
            mode=result.mode,
            how=result.how,
            build_s=result.build_s,
        )

    def _finish(self, change: Callable[[Session], bool]) -> None:
        with session_scope(self.factory) as session:
            if not change(session):
                logger.warning("kb rebuild job: no longer ours when finishing (taken back as abandoned)")

    def _stage(self, job_id: int, stage: str, mode: str | None) -> None:
        with session_scope(self.factory) as session:
            kb_jobs.set_stage(session, job_id, stage, mode=mode)
        self.liveness.beat()

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(self.config.heartbeat_s):
            try:
                with session_scope(self.factory) as session:
                    kb_jobs.heartbeat(session, job_id, self.identity)
                self.liveness.beat()
            except Exception:  # the next beat retries; a long outage makes the job look abandoned
                logger.exception("kb rebuild job %s: heartbeat failed", job_id)
