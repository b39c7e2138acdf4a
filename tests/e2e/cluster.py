"""Start the loopback cluster (``scripts/cluster.sh``) as subprocesses, for the e2e test and
``bench/faults.py --cluster``: HAProxy in front of 2 gateways, 2 Rasa servers and 2 action
servers, on the PostgreSQL database of ``database_url`` and a Redis of its own (in ``var_dir``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.stack import (
    ROOT,
    Stack,
    StackError,
    free_port,
    start_session,
    stop_session,
    trained_model,
)


@dataclass
class Cluster(Stack):
    gateway_ports: tuple[int, int] = (0, 0)
    redis_dir: Path = Path()
    redis_port: int = 0

    def redis(self, command: str) -> None:
        """``scripts/redis_server.sh start|stop`` on this cluster's Redis (same port, password)."""
        subprocess.run(
            [str(ROOT / "scripts" / "redis_server.sh"), command, str(self.redis_dir), str(self.redis_port)],
            env={**os.environ, "CSA_VAR_DIR": str(self.run_dir.parent.parent)},
            check=True,
            capture_output=True,
        )


def free_base(span: int = 405) -> int:
    """A base port whose base, +1, +2 and +404 are free (the cluster derives its ports from it)."""
    for _ in range(50):
        base = free_port()
        if base + span < 65535 and all(_free(base + n) for n in (1, 2, 404)):
            return base
    raise StackError("no free port range for the cluster")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def running_cluster(var_dir: Path, database_url: str) -> Iterator[Cluster]:
    """Start the cluster against a PostgreSQL ``database_url``; stop it (and its Redis) on exit."""
    base, rasa_lb, actions_lb = free_base(), free_base(), free_base()
    rasa_token = secrets.token_urlsafe(24)
    redis_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CSA_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "KB_INDEX_DIR": os.environ.get("KB_INDEX_DIR", str(ROOT / "var" / "kb")),
        "CLUSTER_BASE": str(base),
        "RASA_PORT": str(rasa_lb),
        "ACTION_SERVER_PORT": str(actions_lb),
        "WORKER_PORT": str(free_port()),
        "RASA_TOKEN": rasa_token,
        "IDENTITY_SECRET": secrets.token_urlsafe(24),
        "REDIS_PORT": str(redis_port),
        "REDIS_DATA_DIR": str(var_dir / "redis"),
        "LOG_DIR": str(var_dir / "log"),
        "RUN_DIR": str(var_dir / "run" / "cluster"),
        "SERVICES_READY_FILE": str(var_dir / "ready"),
    }
    model = trained_model(env)
    try:
        proc, ready_s = start_session("cluster.sh", model, env, var_dir, "cluster")
    except StackError:
        stop_session_leftovers(var_dir, redis_port)
        raise
    try:
        yield Cluster(
            base_url=f"http://127.0.0.1:{base}",
            ws_url=f"ws://127.0.0.1:{base}/ws",
            database_url=database_url,
            log_dir=var_dir / "log",
            rasa_url=f"http://127.0.0.1:{rasa_lb}",
            rasa_token=rasa_token,
            identity_secret=env["IDENTITY_SECRET"],
            actions_port=str(actions_lb),
            session_id=proc.pid,
            ready_s=ready_s,
            run_dir=var_dir / "run" / "cluster",
            gateway_ports=(base + 1, base + 2),
            redis_dir=var_dir / "redis",
            redis_port=redis_port,
        )
    finally:
        stop_session(proc)
        stop_session_leftovers(var_dir, redis_port)


def stop_session_leftovers(var_dir: Path, redis_port: int) -> None:
    """Redis runs as a daemon outside the session: stop it (idempotent)."""
    subprocess.run(
        [str(ROOT / "scripts" / "redis_server.sh"), "stop", str(var_dir / "redis"), str(redis_port)],
        env={**os.environ, "CSA_VAR_DIR": str(var_dir)},
        capture_output=True,
    )
