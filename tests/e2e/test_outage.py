"""No exchange lost: the PostgreSQL server stops mid-conversation and comes back.

The customer keeps getting answers during the outage (messages go to the fsync'd outbox) and,
once the server is back, every exchange is in the database exactly once and in order. Rasa's
trackers live in the same server (``<database>_rasa``): they too come through the outage whole.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import running_stack

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
PG_SERVER = ROOT / "crm" / "devtools" / "pg_server.sh"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not PG_URL, reason="TEST_POSTGRES_URL not set (make test sets it)"),
]


def _pg(command: str) -> None:
    port = str(make_url(PG_URL).port or 5432)
    subprocess.run([str(PG_SERVER), command, "", port], check=True, capture_output=True)


@pytest.fixture
def pg_database() -> str:
    name = f"outage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _pg("start")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_rasa" WITH (FORCE)'))  # Rasa's trackers
    admin.dispose()


def _stored(url: str, token: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT m.direction, m.client_id FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.token = :t ORDER BY m.created_at, m.id"
                    ),
                    {"t": token},
                )
            ]
    finally:
        engine.dispose()


def test_database_outage_loses_and_duplicates_nothing(tmp_path, pg_database):
    questions = ["hi", "退货期限是多久", "How long do I have to return an item?", "thanks", "bye"]
    with running_stack(tmp_path, pg_database) as stack, ChatClient(stack.ws_url) as client:
        sent: list[tuple[str, int]] = []
        for index, question in enumerate(questions):
            if index == 2:
                _pg("stop")
            client_id = f"m{index}"
            reply = client.ask(question, client_id=client_id)
            assert reply["type"] == "reply" and reply["messages"], reply
            sent.append((client_id, len(reply["messages"])))
        assert (tmp_path / "outbox" / "messages.jsonl").stat().st_size > 0
        _pg("start")
        expected = []
        for client_id, replies in sent:
            expected.append(("customer", client_id))
            expected += [("bot", f"{client_id}:r{n}") for n in range(replies)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _stored(pg_database, client.token) == expected:
                    break
            except Exception:
                pass
            time.sleep(1)
        assert _stored(pg_database, client.token) == expected
        # Rasa kept the dialogue state in memory meanwhile (bot/tracker_store.py); its next save
        # writes what the tracker database missed, so nothing of the outage is lost there either.
        client.ask("thank you", client_id="m5")
        assert _tracker_user_ids(pg_database, client.token) == [f"m{i}" for i in range(6)]


def _tracker_user_ids(url: str, token: str) -> list[str]:
    """message ids of the user events in Rasa's tracker database (``<CRM database>_rasa``)."""
    import json

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            sender = conn.execute(
                text("SELECT id FROM conversations WHERE token = :t"), {"t": token}
            ).scalar_one()
    finally:
        engine.dispose()
    parsed = make_url(url)
    engine = create_engine(parsed.set(database=f"{parsed.database}_rasa"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                {"s": str(sender)},
            )
            return [json.loads(data).get("message_id") for (data,) in rows]
    finally:
        engine.dispose()
