from __future__ import annotations

from sqlalchemy import func, select

from crm.db import session_scope
from crm.models import Conversation, Customer, Order, Ticket, TicketStatusChange, User
from crm.repo.admin import authenticate
from crm.seed import N_CUSTOMERS, seed


def _snapshot(s):
    return [
        (c.name, c.tier, c.preferred_language, str(c.lifetime_value))
        for c in s.scalars(select(Customer).order_by(Customer.id))
    ]


def test_seed_loads_varied_data_once(session_factory):
    with session_scope(session_factory) as s:
        first = seed(s, user_passwords={"agent": "correct horse battery"})
    assert not first.skipped and first.customers == N_CUSTOMERS and first.users == ["demo-agent"]
    with session_scope(session_factory) as s:
        customers = s.scalars(select(Customer)).all()
        assert {c.preferred_language for c in customers} == {"zh-Hant", "zh-Hans", "en"}
        assert {c.tier for c in customers} == {"standard", "silver", "gold", "platinum"}
        assert {c.consent_marketing for c in customers} == {True, False}
        assert any(
            "\u4e00" <= ch <= "\u9fff" for c in customers if c.preferred_language != "en" for ch in c.name
        )
        numbers = s.scalars(select(Order.order_number)).all()
        assert numbers and all(n.startswith("LM") and len(n) == 10 and n[2:].isdigit() for n in numbers)
        assert len({t.status for t in s.scalars(select(Ticket))}) >= 4
        assert s.scalar(select(func.count()).select_from(TicketStatusChange)) > first.tickets
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert authenticate(s, "demo-agent", "correct horse battery") is not None
        assert authenticate(s, "demo-agent", "wrong") is None
        before = (
            _snapshot(s),
            s.scalar(select(func.count()).select_from(Order)),
            s.scalar(select(func.count()).select_from(Conversation)),
        )
    with session_scope(session_factory) as s:
        second = seed(s, user_passwords={"agent": "another password!"})
    assert second.skipped and second.customers == 0 and second.users == []
    with session_scope(session_factory) as s:
        after = (
            _snapshot(s),
            s.scalar(select(func.count()).select_from(Order)),
            s.scalar(select(func.count()).select_from(Conversation)),
        )
        assert after == before


def test_seed_without_passwords_creates_no_users(session_factory):
    with session_scope(session_factory) as s:
        seed(s)
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_every_demo_promise_has_its_follow_up_and_one_is_overdue(session_factory):
    """Each demo ticket has a due date and the follow-up that checks it (due then, naming what
    was promised); closed tickets' follow-ups are answered; DEMO-0002's promise is open and
    overdue, so the greeting asks about it."""
    from crm.models import FollowUp
    from crm.orm.base import utcnow
    from crm.repo import tickets as tk
    from crm.seed import REFERENCE

    with session_scope(session_factory) as s:
        result = seed(s)
    with session_scope(session_factory) as s:
        tickets = s.scalars(select(Ticket)).all()
        assert len(tickets) == result.tickets > 0
        for ticket in tickets:
            assert ticket.due_at is not None
            (follow_up,) = tk.ticket_follow_ups(s, ticket.id)
            assert (follow_up.due_at, follow_up.customer_id) == (ticket.due_at, ticket.customer_id)
            assert follow_up.promised_resolution and follow_up.complaint_category and follow_up.note is None
            assert (follow_up.status == "done") == (ticket.status == "closed")
        assert s.scalar(select(func.count()).select_from(FollowUp)) == len(tickets)
        demo = s.scalars(select(Customer).where(Customer.external_ref == "DEMO-0002")).one()
        overdue = [t for t in tk.overdue_tickets(s, REFERENCE) if t.customer_id == demo.id]
        assert overdue and overdue == [t for t in tk.overdue_tickets(s, utcnow()) if t.customer_id == demo.id]
        assert [f.ticket_id for f in tk.due_follow_ups(s, demo.id, REFERENCE)] == [overdue[0].id]


def test_shipped_demo_orders_have_carrier_tracking_and_expected_delivery(session_factory):
    """Issue 17: "where is my order" is answered from the CRM with carrier and expected date."""
    from crm.models import Order

    with session_scope(session_factory) as s:
        seed(s)
    with session_scope(session_factory) as s:
        orders = s.scalars(select(Order)).all()
        shipped = [o for o in orders if o.status in ("shipped", "delivered")]
        assert shipped and all(
            o.carrier and o.tracking_number and o.expected_at > o.placed_at for o in shipped
        )
        assert all(o.carrier is None for o in orders if o.status in ("pending", "paid", "cancelled"))
