"""Run one service under supervision: ``python -m ops.runner --name N --port P --health URL -- CMD``.

supervisord (:mod:`ops.supervise`) starts this runner for each service; the runner

- refuses to start while a stranger holds the port (exit 3, supervisord retries with backoff),
  but kills the leftovers of its own earlier run (recorded process group) that still hold it;
- waits before a restart that follows a crash: 1, 2, 4 … up to 30 s while crashes keep coming
  (crash times kept in ``<run dir>/<name>.crashes``, forgotten after 5 minutes);
- starts the service in its own process group and reports it ready in ``<run dir>/<name>.json``
  only when the health URL answers *and* the port's listening socket belongs to that group;
- when the service's main process ends (even by ``kill -9``), kills the rest of its group so no
  worker outlives it holding the port, then exits with the service's status. The runner is the
  "child subreaper" of the service's tree, so an orphaned worker is reparented to it (and reaped
  by it), never to the machine's init process.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from ops.procs import describe, group_members, kill_group, pgid_of, port_in_use, port_owners

CRASH_MEMORY_S = 300.0
MAX_DELAY_S = 30.0
EXIT_PORT_TAKEN = 3
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans() -> None:
    """Collect the exit status of any adopted orphan (after the main child was waited for)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def log(name: str, message: str) -> None:
    print(f"[runner:{name}] {message}", file=sys.stderr, flush=True)


def restart_delay(crashes: list[float], now: float) -> float:
    """Seconds to wait before starting again, given recent crash times."""
    recent = [t for t in crashes if now - t < CRASH_MEMORY_S]
    return 0.0 if not recent else min(2.0 ** (len(recent) - 1), MAX_DELAY_S)


class State:
    """``<run dir>/<name>.json`` (who runs, ready or not) and ``<name>.crashes``."""

    def __init__(self, run_dir: Path, name: str) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / f"{name}.json"
        self.crash_path = run_dir / f"{name}.crashes"

    def read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def write(self, **fields: object) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(fields))
        os.replace(tmp, self.path)

    def crashes(self) -> list[float]:
        try:
            return [float(x) for x in self.crash_path.read_text().split()]
        except (OSError, ValueError):
            return []

    def add_crash(self, when: float) -> None:
        recent = [t for t in self.crashes() if when - t < CRASH_MEMORY_S] + [when]
        self.crash_path.write_text(" ".join(f"{t:.3f}" for t in recent))

    def clear_crashes(self) -> None:
        self.crash_path.unlink(missing_ok=True)


def free_port(name: str, port: int, previous_pgid: int | None, own_pgid: int) -> bool:
    """Make sure ``port`` is free: kill our earlier run's leftovers, refuse a stranger."""
    if not port_in_use(port):
        return True
    owners = port_owners(port)
    groups = {pgid_of(pid) for pid in owners}
    if owners and previous_pgid and groups == {previous_pgid} and previous_pgid != own_pgid:
        killed = kill_group(previous_pgid)
        log(name, f"killed {len(killed)} leftover process(es) of the previous run holding port {port}")
    else:
        who = ", ".join(describe(p) for p in sorted(owners)) or "an unknown process"
        log(name, f"port {port} is held by {who}, which this supervisor did not start; refusing to start")
        return False
    deadline = time.monotonic() + 10
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not port_in_use(port)


def healthy(url: str, port: int, pgid: int) -> bool:
    owners = port_owners(port)
    if not owners or any(pgid_of(p) != pgid for p in owners):
        return False
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    name, state = args.name, State(Path(args.run_dir), args.name)
    try:
        os.setpgid(0, 0)  # supervisord already does this; by hand we may not be a leader yet
    except OSError:
        pass
    pgid = os.getpgrp()
    become_subreaper()
    previous = state.read()
    if not free_port(name, args.port, previous.get("pgid"), pgid):
        state.write(runner=os.getpid(), pgid=pgid, pid=None, ready=False, error="port taken")
        time.sleep(min(restart_delay(state.crashes(), time.time()) or 1.0, MAX_DELAY_S))
        state.add_crash(time.time())
        return EXIT_PORT_TAKEN
    delay = restart_delay(state.crashes(), time.time())
    if delay:
        log(name, f"restarting after a crash: waiting {delay:.0f} s")
        time.sleep(delay)
    stopping = threading.Event()
    child: subprocess.Popen | None = None

    def forward(signum: int, _frame: object = None) -> None:
        stopping.set()
        if child is not None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass

    for signum in STOP_SIGNALS:
        signal.signal(signum, forward)
    child = subprocess.Popen(args.command)
    state.write(runner=os.getpid(), pgid=pgid, pid=child.pid, ready=False, started=time.time())
    # From here on a stop signal is taken by one thread that also logs who sent it.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def take_signals() -> None:
        while True:
            info = signal.sigwaitinfo(STOP_SIGNALS)
            log(name, f"{signal.Signals(info.si_signo).name} from {describe(info.si_pid)}: stopping")
            forward(info.si_signo)

    threading.Thread(target=take_signals, daemon=True).start()

    def watch_health() -> None:
        while child.poll() is None and not stopping.is_set():
            if healthy(args.health, args.port, pgid):
                state.write(runner=os.getpid(), pgid=pgid, pid=child.pid, ready=True, started=time.time())
                log(name, f"ready: pid {child.pid} listens on port {args.port}")
                return
            time.sleep(0.5)

    threading.Thread(target=watch_health, daemon=True).start()
    code = child.wait()
    state.write(runner=os.getpid(), pgid=pgid, pid=None, ready=False, exit=code)
    reap_orphans()
    leftovers = [p for p in group_members(pgid) if p != os.getpid()]
    if leftovers:
        kill_group(pgid, exclude=os.getpid(), on_wait=reap_orphans)
        log(name, f"stopped {len(leftovers)} leftover process(es) of the service's group")
    reap_orphans()
    if stopping.is_set():
        return 0
    state.add_crash(time.time())
    log(name, f"service exited unexpectedly (status {code})")
    return 128 - code if code < 0 else (code or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.runner", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--health", required=True, help="URL that answers 200 when the service is up")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command given after --")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
