"""The expected wait announced to a customer in the agents' queue (recovery/wait.py) and the
queue facts behind it (crm/repo/queue_wait.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crm.db import make_engine, make_session_factory, session_scope
from crm.models import Base
from crm.repo import conversations as repo
from crm.repo.queue_wait import queue_position, recent_first_responses
from recovery.policy import handoff_wait_minutes, load_policy
from recovery.wait import estimate_wait_minutes

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def test_without_enough_history_the_policy_rule_is_used():
    assert estimate_wait_minutes(1, []) == max(1, handoff_wait_minutes(0))
    assert estimate_wait_minutes(3, [60.0, 120.0]) == handoff_wait_minutes(2)


def test_with_history_the_median_first_response_times_the_position():
    recent = [60.0, 120.0, 180.0, 3600.0]  # one outlier does not move the median (150 s)
    assert estimate_wait_minutes(1, recent) == 3
    assert estimate_wait_minutes(2, recent) == 5
    assert estimate_wait_minutes(0, recent) == 3  # position is at least 1
    assert estimate_wait_minutes(1, [1.0, 1.0, 1.0]) == 1  # at least a minute
    assert estimate_wait_minutes(50, [600.0] * 5) == load_policy()["handoff_wait_minutes"]["max"]


def test_queue_position_and_recent_first_responses(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        ids = [repo.create_conversation(s, token=f"t{i}", channel="web").id for i in range(4)]
        for offset, cid in enumerate(ids):
            repo.transition_conversation(
                s, cid, from_statuses=("bot",), to_status="waiting_agent", at=T0 + timedelta(minutes=offset)
            )
        repo.transition_conversation(
            s, ids[0], from_statuses=("waiting_agent",), to_status="agent", at=T0 + timedelta(minutes=5)
        )
        assert queue_position(s, ids[0]) is None  # an agent has it
        assert [queue_position(s, cid) for cid in ids[1:]] == [1, 2, 3]
        assert recent_first_responses(s, T0) == [300.0]
        assert recent_first_responses(s, T0 + timedelta(hours=1)) == []
        assert queue_position(s, 999) is None
        untimed = repo.create_conversation(s, token="t-untimed", channel="web")
        untimed.status = "waiting_agent"  # queued without an escalation time (an old row)
        s.flush()
        assert queue_position(s, untimed.id) == 4  # behind the three timed chats
    engine.dispose()
