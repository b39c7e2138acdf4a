"""Rasa's tracker store for Lumen: SQL (PostgreSQL or SQLite) that rides out a database outage.

Rasa's own ``SQLTrackerStore`` keeps each conversation's dialogue state (a half-filled complaint
form, the language, the flow stage) in a database, so a Rasa restart resumes every conversation
where it was. On its own, a database outage would make Rasa forget every state for the outage's
length (Rasa's fail-safe wrapper answers "no tracker" and keeps new events only in memory).
This subclass keeps the latest tracker of recent conversations in memory: during an outage
``retrieve`` serves that copy and ``save`` keeps it, and the first successful save after the
outage writes the events the database missed (the store appends what it has not stored yet).

Configured by the endpoints file that ops/rasa_endpoints.py generates. Imported by the Rasa
server (Python 3.10): Rasa's dependencies only.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc as sa_exc

logger = logging.getLogger(__name__)
DB_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
CACHE_SIZE = 5000


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: OrderedDict[str, DialogueStateTracker] = OrderedDict()
        self._unsaved: set = set()
        self._cache_size = cache_size

    def _remember(self, tracker: DialogueStateTracker) -> None:
        self._cache[tracker.sender_id] = tracker
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > self._cache_size:
            sender, _ = self._cache.popitem(last=False)
            if sender in self._unsaved:
                logger.warning("tracker of %s dropped from memory before it could be saved", sender)
                self._unsaved.discard(sender)

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._remember(tracker)
        try:
            await super().save(tracker)
        except DB_DOWN as exc:
            self._unsaved.add(tracker.sender_id)
            logger.warning(
                "tracker database unavailable, %s kept in memory: %s",
                tracker.sender_id,
                exc.__class__.__name__,
            )
            return
        self._unsaved.discard(tracker.sender_id)
        await self._flush_unsaved()

    async def _flush_unsaved(self) -> None:
        for sender in list(self._unsaved):
            tracker = self._cache.get(sender)
            if tracker is None:
                self._unsaved.discard(sender)
                continue
            try:
                await super().save(tracker)
            except DB_DOWN:
                return
            self._unsaved.discard(sender)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if sender_id in self._unsaved:
            return self._cache[sender_id]
        try:
            tracker = await super().retrieve(sender_id)
        except DB_DOWN as exc:
            cached = self._cache.get(sender_id)
            logger.warning(
                "tracker database unavailable, %s served from memory (%s): %s",
                sender_id,
                "found" if cached else "none",
                exc.__class__.__name__,
            )
            return cached
        if tracker is not None:
            self._remember(tracker)
        return tracker
