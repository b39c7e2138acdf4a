"""Rate limits on the customer endpoints (issue 18), with the ``limits`` library (moving
windows kept in process memory).

Each rule is a set of windows per key (client address, conversation). A request passes only
when every window of every key has room; then all of them are counted. The check and the count
run without an ``await`` in between, so concurrent requests on the event loop cannot both take
the last slot. The gateway runs one process (``python -m gateway``); several workers would
each count on their own and need a shared storage (``limits`` supports Redis / Memcached).

HTTP callers over a limit get 429 with ``Retry-After``; a WebSocket burst waits for room
(:meth:`RateLimiter.wait`) instead of being dropped.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

from fastapi.responses import JSONResponse
from limits import parse_many, storage, strategies
from starlette.requests import HTTPConnection

from gateway.state import rate_limiter_of


@dataclass(frozen=True)
class Policy:
    """Windows per rule, in ``limits`` notation (``"8/10 second;40/minute"``)."""

    conversations_per_address: str = "20/minute;200/hour"
    messages_per_conversation: str = "8/10 second;40/minute"
    messages_per_address: str = "120/minute"
    ratings_per_conversation: str = "3/minute;10/hour"
    ratings_per_address: str = "30/minute"
    reads_per_address: str = "120/minute"
    handoffs_per_address: str = "5/10 minute;30/day"
    uploads_per_conversation: str = "5/minute;30/hour"
    uploads_per_address: str = "10/minute;60/hour"


class RateLimiter:
    def __init__(self, policy: Policy | None = None, enabled: bool = True) -> None:
        self.policy = policy or Policy()
        self.enabled = enabled
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._items = {f.name: parse_many(getattr(self.policy, f.name)) for f in fields(Policy)}

    def hit(self, *checks: tuple[str, str]) -> float:
        """Count one request against each ``(rule, key)``; 0 when it passes, else the seconds
        until it would (nothing is counted then). Always 0 when the limits are off."""
        if not self.enabled:
            return 0.0
        wait = 0.0
        for rule, key in checks:
            for item in self._items[rule]:
                if not self._limiter.test(item, rule, key):
                    reset = self._limiter.get_window_stats(item, rule, key).reset_time
                    wait = max(wait, reset - time.time(), 0.05)
        if wait:
            return wait
        for rule, key in checks:
            for item in self._items[rule]:
                self._limiter.hit(item, rule, key)
        return 0.0

    async def wait(self, *checks: tuple[str, str]) -> float:
        """Wait until the request passes, then count it; returns the seconds waited."""
        waited = 0.0
        while (delay := self.hit(*checks)) > 0:
            await asyncio.sleep(delay)
            waited += delay
        return waited

    def reset(self) -> None:
        self._limiter.storage.reset()


def too_many(wait: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait))
    return JSONResponse(
        {"error": "rate_limited", "message": "Too many requests; try again later.", "retry_after": seconds},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def limiter_of(conn: HTTPConnection) -> RateLimiter:
    return rate_limiter_of(conn)


def hand_off_gate(conn: HTTPConnection) -> Callable[[], bool]:
    """``may_hand_off`` for :meth:`gateway.chat.ChatService.handle`: one hand-over counted
    against the sender's address."""
    return lambda: limiter_of(conn).hit(("handoffs_per_address", client_address(conn))) == 0
