"""Defect 3: production mode fails closed."""

from __future__ import annotations

import dataclasses

import pytest

from common.settings import get_settings
from tests.console.conftest import build_client


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    for name in ("CSA_ENV", "IDENTITY_SECRET", "SESSION_SECRET", "RASA_TOKEN", "ACTION_SERVER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("value", ["production", "Production", "PRODUCTION", " production "])
def test_production_is_recognised_whatever_the_case(env, value):
    env.setenv("CSA_ENV", value)
    assert get_settings().is_production


@pytest.mark.parametrize("value", ["prod", "live", "productoin", "dev", ""])
def test_an_unknown_environment_refuses_to_start(env, value):
    env.setenv("CSA_ENV", value)
    with pytest.raises(ValueError, match="CSA_ENV"):
        get_settings()


def test_development_is_the_default_and_case_insensitive(env):
    assert get_settings().environment == "development"
    env.setenv("CSA_ENV", "Development")
    get_settings.cache_clear()
    assert not get_settings().is_production


@pytest.mark.parametrize("name", ["IDENTITY_SECRET", "SESSION_SECRET", "RASA_TOKEN", "ACTION_SERVER_TOKEN"])
def test_production_refuses_short_secrets(env, name):
    env.setenv("CSA_ENV", "production")
    env.setenv(name, "x" * 31)
    with pytest.raises(ValueError, match="32 bytes"):
        get_settings()
    env.setenv(name, "x" * 32)
    get_settings.cache_clear()
    assert get_settings().is_production


def test_production_generated_secrets_are_long_enough(env):
    env.setenv("CSA_ENV", "PRODUCTION")
    settings = get_settings()
    assert all(
        len(getattr(settings, f)) >= 32
        for f in ("identity_secret", "session_secret", "rasa_token", "action_token")
    )


def test_production_has_no_api_schema_docs_or_demo_identity(settings, users):
    with build_client(settings) as dev:
        assert dev.get("/openapi.json").status_code == 200
        assert "data-identity" in dev.get("/?customer=DEMO-0001").text
    with build_client(dataclasses.replace(settings, environment="production")) as prod:
        for url in ("/openapi.json", "/docs", "/redoc"):
            assert prod.get(url).status_code == 404, url
        page = prod.get("/?customer=DEMO-0001")
        assert page.status_code == 200 and "data-identity" not in page.text


def test_production_refuses_development_users_with_any_spelling(env, settings, factory, users):
    from gateway.console import devusers
    from tests.console.conftest import login

    creds = devusers.load_or_create(devusers.credentials_path(settings))
    devusers.ensure_dev_users(factory, creds)
    env.setenv("CSA_ENV", "Production")
    env.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    production = dataclasses.replace(get_settings(), database_url=settings.database_url)
    with build_client(production) as client:
        refused = login(client, creds["agent"]["username"], creds["agent"]["password"])
        assert refused.status_code == 401 and "disabled in production" in refused.text


def test_rate_limits_can_be_turned_off_for_benchmarks_but_not_in_production(env):
    env.setenv("RATE_LIMITS", "off")
    assert get_settings().rate_limits is False
    env.setenv("CSA_ENV", "production")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="RATE_LIMITS"):
        get_settings()
    env.setenv("RATE_LIMITS", "maybe")
    env.setenv("CSA_ENV", "development")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="RATE_LIMITS"):
        get_settings()
