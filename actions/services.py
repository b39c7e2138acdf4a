"""Process-wide, lazily created services used by the actions."""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_kb_service: Any = None


def kb_service() -> Any:
    """The hot-reloading knowledge-base service, loaded on first use."""
    global _kb_service
    if _kb_service is None:
        with _lock:
            if _kb_service is None:
                from bot.settings import get_settings
                from kb.search import KBService

                settings = get_settings()
                _kb_service = KBService(settings.kb_index_root, encoder_name=settings.kb_encoder)
    return _kb_service
