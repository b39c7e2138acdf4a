"""Who holds a TCP port, and process groups: read from ``/proc`` (Linux).

A listening socket is found by its inode in ``/proc/net/tcp{,6}`` and traced to the processes
whose file descriptors point at it, so a health check can tell the server it started from a
stranger (or an orphan of an earlier run) that happens to answer on the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def port_owners(port: int) -> set[int]:
    """PIDs holding a listening socket on ``port`` (any address)."""
    targets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    owners: set[int] = set()
    if not targets:
        return owners
    for pid in _pids():
        try:
            fds = os.scandir(PROC / str(pid) / "fd")
        except OSError:
            continue
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) in targets:
                        owners.add(pid)
                        break
                except OSError:
                    continue
    return owners


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on ``port`` (checked by binding, plus ``/proc``)."""
    if _listening_inodes(port):
        return True
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (zombies excluded)."""
    members = []
    for pid in _pids():
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(pid)
    return members


def describe(pid: int) -> str:
    try:
        cmd = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmd = "?"
    return f"pid {pid} ({cmd.strip()[:120]})"


def kill_group(
    pgid: int, *, exclude: int | None = None, grace_s: float = 5.0, on_wait: Callable[[], None] | None = None
) -> list[int]:
    """SIGTERM every member of ``pgid`` but ``exclude``, SIGKILL what is left after ``grace_s``.
    ``on_wait`` runs while waiting (a subreaper reaps its adopted orphans there).
    Returns the PIDs that had to be signalled."""
    victims = [p for p in group_members(pgid) if p != exclude]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            if on_wait is not None:
                on_wait()
            if not [p for p in group_members(pgid) if p != exclude]:
                return victims
            time.sleep(0.1)
        victims_left = [p for p in group_members(pgid) if p != exclude]
        if not victims_left:
            return victims
        victims = victims_left
    return victims
