"""The CRM fixtures of tests/crm (a migrated database on SQLite, and on PostgreSQL when
TEST_POSTGRES_URL is set) for the gateway tests that need a store."""

from tests.crm.conftest import db_url, engine, migrated_url, session_factory  # noqa: F401
