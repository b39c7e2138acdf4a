"""Server-side console sessions (crm.repo.admin) on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crm.db import session_scope
from crm.models import ConsoleSession, User
from crm.repo import admin

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def user_ids(session_factory) -> list[int]:
    with session_scope(session_factory) as s:
        users = [User(username=f"agent{n}", password_hash="x", role="agent") for n in (1, 2)]
        s.add_all(users)
        s.flush()
        return [u.id for u in users]


def _start(factory, user_id: int, now: datetime = T0, **kw) -> str:
    with session_scope(factory) as s:
        token, _ = admin.create_console_session(s, user_id=user_id, now=now, **kw)
    return token


def _load(factory, token: str, now: datetime):
    with session_scope(factory) as s:
        found = admin.load_active_console_session(s, token, now=now)
        return None if found is None else (found[0].user_id, found[0].csrf_token, found[1].username)


def test_only_the_hash_of_the_token_is_stored(session_factory, user_ids):
    token = _start(
        session_factory,
        user_ids[0],
        client_ip="2001:db8::1" + "f" * 60,
        user_agent="Mozilla/5.0 " + "x" * 500,
    )
    with session_scope(session_factory) as s:
        row = s.scalars(select(ConsoleSession)).one()
        assert row.id == hashlib.sha256(token.encode()).hexdigest() == admin.console_session_id(token)
        values = [getattr(row, c.key) for c in ConsoleSession.__table__.columns]
        assert not any(token in str(v) for v in values)
        assert len(row.client_ip) == 45 and len(row.user_agent) == 200
        assert row.created_at == row.last_seen_at == T0
        assert row.expires_at == T0 + timedelta(hours=12) and row.revoked_at is None
        assert len(token) >= 40 and row.csrf_token and row.csrf_token != token


def test_load_refuses_unknown_expired_revoked_and_inactive(session_factory, user_ids):
    token = _start(session_factory, user_ids[0])
    user_id, csrf, name = _load(session_factory, token, T0 + timedelta(hours=11, minutes=59))
    assert (user_id, name) == (user_ids[0], "agent1") and csrf
    assert _load(session_factory, token, T0 + timedelta(hours=12)) is None  # absolute expiry
    assert _load(session_factory, "not-a-token", T0) is None
    assert _load(session_factory, "", T0) is None
    assert _load(session_factory, admin.console_session_id(token), T0) is None  # the hash is no token

    with session_scope(session_factory) as s:
        assert admin.revoke_console_session(s, token, now=T0 + timedelta(hours=1))
        assert not admin.revoke_console_session(s, token)  # already revoked
        assert not admin.revoke_console_session(s, "unknown")
    assert _load(session_factory, token, T0 + timedelta(hours=2)) is None

    other = _start(session_factory, user_ids[1])
    assert _load(session_factory, other, T0) is not None
    with session_scope(session_factory) as s:
        s.get(User, user_ids[1]).active = False
    assert _load(session_factory, other, T0) is None


def test_touch_writes_last_seen_at_most_once_a_minute(session_factory, user_ids):
    token = _start(session_factory, user_ids[0])
    with session_scope(session_factory) as s:
        row, _ = admin.load_active_console_session(s, token, now=T0)
        assert not admin.touch_console_session(s, row, now=T0 + timedelta(seconds=59))
        assert admin.touch_console_session(s, row, now=T0 + timedelta(seconds=61))
        assert not admin.touch_console_session(s, row, now=T0 + timedelta(seconds=90))
    with session_scope(session_factory) as s:
        assert s.scalars(select(ConsoleSession.last_seen_at)).one() == T0 + timedelta(seconds=61)


def test_revoke_all_of_a_user_and_purge(session_factory, user_ids):
    mine = [_start(session_factory, user_ids[0]) for _ in range(3)]
    theirs = _start(session_factory, user_ids[1])
    with session_scope(session_factory) as s:
        assert admin.revoke_user_console_sessions(s, user_ids[0], now=T0 + timedelta(minutes=5)) == 3
        assert admin.revoke_user_console_sessions(s, user_ids[0], now=T0 + timedelta(minutes=6)) == 0
    assert all(_load(session_factory, t, T0 + timedelta(minutes=10)) is None for t in mine)
    assert _load(session_factory, theirs, T0 + timedelta(minutes=10)) is not None
    with session_scope(session_factory) as s:  # kept a week for inspection, then deleted
        assert admin.purge_console_sessions(s, user_id=user_ids[0], now=T0 + timedelta(days=6)) == 0
        assert admin.purge_console_sessions(s, user_id=user_ids[0], now=T0 + timedelta(days=8)) == 3
        assert s.scalars(select(ConsoleSession.user_id)).all() == [user_ids[1]]
