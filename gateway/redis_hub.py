"""The live hub shared by several gateways through Redis pub/sub (``REDIS_URL`` set).

Every frame is delivered at once to this gateway's own sockets (as the in-process
:class:`~gateway.hub.Hub` does) and published on one Redis channel, with the conversation it is
for and this hub's origin id. Each gateway listens on the channel and delivers the frames of the
other gateways to its own widgets and consoles, so an agent's reply sent through gateway A
reaches a customer connected to gateway B.

One channel for every conversation, not one per conversation: a gateway holds sockets for many
conversations and would otherwise subscribe on every join, with a window where a frame published
right after a join is missed. Filtering by conversation id on arrival costs a dict lookup.

While Redis is unreachable the hub keeps delivering locally, logs once, and the listener
reconnects with backoff (0.2 s doubling to 5 s); frames published by others meanwhile are not
replayed: every message is in the CRM, and a widget that reconnects gets it through its history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Protocol, TypedDict

from gateway.hub import Frame, Hub

logger = logging.getLogger(__name__)
CHANNEL = "lumen:hub"
BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0


class Envelope(TypedDict):
    """What travels on the channel: a frame, who it is for, which gateway sent it and when."""

    origin: str
    to: str  # "customer" or "consoles"
    conversation_id: int | None
    frame: Frame
    sent: float  # time.time() at publishing, for the delivery latency


class PubSub(Protocol):
    async def subscribe(self, *channels: str) -> None: ...

    async def get_message(
        self, ignore_subscribe_messages: bool = ..., timeout: float = ...
    ) -> dict[str, object] | None: ...

    async def reset(self) -> None: ...


class RedisClient(Protocol):
    """The part of ``redis.asyncio.Redis`` the hub uses."""

    async def publish(self, channel: str, message: str) -> int: ...

    async def ping(self) -> bool: ...

    def pubsub(self) -> PubSub: ...

    async def close(self) -> None: ...


def connect(url: str) -> RedisClient:
    """A client for ``url`` (``redis://:password@127.0.0.1:port/db``) with short timeouts, so a
    Redis that hangs does not hold up the chat path."""
    from redis.asyncio import Redis

    client: RedisClient = Redis.from_url(
        url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=10
    )
    return client


class RedisHub(Hub):
    def __init__(self, client: RedisClient, channel: str = CHANNEL) -> None:
        super().__init__()
        self._client = client
        self._channel = channel
        self.origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._publish_failing = False
        self.latencies_ms: list[float] = []  # the last deliveries from other gateways (bounded)

    @property
    def connected(self) -> bool:
        """True while the listener is subscribed and the last publish went through."""
        return self._subscribed.is_set() and not self._publish_failing

    def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="redis-hub")

    async def wait_subscribed(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def state(self) -> str:
        return "redis" if self.connected else "redis-down"

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            self._listener = None
        await self._client.close()

    async def to_customer(self, conversation_id: int, frame: Frame) -> None:
        await super().to_customer(conversation_id, frame)
        await self._publish("customer", conversation_id, frame)

    async def to_consoles(self, frame: Frame) -> None:
        await super().to_consoles(frame)
        await self._publish("consoles", None, frame)

    async def _publish(self, to: str, conversation_id: int | None, frame: Frame) -> None:
        envelope: Envelope = {
            "origin": self.origin,
            "to": to,
            "conversation_id": conversation_id,
            "frame": frame,
            "sent": time.time(),
        }
        try:
            await self._client.publish(self._channel, json.dumps(envelope, default=str))
        except (OSError, TimeoutError, ConnectionError) as exc:
            self._note_publish_failure(exc)
        except Exception as exc:  # redis.exceptions.RedisError and its kin
            if not _is_redis_error(exc):
                raise
            self._note_publish_failure(exc)
        else:
            if self._publish_failing:
                logger.info("redis hub: publishing again")
            self._publish_failing = False

    def _note_publish_failure(self, exc: BaseException) -> None:
        if not self._publish_failing:
            logger.warning("redis hub: cannot publish (%s); delivering to this gateway's sockets only", exc)
        self._publish_failing = True

    async def _listen_forever(self) -> None:
        delay = BACKOFF_START_S
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                logger.info("redis hub: listening on %s", self._channel)
                delay = BACKOFF_START_S
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        await self._deliver(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not (isinstance(exc, OSError | TimeoutError | ConnectionError) or _is_redis_error(exc)):
                    logger.exception("redis hub: listener failed")
                elif self._subscribed.is_set():
                    logger.warning("redis hub: lost Redis (%s); reconnecting", exc)
                self._subscribed.clear()
            finally:
                try:
                    await pubsub.reset()
                except Exception:  # the connection is already gone
                    logger.debug("redis hub: closing the subscription failed", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _deliver(self, data: object) -> None:
        if not isinstance(data, bytes | str):
            return
        try:
            envelope = json.loads(data)
        except ValueError:
            logger.warning("redis hub: dropping a frame that is not JSON")
            return
        if not isinstance(envelope, dict) or envelope.get("origin") == self.origin:
            return
        frame = envelope.get("frame")
        if not isinstance(frame, dict):
            return
        sent = envelope.get("sent")
        if isinstance(sent, int | float):
            self.latencies_ms = [*self.latencies_ms[-999:], (time.time() - sent) * 1000]
        conversation_id = envelope.get("conversation_id")
        if envelope.get("to") == "customer" and isinstance(conversation_id, int):
            await super().to_customer(conversation_id, frame)
        elif envelope.get("to") == "consoles":
            await super().to_consoles(frame)


def _is_redis_error(exc: BaseException) -> bool:
    from redis.exceptions import RedisError

    return isinstance(exc, RedisError)


def make_hub(redis_url: str) -> Hub:
    """The in-process hub, or (``redis_url`` set) a Redis hub already listening."""
    if not redis_url:
        return Hub()
    hub = RedisHub(connect(redis_url))
    hub.start()
    return hub
