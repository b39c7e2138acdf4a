from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crm.db import session_scope
from crm.models import Message
from crm.repo import conversations as convs

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def conv_id(session_factory) -> int:
    with session_scope(session_factory) as s:
        return convs.create_conversation(s, token=convs.new_conversation_token(), language="en").id


def test_create_and_get_by_token(session_factory):
    token = convs.new_conversation_token()
    assert len(token) >= 32
    with session_scope(session_factory) as s:
        c = convs.create_conversation(s, token=token, channel="web", language="zh-Hant")
    with session_scope(session_factory) as s:
        got = convs.get_conversation_by_token(s, token)
        assert got is not None and got.id == c.id
        assert got.status == "bot" and got.language == "zh-Hant"
        assert got.started_at.tzinfo is not None
        assert convs.get_conversation_by_token(s, "nope") is None


def test_add_message_is_idempotent(session_factory, conv_id):
    with session_scope(session_factory) as s:
        m1, created1 = convs.add_message(
            s,
            conversation_id=conv_id,
            client_id="c-1",
            direction="customer",
            text="hello",
            payload={"buttons": [{"title": "Yes"}]},
        )
    with session_scope(session_factory) as s:
        m2, created2 = convs.add_message(
            s, conversation_id=conv_id, client_id="c-1", direction="customer", text="changed"
        )
        assert (created1, created2) == (True, False)
        assert m2.id == m1.id and m2.text == "hello"
        assert m2.payload == {"buttons": [{"title": "Yes"}]}
        n = s.scalar(select(func.count()).select_from(Message).where(Message.client_id == "c-1"))
        assert n == 1


def test_add_message_same_client_id_in_same_session(session_factory, conv_id):
    with session_scope(session_factory) as s:
        a, ca = convs.add_message(s, conversation_id=conv_id, client_id="x", direction="bot", text="a")
        b, cb = convs.add_message(s, conversation_id=conv_id, client_id="x", direction="bot", text="b")
        assert ca and not cb and a is b


def test_same_client_id_in_other_conversation_is_separate(session_factory, conv_id):
    with session_scope(session_factory) as s:
        other = convs.create_conversation(s, token=convs.new_conversation_token())
        _, c1 = convs.add_message(s, conversation_id=conv_id, client_id="k", direction="bot", text="1")
        _, c2 = convs.add_message(s, conversation_id=other.id, client_id="k", direction="bot", text="2")
        assert c1 and c2


