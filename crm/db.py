"""Engine / session plumbing. Nothing is created at import time.

* :func:`make_engine` builds an engine for a URL (default: ``common.settings``) and turns malformed
  URLs into :class:`~crm.errors.CRMConfigError`.
* :func:`session_scope` is the one unit-of-work helper: commit at the end, rollback on error.
* :func:`rowcount` reads how many rows an UPDATE/DELETE matched (repositories' conditional
  updates: claims, transitions).
* SQLite connections get WAL, foreign keys and a busy timeout; transactions start with
  ``BEGIN IMMEDIATE`` so that read-then-write units of work never fail with a lock-upgrade
  ``SQLITE_BUSY`` and SAVEPOINTs work (pysqlite's own transaction handling is switched off).
  Read-only session factories (``make_session_factory(engine, read_only=True)``) use
  ``BEGIN DEFERRED`` instead and run concurrently with writers (WAL).
  Keep units of work short: on SQLite one open write transaction blocks all other writers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Unpack

from sqlalchemy import create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, CursorResult, Engine, Result, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from crm.errors import CRMConfigError, one_line, redact_url

SQLITE_BUSY_TIMEOUT_S = 10


def default_url() -> str:
    """The configured database URL (``DATABASE_URL`` via ``common.settings``)."""
    from common.settings import get_settings

    return get_settings().database_url


def parse_url(url: str | URL | None = None) -> URL:
    """Parse ``url`` (default: settings), raising :class:`CRMConfigError` if malformed."""
    raw = default_url() if url is None else url
    try:
        parsed = make_url(raw)
        parsed.get_dialect()  # fails for unknown schemes such as postgres:// or missing drivers
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ValueError) as exc:
        hint = ""
        if str(raw).startswith("postgres://"):
            hint = " (use postgresql+psycopg://user:password@host:port/dbname)"
        raise CRMConfigError(f"invalid database URL {redact_url(raw)!r}: {one_line(exc)}{hint}") from None
    return parsed


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: ``get_settings().database_url``).

    Does not connect; use :func:`ping` to verify connectivity with a one-line error.
    Extra ``kwargs`` go to :func:`sqlalchemy.create_engine`.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        connect_args.setdefault("check_same_thread", False)
        database = parsed.database or ""
        if not (database in ("", ":memory:") or database.startswith("file:")):
            _private_sqlite_file(Path(database))
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _install_sqlite_hooks(engine, in_memory=database in ("", ":memory:"))
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        connect_args = kwargs.pop("connect_args", {})
        if parsed.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args.setdefault("connect_timeout", 5)
        return create_engine(parsed, connect_args=connect_args, **kwargs)
    return create_engine(parsed, **kwargs)


def _private_sqlite_file(path: Path) -> None:
    """The CRM holds personal data: create the SQLite file owner-only (0600) and tighten an
    existing one (its -wal/-shm files inherit the database file's mode)."""
    try:
        if not path.exists():
            if path.parent.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            return
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
                file.chmod(0o600)
    except OSError:
        pass  # not ours to change (read-only mount, another owner): SQLite reports real problems


def _install_sqlite_hooks(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(  # pragma: no cover - exercised via every test
        dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry
    ) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Session factory; objects stay usable after commit (``expire_on_commit=False``).

    ``read_only=True`` (for polling/dashboards) starts SQLite transactions DEFERRED so they
    never wait for, or block, writers; such sessions must not write. No effect on PostgreSQL.
    """
    if read_only and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="DEFERRED")
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session per unit of work: commit when the block ends, roll back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def describe_db_error(exc: BaseException, url: str | URL | None = None) -> str:
    """One-line, password-free description of a connection/driver error."""
    orig = getattr(exc, "orig", None) or exc
    msg = one_line(orig)
    low = msg.lower()
    if "password authentication failed" in low or "authentication failed" in low:
        problem = "authentication failed (check the user name and password in DATABASE_URL)"
    elif "role" in low and "does not exist" in low:
        problem = "database user does not exist (check DATABASE_URL)"
    elif "connection refused" in low or "could not connect" in low or "timeout" in low:
        problem = "database server unreachable"
    elif "unable to open database file" in low:
        problem = "cannot open SQLite file (does its directory exist and is it writable?)"
    elif "does not exist" in low and "database" in low:
        problem = "database does not exist"
    else:
        problem = "database error"
    where = f" at {redact_url(url)}" if url is not None else ""
    return one_line(f"{problem}{where}: {msg}")


def ping(engine: Engine) -> None:
    """Open a connection and run ``SELECT 1``; raise :class:`CRMConfigError` on failure."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DatabaseError) as exc:
        raise CRMConfigError(describe_db_error(exc, engine.url)) from None


def rowcount(result: Result[Unpack[tuple[Any, ...]]]) -> int:
    """Rows matched by the UPDATE or DELETE that produced ``result``.

    ``Session.execute`` is typed as returning a plain ``Result``; for DML it returns a
    ``CursorResult``, which is what carries ``rowcount``.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount
