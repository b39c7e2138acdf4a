"""Console API tests: the real gateway app (no Rasa) on a migrated SQLite CRM in a temp dir."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from crm import migrate
from crm.db import make_engine, make_session_factory, session_scope
from crm.repo import admin as admin_repo
from crm.repo.admin import create_user

PASSWORD = "correct-horse-battery"
# Cheap argon2 parameters keep the many sign-ins of these tests fast (production keeps the defaults).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    monkeypatch.setattr(admin_repo, "_hasher", FAST_HASHER)


ROLES = ("agent", "trainer", "manager", "admin")


class FakeKB:
    """Stands in for the encoder-backed KB search (loading it takes seconds)."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def warm(self) -> None:
        pass

    def embedder(self) -> None:
        return None

    def reload(self) -> None:
        pass

    def current_build(self) -> str | None:
        return None

    def closest_entry(self, text: str, language: str | None = None) -> str | None:
        return self.report(text, language, 1)["hits"][0]["entry_id"]

    def report(self, text: str, language: str | None = None, k: int = 5) -> dict[str, Any]:
        self.queries.append(text)
        return {
            "decision": "answer",
            "language": language or "en",
            "notice": None,
            "index": "test",
            "thresholds": {"min_score": 0.3},
            "hits": [
                {
                    "entry_id": "returns-policy",
                    "score": 0.91,
                    "question": "How do I return?",
                    "answer": "Within 7 days.",
                    "category": "returns",
                }
            ],
        }


def make_settings(tmp_path: Path, **overrides: Any) -> Any:
    from common.settings import Settings

    base = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'crm.sqlite3'}",
        kb_source=Path(__file__).resolve().parents[2] / "kb" / "data" / "reference_faq.yml",
        kb_index_root=tmp_path / "kb",
        kb_encoder="use-multilingual-v3",
        rasa_url="http://127.0.0.1:9",
        rasa_token="rasa-token-for-tests-0123456789abcdef",
        action_server_port=9,
        gateway_host="testserver",
        gateway_port=80,
        max_message_chars=2000,
        identity_secret="identity-secret-for-tests-0123456789abcdef",
        session_secret="session-secret-for-tests-0123456789abcdef",
        action_token="action-token-for-tests-0123456789abcdef",
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A migrated CRM file with one user per role (plus ``agent2``), copied for each test."""
    path = tmp_path_factory.mktemp("console-template") / "crm.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with pytest.MonkeyPatch.context() as patch, session_scope(make_session_factory(engine)) as session:
        patch.setattr(admin_repo, "_hasher", FAST_HASHER)
        for role in ROLES:
            create_user(
                session, username=f"{role}1", password=PASSWORD, role=role, display_name=f"{role.title()} One"
            )
        create_user(session, username="agent2", password=PASSWORD, role="agent")
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path, monkeypatch, template_db):
    from common.settings import get_settings

    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    shutil.copyfile(template_db, tmp_path / "crm.sqlite3")
    yield make_settings(tmp_path)
    get_settings.cache_clear()


@pytest.fixture
def factory(settings):
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def users(factory) -> dict[str, int]:
    """User ids by role (``agent2`` is a second agent)."""
    from crm.repo.admin import get_user_by_username

    with session_scope(factory) as session:
        return {
            name.rstrip("1"): get_user_by_username(session, name).id
            for name in [f"{r}1" for r in ROLES] + ["agent2"]
        }


def build_client(settings: Any) -> TestClient:
    """Production cookies are Secure, so a production app is reached over https."""
    from gateway.app import create_app

    scheme = "https" if settings.is_production else "http"
    return TestClient(create_app(settings), base_url=f"{scheme}://testserver")


@pytest.fixture
def app_client(settings, users) -> Iterator[TestClient]:
    from gateway.console import users as console_users

    console_users.throttle.clear()
    with build_client(settings) as client:
        client.app.state.console_kb = FakeKB()
        yield client


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "") -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token, "next": next_url},
        follow_redirects=False,
    )


class Console:
    """A signed-in console user with its own cookie jar."""

    def __init__(self, settings: Any, app: Any, username: str) -> None:
        self.client = TestClient(app, base_url="http://testserver")
        response = login(self.client, username)
        assert response.status_code == 303, response.text
        self.csrf = self.client.get("/api/console/me").json()["csrf"]

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(url, json=json, headers=headers, **kw)

    def put(self, url: str, json: Any = None) -> Any:
        return self.client.put(url, json=json, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture
def as_user(app_client, settings):
    def make(username: str) -> Console:
        return Console(settings, app_client.app, username)

    return make
