"""A real redis-server (``redis_server``) and the CRM fixtures of tests/crm (a migrated database
on SQLite, and on PostgreSQL when TEST_POSTGRES_URL is set) for the gateway tests that need them."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crm.conftest import db_url, engine, migrated_url, session_factory  # noqa: F401
from tests.gateway.redis_server import RedisServer, running_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server
