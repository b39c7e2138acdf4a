from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm.db import session_scope
from crm.errors import CRMNotFound
from crm.models import Customer, Order, OrderItem
from crm.repo import conversations as convs
from crm.repo import customers
from crm.repo import tickets as tk
from crm.repo.privacy import REDACTED, export_customer, forget_customer

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


@pytest.fixture
def customer_id(session_factory) -> int:
    with session_scope(session_factory) as s:
        c = Customer(
            name="陳大文",
            email="Tai.Man@example.com",
            preferred_language="zh-Hant",
            tier="gold",
            lifetime_value=Decimal("1234.50"),
            preferences={"contact": "sms"},
            consent_personalisation=True,
            consent_personalisation_at=T0,
            consent_personalisation_source="signup_form",
        )
        s.add(c)
        s.flush()
        for _n, (number, days) in enumerate([("LM00000001", 2), ("LM00000002", 10)]):
            s.add(
                Order(
                    order_number=number,
                    customer_id=c.id,
                    status="delivered",
                    currency="HKD",
                    placed_at=T0 + timedelta(days=days),
                    total=Decimal("176.00"),
                    items=[OrderItem(sku="LM-SNK-040", name="杏仁餅", qty=2, unit_price=Decimal("88.00"))],
                )
            )
        conv = convs.create_conversation(s, token="tok-c1", language="zh-Hant", customer_id=c.id)
        convs.add_message(
            s, conversation_id=conv.id, client_id="1", direction="customer", text="我的電話係 5123 4567"
        )
        convs.add_message(s, conversation_id=conv.id, client_id="2", direction="bot", text="收到")
        t = tk.create_ticket(
            s,
            subject="Parcel delayed",
            category="delivery",
            customer_id=c.id,
            description="lives at 1 Queen's Rd",
            actor="agent1",
        )
        tk.change_ticket_status(s, t.id, "in_progress", actor="agent1")
        offer = tk.offer_compensation(
            s, customer_id=c.id, ticket_id=t.id, type="coupon", amount="50", currency="HKD"
        )
        tk.set_offer_status(s, offer.id, "chosen")
        tk.add_feedback(s, conversation_id=conv.id, customer_id=c.id, csat=4, comment="fast")
        tk.add_feedback(s, conversation_id=conv.id, customer_id=c.id, csat=5)
        return c.id


def test_customer_360(session_factory, customer_id):
    with session_scope(session_factory) as s:
        view = customers.customer_360(s, customer_id)
    json.dumps(view)  # JSON-safe
    p = view["profile"]
    assert (p["name"], p["tier"], p["lifetime_value"]) == ("陳大文", "gold", "1234.50")
    assert p["consent"]["personalisation"]["granted"] is True
    assert p["consent"]["marketing"] == {"granted": False, "at": None, "source": None}
    assert [o["order_number"] for o in view["orders"]] == ["LM00000002", "LM00000001"]
    assert view["orders"][0]["items"] == [
        {"sku": "LM-SNK-040", "name": "杏仁餅", "qty": 2, "unit_price": "88.00"}
    ]
    assert view["conversations"][0]["message_count"] == 2
    assert "token" not in view["conversations"][0]
    (ticket,) = view["tickets"]
    assert ticket["status"] == "in_progress"
    assert [(h["from_status"], h["to_status"]) for h in ticket["history"]] == [
        (None, "open"),
        ("open", "in_progress"),
    ]
    assert view["compensation"][0]["status"] == "chosen"
    assert view["compensation"][0]["amount"] == "50.00"
    assert view["csat"]["average"] == 4.5 and view["csat"]["count"] == 2


def test_customer_360_unknown(session_factory):
    with session_scope(session_factory) as s, pytest.raises(CRMNotFound):
        customers.customer_360(s, 424242)


def test_find_order_and_lookups(session_factory, customer_id):
    with session_scope(session_factory) as s:
        order = customers.find_order(s, " lm0000-0002 ")
        assert order is not None and order.order_number == "LM00000002"
        assert order.items[0].qty == 2 and order.total == Decimal("176.00")
        assert customers.find_order(s, "LM99999999") is None
        assert customers.get_customer(s, customer_id).name == "陳大文"
        assert customers.find_customer_by_email(s, "tai.man@EXAMPLE.com").id == customer_id


def test_illegal_offer_transition(session_factory, customer_id):
    with session_scope(session_factory) as s:
        offer = tk.offer_compensation(s, customer_id=customer_id, type="voucher", amount=20, currency="HKD")
        tk.set_offer_status(s, offer.id, "rejected")
        with pytest.raises(ValueError, match="cannot go from rejected to granted"):
            tk.set_offer_status(s, offer.id, "granted")


def test_export_and_forget(session_factory, customer_id):
    with session_scope(session_factory) as s:
        data = export_customer(s, customer_id)
    assert [m["text"] for m in data["conversations"][0]["messages"]] == ["我的電話係 5123 4567", "收到"]
    with session_scope(session_factory) as s:
        counts = forget_customer(s, customer_id)
    assert counts["messages"] == 2 and counts["tickets"] == 1
    with session_scope(session_factory) as s:
        view = export_customer(s, customer_id)
        p = view["profile"]
        assert p["email"] is None and p["name"] == "Anonymised customer" and p["anonymised_at"]
        assert p["consent"]["personalisation"]["granted"] is False
        assert {m["text"] for m in view["conversations"][0]["messages"]} == {REDACTED}
        assert all(f["comment"] is None for f in view["csat"]["recent"])
        assert len(view["orders"]) == 2  # business records are kept
