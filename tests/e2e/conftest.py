"""Starts the real stack (action server, Rasa server, gateway) as subprocesses for e2e tests.

Uses the model trained by ``scripts/train.sh`` (cached by fingerprint), the knowledge-base
index built by ``make index``, and a fresh SQLite CRM file per test session.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 420


@dataclass
class Stack:
    base_url: str
    ws_url: str
    database_url: str
    log_dir: Path
    run_dir: Path = Path()
    rasa_url: str = ""
    rasa_token: str = ""

    def ctl(self, *args: str) -> str:
        """``supervisorctl`` against this stack's supervisord (e.g. ``ctl("stop", "rasa")``)."""
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "supervisorctl"), "-c", str(self.run_dir / "supervisord.conf"),
             *args], capture_output=True, text=True, timeout=90,
        ).stdout

    def service(self, name: str) -> dict:
        """The runner's state of service ``name`` (pid, pgid, ready)."""
        import json

        try:
            return json.loads((self.run_dir / f"{name}.json").read_text())
        except (OSError, ValueError):
            return {}

    def tracker_events(self, conversation_id: int) -> list[dict]:
        import httpx

        reply = httpx.get(f"{self.rasa_url}/conversations/{conversation_id}/tracker",
                          params={"token": self.rasa_token}, timeout=30)
        reply.raise_for_status()
        return reply.json()["events"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_stack(var_dir: Path, database_url: str) -> Iterator[Stack]:
    """Start the three services against ``database_url``; stop them on exit."""
    gateway_port, rasa_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CSA_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "KB_INDEX_DIR": os.environ.get("KB_INDEX_DIR", str(ROOT / "var" / "kb")),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(gateway_port),
        "RASA_PORT": str(rasa_port),
        "RUN_DIR": str(var_dir / "run"),
        "ACTION_SERVER_PORT": str(_free_port()),
        "LOG_DIR": str(var_dir / "log"),
        "SERVICES_READY_FILE": str(var_dir / "ready"),
    }
    model = subprocess.run(
        [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "crm", "migrate"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "services.sh"), model],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(var_dir / "services.out", "w"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (var_dir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGTERM)
            pytest.fail("stack did not start:\n" + (var_dir / "services.out").read_text()[-3000:])
        time.sleep(0.5)
    try:
        yield Stack(
            base_url=f"http://127.0.0.1:{gateway_port}",
            ws_url=f"ws://127.0.0.1:{gateway_port}/ws",
            database_url=database_url,
            log_dir=var_dir / "log",
            run_dir=var_dir / "run",
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_token=env.get("RASA_TOKEN") or (var_dir / "secrets" / "rasa_token").read_text().strip(),
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant on a fresh SQLite CRM file."""
    var_dir = tmp_path_factory.mktemp("stack-var")
    with running_stack(var_dir, f"sqlite:///{var_dir / 'crm.sqlite3'}") as running:
        yield running
