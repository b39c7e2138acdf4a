"""Requests to rebuild the KB index, carried out one at a time by the KB worker (``worker/``).

Life of a row (``KBRebuildJob.status``)::

    queued ──claim──► running ──► done
       ▲                 │  └───► failed
       └──worker lost────┘ (retried once, then failed)

At most one row is ``running``: the partial unique index ``uq_kb_rebuild_jobs_running`` turns a
second concurrent claim into an integrity error, whichever worker process tries it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.orm.base import Base, one_of, utcnow

KB_JOB_STATUSES = ("queued", "running", "done", "failed")
RUNNING_ONLY = text("status = 'running'")


class KBRebuildJob(Base):
    """``stage``: the step running now (``export`` ``encoder`` ``build`` ``publish``), ``done`` at
    the end; ``heartbeat_at`` is renewed by the worker while it runs the job, so a job whose worker
    died is recognised; ``build_s`` (seconds the build step took) lets readers estimate the next
    build's progress."""

    __tablename__ = "kb_rebuild_jobs"
    __table_args__ = (
        one_of("status", KB_JOB_STATUSES),
        Index("ix_kb_rebuild_jobs_status", "status", "id"),
        Index(
            "uq_kb_rebuild_jobs_running",
            "status",
            unique=True,
            sqlite_where=RUNNING_ONLY,
            postgresql_where=RUNNING_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    stage: Mapped[str | None] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    stage_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str | None] = mapped_column(String(12))
    build: Mapped[str | None] = mapped_column(String(200))
    entries: Mapped[int | None]
    how: Mapped[str | None] = mapped_column(Text)
    build_s: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
