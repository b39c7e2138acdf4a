"""Start the real stack (action server, Rasa server, gateway, KB worker) as subprocesses.

Shared by the e2e and web tests (through ``tests/e2e/conftest.py``) and by benchmarks such as
``bench/conversations.py``. Uses the model trained by ``scripts/train.sh`` (cached by
fingerprint), the knowledge-base index built by ``make index`` (``KB_INDEX_DIR``) and the CRM
at ``database_url``, which is migrated first.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 420


class StackError(RuntimeError):
    """The services did not start; the message ends with the tail of their output."""


@dataclass
class Stack:
    base_url: str
    ws_url: str
    database_url: str
    log_dir: Path
    rasa_url: str = ""
    rasa_token: str = ""
    identity_secret: str = ""
    actions_port: str = ""
    session_id: int = 0  # the services' process session (services.sh and all it starts)
    ready_s: float = 0.0  # seconds from starting services.sh to all three services answering
    run_dir: Path = Path()  # supervisord's config and the runners' state files

    def ctl(self, *args: str) -> str:
        """``supervisorctl`` against this stack's supervisord (e.g. ``ctl("stop", "rasa")``)."""
        return subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "supervisorctl"),
                "-c",
                str(self.run_dir / "supervisord.conf"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout

    def service(self, name: str) -> dict:
        """The runner's state of service ``name`` (pid, pgid, ready)."""
        try:
            return json.loads((self.run_dir / f"{name}.json").read_text())
        except (OSError, ValueError):
            return {}

    def tracker_events(self, conversation_id: int) -> list[dict]:
        """Rasa's stored events of one conversation (its HTTP API, with the token)."""
        import httpx

        reply = httpx.get(
            f"{self.rasa_url}/conversations/{conversation_id}/tracker",
            params={"token": self.rasa_token},
            timeout=30,
        )
        reply.raise_for_status()
        return reply.json()["events"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_stack(
    var_dir: Path, database_url: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """Start the services against ``database_url``; stop them on exit.

    ``extra_env`` overrides the services' environment (e.g. ``FOLLOWUP_INTERVAL_S``).
    Raises :class:`StackError` when the services do not come up.
    """
    gateway_port, rasa_port, actions_port, worker_port = free_port(), free_port(), free_port(), free_port()
    rasa_token = secrets.token_urlsafe(24)
    identity_secret = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CSA_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "KB_INDEX_DIR": os.environ.get("KB_INDEX_DIR", str(ROOT / "var" / "kb")),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(gateway_port),
        "RASA_PORT": str(rasa_port),
        "RASA_TOKEN": rasa_token,
        "IDENTITY_SECRET": identity_secret,
        "ACTION_SERVER_PORT": str(actions_port),
        "WORKER_PORT": str(worker_port),
        "LOG_DIR": str(var_dir / "log"),
        "RUN_DIR": str(var_dir / "run"),
        "SERVICES_READY_FILE": str(var_dir / "ready"),
        **(extra_env or {}),
    }
    model = trained_model(env)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "crm", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    proc, ready_s = start_session("services.sh", model, env, var_dir, "stack")
    try:
        yield Stack(
            base_url=f"http://127.0.0.1:{gateway_port}",
            ws_url=f"ws://127.0.0.1:{gateway_port}/ws",
            database_url=database_url,
            log_dir=var_dir / "log",
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_token=rasa_token,
            identity_secret=identity_secret,
            actions_port=env["ACTION_SERVER_PORT"],
            session_id=proc.pid,
            ready_s=ready_s,
            run_dir=var_dir / "run",
        )
    finally:
        stop_session(proc)


def trained_model(env: dict[str, str]) -> str:
    """The model ``scripts/train.sh`` trains, or finds in the fingerprint cache."""
    out = subprocess.run(
        [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def start_session(
    script: str, model: str, env: dict[str, str], var_dir: Path, what: str
) -> tuple[subprocess.Popen, float]:
    """Run ``scripts/<script> <model>`` in a session of its own until it writes ``var_dir/ready``;
    return the process and the seconds it took. When it exits or times out first, stop the
    session and raise :class:`StackError` with the end of its output (``<script stem>.out``)."""
    started = time.monotonic()
    out = var_dir / f"{Path(script).stem}.out"
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / script), model],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(out, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (var_dir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_session(proc)
            raise StackError(f"{what} did not start:\n" + out.read_text()[-3000:])
        time.sleep(0.5)
    return proc, time.monotonic() - started


def stop_session(proc: subprocess.Popen) -> None:
    """TERM the services' process group (KILL after 30 s); it may have exited already."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
