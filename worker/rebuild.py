"""One KB rebuild: export the CRM's published entries, build the index, publish it.

Stages (recorded on the job by the caller's ``on_stage``): ``export`` (CRM -> KnowledgeBase),
``encoder`` (load the sentence encoder), ``build`` (when an index is published, an incremental
update that encodes only new or changed questions and refits only their classifier classes, see
:mod:`kb.incremental`; otherwise, or if the update fails, a full build, which also fine-tunes the
English encoder), ``publish`` (``CURRENT`` now names the new build; the audit log records it).
The gateway and the action server pick the new build up on their own (:mod:`kbaccess`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.repo.admin import audit
from kb.faq import KnowledgeBase
from worker.kbsync import crm_knowledge_base

logger = logging.getLogger(__name__)

OnStage = Callable[[str, "str | None"], None]  # (stage, build mode or None)


@dataclass(frozen=True)
class RebuildResult:
    build: str
    entries: int
    mode: str  # "full" | "incremental"
    how: str  # one line on how the build was made
    build_s: float  # seconds the build stage took


def _load_encoder(name: str) -> None:
    from kb import encoder as kb_encoder

    load: Callable[[str], object] = kb_encoder.load_encoder
    load(name)


def build_and_publish_kb(kb: KnowledgeBase, encoder: str, root: Path) -> tuple[Path, str, str]:
    """Build and publish ``kb``: (build directory, mode, one-line description)."""
    from kb import incremental, index

    if index.current_index_dir(root) is not None:
        try:
            build: Path = incremental.update_and_publish(kb, encoder, root)
            how = incremental.describe(build)
            return build, ("incremental" if how.startswith("incremental") else "full"), how
        except Exception:  # the full build below is the safe path
            logger.exception("kb incremental update failed; doing a full rebuild")
    return index.build_and_publish(kb, encoder, root), "full", "full build"


def rebuild(
    factory: sessionmaker[Session], encoder: str, root: Path, requested_by: str, on_stage: OnStage
) -> RebuildResult:
    """Run every stage; raises on failure (the published index is then unchanged)."""
    from kb import index

    kb = crm_knowledge_base(factory)
    on_stage("encoder", None)
    _load_encoder(encoder)
    on_stage("build", "incremental" if index.current_index_dir(root) is not None else "full")
    started = time.monotonic()
    build, mode, how = build_and_publish_kb(kb, encoder, root)
    build_s = max(1.0, time.monotonic() - started)
    on_stage("publish", mode)
    with session_scope(factory) as session:
        audit(
            session,
            actor=requested_by,
            action="kb.rebuilt",
            target=f"index:{build.name}",
            details={"entries": len(kb.entries), "mode": mode, "how": how},
        )
    return RebuildResult(build.name, len(kb.entries), mode, how, round(build_s, 2))
