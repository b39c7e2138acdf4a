"""File side of the outbox: an append-only, fsync'd JSONL file with cross-process locking.

See :mod:`crm.outbox` for what goes into it and how it is replayed.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def default_outbox_path() -> Path:
    """``<var_dir>/outbox/messages.jsonl`` from ``common.settings``."""
    from common.settings import get_settings

    return get_settings().var_dir / "outbox" / "messages.jsonl"


class Outbox:
    """Append-only JSONL file, safe across threads and processes (``flock`` on a sidecar)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.dead_path = self.path.with_name(self.path.name + ".dead")
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()  # never nest _locked(): flock is per open file
        self._replay_lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def append(self, entry: Mapping[str, Any]) -> None:
        """Append one entry and fsync it before returning."""
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._locked():
            terminate_torn_line(self.path)
            append_bytes(self.path, line)

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def pending(self) -> list[dict[str, Any]]:
        """Queued entries in order (unparseable lines are skipped here, dead-lettered on replay)."""
        with self._locked():
            data, _ = read_complete(self.path)
        out = []
        for raw in data.splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
        return out

    def __len__(self) -> int:
        return len(self.pending())


def append_bytes(path: Path, data: bytes) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def terminate_torn_line(path: Path) -> None:
    """End a partial last line (left by a crash mid-append) so later lines stay intact.

    Call with the outbox lock held: writers only write under it, so a partial line seen
    then can never be a write in progress. The torn line is later dead-lettered.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
    except FileNotFoundError:
        return
    append_bytes(path, b"\n")


def read_complete(path: Path) -> tuple[bytes, int]:
    """File content up to and including the last newline (a torn last write is excluded)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b"", 0
    end = data.rfind(b"\n") + 1
    return data[:end], end


def compact(outbox: Outbox, keep: list[bytes], snap_len: int) -> None:
    """Rewrite the file as ``keep`` + whatever was appended after the snapshot (atomically)."""
    with outbox._locked():
        try:
            tail = outbox.path.read_bytes()[snap_len:]
        except FileNotFoundError:
            tail = b""
        tmp = outbox.path.with_name(outbox.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, b"".join(keep) + tail)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, outbox.path)
        _fsync_dir(outbox.path.parent)
