"""Defect 4: sign-in throttling per address and per user name, growing delays, no lockout,
counted atomically, the same work for unknown users."""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient

from crm.repo import admin as admin_repo
from gateway.console import users as console_users
from tests.console.conftest import PASSWORD


def _login_from(app, address: str, username: str, password: str):
    client = TestClient(app, base_url="http://testserver", client=(address, 40000))
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf": token}, follow_redirects=False
    )


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(console_users.time, "monotonic", lambda: now[0])
    return now


def test_failures_slow_the_real_user_down_but_never_lock_them_out(app_client, clock):
    app = app_client.app
    for _ in range(8):  # an attacker guessing agent1's password from one address
        _login_from(app, "198.51.100.7", "agent1", "wrong-guess-000")
    refused = _login_from(app, "203.0.113.9", "agent1", PASSWORD)  # the real user, elsewhere
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= console_users.LoginThrottle.RULES["user"][1]
    clock[0] += wait
    assert _login_from(app, "203.0.113.9", "agent1", PASSWORD).status_code == 303


def test_delays_grow_and_are_capped():
    throttle = console_users.LoginThrottle()
    keys = [("user", "x"), ("address", "a")]
    now, waits = 0.0, []
    for _ in range(12):
        wait = throttle.reserve(keys, now)
        if wait:
            waits.append(round(wait))
            now += wait
            assert throttle.reserve(keys, now) == 0.0
    assert waits[:4] == [1, 2, 4, 8]
    assert max(waits) <= throttle.RULES["user"][1]


def test_spraying_many_user_names_from_one_address_is_slowed(app_client, clock):
    statuses = [
        _login_from(app_client.app, "198.51.100.8", f"nobody{i}", "guess-guess-1").status_code
        for i in range(30)
    ]
    free = console_users.LoginThrottle.RULES["address"][0]
    assert statuses[:free] == [401] * free
    assert statuses[free:].count(429) >= 19
    assert (
        _login_from(app_client.app, "203.0.113.10", "agent1", PASSWORD).status_code == 303
    )  # others unaffected


def test_parallel_attempts_are_counted_before_the_password_check(app_client, settings, monkeypatch):
    checks = []
    real_verify = admin_repo.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(admin_repo, "verify_password", counting_verify)
    barrier = threading.Barrier(40)
    results = []

    def attempt() -> None:
        barrier.wait()
        results.append(
            console_users.sign_in(
                app_client.app.state.session_factory, settings, "manager1", "wrong-password-42", "192.0.2.1"
            )[1]
        )

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    free = console_users.LoginThrottle.RULES["user"][0]
    assert len(checks) == free
    assert results.count("invalid") == free and sum(r.startswith("throttled") for r in results) == 40 - free


def test_unknown_user_names_cost_the_same_password_check(app_client, settings, monkeypatch):
    checks = []
    real_verify = admin_repo.verify_password
    monkeypatch.setattr(admin_repo, "verify_password", lambda h, p: checks.append(h) or real_verify(h, p))
    factory = app_client.app.state.session_factory
    assert console_users.sign_in(factory, settings, "agent1", "wrong-password-1", "192.0.2.2")[1] == "invalid"
    assert (
        console_users.sign_in(factory, settings, "no-such-user", "wrong-password-1", "192.0.2.3")[1]
        == "invalid"
    )
    assert len(checks) == 2 and all(h.startswith("$argon2") for h in checks)
