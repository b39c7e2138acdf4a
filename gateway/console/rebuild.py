"""The trainer console's "rebuild": queue a request for the KB worker and report its progress.

The console only asks: :meth:`RebuildDesk.start` stores a request in the CRM
(``crm.repo.kb_jobs``) and ``python -m worker`` carries it out, recording its stage. The view keeps
the stages the page shows: ``queued`` (waiting for the worker), ``export``, ``encoder``, ``build``
(progress estimated from the last build of the same mode), ``publish``, then ``reload`` until this
gateway serves the new build (:meth:`kbaccess.KBAccess.reload`; the action server picks it up on
its next question), and ``done``. One rebuild runs at a time: a request while one is queued or
running is refused with 409.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Protocol, TypedDict

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import KBRebuildJob
from crm.orm.base import utcnow
from crm.repo import kb_jobs
from gateway.console.errors import ConsoleError

logger = logging.getLogger(__name__)
STAGES = {"queued": 0, "export": 5, "encoder": 15, "build": 30, "publish": 90, "reload": 95, "done": 100}
DEFAULT_BUILD_S = {"full": 10.0, "incremental": 3.0}


class RebuildStatus(TypedDict, total=False):
    status: str  # idle | running | done | failed
    stage: str | None
    progress: int
    job: int
    started: float
    by: str
    error: str | None
    elapsed_s: float
    estimated: bool
    build: str | None
    entries: int | None
    mode: str | None
    how: str | None
    finished: float


class ServedIndex(Protocol):
    """What the desk needs of the gateway's KB view (:class:`kbaccess.KBAccess`)."""

    def current_build(self) -> str | None: ...

    def reload(self) -> object: ...


def _epoch(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def job_view(job: KBRebuildJob, expected_build_s: float | None) -> RebuildStatus:
    """The job as the page shows it (``expected_build_s``: the last build of the job's mode)."""
    active = job.status in kb_jobs.ACTIVE
    stage = job.stage if job.status != "queued" else "queued"
    view: RebuildStatus = {
        "status": "running" if active else job.status,
        "stage": stage,
        "progress": STAGES.get(stage or "", 0),
        "job": job.id,
        "started": (_epoch(job.started_at) or _epoch(job.requested_at) or 0.0),
        "by": job.requested_by,
        "error": job.error if job.status == "failed" else None,
    }
    if active:
        view["elapsed_s"] = round(time.time() - view["started"], 1)
    if job.status == "running" and stage == "build" and job.stage_at is not None:
        expected = expected_build_s or DEFAULT_BUILD_S.get(job.mode or "full", 10.0)
        share = min(0.95, (utcnow() - job.stage_at).total_seconds() / expected)
        view["progress"] = int(STAGES["build"] + max(share, 0.0) * (STAGES["publish"] - STAGES["build"]))
        view["estimated"] = True
    if job.status == "done":
        view["progress"] = 100
        view["build"], view["entries"], view["mode"], view["how"] = job.build, job.entries, job.mode, job.how
    if job.finished_at is not None:
        view["finished"] = job.finished_at.timestamp()
    return view


class RebuildDesk:
    """``factory`` queues requests; ``read_factory`` (read-only sessions, default ``factory``)
    serves the page's polling without taking SQLite's write lock."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        kb: ServedIndex,
        read_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self._factory, self._kb = factory, kb
        self._read_factory = read_factory or factory
        self._lock = threading.Lock()
        self._served: set[int] = set()  # finished jobs whose build this gateway has switched to
        self._reloading: set[int] = set()

    def start(self, username: str) -> RebuildStatus:
        with session_scope(self._factory) as session:
            if kb_jobs.active_job(session) is not None:
                raise ConsoleError(409, "running", "A rebuild is already running.")
            kb_jobs.request_rebuild(session, username)
        return self.status()

    def status(self) -> RebuildStatus:
        with session_scope(self._read_factory) as session:
            job = kb_jobs.job_to_show(session)
            if job is None:
                return {"status": "idle", "stage": None, "progress": 0}
            expected = (
                kb_jobs.last_build_seconds(session, job.mode)
                if job.status == "running" and job.stage == "build" and job.mode
                else None
            )
        view = job_view(job, expected)
        if job.status == "done" and job.build and self._switching(job.id, job.build):
            view["status"], view["stage"], view["progress"] = "running", "reload", STAGES["reload"]
        return view

    def _switching(self, job_id: int, build: str) -> bool:
        """Whether this gateway is still switching to a finished job's build (starts the switch
        the first time it sees the job; a gateway that has loaded no index yet loads the
        published one on first use anyway)."""
        with self._lock:
            if job_id in self._served:
                return False
            if job_id in self._reloading:
                return True
            serving = self._kb.current_build()
            if serving is None or serving == build:
                self._served.add(job_id)
                return False
            self._reloading.add(job_id)
        threading.Thread(target=self._reload, args=(job_id,), name="kb-reload", daemon=True).start()
        return True

    def _reload(self, job_id: int) -> None:
        try:
            self._kb.reload()
        except Exception:  # the previous build keeps serving; the page still reports the rebuild
            logger.exception("kb: switching the gateway to the new index failed")
        finally:
            with self._lock:
                self._reloading.discard(job_id)
                self._served.add(job_id)


def get_rebuilder(app: FastAPI) -> RebuildDesk:
    desk: RebuildDesk | None = getattr(app.state, "console_rebuilder", None)
    if desk is None:
        from crm.db import make_session_factory
        from gateway.console.kbsearch import get_kb

        factory: sessionmaker[Session] = app.state.session_factory
        read_factory = make_session_factory(factory.kw["bind"], read_only=True)
        desk = app.state.console_rebuilder = RebuildDesk(factory, get_kb(app), read_factory)
    return desk
