from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm.db import session_scope
from crm.models import Customer, Order
from crm.repo.customer_metrics import (
    average_order_value,
    churn_rate,
    purchase_frequency,
    retention_rate,
)

START = datetime(2026, 4, 1, tzinfo=timezone.utc)
END = START + timedelta(days=30)


@pytest.fixture
def store(session_factory):
    """A, B, C ordered in March; A and B order again in April (B twice); D only in April;
    C's April order is cancelled."""
    plan = {
        "A": [(-10, "100.00", "delivered"), (5, "300.00", "delivered")],
        "B": [(-20, "50.00", "delivered"), (3, "20.00", "shipped"), (9, "40.00", "delivered")],
        "C": [(-5, "80.00", "delivered"), (12, "999.00", "cancelled")],
        "D": [(15, "60.00", "paid")],
    }
    number = 0
    with session_scope(session_factory) as s:
        for name, orders in plan.items():
            customer = Customer(name=name, preferred_language="en", tier="standard")
            s.add(customer)
            s.flush()
            for days, total, status in orders:
                number += 1
                s.add(
                    Order(
                        order_number=f"LM{number:08d}",
                        customer_id=customer.id,
                        status=status,
                        currency="TWD",
                        placed_at=START + timedelta(days=days),
                        total=Decimal(total),
                    )
                )
    return session_factory


def test_retention_and_churn(store):
    with store() as s:
        assert retention_rate(s, START, END) == pytest.approx(2 / 3)
        assert churn_rate(s, START, END) == pytest.approx(1 / 3)
        assert retention_rate(s, START - timedelta(days=400), START - timedelta(days=370)) is None


def test_purchase_frequency_and_average_order_value(store):
    with store() as s:
        assert purchase_frequency(s, START, END) == pytest.approx(4 / 3)
        assert average_order_value(s, START, END) == {"TWD": Decimal("105.00")}
        assert purchase_frequency(s, END, END + timedelta(days=1)) is None
