"""Sign-in, session cookie flags, CSRF, role checks and development accounts."""
from __future__ import annotations

import dataclasses
import json
import stat

import pytest

from bot.gateway.console import devusers
from crm.db import session_scope
from crm.repo.admin import authenticate, create_user
from tests.console.conftest import PASSWORD, build_client, login


def test_login_sets_httponly_samesite_session_and_redirects_by_role(app_client):
    response = login(app_client, "trainer1")
    assert response.status_code == 303 and response.headers["location"] == "/trainer"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("lumen_console=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert app_client.get("/api/console/me").json()["role"] == "trainer"


def test_wrong_password_and_missing_form_token_are_refused(app_client):
    bad = login(app_client, "agent1", "wrong-password-123")
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    forged = app_client.post("/login", data={"username": "agent1", "password": PASSWORD, "csrf": "x"},
                             follow_redirects=False)
    assert forged.status_code == 403
    assert "lumen_console" not in forged.headers.get("set-cookie", "")


def test_repeated_failures_are_throttled(app_client):
    for _ in range(5):
        login(app_client, "manager1", "nope-nope-nope")
    assert login(app_client, "manager1").status_code == 429


def test_next_parameter_cannot_redirect_off_site(app_client):
    assert login(app_client, "agent1", next_url="//evil.example/").headers["location"] == "/agent"
    app_client.cookies.clear()
    assert login(app_client, "agent1", next_url="/analytics").headers["location"] == "/analytics"


def test_apis_need_a_session(app_client):
    for url in ("/api/agent/queue", "/api/trainer/entries", "/api/analytics", "/api/console/me"):
        assert app_client.get(url).status_code == 401
    page = app_client.get("/agent", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


@pytest.mark.parametrize("username, allowed, refused", [
    ("agent1", ["/api/agent/queue"], ["/api/trainer/entries", "/api/analytics"]),
    ("trainer1", ["/api/trainer/entries"], ["/api/agent/queue", "/api/analytics"]),
    ("manager1", ["/api/agent/queue", "/api/analytics"], ["/api/trainer/entries"]),
    ("admin1", ["/api/agent/queue", "/api/trainer/entries", "/api/analytics"], []),
])
def test_every_api_checks_the_role(as_user, username, allowed, refused):
    user = as_user(username)
    for url in allowed:
        assert user.get(url).status_code == 200, url
    for url in refused:
        assert user.get(url).status_code == 403, url


def test_pages_check_the_role(as_user):
    trainer = as_user("trainer1")
    assert trainer.get("/trainer").status_code == 200
    assert trainer.get("/agent").status_code == 403
    assert trainer.get("/analytics").status_code == 403
    page = trainer.get("/trainer")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert trainer.csrf in page.text  # the page carries the session's CSRF token


def test_state_changing_calls_need_the_csrf_token_and_same_origin(as_user):
    agent = as_user("agent1")
    url = "/api/agent/conversations/1/claim"
    assert agent.client.post(url).status_code == 403
    assert agent.client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    cross = agent.post(url, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    assert agent.post(url).status_code == 409  # passes CSRF; nothing to claim


def test_logout_needs_the_form_token(as_user):
    agent = as_user("agent1")
    assert agent.client.post("/logout", data={"csrf": "nope"}, follow_redirects=False).status_code == 403
    out = agent.client.post("/logout", data={"csrf": agent.csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert agent.client.get("/api/console/me").status_code == 401


def test_deactivated_user_loses_the_session_at_once(as_user, factory):
    from crm.models import User

    agent = as_user("agent2")
    with session_scope(factory) as session:
        session.query(User).filter_by(username="agent2").update({"active": False})
    assert agent.get("/api/agent/queue").status_code == 401


def test_dev_users_are_created_once_with_a_private_file(settings, factory):
    path = devusers.credentials_path(settings)
    creds = devusers.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert devusers.load_or_create(path) == creds
    with session_scope(factory) as session:  # `crm seed` made demo-agent with another password
        create_user(session, username="demo-agent", password="some-other-password", role="agent")
    assert "reset demo-agent" in devusers.ensure_dev_users(factory, creds)
    assert devusers.ensure_dev_users(factory, creds) == []
    with session_scope(factory) as session:
        for role, cred in creds.items():
            user = authenticate(session, cred["username"], cred["password"])
            assert user is not None and user.role == role


def test_dev_users_cli_prints_logins_and_refuses_production(settings, monkeypatch, capsys):
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    assert devusers.main([]) == 0
    out = capsys.readouterr().out
    saved = json.loads(devusers.credentials_path(settings).read_text())
    assert saved["trainer"]["password"] in out and "/trainer" in out
    monkeypatch.setenv("CSA_ENV", "production")
    get_settings.cache_clear()
    assert devusers.main([]) == 2


def test_production_mode_refuses_dev_accounts(settings, factory, users):
    creds = devusers.load_or_create(devusers.credentials_path(settings))
    devusers.ensure_dev_users(factory, creds)
    dev = creds["agent"]["username"]
    with build_client(settings) as client:  # development: the dev account works
        assert login(client, dev, creds["agent"]["password"]).status_code == 303
        assert client.get("/api/agent/queue").status_code == 200
    with build_client(dataclasses.replace(settings, environment="production")) as client:
        refused = login(client, dev, creds["agent"]["password"])
        assert refused.status_code == 401 and "disabled in production" in refused.text
        assert login(client, "agent1").status_code == 303  # real accounts still work
