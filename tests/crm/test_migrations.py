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


def test_0002_adds_console_sessions_to_a_0001_database(capsys, db_url):
    """An existing 0001 database (with users) gains ``console_sessions``; `crm check` passes."""
    from alembic import command

    from crm import cli

    assert migrate.upgrade(db_url, "0001") == "0001"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, password_hash, role, active, created_at)"
                " VALUES ('kept', 'x', 'agent', true, CURRENT_TIMESTAMP)"))
        assert "console_sessions" not in inspect(eng).get_table_names()
        assert cli.main(["--url", db_url, "check"]) == 2
        assert "is older than this code" in capsys.readouterr().err
        assert cli.main(["--url", db_url, "migrate"]) == 0
        assert capsys.readouterr().out == "database at revision 0002\n"
        assert cli.main(["--url", db_url, "check"]) == 0
        assert capsys.readouterr().out == "database schema OK (revision 0002)\n"
        insp = inspect(eng)
        columns = {c["name"]: c for c in insp.get_columns("console_sessions")}
        assert set(columns) == {"id", "user_id", "csrf_token", "created_at", "last_seen_at",
                                "expires_at", "revoked_at", "client_ip", "user_agent"}
        assert not columns["expires_at"]["nullable"] and columns["revoked_at"]["nullable"]
        assert insp.get_pk_constraint("console_sessions")["constrained_columns"] == ["id"]
        assert [(ix["name"], ix["column_names"]) for ix in insp.get_indexes("console_sessions")] == [
            ("ix_console_sessions_user_id", ["user_id"])]
        fk = insp.get_foreign_keys("console_sessions")[0]
        assert fk["referred_table"] == "users" and fk["options"].get("ondelete") == "CASCADE"
        with eng.connect() as conn:  # models and migrations agree after the upgrade too
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["kept"]
            user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
        with eng.begin() as conn:  # the table works (and deleting the user removes its sessions)
            conn.execute(text(
                "INSERT INTO console_sessions (id, user_id, csrf_token, created_at, last_seen_at,"
                " expires_at) VALUES (:id, :uid, 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"), {"id": "a" * 64, "uid": user_id})
        with eng.begin() as conn:
            conn.execute(text("DELETE FROM users"))
            assert conn.execute(text("SELECT count(*) FROM console_sessions")).scalar_one() == 0
        command.downgrade(migrate.alembic_config(url=db_url), "0001")
        assert migrate.current(db_url) == ("0001",)
        assert "console_sessions" not in inspect(eng).get_table_names()
    finally:
        eng.dispose()
