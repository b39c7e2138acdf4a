""":class:`KBAccess`: lazy, thread-safe, hot-reloading access to the published KB index.

One instance per process and index root. The encoder and the index load on first use (or on
:meth:`KBAccess.warm`); afterwards ``kb.search.KBService`` re-reads ``<root>/CURRENT`` at most
once per ``check_interval`` and swaps in a newly published build (a build that fails to load
keeps the previous one serving). :meth:`KBAccess.reload` waits until the published build is
the one served, for callers that must not answer from the old index (the trainer console's
"rebuild" reports "live" only then).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt

from kb.index import current_index_dir
from kb.search import Hit, KBService, SearchResult

logger = logging.getLogger(__name__)

THRESHOLD_KEYS = ("min_score", "answer_score", "margin")
MAX_CACHED_VECTORS = 5000
RELOAD_TIMEOUT_S = 180.0

Vectors = npt.NDArray[np.float32]
Embedder = Callable[[list[str]], Vectors]


class HitView(TypedDict):
    entry_id: str
    score: float
    question: str
    answer: str
    category: str


class SearchReport(TypedDict):
    """A search as the consoles show it: the decision, the hits, the thresholds that decided and
    the build that answered."""

    decision: str
    language: str
    notice: str | None
    hits: list[HitView]
    thresholds: dict[str, float]
    index: str | None


class KBAccess:
    def __init__(self, index_root: str | Path, encoder_name: str, check_interval: float = 1.0) -> None:
        self.index_root = Path(index_root)
        self.encoder_name = encoder_name
        self.check_interval = check_interval
        self._service: KBService | None = None
        self._lock = threading.Lock()
        self._vectors: dict[str, Vectors] = {}
        self._vectors_build: str | None = None

    def service(self) -> KBService:
        """The underlying ``KBService``, created on first use (the index loads on first search)."""
        service = self._service
        if service is None:
            with self._lock:
                service = self._service
                if service is None:
                    service = self._service = KBService(
                        self.index_root, encoder_name=self.encoder_name, check_interval=self.check_interval
                    )
        return service

    def warm(self) -> None:
        """Load the encoder and the index in the background (a console page was opened)."""
        threading.Thread(target=lambda: self.service().searcher(), name="kb-warm", daemon=True).start()

    def published_build(self) -> str | None:
        """The build ``CURRENT`` names now (None before the first publish)."""
        current = current_index_dir(self.index_root)
        return current.name if current is not None else None

    def current_build(self) -> str | None:
        """The build this process serves (None while nothing is loaded; never loads)."""
        service = self._service
        current = service.current_dir if service is not None else None
        return current.name if current is not None else None

    def reload(self, timeout_s: float = RELOAD_TIMEOUT_S) -> bool:
        """Serve the published build now: True once it is the loaded one, False when it could not
        be loaded within ``timeout_s`` (the previous build keeps serving)."""
        service = self.service()
        target = current_index_dir(self.index_root)
        deadline = time.monotonic() + timeout_s
        while True:
            service.searcher()
            if target is None or service.current_dir == target:
                return True
            if time.monotonic() >= deadline:
                logger.error("kb: %s was published but not loaded within %.0f s", target, timeout_s)
                return False
            time.sleep(min(self.check_interval, 0.25) + 0.05)

    def lookup(self, entry_id: str, language: str | None = None) -> Hit | None:
        """The entry a clarification button names, in ``language`` (None when the index lacks it)."""
        return self.service().lookup(entry_id, language)

    def search(self, text: str, language: str | None = None, k: int = 5) -> SearchResult:
        """Search the served index (``fallback`` with a notice while no index is published)."""
        return self.service().search(text, language, k)

    def report(self, text: str, language: str | None = None, k: int = 5) -> SearchReport:
        """:meth:`search` with the thresholds and the build that decided, for the consoles."""
        service = self.service()
        result = service.search(text, language, k)
        searcher = service.searcher()
        config = searcher.config if searcher is not None else {}
        current = service.current_dir
        return {
            "decision": result.decision,
            "language": result.language,
            "notice": result.notice,
            "hits": [
                {
                    "entry_id": h.entry_id,
                    "score": h.score,
                    "question": h.question,
                    "answer": h.answer,
                    "category": h.category,
                }
                for h in result.hits
            ],
            "thresholds": {key: float(config[key]) for key in THRESHOLD_KEYS if key in config},
            "index": current.name if current is not None else None,
        }

    def closest_entry(self, text: str, language: str | None = None) -> str | None:
        """The id of the entry the KB finds closest to ``text`` (None without an index)."""
        try:
            hits = self.service().search(text, language, 1).hits
        except Exception:  # no usable index yet: no suggestion, callers still work
            logger.debug("kb: no closest entry for a query", exc_info=True)
            return None
        return hits[0].entry_id if hits else None

    def embedder(self) -> Embedder | None:
        """texts -> L2-normalised vectors with the served index's encoder, or None while nothing is
        loaded (never loads: callers fall back to comparing text). Vectors are cached per build."""
        service = self._service
        if service is None or service.current_dir is None:
            return None
        searcher = service.searcher()
        if searcher is None:
            return None
        build = searcher.path.name

        def embed(texts: list[str]) -> Vectors:
            with self._lock:
                if self._vectors_build != build:
                    self._vectors, self._vectors_build = {}, build
                known = {t: self._vectors[t] for t in texts if t in self._vectors}
            missing = [t for t in dict.fromkeys(texts) if t not in known]
            if missing:
                fresh = dict(zip(missing, np.asarray(searcher.encode(missing), dtype=np.float32)))
                known.update(fresh)
                with self._lock:
                    if len(self._vectors) + len(fresh) > MAX_CACHED_VECTORS:
                        self._vectors.clear()
                    if self._vectors_build == build:
                        self._vectors.update(fresh)
            return np.stack([known[t] for t in texts])

        return embed


_shared: KBAccess | None = None
_shared_lock = threading.Lock()


def shared_kb() -> KBAccess:
    """The process-wide :class:`KBAccess` for the configured index (``KB_INDEX_DIR``, ``KB_ENCODER``)."""
    global _shared
    access = _shared
    if access is None:
        with _shared_lock:
            access = _shared
            if access is None:
                from common.settings import get_settings

                settings = get_settings()
                access = _shared = KBAccess(settings.kb_index_root, settings.kb_encoder)
    return access
