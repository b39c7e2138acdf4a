"""The loopback cluster (`make run-cluster`, scripts/cluster.sh) end to end: HAProxy, 2 gateways
sharing the live hub through Redis, 2 Rasa servers on shared trackers and locks, 2 action servers."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from websockets.exceptions import InvalidStatus

from tests.e2e.chat_client import ChatClient
from tests.e2e.cluster import Cluster, running_cluster
from tests.e2e.stack import StackError


def reconnect(ws_url: str, token: str, within_s: float = 20.0) -> ChatClient:
    """Connect again as the widget does after a drop: retry (the widget backs off from 1 s) until
    the balancer has taken the dead gateway out, a second or two after its health checks fail."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return ChatClient(ws_url, token=token)
        except (InvalidStatus, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


PG_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not PG_URL, reason="TEST_POSTGRES_URL not set (make test sets it)"),
]
QUESTION = "How long do I have to return an item?"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    name = f"cluster_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with running_cluster(tmp_path, url) as running:
            yield running
    except StackError as exc:
        pytest.fail(str(exc))
    finally:
        with admin.connect() as conn:
            for db in (name, f"{name}_rasa"):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def sign_in_agent(base_url: str, var_dir: Path) -> tuple[httpx.Client, str]:
    agent = json.loads((var_dir / "secrets" / "dev_users.json").read_text())["agent"]
    username, password = agent["username"], agent["password"]
    client = httpx.Client(base_url=base_url, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    reply = client.post("/login", data={"username": username, "password": password, "csrf": csrf, "next": ""})
    assert reply.status_code == 303, reply.text
    return client, client.get("/api/console/me").json()["csrf"]


def test_the_cluster_serves_through_the_balancer_and_survives_a_gateway_kill(cluster: Cluster) -> None:
    assert httpx.get(cluster.base_url + "/healthz", timeout=10).json()["hub"] == "redis"
    gw1, gw2 = cluster.gateway_ports
    with ChatClient(f"ws://127.0.0.1:{gw1}/ws") as customer:
        answer = customer.ask(QUESTION, client_id="q1")
        assert answer["type"] == "reply" and "7" in answer["messages"][0]["text"]
        engine = create_engine(cluster.database_url)
        with engine.begin() as conn:
            cid = conn.execute(
                text("SELECT id FROM conversations WHERE token = :t"), {"t": customer.token}
            ).one()[0]
            conn.execute(text("UPDATE conversations SET status = 'waiting_agent' WHERE id = :i"), {"i": cid})
        engine.dispose()
        agent, csrf = sign_in_agent(f"http://127.0.0.1:{gw2}", cluster.run_dir.parent.parent)
        assert (
            agent.post(f"/api/agent/conversations/{cid}/claim", headers={"X-CSRF-Token": csrf}).status_code
            == 200
        )
        assert customer.until("status")["status"] == "agent"
        started = time.monotonic()
        sent = agent.post(
            f"/api/agent/conversations/{cid}/reply",
            json={"text": "Hello from gateway 2"},
            headers={"X-CSRF-Token": csrf},
        )
        assert sent.status_code == 200
        push = customer.until("push")
        print(
            f"agent reply on gateway 2 -> widget on gateway 1: {1000 * (time.monotonic() - started):.0f} ms"
        )
        assert [m["text"] for m in push["messages"]] == ["Hello from gateway 2"]
        agent.post(f"/api/agent/conversations/{cid}/hand-back", headers={"X-CSRF-Token": csrf})
        token = customer.token
    os.kill(cluster.service("gateway1")["pid"], signal.SIGKILL)
    # through the balancer, with the same conversation: gateway 2 serves it
    with reconnect(cluster.ws_url, token) as customer:
        again = customer.ask(QUESTION, client_id="q2")
        assert again["type"] == "reply" and again["messages"]
        ids = [m["client_id"] for m in customer.history]
    assert ids.count("q1") == 1 and "Hello from gateway 2" in [m["text"] for m in customer.history]
