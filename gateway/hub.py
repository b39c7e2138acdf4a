"""In-process fan-out of live frames: to the widgets of one conversation and to agent consoles.

One gateway process: a set of sockets per conversation is enough. Several gateways (``REDIS_URL``
set) share the frames through Redis pub/sub: :class:`gateway.redis_hub.RedisHub`, same interface.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Protocol

logger = logging.getLogger(__name__)


Frame = dict[str, Any]
"""A JSON frame pushed to widgets and consoles (its ``type`` says what it carries)."""


class Socket(Protocol):
    async def send_json(self, data: Frame) -> None: ...


class Broadcaster(Protocol):
    """What the chat path and the workers push through: the :class:`Hub`, or a test's fake."""

    async def to_customer(self, conversation_id: int, frame: Frame) -> None: ...

    async def to_consoles(self, frame: Frame) -> None: ...


class Hub:
    def __init__(self) -> None:
        self._customers: dict[int, set[Socket]] = defaultdict(set)
        self._consoles: set[Socket] = set()

    def join(self, conversation_id: int, socket: Socket) -> None:
        self._customers[conversation_id].add(socket)

    def leave(self, conversation_id: int, socket: Socket) -> None:
        sockets = self._customers.get(conversation_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._customers[conversation_id]

    def join_console(self, socket: Socket) -> None:
        self._consoles.add(socket)

    def leave_console(self, socket: Socket) -> None:
        self._consoles.discard(socket)

    async def to_customer(self, conversation_id: int, frame: Frame) -> None:
        await self._send(list(self._customers.get(conversation_id, ())), frame)

    async def to_consoles(self, frame: Frame) -> None:
        await self._send(list(self._consoles), frame)

    def state(self) -> str:
        """For the health check: ``local`` (this process only), or the Redis hub's link state."""
        return "local"

    async def close(self) -> None:
        """Nothing to release for the in-process hub."""

    async def _send(self, sockets: list[Socket], frame: Frame) -> None:
        for socket in sockets:
            try:
                await socket.send_json(frame)
            except Exception:  # a socket closing mid-send is routine
                logger.debug("hub: dropping a closed socket", exc_info=True)