def test_add_message_concurrent_race(session_factory, conv_id):
    """Many threads insert the same client_id at once: exactly one row, one created=True."""
    n = 8
    barrier = threading.Barrier(n)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            with session_scope(session_factory) as s:
                m, created = convs.add_message(
                    s, conversation_id=conv_id, client_id="race", direction="customer", text=f"t{i}"
                )
                results.append((m.id, created))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({mid for mid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with session_scope(session_factory) as s:
        assert len(convs.list_messages(s, conv_id)) == 1


def test_list_messages_order_and_after_id(session_factory, conv_id):
    with session_scope(session_factory) as s:
        # inserted out of chronological order; two share a timestamp (id breaks the tie)
        specs = [("c3", 2), ("c1", 0), ("c2a", 1), ("c2b", 1), ("c4", 3)]
        for cid, minutes in specs:
            convs.add_message(
                s,
                conversation_id=conv_id,
                client_id=cid,
                direction="customer",
                text=cid,
                created_at=T0 + timedelta(minutes=minutes),
            )
    with session_scope(session_factory) as s:
        msgs = convs.list_messages(s, conv_id)
        assert [m.client_id for m in msgs] == ["c1", "c2a", "c2b", "c3", "c4"]
        assert msgs[0].created_at == T0
        after = convs.list_messages(s, conv_id, after_id=msgs[1].id)
        assert [m.client_id for m in after] == ["c2b", "c3", "c4"]
        assert [m.client_id for m in convs.list_messages(s, conv_id, limit=2)] == ["c1", "c2a"]


def test_update_message_nlu(session_factory, conv_id):
    with session_scope(session_factory) as s:
        m, _ = convs.add_message(
            s, conversation_id=conv_id, client_id="n", direction="customer", text="我想退貨"
        )
    with session_scope(session_factory) as s:
        convs.update_message_nlu(
            s,
            m.id,
            intent="return_request",
            confidence=0.93,
            language="zh-Hant",
            kb_entry_id="returns-how-to",
            kb_score=0.81,
        )
    with session_scope(session_factory) as s:
        convs.update_message_nlu(s, m.id, intent="returns", confidence=0.5)  # None leaves kb fields
        got = s.get(Message, m.id)
        assert (got.intent, got.confidence, got.language) == ("returns", 0.5, "zh-Hant")
        assert (got.kb_entry_id, got.kb_score) == ("returns-how-to", 0.81)
        conv = convs.set_conversation_language(s, conv_id, "zh-Hans")
        assert convs.set_conversation_language(s, conv_id, None).language == "zh-Hans" == conv.language


def test_session_scope_rolls_back(session_factory, conv_id):
    with pytest.raises(RuntimeError):
        with session_scope(session_factory) as s:
            convs.add_message(s, conversation_id=conv_id, client_id="rb", direction="bot", text="x")
            raise RuntimeError("boom")
    with session_scope(session_factory) as s:
        assert convs.list_messages(s, conv_id) == []


def test_conversation_status_and_get_or_create(session_factory):
    with session_scope(session_factory) as s:
        c, created = convs.get_or_create_conversation(s, token="tok-1")
        c2, created2 = convs.get_or_create_conversation(s, token="tok-1")
        assert created and not created2 and c.id == c2.id
        convs.set_conversation_status(s, c.id, "waiting_agent", handoff_reason="asked for human")
        closed = convs.set_conversation_status(s, c.id, "closed")
        assert closed.ended_at is not None and closed.handoff_reason == "asked for human"
        with pytest.raises(ValueError):
            convs.set_conversation_status(s, c.id, "nope")


def test_read_only_factory_reads_while_writer_holds_lock(engine, session_factory, conv_id):
    from crm.db import make_session_factory

    reader = make_session_factory(engine, read_only=True)
    with session_scope(session_factory) as w:
        convs.add_message(w, conversation_id=conv_id, client_id="w", direction="bot", text="x")
        w.flush()  # the writer holds the write lock until commit
        with session_scope(reader) as r:  # must not wait for the writer (nor see its row)
            assert convs.list_messages(r, conv_id) == []
    with session_scope(reader) as r:
        assert [m.client_id for m in convs.list_messages(r, conv_id)] == ["w"]


def _times(session_factory, conv_id):
    from crm.models import Conversation

    with session_scope(session_factory) as s:
        c = s.get(Conversation, conv_id)
        return c.status, c.handoff_at, c.agent_joined_at


def test_transitions_stamp_handoff_and_claim_times(session_factory, conv_id):
    """Escalating stamps ``handoff_at``; claiming stamps ``agent_joined_at``; a lost claim, the
    hand back and closing keep them; escalating again starts a new wait."""
    t = [T0 + timedelta(minutes=n) for n in range(8)]

    def move(frm, to, at, **kw):
        with session_scope(session_factory) as s:
            return convs.transition_conversation(s, conv_id, from_statuses=frm, to_status=to, at=at, **kw)

    assert move(("bot",), "waiting_agent", t[0], handoff_reason="explicit_request")
    assert _times(session_factory, conv_id) == ("waiting_agent", t[0], None)
    assert not move(("bot",), "waiting_agent", t[1])  # already escalated: nothing changes
    assert move(("waiting_agent",), "agent", t[2], agent_id=None)
    assert not move(("waiting_agent",), "agent", t[3])  # the second agent loses the race
    assert _times(session_factory, conv_id) == ("agent", t[0], t[2])
    assert move(("waiting_agent", "agent"), "bot", t[4])  # hand back: the record stays
    assert _times(session_factory, conv_id) == ("bot", t[0], t[2])
    assert move(("bot",), "waiting_agent", t[5])  # re-escalation: the latest one, not yet claimed
    assert _times(session_factory, conv_id) == ("waiting_agent", t[5], None)
    assert move(("waiting_agent",), "agent", t[6])
    assert move(("agent",), "closed", t[7])
    assert _times(session_factory, conv_id) == ("closed", t[5], t[6])


def test_taking_a_bot_chat_directly_and_set_status_stamp_the_same_times(session_factory, conv_id):
    with session_scope(session_factory) as s:  # an agent takes over without the queue: no wait
        assert convs.transition_conversation(s, conv_id, from_statuses=("bot",), to_status="agent", at=T0)
    assert _times(session_factory, conv_id) == ("agent", T0, T0)
    later = T0 + timedelta(minutes=5)
    with session_scope(session_factory) as s:  # the non-atomic variant follows the same rules
        convs.set_conversation_status(s, conv_id, "bot")
        convs.set_conversation_status(s, conv_id, "waiting_agent", at=later)
    assert _times(session_factory, conv_id) == ("waiting_agent", later, None)
    with session_scope(session_factory) as s:
        convs.set_conversation_status(s, conv_id, "agent", at=later + timedelta(minutes=2))
        convs.set_conversation_status(s, conv_id, "agent", at=later + timedelta(minutes=9))  # no-op
    assert _times(session_factory, conv_id) == ("agent", later, later + timedelta(minutes=2))
    before = datetime.now(timezone.utc)
    with session_scope(session_factory) as s:  # default: now
        convs.set_conversation_status(s, conv_id, "bot")
        convs.transition_conversation(s, conv_id, from_statuses=("bot",), to_status="waiting_agent")
    status, handoff, joined = _times(session_factory, conv_id)
    assert handoff >= before and joined is None
