"""Apply and verify the Alembic schema programmatically.

* :func:`upgrade` brings a database to the code's head revision (creating an SQLite file's
  directory if needed). It refuses to touch a database whose schema is newer than the code.
* :func:`check` verifies the schema is exactly at head; processes call it at start-up.

Both raise :class:`CRMConfigError` (bad URL / unreachable / bad credentials) or
:class:`CRMSchemaError` (schema mismatch) with one-line messages.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import URL

from crm.db import make_engine, parse_url, ping
from crm.errors import CRMSchemaError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x43524D  # arbitrary advisory-lock key ("CRM") serialising upgrades


def alembic_config(url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` pointing at ``crm/migrations`` (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def heads() -> tuple[str, ...]:
    """Head revision(s) known to this code."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current(url: str | URL | None = None) -> tuple[str, ...]:
    """Revision(s) recorded in the database (empty tuple for an uninitialised database)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return tuple(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def _engine(url: str | URL | None) -> Engine:
    engine = make_engine(url)
    try:
        ping(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


def _refuse_newer(db_revs: tuple[str, ...]) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    code_head = ", ".join(script.get_heads())
    for rev in db_revs:
        try:
            known = script.get_revision(rev)
        except Exception:  # alembic raises ResolutionError/CommandError subclasses
            known = None
        if known is None:
            raise CRMSchemaError(
                f"database schema revision {rev} is newer than this code (head {code_head}); "
                "upgrade the application"
            )


def check(url: str | URL | None = None) -> str:
    """Return the database revision if it equals the code's head, else raise CRMSchemaError."""
    db_revs = current(url)
    code_heads = heads()
    if not db_revs:
        raise CRMSchemaError("database has no CRM schema (no alembic revision); run `python -m crm migrate`")
    _refuse_newer(db_revs)
    if set(db_revs) != set(code_heads):
        raise CRMSchemaError(
            f"database schema revision {', '.join(db_revs)} is older than this code "
            f"(head {', '.join(code_heads)}); run `python -m crm migrate`"
        )
    return db_revs[0]


def upgrade(url: str | URL | None = None, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (default head); return the resulting revision."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(parsed)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            _refuse_newer(tuple(MigrationContext.configure(conn).get_current_heads()))
            command.upgrade(alembic_config(connection=conn), revision)
            revs = MigrationContext.configure(conn).get_current_heads()
        return ", ".join(revs)
    finally:
        engine.dispose()
