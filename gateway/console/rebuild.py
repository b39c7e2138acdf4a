"""Rebuild and publish the KB index from the CRM in a background thread, with progress.

Stages: ``export`` (CRM -> KnowledgeBase), ``encoder`` (load the sentence encoder), ``build``
(when an index is published, an incremental update that encodes only new or changed questions and
refits only their classifier classes, see :mod:`kb.incremental`; otherwise, or if the update fails, a
full build; its progress is estimated from the previous build of the same mode), ``publish`` (swap
``CURRENT``), ``reload`` (the gateway loads the new index, as the action server does on its next
question). One rebuild runs at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.repo.admin import audit
from gateway.console.errors import ConsoleError
from gateway.console.kbsync import crm_knowledge_base

logger = logging.getLogger(__name__)
STAGES = {"export": 5, "encoder": 15, "build": 30, "publish": 90, "reload": 95, "done": 100}
DEFAULT_BUILD_S = {"full": 10.0, "incremental": 3.0}


class Rebuilder:
    def __init__(
        self, factory: sessionmaker[Session], settings: Any, on_published: Callable[[], None] | None = None
    ) -> None:
        self._factory, self._settings, self._on_published = factory, settings, on_published
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"status": "idle", "stage": None, "progress": 0}
        self._build_s = dict(DEFAULT_BUILD_S)
        self._mode = "full"
        self._stage_started = 0.0

    def status(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self._state)
        if state["status"] == "running" and state["stage"] == "build":
            share = min(0.95, (time.monotonic() - self._stage_started) / self._build_s[self._mode])
            state["progress"] = int(STAGES["build"] + share * (STAGES["publish"] - STAGES["build"]))
            state["estimated"] = True
        if state.get("started") and state["status"] == "running":
            state["elapsed_s"] = round(time.time() - state["started"], 1)
        return state

    def start(self, username: str) -> dict[str, Any]:
        with self._lock:
            if self._state["status"] == "running":
                raise ConsoleError(409, "running", "A rebuild is already running.")
            self._state = {
                "status": "running",
                "stage": "export",
                "progress": STAGES["export"],
                "started": time.time(),
                "by": username,
                "error": None,
            }
        threading.Thread(target=self._run, args=(username,), name="kb-rebuild", daemon=True).start()
        return self.status()

    def _stage(self, stage: str) -> None:
        with self._lock:
            self._state.update(stage=stage, progress=STAGES[stage])
            self._stage_started = time.monotonic()

    def _publish(self, kb: Any) -> tuple[Any, str, str]:
        """Build and publish ``kb``: (build directory, mode, one-line description)."""
        from kb.index import build_and_publish, current_index_dir

        encoder, root = self._settings.kb_encoder, self._settings.kb_index_root
        if current_index_dir(root) is not None:
            from kb.incremental import describe, update_and_publish

            try:
                build = update_and_publish(kb, encoder, root)
                how = describe(build)
                return build, ("incremental" if how.startswith("incremental") else "full"), how
            except Exception:  # the full build below is the safe path
                logger.exception("kb incremental update failed; doing a full rebuild")
        return build_and_publish(kb, encoder, root), "full", "full build"

    def _run(self, username: str) -> None:
        from kb.encoder import load_encoder
        from kb.index import current_index_dir

        try:
            kb = crm_knowledge_base(self._factory)
            self._stage("encoder")
            load_encoder(self._settings.kb_encoder)
            self._mode = (
                "incremental" if current_index_dir(self._settings.kb_index_root) is not None else "full"
            )
            self._stage("build")
            started = time.monotonic()
            build, mode, how = self._publish(kb)
            self._build_s[mode] = max(1.0, time.monotonic() - started)
            self._stage("publish")
            with session_scope(self._factory) as session:
                audit(
                    session,
                    actor=username,
                    action="kb.rebuilt",
                    target=f"index:{build.name}",
                    details={"entries": len(kb.entries), "mode": mode, "how": how},
                )
            self._stage("reload")
            if self._on_published is not None:
                self._on_published()
            with self._lock:
                self._state.update(
                    status="done",
                    stage="done",
                    progress=100,
                    build=build.name,
                    entries=len(kb.entries),
                    mode=mode,
                    how=how,
                    finished=time.time(),
                )
        except Exception as exc:  # reported to the page; the published index is unchanged
            logger.exception("kb rebuild failed")
            with self._lock:
                self._state.update(
                    status="failed", error=" ".join(str(exc).split())[:300], finished=time.time()
                )


def get_rebuilder(app: Any) -> Rebuilder:
    rebuilder = getattr(app.state, "console_rebuilder", None)
    if rebuilder is None:
        from gateway.console.kbsearch import get_kb

        kb = get_kb(app)
        rebuilder = app.state.console_rebuilder = Rebuilder(
            app.state.session_factory, app.state.settings, on_published=kb.reload
        )
    return rebuilder
