"""ops.runner and ops.procs: port ownership, refusal of strangers, group cleanup, backoff."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ops.procs import group_members, port_in_use, port_owners
from ops.runner import MAX_DELAY_S, restart_delay

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("forking_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def runner(tmp_path: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops.runner",
            "--name",
            "svc",
            "--port",
            str(port),
            "--health",
            f"http://127.0.0.1:{port}/health",
            "--run-dir",
            str(tmp_path),
            "--",
            sys.executable,
            str(SERVER),
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )


def state(tmp_path: Path) -> dict:
    try:
        return json.loads((tmp_path / "svc.json").read_text())
    except (OSError, ValueError):
        return {}


def test_restart_delay_grows_and_is_capped():
    now = 1000.0
    assert restart_delay([], now) == 0
    assert restart_delay([now - 1], now) == 1
    assert restart_delay([now - 3, now - 2, now - 1], now) == 4
    assert restart_delay([now - i for i in range(1, 20)], now) == MAX_DELAY_S
    assert restart_delay([now - 10_000], now) == 0


def test_port_owners_names_the_listening_process():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert port_in_use(port)
        assert os.getpid() in port_owners(port)
    assert not port_in_use(port)


def test_kill_9_of_the_main_process_takes_its_worker_down(tmp_path):
    port = free_port()
    proc = runner(tmp_path, port)
    try:
        wait_for(lambda: state(tmp_path).get("ready"))
        main_pid, pgid = state(tmp_path)["pid"], state(tmp_path)["pgid"]
        assert len(group_members(pgid)) == 3  # runner, server, forked worker
        os.kill(main_pid, signal.SIGKILL)
        assert proc.wait(timeout=20) == 128 + signal.SIGKILL
        assert not port_in_use(port), "the forked worker outlived its parent"
        assert group_members(pgid) == []
        assert (tmp_path / "svc.crashes").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_stranger_on_the_port_is_refused_not_counted_healthy(tmp_path):
    port = free_port()
    stranger = subprocess.Popen([sys.executable, str(SERVER), str(port)], start_new_session=True)
    try:
        wait_for(lambda: port_in_use(port))
        proc = runner(tmp_path, port)
        assert proc.wait(timeout=20) == 3
        assert "did not start; refusing" in proc.stderr.read()
        assert not state(tmp_path).get("ready")
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)


def test_leftovers_of_its_own_earlier_run_are_cleared(tmp_path):
    port = free_port()
    first = runner(tmp_path, port)
    wait_for(lambda: state(tmp_path).get("ready"))
    old_pgid = state(tmp_path)["pgid"]
    os.kill(first.pid, signal.SIGKILL)  # the runner itself dies: its server keeps the port
    first.wait()
    assert port_in_use(port)
    second = runner(tmp_path, port)
    try:
        wait_for(lambda: state(tmp_path).get("ready") and state(tmp_path)["pgid"] != old_pgid)
        assert group_members(old_pgid) == []
        assert all(os.getpgid(p) == second.pid for p in port_owners(port))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
        assert not port_in_use(port)
    finally:
        for pgid in (old_pgid, second.pid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
