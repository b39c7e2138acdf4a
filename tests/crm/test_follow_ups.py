"""Follow-up delivery in the CRM (crm/repo/follow_ups.py), on SQLite and PostgreSQL: which
follow-ups are due to be sent, the claim that lets only one worker send, failures and backoff,
stale claims, the answer closing a follow-up, and the index the due query runs on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from crm.db import session_scope
from crm.models import Customer, FollowUp
from crm.repo import follow_ups as fu
from crm.repo import tickets as tk

from .conftest import statements_run

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _customer(s, name: str = "Amy") -> int:
    c = Customer(name=name, preferred_language="en", tier="standard")
    s.add(c)
    s.flush()
    return c.id


def _add(s, customer_id: int, due: datetime, **values) -> int:
    follow_up = tk.add_follow_up(
        s, due_at=due, customer_id=customer_id, promise=tk.Promise("refund", "other")
    )
    for key, value in values.items():
        setattr(follow_up, key, value)
    s.flush()
    return follow_up.id


def test_due_selection_across_customers(session_factory):
    with session_scope(session_factory) as s:
        amy, ben = _customer(s, "Amy"), _customer(s, "Ben")
        ids = {
            "later": _add(s, amy, NOW + timedelta(minutes=1)),
            "due_amy": _add(s, amy, NOW - timedelta(hours=1)),
            "due_ben": _add(s, ben, NOW - timedelta(hours=2)),
            "just_due": _add(s, ben, NOW),
            "sent": _add(s, amy, NOW - timedelta(hours=3), status="sent", sent_at=NOW),
            "needs_agent": _add(s, amy, NOW - timedelta(hours=3), status="needs_agent"),
            "retry_later": _add(
                s, ben, NOW - timedelta(hours=3), attempts=1, next_attempt_at=NOW + timedelta(seconds=30)
            ),
            "retry_now": _add(
                s, ben, NOW - timedelta(hours=4), attempts=2, next_attempt_at=NOW - timedelta(seconds=1)
            ),
        }
        done = _add(s, amy, NOW - timedelta(hours=5))
        tk.complete_follow_up(s, done, "kept")
    with session_scope(session_factory) as s:
        assert s.get(FollowUp, done).status == "done"
        due = fu.follow_ups_to_send(s, NOW)
        assert due == [ids["retry_now"], ids["due_ben"], ids["due_amy"], ids["just_due"]]  # oldest first
        assert fu.follow_ups_to_send(s, NOW, limit=2) == due[:2]
        assert fu.follow_ups_to_send(s, NOW - timedelta(days=1)) == []
        # the greeting's per-customer view still sees sent-but-unanswered ones, not answered ones
        assert done not in [f.id for f in tk.due_follow_ups(s, amy, NOW)]


def test_only_one_claim_wins_and_the_claim_ends_in_a_result(session_factory):
    with session_scope(session_factory) as s:
        cid = _customer(s)
        first, second, third = (_add(s, cid, NOW - timedelta(minutes=n)) for n in (1, 2, 3))
        later = _add(s, cid, NOW + timedelta(hours=1))
    with session_scope(session_factory) as s:
        assert fu.claim_follow_up(s, first, NOW) is True
        assert fu.claim_follow_up(s, first, NOW) is False  # already taken
        assert fu.claim_follow_up(s, later, NOW) is False  # not due
    with session_scope(session_factory) as s:
        assert fu.follow_ups_to_send(s, NOW) == [third, second]
        assert fu.mark_sent(s, first, channel="local", at=NOW) is True
        assert fu.mark_sent(s, first, channel="local", at=NOW) is False  # only from `sending`
        assert fu.claim_follow_up(s, second, NOW) and fu.claim_follow_up(s, third, NOW)
        assert fu.mark_not_sent(s, second, status="needs_agent", reason="no_consent")
        assert fu.record_failure(
            s, third, error="webhook answered HTTP 503\n", retry_at=NOW + timedelta(minutes=1)
        )
    with session_scope(session_factory) as s:
        rows = {f.id: f for f in s.query(FollowUp)}
        assert (rows[first].status, rows[first].sent_at, rows[first].channel) == ("sent", NOW, "local")
        assert (rows[second].status, rows[second].reason) == ("needs_agent", "no_consent")
        assert (rows[third].status, rows[third].attempts, rows[third].last_error) == (
            "pending",
            1,
            "webhook answered HTTP 503",
        )
        assert rows[third].next_attempt_at == NOW + timedelta(minutes=1)
        assert all(r.claimed_at is None for r in rows.values())
        assert fu.follow_ups_to_send(s, NOW) == []
        assert fu.follow_ups_to_send(s, NOW + timedelta(minutes=1)) == [third]


def test_concurrent_claims_from_two_processes_have_one_winner(engine):
    """Two sessions on separate connections race for the same rows: every row is won once."""
    from crm.db import make_session_factory

    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        cid = _customer(s)
        ids = [_add(s, cid, NOW - timedelta(minutes=n)) for n in range(1, 9)]
    wins: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        for follow_up_id in ids:
            with session_scope(factory) as s:
                if fu.claim_follow_up(s, follow_up_id, NOW):
                    wins[name].append(follow_up_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in wins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins["a"] + wins["b"]) == sorted(ids)


def test_stale_claims_are_given_back_and_answers_end_a_claim(session_factory):
    with session_scope(session_factory) as s:
        cid = _customer(s)
        stale, fresh, answered = (_add(s, cid, NOW - timedelta(hours=1)) for _ in range(3))
    with session_scope(session_factory) as s:
        assert fu.claim_follow_up(s, stale, NOW - timedelta(minutes=30))
        assert fu.claim_follow_up(s, fresh, NOW) and fu.claim_follow_up(s, answered, NOW)
    with session_scope(session_factory) as s:
        assert fu.release_stale_claims(s, NOW - timedelta(minutes=10)) == 1
        tk.complete_follow_up(s, answered, "kept")  # the customer answered the greeting meanwhile
    with session_scope(session_factory) as s:
        assert fu.follow_ups_to_send(s, NOW) == [stale]
        assert fu.mark_sent(s, answered, channel="local") is False  # the worker stores nothing
        assert s.get(FollowUp, answered).status == "done"


def test_delivery_context_uses_the_latest_conversation(session_factory):
    from crm.repo import conversations as convs

    with session_scope(session_factory) as s:
        cid = _customer(s)
        convs.create_conversation(s, token="old", customer_id=cid, started_at=NOW - timedelta(days=3))
        latest = convs.create_conversation(
            s, token="new", customer_id=cid, started_at=NOW - timedelta(days=1), language="zh-Hans"
        ).id
        ticket = tk.create_ticket(s, subject="Late", customer_id=cid, due_at=NOW, follow_up=False)
        follow_up = tk.add_follow_up(s, due_at=NOW, customer_id=cid, ticket_id=ticket.id).id
    with session_scope(session_factory) as s:
        ctx = fu.delivery_context(s, follow_up)
        assert (ctx.customer.id, ctx.ticket.id, ctx.conversation.id) == (cid, ticket.id, latest)
        assert fu.delivery_context(s, 999999) is None


def _plan(engine, statement, params) -> list[str]:
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        if engine.dialect.name == "postgresql":
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN (FORMAT JSON) " + statement, params)
            plan = cur.fetchone()[0][0]["Plan"]
            raw.driver_connection.rollback()

            def scans(node):
                out = (
                    [f"{node['Node Type']} {node.get('Index Name', '')} {node.get('Index Cond', '')}"]
                    if "Scan" in node["Node Type"]
                    else []
                )
                for child in node.get("Plans", []):
                    out += scans(child)
                return out

            return scans(plan)
        cur.execute("EXPLAIN QUERY PLAN " + statement, params)
        return [str(r[-1]) for r in cur.fetchall()]
    finally:
        raw.close()


def test_the_due_query_reads_only_pending_rows_through_the_status_due_index(engine, session_factory):
    """Without ix_follow_ups_status_due the due query walks ix_follow_ups_due_at over every
    follow-up ever due (sent and answered ones too)."""

    def work() -> None:
        with session_factory() as s:
            fu.follow_ups_to_send(s, NOW)

    seen = statements_run(engine, work)
    statement, params = next((st, p) for st, p in seen if "follow_ups" in st)
    lines = _plan(engine, statement, params)
    assert len(lines) == 1 and "ix_follow_ups_status_due" in lines[0], lines
    if engine.dialect.name == "sqlite":
        assert "status=?" in lines[0], lines
    else:
        assert "status" in lines[0] and "due_at" in lines[0], lines


def test_a_ticket_with_a_deadline_always_gets_its_follow_up(session_factory):
    """Every promise gets a follow-up record, for known and anonymous customers alike; a ticket
    without a deadline promises nothing."""
    from crm.repo import conversations as convs

    with session_scope(session_factory) as s:
        cid = _customer(s)
        chat = convs.create_conversation(s, token="tok-promise").id
        known = tk.create_ticket(
            s,
            subject="Late",
            customer_id=cid,
            conversation_id=chat,
            due_at=NOW,
            promise=tk.Promise("redelivery", "late_delivery"),
            actor="bot",
        )
        anonymous = tk.create_ticket(
            s, subject="Rude", conversation_id=chat, due_at=NOW, follow_up_at=NOW + timedelta(hours=1)
        )
        undated = tk.create_ticket(s, subject="Question", customer_id=cid)
        (first,) = tk.ticket_follow_ups(s, known.id)
        assert (first.due_at, first.customer_id, first.conversation_id, first.created_by, first.status) == (
            NOW,
            cid,
            chat,
            "bot",
            "pending",
        )
        assert (first.promised_resolution, first.complaint_category, first.note) == (
            "redelivery",
            "late_delivery",
            None,
        )
        (second,) = tk.ticket_follow_ups(s, anonymous.id)
        assert (second.due_at, second.customer_id, second.note) == (NOW + timedelta(hours=1), None, None)
        assert (second.promised_resolution, second.complaint_category) == (None, None)
        assert tk.ticket_follow_ups(s, undated.id) == []


def test_record_csat_keeps_one_rating_per_chat_and_never_commits(session_factory):
    """The one CSAT upsert (bot question and widget alike): the first rating is added with the
    chat's customer, a second replaces score and comment; the caller's unit of work commits."""
    import pytest
    from sqlalchemy import select

    from crm.models import Conversation, Feedback
    from crm.repo import conversations as convs

    def ratings(s):
        return [(f.csat, f.comment, f.customer_id) for f in s.scalars(select(Feedback))]

    with session_scope(session_factory) as s:
        cid = _customer(s)
        chat = convs.create_conversation(s, token="tok-csat", customer_id=cid)
        chat_id, first_id = chat.id, tk.record_csat(s, chat, 2, "slow").id
    with session_factory() as s:
        tk.record_csat(s, s.get(Conversation, chat_id), 5, None)
        s.rollback()  # the repository committed nothing
        assert ratings(s) == [(2, "slow", cid)]
    with session_scope(session_factory) as s:
        assert tk.record_csat(s, s.get(Conversation, chat_id), 5, None).id == first_id
    with session_scope(session_factory) as s:
        assert ratings(s) == [(5, None, cid)]
        for score in (0, 6):
            with pytest.raises(ValueError, match="between 1 and 5"):
                tk.record_csat(s, s.get(Conversation, chat_id), score, None)
