from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from crm import migrate
from crm import outbox as ob
from crm.db import make_engine, make_session_factory, session_scope
from crm.repo import conversations as convs

T0 = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)


def exchange(i: int) -> list[dict]:
    return [
        {
            "client_id": f"u{i}",
            "direction": "customer",
            "text": f"question {i}",
            "created_at": T0 + timedelta(seconds=2 * i),
        },
        {
            "client_id": f"u{i}:bot",
            "direction": "bot",
            "text": f"answer {i}",
            "intent": "faq",
            "confidence": 0.9,
            "payload": {"buttons": ["ok"]},
            "created_at": T0 + timedelta(seconds=2 * i + 1),
        },
    ]


def texts(factory, token):
    with session_scope(factory) as s:
        conv = convs.get_conversation_by_token(s, token)
        return [m.text for m in convs.list_messages(s, conv.id)] if conv else []


def down_factory(tmp_path, backend_url):
    if backend_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'gone' / 'crm.sqlite3'}"  # directory does not exist
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # closed port
    return make_session_factory(make_engine(url))


def test_db_up_writes_directly(session_factory, tmp_path):
    box = ob.Outbox(tmp_path / "outbox" / "messages.jsonl")
    res = ob.record_exchange(session_factory, box, token="t-up", messages=exchange(0))
    assert res.stored == "db" and res.created == [True, True] and len(res.message_ids) == 2
    again = ob.record_exchange(session_factory, box, token="t-up", messages=exchange(0))
    assert again.message_ids == res.message_ids and again.created == [False, False]
    assert not box.has_pending()
    assert texts(session_factory, "t-up") == ["question 0", "answer 0"]


def test_outbox_then_replay_exactly_once_in_order(db_url, tmp_path):
    box = ob.Outbox(tmp_path / "outbox" / "messages.jsonl")
    down = down_factory(tmp_path, db_url)
    for i in range(3):
        assert ob.record_exchange(down, box, token="t1", messages=exchange(i)).stored == "outbox"
    ob.record_exchange(down, box, token="t2", messages=exchange(9), language="en")
    assert len(box) == 4
    assert ob.replay(box, down).applied == 0 and len(box) == 4  # still down: nothing lost

    migrate.upgrade(db_url)  # the database comes back
    up = make_session_factory(make_engine(db_url))
    crash_copy = tmp_path / "copy.jsonl"
    shutil.copy(box.path, crash_copy)
    res = ob.replay(box, up)
    assert (res.applied, res.remaining, res.dead) == (4, 0, 0)
    assert box.path.read_bytes() == b""
    expected = [t for i in range(3) for t in (f"question {i}", f"answer {i}")]
    assert texts(up, "t1") == expected
    # crash after commit but before truncation: replaying the same entries adds nothing
    shutil.copy(crash_copy, box.path)
    assert ob.replay(box, up).applied == 4
    assert texts(up, "t1") == expected and texts(up, "t2") == ["question 9", "answer 9"]
    assert ob.replay(box, up).applied == 0


def test_new_exchange_queues_behind_pending(session_factory, tmp_path, monkeypatch):
    box = ob.Outbox(tmp_path / "ob.jsonl")
    box.append(ob.make_entry(token="t", messages=exchange(0)))
    monkeypatch.setattr(ob, "replay", lambda *a, **k: ob.ReplayResult(remaining=1))  # still down
    assert ob.record_exchange(session_factory, box, token="t", messages=exchange(1)).stored == "outbox"
    assert [e["messages"][0]["client_id"] for e in box.pending()] == ["u0", "u1"]
    monkeypatch.undo()
    res = ob.record_exchange(session_factory, box, token="t", messages=exchange(2))
    assert res.stored == "db" and not box.has_pending()
    assert texts(session_factory, "t") == [t for i in range(3) for t in (f"question {i}", f"answer {i}")]


def test_replay_keeps_entries_appended_meanwhile_and_dead_letters_bad_ones(
    session_factory, tmp_path, monkeypatch
):
    box = ob.Outbox(tmp_path / "ob.jsonl")
    box.append(ob.make_entry(token="t", messages=exchange(0)))
    box.append(
        {
            "v": 1,
            "token": "t",
            "messages": [
                {"client_id": "x", "direction": "sideways", "text": "bad", "created_at": T0.isoformat()}
            ],
        }
    )
    real_apply = ob.apply_entry
    late = ob.make_entry(token="t", messages=exchange(1))

    def apply_and_append(session, entry):
        if entry["messages"][0]["client_id"] == "u0":
            box.append(late)  # another request queues an exchange while replay runs
        return real_apply(session, entry)

    monkeypatch.setattr(ob, "apply_entry", apply_and_append)
    res = ob.replay(box, session_factory)
    assert (res.applied, res.dead, res.remaining) == (1, 1, 1)
    assert box.pending() == [late]  # the later entry survives compaction
    dead = [json.loads(x) for x in box.dead_path.read_text().splitlines()]
    assert len(dead) == 1 and "sideways" in dead[0]["raw"]
    monkeypatch.undo()
    assert ob.replay(box, session_factory).applied == 1
    assert texts(session_factory, "t") == ["question 0", "answer 0", "question 1", "answer 1"]


def test_torn_last_line_is_isolated(session_factory, tmp_path):
    box = ob.Outbox(tmp_path / "ob.jsonl")
    box.append(ob.make_entry(token="t", messages=exchange(0)))
    with open(box.path, "ab") as fh:
        fh.write(b'{"v":1,"tok')  # crash in the middle of an append
    box.append(ob.make_entry(token="t", messages=exchange(1)))  # must not be glued to it
    assert len(box) == 2
    res = ob.replay(box, session_factory)
    assert (res.applied, res.dead, res.remaining) == (2, 1, 0)
    # a torn line alone must not block the queue forever
    with open(box.path, "ab") as fh:
        fh.write(b'{"v":1,"tok')
    assert ob.replay(box, session_factory).dead == 1 and not box.has_pending()
    assert ob.record_exchange(session_factory, box, token="t", messages=exchange(2)).stored == "db"


def test_make_entry_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown message fields"):
        ob.make_entry(token="t", messages=[{"client_id": "a", "direction": "bot", "text": "x", "oops": 1}])
