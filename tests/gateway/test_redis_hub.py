"""The live hub shared through Redis pub/sub, against a real redis-server on a free port."""

from __future__ import annotations

import asyncio
import statistics
import time

from gateway.hub import Frame, Hub
from gateway.redis_hub import RedisHub, connect, make_hub
from tests.gateway.redis_server import RedisServer


class Recorder:
    def __init__(self) -> None:
        self.frames: list[Frame] = []

    async def send_json(self, data: Frame) -> None:
        self.frames.append(data)


async def until(check, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


async def two_hubs(url: str) -> tuple[RedisHub, RedisHub]:
    a, b = RedisHub(connect(url)), RedisHub(connect(url))
    a.start()
    b.start()
    assert await a.wait_subscribed(10) and await b.wait_subscribed(10)
    return a, b


def test_without_redis_the_hub_stays_in_process() -> None:
    hub = make_hub("")
    assert type(hub) is Hub and hub.state() == "local"


def test_a_frame_sent_on_one_gateway_reaches_the_sockets_of_the_other(redis_server: RedisServer) -> None:
    async def run() -> None:
        a, b = await two_hubs(redis_server.url)
        on_a, on_b, other_b, console_b = Recorder(), Recorder(), Recorder(), Recorder()
        a.join(7, on_a)
        b.join(7, on_b)
        b.join(8, other_b)
        b.join_console(console_b)
        await a.to_customer(7, {"type": "push", "messages": [{"text": "您好"}]})
        await a.to_consoles({"type": "queue_changed", "conversation_id": 7})
        assert await until(lambda: on_b.frames and console_b.frames)
        await asyncio.sleep(0.2)  # a duplicate would arrive by now
        assert on_a.frames == [{"type": "push", "messages": [{"text": "您好"}]}]  # once, not echoed back
        assert on_b.frames == on_a.frames
        assert console_b.frames == [{"type": "queue_changed", "conversation_id": 7}]
        assert other_b.frames == []
        assert a.state() == b.state() == "redis"
        await a.close()
        await b.close()

    asyncio.run(run())


def test_frames_arrive_in_order_with_a_small_latency(redis_server: RedisServer) -> None:
    async def run() -> None:
        a, b = await two_hubs(redis_server.url)
        on_b = Recorder()
        b.join(1, on_b)
        for n in range(200):
            await a.to_customer(1, {"type": "push", "n": n})
        assert await until(lambda: len(on_b.frames) == 200)
        assert [f["n"] for f in on_b.frames] == list(range(200))
        median = statistics.median(b.latencies_ms)
        print(f"cross-gateway delivery: median {median:.2f} ms over {len(b.latencies_ms)} frames")
        assert median < 500
        await a.close()
        await b.close()

    asyncio.run(run())


def test_redis_down_keeps_local_delivery_and_the_hub_reconnects(redis_server: RedisServer) -> None:
    async def run() -> None:
        a, b = await two_hubs(redis_server.url)
        on_a, on_b = Recorder(), Recorder()
        a.join(3, on_a)
        b.join(3, on_b)
        redis_server.stop()
        await a.to_customer(3, {"type": "push", "n": 1})
        assert on_a.frames == [{"type": "push", "n": 1}]  # the gateway itself keeps working
        assert await until(lambda: a.state() == "redis-down" and b.state() == "redis-down")
        redis_server.start()  # same port and password, as after a restart
        assert await a.wait_subscribed(15) and await b.wait_subscribed(15)
        await a.to_customer(3, {"type": "push", "n": 2})
        assert await until(lambda: {"type": "push", "n": 2} in on_b.frames)
        assert a.state() == "redis"
        await a.close()
        await b.close()

    asyncio.run(run())


def test_a_wrong_password_leaves_the_hub_local_and_says_so(redis_server: RedisServer) -> None:
    async def run() -> None:
        hub = RedisHub(connect(f"redis://:wrong@127.0.0.1:{redis_server.port}/0"))
        hub.start()
        assert not await hub.wait_subscribed(1.5)
        mine = Recorder()
        hub.join(5, mine)
        await hub.to_customer(5, {"type": "push"})
        assert mine.frames == [{"type": "push"}] and hub.state() == "redis-down"
        await hub.close()

    asyncio.run(run())


def test_a_malformed_message_on_the_channel_is_ignored(redis_server: RedisServer) -> None:
    async def run() -> None:
        a, b = await two_hubs(redis_server.url)
        on_b = Recorder()
        b.join(2, on_b)
        raw = connect(redis_server.url)
        await raw.publish("lumen:hub", "not json")
        await raw.publish("lumen:hub", '{"origin": "x", "to": "customer", "conversation_id": 2, "frame": 3}')
        await a.to_customer(2, {"type": "push"})
        assert await until(lambda: on_b.frames)
        assert on_b.frames == [{"type": "push"}] and b.state() == "redis"
        await raw.close()
        await a.close()
        await b.close()

    asyncio.run(run())
