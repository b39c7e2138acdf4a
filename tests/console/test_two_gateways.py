"""Two gateway app instances on one CRM and one Redis (issue 19's scale-out): what an agent does
through gateway A reaches a customer connected to gateway B, and a claim stays atomic."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crm.db import session_scope
from crm.models import Conversation
from crm.repo import conversations as conv_repo
from tests.console.conftest import build_client, login
from tests.gateway.redis_server import RedisServer, running_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    with running_redis(folder) as server:
        yield server


@pytest.fixture
def gateways(settings: Any, users: Any, redis_server: RedisServer) -> Iterator[tuple[TestClient, TestClient]]:
    shared = dataclasses.replace(settings, redis_url=redis_server.url)
    with build_client(shared) as a, build_client(shared) as b:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            c.get("/healthz").json()["hub"] == "redis" for c in (a, b)
        ):
            time.sleep(0.05)
        assert [c.get("/healthz").json()["hub"] for c in (a, b)] == ["redis", "redis"]
        yield a, b


def receive_until(
    socket: Any, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The first frame ``wanted`` accepts; fails (instead of blocking forever) after ``timeout``."""
    found: list[dict[str, Any]] = []

    def read() -> None:
        while not found:
            frame = socket.receive_json()
            if wanted(frame):
                found.append(frame)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, "the frame did not arrive"
    return found[0]


class Agent:
    """An agent signed in on one gateway (the gateway's own client: one event loop per app, as
    in production, which the app's Redis connections need)."""

    def __init__(self, gateway: TestClient, username: str) -> None:
        self.client = gateway
        assert login(gateway, username).status_code == 303
        self.csrf = gateway.get("/api/console/me").json()["csrf"]

    def post(self, url: str, json: Any = None) -> Any:
        return self.client.post(url, json=json, headers={"X-CSRF-Token": self.csrf})


def escalate(factory: Any, token: str) -> int:
    with session_scope(factory) as session:
        cid = session.query(Conversation).filter_by(token=token).one().id
        conv_repo.transition_conversation(
            session, cid, from_statuses=("bot",), to_status="waiting_agent", handoff_reason="customer_request"
        )
    return int(cid)


def test_an_agent_on_gateway_a_reaches_a_widget_on_gateway_b(gateways, factory) -> None:
    a, b = gateways
    agent = Agent(a, "agent1")
    with b.websocket_connect("/ws") as widget, agent.client.websocket_connect("/ws/console") as console:
        token = widget.receive_json()["token"]
        widget.receive_json()  # history
        cid = escalate(factory, token)
        assert agent.post(f"/api/agent/conversations/{cid}/claim").status_code == 200
        status = receive_until(widget, lambda f: f["type"] == "status")
        assert status["status"] == "agent"
        sent = agent.post(f"/api/agent/conversations/{cid}/reply", json={"text": "您好，我是客服小美。"})
        assert sent.status_code == 200
        push = receive_until(widget, lambda f: f["type"] == "push")
        assert [m["text"] for m in push["messages"]] == ["您好，我是客服小美。"]
        # and back: the customer writes on B, the agent's console on A sees it live
        widget.send_json({"type": "message", "id": "c1", "text": "謝謝，耳機左邊沒有聲音"})
        seen = receive_until(
            console,
            lambda f: f["type"] == "messages" and any(m["direction"] == "customer" for m in f["messages"]),
        )
        assert seen["conversation_id"] == cid
        assert [m["text"] for m in seen["messages"]] == ["謝謝，耳機左邊沒有聲音"]


def claim(agent: Agent, cid: int, barrier: threading.Barrier) -> int:
    barrier.wait()
    return int(agent.post(f"/api/agent/conversations/{cid}/claim").status_code)


def test_two_agents_on_two_gateways_claim_the_same_chat_one_wins(gateways, factory) -> None:
    a, b = gateways
    token = a.post("/api/conversations").json()["token"]
    agents = [Agent(a, "agent1"), Agent(b, "agent2")]
    for round_ in range(5):
        cid = escalate(factory, token)
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(functools.partial(claim, cid=cid, barrier=barrier), agents))
        assert codes == [200, 409], f"round {round_}: {codes}"
        back = agents[0].post(f"/api/agent/conversations/{cid}/hand-back")
        if back.status_code != 200:
            agents[1].post(f"/api/agent/conversations/{cid}/hand-back")
