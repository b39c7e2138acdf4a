"""ops.rasa_endpoints: Rasa's tracker and lock stores for the environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from common.settings import PROJECT_ROOT, get_settings
from ops.rasa_endpoints import TRACKER_CLASS, render

BASE = (PROJECT_ROOT / "endpoints.yml").read_text()


def settings(**changes):
    return dataclasses.replace(get_settings(), **changes)


def test_sqlite_file_in_var_by_default(tmp_path: Path):
    out = yaml.safe_load(
        render(settings(database_url=f"sqlite:///{tmp_path}/crm.db", var_dir=tmp_path), BASE)
    )
    assert out["tracker_store"] == {
        "type": TRACKER_CLASS,
        "dialect": "sqlite",
        "db": str(tmp_path / "rasa_trackers.sqlite3"),
    }
    assert "lock_store" not in out
    assert out["action_endpoint"]["url"] == "http://127.0.0.1:${ACTION_SERVER_PORT}/webhook"


def test_postgresql_of_the_crm_and_redis_locks():
    out = yaml.safe_load(
        render(
            settings(
                database_url="postgresql+psycopg://lumen:p%40ss@db.internal:6543/crm",
                redis_url="redis://:secret@cache:6380/3",
                action_server_url="http://actions:5055/webhook",
            ),
            BASE,
        )
    )
    assert out["tracker_store"] == {
        "type": TRACKER_CLASS,
        "dialect": "postgresql",
        "db": "crm_rasa",
        "login_db": "crm",
        "url": "db.internal",
        "port": 6543,
        "username": "lumen",
        "password": "p@ss",
    }
    assert out["lock_store"] == {
        "type": "redis",
        "url": "cache",
        "port": 6380,
        "db": 3,
        "key_prefix": "lumen",
        "password": "secret",
    }
    assert out["action_endpoint"]["url"] == "http://actions:5055/webhook"


def test_memory_keeps_rasas_default():
    out = yaml.safe_load(render(settings(rasa_tracker_store="memory"), BASE))
    assert "tracker_store" not in out
