"""The conversation benchmark's CRM checks on records written as the flows write them: each
goal passes on the right records and fails, with its reason, on the wrong ones. The CRM is a
migrated SQLite file prepared by :func:`bench.convsim.world.build` (demo data + the
conversations' own customers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bench.convsim import world
from bench.convsim.checks import check
from bench.convsim.driver import Outcome
from bench.convsim.loader import Conversation
from crm import migrate
from crm.db import make_engine
from crm.models import FollowUp
from crm.orm.base import utcnow
from crm.repo import tickets as tk
from crm.repo.conversations import add_message, create_conversation, set_conversation_status

IDENTIFIED = {"identified": True, "orders": [{"status": "delivered"}]}


def conv(cid: str, goal: dict, customer: dict | None = IDENTIFIED) -> Conversation:
    return Conversation(
        id=cid, language="en", tags=["all_in_first"], opening=["hi"], goal=goal, customer=customer
    )


@pytest.fixture
def crm(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def setup(crm, conversation: Conversation):
    url, engine = crm
    ctx = world.build(url, [conversation])[conversation.id]
    session = Session(engine)
    chat = create_conversation(
        session,
        token=f"t-{conversation.id}",
        customer_id=ctx.customer_id,
        started_at=utcnow() - timedelta(minutes=5),
    )
    return session, ctx, chat, Outcome(token=chat.token, conversation_id=chat.id)


def ticket(session, ctx, chat, *, category="product", order=True, resolution="refund"):
    return tk.create_ticket(
        session,
        subject="Complaint",
        category=category,
        customer_id=ctx.customer_id,
        conversation_id=chat.id,
        order_id=ctx.orders[0][1] if order else None,
        description=f"What happened: x\nAgreed resolution: {resolution}",
    )


def test_ticket_resolution_offer_and_csat_pass_on_the_right_records(crm):
    c = conv(
        "ok-1",
        {
            "ticket": {"category": "product", "order": "order"},
            "resolution": "refund",
            "offer": "chosen",
            "csat": 4,
        },
    )
    session, ctx, chat, out = setup(crm, c)
    t = ticket(session, ctx, chat)
    points = tk.offer_compensation(
        session, customer_id=ctx.customer_id, ticket_id=t.id, type="points", amount=200, currency="TWD"
    )
    coupon = tk.offer_compensation(
        session, customer_id=ctx.customer_id, ticket_id=t.id, type="coupon", amount=200, currency="TWD"
    )
    for status in ("chosen", "approved", "granted"):
        tk.set_offer_status(session, points.id, status)
    tk.set_offer_status(session, coupon.id, "rejected")
    tk.add_feedback(session, conversation_id=chat.id, csat=4, customer_id=ctx.customer_id)
    out.picked_offer = "points"
    assert check(session, c, ctx, out) == []
    out.picked_offer = "coupon"
    assert check(session, c, ctx, out) == ["offer: customer picked coupon, CRM has [('points', 'granted')]"]


def test_wrong_category_order_resolution_and_a_replacement_after_refund_each_fail(crm):
    c = conv(
        "bad-1", {"ticket": {"category": "product", "order": "none"}, "resolution": "replacement", "csat": 5}
    )
    session, ctx, chat, out = setup(crm, c)
    t = ticket(session, ctx, chat, category="payment")
    tk.offer_compensation(
        session,
        customer_id=ctx.customer_id,
        ticket_id=t.id,
        type="expedited_replacement",
        amount=0,
        currency="TWD",
    )
    failures = check(session, c, ctx, out)
    assert [f.split(":")[0] for f in failures] == ["ticket", "ticket", "resolution", "offer", "offer", "csat"]
    assert "not allowed by the policy for payment" in failures[3]
    assert "replacement offered as compensation after a refund" in failures[4]


def test_declined_and_none_offers(crm):
    declined = conv("dec-1", {"offer": "declined"})
    session, ctx, chat, out = setup(crm, declined)
    t = ticket(session, ctx, chat)
    offer = tk.offer_compensation(
        session, customer_id=ctx.customer_id, ticket_id=t.id, type="points", amount=100, currency="TWD"
    )
    assert check(session, declined, ctx, out) == ["offer: declined, but not every offer is rejected"]
    tk.set_offer_status(session, offer.id, "rejected")
    assert check(session, declined, ctx, out) == []
    session.commit()
    none = conv(
        "none-1", {"offer": "none", "ticket": {"category": "complaint", "order": "none"}}, customer=None
    )
    session2, ctx2, chat2, out2 = setup(crm, none)
    ticket(session2, ctx2, chat2, category="complaint", order=False, resolution="review")
    assert check(session2, none, ctx2, out2) == []


def test_handoff_kb_answer_follow_up_and_order_status(crm):
    c = conv(
        "misc-1",
        {
            "handoff": "frustration",
            "kb_entry": "returns-policy",
            "follow_up": "kept",
            "order_status": "order",
        },
        customer={**IDENTIFIED, "past_ticket": {"days_overdue": 1}},
    )
    session, ctx, chat, out = setup(crm, c)
    assert [f.split(":")[0] for f in check(session, c, ctx, out)] == [
        "handoff",
        "kb_entry",
        "follow_up",
        "order_status",
    ]
    add_message(
        session,
        conversation_id=chat.id,
        client_id="a",
        direction="bot",
        text="Which one?",
        kb_entry_id="returns-policy",
        payload={"buttons": [{"title": "x", "payload": "/inquiry"}]},
    )
    assert any(f.startswith("kb_entry") for f in check(session, c, ctx, out))  # a clarification is no answer
    add_message(
        session,
        conversation_id=chat.id,
        client_id="b",
        direction="bot",
        text="7 days.",
        kb_entry_id="returns-policy",
    )
    add_message(
        session,
        conversation_id=chat.id,
        client_id="c",
        direction="bot",
        text=f"Order {ctx.orders[0][0]} is on its way with the courier.",
    )
    follow_up = session.query(FollowUp).filter_by(customer_id=ctx.customer_id).one()
    tk.complete_follow_up(session, follow_up.id, "kept")
    set_conversation_status(session, chat.id, "waiting_agent", handoff_reason="frustration")
    assert check(session, c, ctx, out) == []


def test_anonymous_order_status_needs_the_how_to_track_entry(crm):
    c = conv("os-1", {"order_status": "faq"}, customer=None)
    session, ctx, chat, out = setup(crm, c)
    assert check(session, c, ctx, out) == [
        "order_status: the how-to-track answer (order-status) was not given"
    ]
    add_message(
        session,
        conversation_id=chat.id,
        client_id="a",
        direction="bot",
        text="Under My Orders.",
        kb_entry_id="order-status",
    )
    assert check(session, c, ctx, out) == []
