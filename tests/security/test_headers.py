"""Defect 9: security headers and strict validation of the rating."""

from __future__ import annotations

import base64
import hashlib
import re

from crm.db import session_scope
from crm.models import Feedback


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_demo_page_has_a_strict_csp_that_allows_its_own_style(client):
    page = client.get("/")
    csp = _directives(page.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"] and csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert page.headers["x-content-type-options"] == "nosniff"
    style = re.search(r"<style>(.*?)</style>", page.text, flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp["style-src"]
    assert set(csp["connect-src"]) == {"'self'", "ws://testserver", "wss://testserver"}


def test_widget_script_is_nosniff_and_never_framed(client):
    script = client.get("/widget.js")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert script.headers["content-type"].startswith("text/javascript")
    assert "frame-ancestors 'none'" in script.headers["content-security-policy"]
    assert client.get("/static/widget.css").headers["x-content-type-options"] == "nosniff"


def test_json_with_personal_data_is_not_stored_by_caches(client, as_user):
    token = client.post("/api/conversations").json()["token"]
    client.post(f"/api/conversations/{token}/messages", json={"id": "a", "text": "my phone is 0912345678"})
    assert client.get(f"/api/conversations/{token}/messages").headers["cache-control"] == "no-store"
    assert client.post("/api/conversations").headers["cache-control"] == "no-store"
    agent = as_user("agent1")
    for url in ("/api/agent/queue", "/api/console/me", "/api/agent/follow-ups"):
        assert agent.get(url).headers["cache-control"] == "no-store", url


def test_console_csp_allows_websockets_to_this_host_only(as_user):
    page = as_user("agent1").get("/agent")
    csp = _directives(page.headers["content-security-policy"])
    assert set(csp["connect-src"]) == {"'self'", "ws://testserver", "wss://testserver"}
    assert csp["frame-ancestors"] == ["'none'"]
    odd = as_user("agent1").get("/agent", headers={"Host": "evil.example; script-src *"})
    assert "script-src *" not in odd.headers.get("content-security-policy", "")


def test_a_rating_must_be_an_integer(client, factory):
    token = client.post("/api/conversations").json()["token"]
    for bad in ("true", "false", "4.0", '"4"', "null", "[4]"):
        reply = client.post(
            f"/api/conversations/{token}/csat",
            content=f'{{"score": {bad}}}'.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert reply.status_code == 422, bad
    with session_scope(factory) as session:
        assert session.query(Feedback).count() == 0
    assert client.post(f"/api/conversations/{token}/csat", json={"score": 4}).json() == {
        "ok": True,
        "score": 4,
    }
