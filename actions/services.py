"""Process-wide, lazily created services used by the actions (nothing is built at import)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rasa_sdk import Tracker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

from kbaccess import KBAccess, shared_kb

_lock = threading.Lock()
_session_factory: sessionmaker[Session] | None = None


def kb_service() -> KBAccess:
    """The process's hot-reloading knowledge base (:mod:`kbaccess`), loaded on first use."""
    return shared_kb()


@contextmanager
def crm_session() -> Iterator[Session]:
    """One CRM unit of work (commit at the end, rollback on error). Call from a worker thread."""
    global _session_factory
    if _session_factory is None:
        with _lock:
            if _session_factory is None:
                from common.settings import get_settings
                from crm.db import make_engine, make_session_factory

                _session_factory = make_session_factory(make_engine(get_settings().database_url))
    from crm.db import session_scope

    with session_scope(_session_factory) as session:
        yield session


def conversation_id(tracker: Tracker) -> int | None:
    """The CRM conversation id: the gateway uses it as Rasa's sender id."""
    try:
        return int(tracker.sender_id)
    except (TypeError, ValueError):
        return None
