"""Defect 2: the action server runs actions only for Rasa (shared secret header, JSON only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bot.action_server import TOKEN_HEADER, check_request

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "action-token-for-tests-0123456789abcdef"
CALL = {
    "next_action": "action_record_call",
    "sender_id": "forged",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "forged",
        "slots": {},
        "latest_message": {"text": "x", "intent": {}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    var = tmp_path_factory.mktemp("actions-var")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CSA_VAR_DIR": str(var),
        "ACTION_SERVER_TOKEN": TOKEN,
        "FAKE_ACTIONS_MARKER": str(var / "calls"),
        "SANIC_HOST": "127.0.0.1",
    }
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "bot.action_server",
            "--actions",
            "tests.security.fake_actions",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=open(var / "log", "w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("action server did not start:\n" + (var / "log").read_text()[-2000:])
        time.sleep(0.3)
    try:
        yield base, var / "calls", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _calls(marker: Path) -> list[str]:
    return marker.read_text().split() if marker.exists() else []


def test_a_call_without_the_token_runs_nothing(action_server):
    base, marker, _ = action_server
    for headers in ({}, {TOKEN_HEADER: "wrong"}, {TOKEN_HEADER: TOKEN[:-1]}):
        reply = httpx.post(base + "/webhook", json=CALL, headers=headers)
        assert reply.status_code == 401, reply.text
    assert httpx.get(base + "/actions").status_code == 401
    assert _calls(marker) == []


def test_a_blind_text_plain_post_is_refused_even_with_the_token(action_server):
    base, marker, _ = action_server
    body = json.dumps(CALL)
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        reply = httpx.post(
            base + "/webhook", content=body, headers={"Content-Type": content_type, TOKEN_HEADER: TOKEN}
        )
        assert reply.status_code == 415, (content_type, reply.text)
    assert _calls(marker) == []


def test_rasa_with_the_token_runs_the_action(action_server):
    base, marker, pid = action_server
    reply = httpx.post(base + "/webhook", json=CALL, headers={TOKEN_HEADER: TOKEN})
    assert reply.status_code == 200, reply.text
    assert reply.json()["responses"][0]["text"] == "ran"
    assert _calls(marker) == ["forged"]
    assert "access-control-allow-origin" not in {k.lower() for k in reply.headers}
    assert httpx.get(base + "/health").status_code == 200  # the start-up check needs no token
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert TOKEN.encode() not in cmdline


def test_check_request_rules():
    headers = {TOKEN_HEADER: "s3cret", "Content-Type": "application/json; charset=utf-8"}
    assert check_request("POST", "/webhook", headers, "s3cret") is None
    assert check_request("POST", "/webhook", headers, "")[0] == 401  # no secret configured: refuse
    assert check_request("GET", "/health", {}, "s3cret") is None
    assert check_request("POST", "/health", {}, "s3cret")[0] == 401
    assert check_request("POST", "/webhook", {**headers, "Content-Length": str(10**9)}, "s3cret")[0] == 413


def test_rasa_sends_the_header_and_services_start_the_guarded_server(tmp_path):
    """endpoints.yml as Rasa reads it (in the Rasa environment) carries the token header."""
    rasa_python = ROOT / ".venv-rasa" / "bin" / "python"
    if not rasa_python.exists():
        pytest.skip("Rasa environment not installed")
    code = (
        "from rasa.core.utils import read_endpoints_from_path as r; "
        "e = r('endpoints.yml').action; print(e.url); print(e.headers)"
    )
    out = subprocess.run(
        [str(rasa_python), "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ACTION_SERVER_PORT": "5999", "ACTION_SERVER_TOKEN": "tok-123"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "http://127.0.0.1:5999/webhook" in out.stdout
    assert "'X-Lumen-Action-Token': 'tok-123'" in out.stdout
    services = (ROOT / "scripts" / "services.sh").read_text()
    assert "-m rasa_sdk" not in services and "-m bot.action_server" in services
    assert "$ACTION_SERVER_TOKEN" in services and "-H @-" in services  # the warm-up call sends it too
