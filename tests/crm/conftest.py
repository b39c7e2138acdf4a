"""Fixtures: every DB test runs on SQLite, and also on PostgreSQL when TEST_POSTGRES_URL is set.

TEST_POSTGRES_URL points at a server where the user may CREATE DATABASE, e.g.
``postgresql+psycopg://postgres@127.0.0.1:55432/postgres`` (see crm/devtools/pg_server.sh).
Each test gets its own throw-away database (PostgreSQL) or file (SQLite).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from crm import migrate
from crm.db import make_engine, make_session_factory

PG_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database on each available backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def migrated_url(db_url) -> str:
    migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def engine(migrated_url):
    eng = make_engine(migrated_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory):
    """A plain session (tests commit explicitly where it matters)."""
    with session_factory() as s:
        yield s


def statements_run(engine, work) -> list[tuple[str, object]]:
    """``(SQL, parameters)`` of every statement ``engine`` executes while ``work()`` runs."""
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen
