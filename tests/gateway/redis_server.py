"""A real ``redis-server`` (Debian's package) on a free loopback port with a password, for the
Redis hub's tests. Tests skip, saying why, only when the binary is missing."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """Start, stop (``kill``) and restart one server on the same port and password."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        conf = self.folder / "redis.conf"
        conf.write_text(
            f'bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\nsave ""\n'
            f"appendonly no\ndir {self.folder}\nlogfile {self.folder / 'redis.log'}\n"
        )
        conf.chmod(0o600)
        self.process = subprocess.Popen([REDIS_SERVER, str(conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                    if b"PONG" in s.recv(100):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@contextmanager
def running_redis(folder: Path) -> Iterator[RedisServer]:
    """A started server, killed at the end (a test skips when redis-server is not installed)."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (scripts/system_packages.sh installs Debian's)")
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
