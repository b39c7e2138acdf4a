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


def _add_future_revision(tmp_path, monkeypatch) -> str:
    """Point crm.migrate at a copy of the migrations with one extra revision after head."""
    import shutil
    import textwrap

    dst = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, dst, ignore=shutil.ignore_patterns("__pycache__"))
    rev = "9000_test_next"
    (dst / "versions" / f"{rev}.py").write_text(textwrap.dedent(f'''
        from alembic import op

        revision = "{rev}"
        down_revision = "{migrate.heads()[0]}"
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
            op.create_index("ix_test_next_customers_name", "customers", ["name"])


        def downgrade() -> None:
            op.drop_index("ix_test_next_customers_name", table_name="customers")
    '''))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", dst)
    return rev


def test_cli_migrate_upgrades_older_schema_and_keeps_data(capsys, migrated_url, tmp_path, monkeypatch):
    from alembic import command

    from crm import cli

    old_head = migrate.heads()[0]
    eng = make_engine(migrated_url)
    try:
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO customers (name, preferred_language, tier, lifetime_value, preferences,"
                " consent_personalisation, consent_marketing, created_at) VALUES ('Kept', 'en',"
                " 'gold', 0, '{}', false, false, CURRENT_TIMESTAMP)"))
        new_rev = _add_future_revision(tmp_path, monkeypatch)
        assert migrate.heads() == (new_rev,)
        with pytest.raises(CRMSchemaError, match=f"revision {old_head} is older than this code"):
            migrate.check(migrated_url)
        assert cli.main(["--url", migrated_url, "migrate"]) == 0
        assert capsys.readouterr().out == f"database at revision {new_rev}\n"
        assert migrate.check(migrated_url) == new_rev
        names = {ix["name"] for ix in inspect(eng).get_indexes("customers")}
        assert "ix_test_next_customers_name" in names
        with eng.connect() as conn:
            assert conn.execute(text("SELECT name FROM customers")).scalars().all() == ["Kept"]
        # ... and the new revision can be rolled back
        command.downgrade(migrate.alembic_config(url=migrated_url), old_head)
        assert migrate.current(migrated_url) == (old_head,)
    finally:
        eng.dispose()


def test_cli_migrate_refuses_newer_schema(capsys, migrated_url):
    from crm import cli

    _set_revision(migrated_url, "9999_future")
    assert cli.main(["--url", migrated_url, "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: database schema revision 9999_future is newer than this code")
    assert err.count("\n") == 1
    assert migrate.current(migrated_url) == ("9999_future",)  # left untouched
