from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from crm import migrate
from crm.db import make_engine
from crm.errors import CRMSchemaError
from crm.models import Base


def test_upgrade_empty_db_creates_all_tables(db_url):
    assert migrate.current(db_url) == ()
    assert migrate.upgrade(db_url) == migrate.heads()[0]
    assert migrate.check(db_url) == migrate.heads()[0]
    eng = make_engine(db_url)
    try:
        tables = set(inspect(eng).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with eng.connect() as conn:  # models and migrations agree
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        eng.dispose()


def test_upgrade_is_idempotent(migrated_url):
    assert migrate.upgrade(migrated_url) == migrate.heads()[0]


def test_check_refuses_uninitialised_db(db_url):
    with pytest.raises(CRMSchemaError, match="python -m crm migrate"):
        migrate.check(db_url)


def _set_revision(url: str, rev: str) -> None:
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": rev})
    finally:
        eng.dispose()


def test_check_refuses_newer_schema(migrated_url):
    _set_revision(migrated_url, "9999_future")
    with pytest.raises(CRMSchemaError) as info:
        migrate.check(migrated_url)
    msg = str(info.value)
    assert msg == (
        f"database schema revision 9999_future is newer than this code "
        f"(head {migrate.heads()[0]}); upgrade the application"
    )
    with pytest.raises(CRMSchemaError, match="newer than this code"):
        migrate.upgrade(migrated_url)  # never "downgrade" by accident


def test_sqlite_pragmas(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        eng.dispose()
