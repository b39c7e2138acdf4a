"""The gateway's own hot-reloading view of the published KB index (suggestions and "try it").

It follows ``KB_INDEX_DIR/CURRENT`` like the action server does, so after a rebuild both the
bot and the consoles use the new index without a restart. The encoder loads on first use (or
on :meth:`ConsoleKB.warm`, started when a console page is opened).
"""

from __future__ import annotations

import threading
import time
from typing import Any

THRESHOLD_KEYS = ("min_score", "answer_score", "margin")
MAX_CACHED_VECTORS = 5000


class ConsoleKB:
    def __init__(self, index_root: Any, encoder_name: str) -> None:
        self._root, self._encoder = index_root, encoder_name
        self._service: Any = None
        self._lock = threading.Lock()
        self._vectors: dict[str, Any] = {}

    def service(self) -> Any:
        if self._service is None:
            with self._lock:
                if self._service is None:
                    from kb.search import KBService

                    self._service = KBService(self._root, encoder_name=self._encoder)
        return self._service

    def warm(self) -> None:
        threading.Thread(target=lambda: self.service().searcher(), name="kb-warm", daemon=True).start()

    def reload(self) -> None:
        """Pick up a newly published index now (the service re-reads CURRENT once per interval)."""
        service = self.service()
        time.sleep(service.check_interval + 0.05)
        service.searcher()

    def embedder(self) -> Any:
        """texts -> L2-normalised vectors with the index's encoder, or None while not loaded."""
        service = self._service
        if service is None or service.current_dir is None:
            return None
        searcher = service.searcher()
        if searcher is None:
            return None

        def embed(texts: list[str]) -> Any:
            import numpy as np

            from kb.encoder import encode

            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if len(self._vectors) + len(missing) > MAX_CACHED_VECTORS:
                self._vectors.clear()
                missing = list(dict.fromkeys(texts))
            if missing:
                self._vectors.update(zip(missing, encode(searcher.encoder, missing)))
            return np.stack([self._vectors[t] for t in texts])

        return embed

    def closest_entry(self, text: str, language: str | None = None) -> str | None:
        """The id of the entry the KB finds closest to ``text`` (None without an index)."""
        try:
            hits = self.service().search(text, language, 1).hits
        except Exception:  # no published index yet: no suggestion, the inbox still works
            return None
        return hits[0].entry_id if hits else None

    def search(self, text: str, language: str | None = None, k: int = 5) -> dict[str, Any]:
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
            "thresholds": {key: config[key] for key in THRESHOLD_KEYS if key in config},
            "index": current.name if current is not None else None,
        }


def get_kb(app: Any) -> ConsoleKB:
    kb = getattr(app.state, "console_kb", None)
    if kb is None:
        settings = app.state.settings
        kb = app.state.console_kb = ConsoleKB(settings.kb_index_root, settings.kb_encoder)
    return kb
