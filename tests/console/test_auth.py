"""Sign-in, session cookie flags, CSRF, role checks and development accounts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from crm.db import session_scope
from crm.repo.admin import authenticate, create_user
from gateway.console import devusers
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
    forged = app_client.post(
        "/login", data={"username": "agent1", "password": PASSWORD, "csrf": "x"}, follow_redirects=False
    )
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


@pytest.mark.parametrize(
    "username, allowed, refused",
    [
        ("agent1", ["/api/agent/queue"], ["/api/trainer/entries", "/api/analytics"]),
        ("trainer1", ["/api/trainer/entries"], ["/api/agent/queue", "/api/analytics"]),
        ("manager1", ["/api/agent/queue", "/api/analytics"], ["/api/trainer/entries"]),
        ("admin1", ["/api/agent/queue", "/api/trainer/entries", "/api/analytics"], []),
    ],
)
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
    from common.settings import get_settings

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


# ------------------------------------------------------------------ server-side sessions


def _session_cookie(client) -> str:
    return client.cookies.get("lumen_console")


def _replay(app, cookie: str):
    """A fresh client (another browser, or an attacker) holding only a copy of the cookie."""
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://testserver")
    client.cookies.set("lumen_console", cookie)
    return client


def test_logout_revokes_the_session_so_a_copied_cookie_stops_working(as_user, app_client, factory):
    from crm.models import AuditLog

    agent = as_user("agent1")
    copied = _session_cookie(agent.client)
    thief = _replay(app_client.app, copied)
    assert thief.get("/api/console/me").json()["username"] == "agent1"
    assert agent.client.post("/logout", data={"csrf": agent.csrf}, follow_redirects=False).status_code == 303
    assert thief.get("/api/console/me").status_code == 401
    assert thief.get("/api/agent/queue").status_code == 401
    page = thief.get("/agent", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    again = _replay(app_client.app, copied)  # the very cookie the browser had, replayed
    assert again.get("/api/console/me").status_code == 401
    with session_scope(factory) as session:
        actions = session.query(AuditLog.action).filter(AuditLog.actor == "agent1").all()
    assert [a for (a,) in actions] == ["console.login", "console.logout"]


def test_logout_ends_only_that_session(as_user):
    first, second = as_user("agent1"), as_user("agent1")
    assert first.client.post("/logout", data={"csrf": first.csrf}, follow_redirects=False).status_code == 303
    assert first.get("/api/console/me").status_code == 401
    assert second.get("/api/console/me").status_code == 200
    assert first.csrf != second.csrf  # each session has its own CSRF token


def test_expired_or_revoked_session_rows_are_refused(as_user, factory, users):
    from crm.models import ConsoleSession
    from crm.repo.admin import console_session_id, revoke_user_console_sessions

    agent, trainer = as_user("agent1"), as_user("trainer1")
    assert agent.get("/api/console/me").status_code == 200
    with session_scope(factory) as session:
        row = session.get(ConsoleSession, console_session_id(_token(agent.client)))
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert agent.get("/api/console/me").status_code == 401
    assert agent.get("/agent", follow_redirects=False).headers["location"].startswith("/login")
    assert trainer.get("/api/console/me").status_code == 200
    with session_scope(factory) as session:
        assert revoke_user_console_sessions(session, users["trainer"]) == 1
    assert trainer.get("/api/console/me").status_code == 401


def _token(client) -> str:
    from gateway.console.auth import read_session

    token = read_session(client.app.state.settings, _session_cookie(client))
    assert token
    return token


def test_forged_unsigned_or_old_style_cookies_are_refused(as_user, app_client, settings):
    from itsdangerous import URLSafeTimedSerializer

    agent = as_user("agent1")
    token = _token(agent.client)
    ours = URLSafeTimedSerializer(settings.session_secret, salt="lumen-console-session")
    theirs = URLSafeTimedSerializer("not-the-secret", salt="lumen-console-session")
    forged = [
        token,  # the bare token, unsigned
        hashlib.sha256(token.encode()).hexdigest(),  # the stored hash
        theirs.dumps(token),  # signed with another key
        _session_cookie(agent.client)[:-2] + "AA",  # signature tampered with
        ours.dumps("made-up-token"),  # well signed, but no such session
        ours.dumps({"uid": 1, "csrf": "x"}),  # the old format (user id in the cookie)
        ours.dumps(12345),
    ]
    for value in forged:
        assert _replay(app_client.app, value).get("/api/console/me").status_code == 401, value
    assert agent.get("/api/console/me").status_code == 200


def test_session_row_stores_only_the_token_hash(as_user, factory, settings):
    from crm.models import ConsoleSession

    agent = as_user("agent1")
    cookie, token = _session_cookie(agent.client), _token(agent.client)
    with session_scope(factory) as session:
        rows = session.query(ConsoleSession).all()
        assert [r.id for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        stored = " ".join(str(getattr(r, c.key)) for r in rows for c in ConsoleSession.__table__.columns)
        assert rows[0].user_agent == "testclient" and rows[0].client_ip == "testclient"
        assert rows[0].expires_at - rows[0].created_at == timedelta(hours=12)
    assert cookie not in stored and token not in stored
    db_file = settings.var_dir / "crm.sqlite3"  # not even in the SQLite file's bytes (or its WAL)
    data = b"".join(p.read_bytes() for p in db_file.parent.glob("crm.sqlite3*"))
    assert rows[0].id.encode() in data  # (the check does see the stored values)
    assert token.encode() not in data and cookie.encode() not in data


def test_password_reset_of_a_dev_account_ends_its_sessions(settings, factory, app_client):
    creds = devusers.load_or_create(devusers.credentials_path(settings))
    devusers.ensure_dev_users(factory, creds)
    dev = creds["agent"]["username"]
    assert login(app_client, dev, creds["agent"]["password"]).status_code == 303
    assert app_client.get("/api/console/me").status_code == 200
    creds["agent"]["password"] = "a-brand-new-password"
    assert devusers.ensure_dev_users(factory, creds) == [f"reset {dev}"]
    assert app_client.get("/api/console/me").status_code == 401


def test_live_console_socket_closes_when_the_session_ends(as_user, monkeypatch):
    from starlette.websockets import WebSocketDisconnect

    from gateway.console import auth

    monkeypatch.setattr(auth, "SOCKET_RECHECK_S", 0.05)
    agent = as_user("agent1")
    with agent.client.websocket_connect("/ws/console") as ws:
        assert ws.receive_json()["type"] == "hello"
        time.sleep(0.3)
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}  # still open after several re-checks
        out = agent.client.post("/logout", data={"csrf": agent.csrf}, follow_redirects=False)
        assert out.status_code == 303
        time.sleep(0.5)
        ws.send_text('{"type":"ping"}')  # without the re-check this would be answered with a pong
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
