"""The CRM the benchmark runs against: the seeded demo data plus one customer per conversation.

Every conversation that needs a customer or an order gets its own (``BENCH-<id>``), so
conversations running side by side never share a customer: a compensation granted in one
would otherwise make another's a "second compensation within 30 days".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.convsim.loader import Conversation
from crm.models import Customer, Order, OrderItem
from crm.orm.base import utcnow
from crm.repo import tickets as tk
from crm.repo.customers import find_customer_by_external_ref, find_order
from crm.seed import seed

PRODUCTS = {  # sku -> (en, zh-Hant, zh-Hans, TWD price); what bench orders contain
    "LM-AUD-101": (
        "Lumen Buds Pro wireless earbuds",
        "Lumen Buds Pro 無線耳機",
        "Lumen Buds Pro 无线耳机",
        4990,
    ),
    "LM-WCH-210": ("Lumen Watch S2", "Lumen Watch S2 智慧手錶", "Lumen Watch S2 智能手表", 7990),
    "LM-PWR-020": ("20,000 mAh power bank", "20000mAh 行動電源", "20000mAh 充电宝", 1290),
}
FX = {"TWD": 1, "HKD": 4, "CNY": 4.4}
NAMES = {"en": "Olivia Chan", "zh-Hant": "陳美玲", "zh-Hans": "王芳"}
LANGUAGE_OF = {"en": "en", "zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant", "yue": "zh-Hant", "mixed": "zh-Hant"}


@dataclass
class Context:
    """What one conversation's texts and checks refer to."""

    customer_ref: str | None = None
    customer_id: int | None = None
    orders: list[tuple[str, int]] = field(default_factory=list)  # (number, id)
    wrong_order: str = ""
    past_ticket_id: int | None = None
    email: str | None = None

    def values(self) -> dict[str, str]:
        """Placeholders for texts: {order}, {order2}, {order_digits}, {wrong_order}."""
        out = {"wrong_order": self.wrong_order}
        for i, (number, _) in enumerate(self.orders):
            key = "order" if i == 0 else f"order{i + 1}"
            out[key] = number
            out[f"{key}_digits"] = number[2:]
        return out


def _number(seed_text: str, taken: set[str]) -> str:
    n = int(hashlib.sha256(seed_text.encode()).hexdigest(), 16)
    while True:
        number = f"LM{10_000_000 + n % 90_000_000}"
        if number not in taken:
            taken.add(number)
            return number
        n //= 7


def _bench_customer(session: Session, conv: Conversation, spec: dict, taken: set[str]) -> Context:
    language = LANGUAGE_OF[conv.language]
    now = utcnow()
    customer = Customer(
        external_ref=f"BENCH-{conv.id}"[:64],
        name=spec.get("name") or NAMES[language],
        email=f"{conv.id}@bench.example.com",
        preferred_language=language,
        tier=spec.get("tier", "standard"),
        preferences={"currency": "TWD"},
        consent_personalisation=bool(spec.get("consent", True)),
        created_at=now - timedelta(days=400),
    )
    session.add(customer)
    session.flush()
    ctx = Context(customer_ref=customer.external_ref, customer_id=customer.id, email=customer.email)
    for i, order_spec in enumerate(spec.get("orders") or []):
        currency = order_spec.get("currency", "TWD")
        sku = order_spec.get("sku", "LM-AUD-101")
        product = PRODUCTS[sku]
        name = product[{"en": 0, "zh-Hant": 1, "zh-Hans": 2}[language]]
        price = Decimal(str(order_spec.get("total") or round(product[3] / FX[currency])))
        order = Order(
            order_number=_number(f"{conv.id}/{i}", taken),
            customer_id=customer.id,
            status=order_spec.get("status", "delivered"),
            currency=currency,
            total=price,
            placed_at=now - timedelta(days=int(order_spec.get("days_ago", 6)) + i),
            items=[OrderItem(sku=sku, name=name, qty=1, unit_price=price)],
        )
        session.add(order)
        session.flush()
        ctx.orders.append((order.order_number, order.id))
    customer.lifetime_value = sum((Decimal(str(o.total)) for o in customer.orders), Decimal("0"))
    past = spec.get("past_ticket")
    if past:
        due = now - timedelta(days=float(past.get("days_overdue", 2)))
        ticket = tk.create_ticket(
            session,
            subject="Complaint: late delivery",
            category=past.get("category", "delivery"),
            severity="medium",
            customer_id=customer.id,
            order_id=ctx.orders[0][1] if ctx.orders else None,
            description="Bench: an earlier complaint",
            due_at=due,
            actor="bot",
            created_at=due - timedelta(days=1),
            promise=tk.Promise(past.get("promise", "redelivery"), past.get("complaint", "late_delivery")),
            follow_up=past.get("follow_up", True),  # False: a promise kept without its record (old data)
        )
        ctx.past_ticket_id = ticket.id
    return ctx


def _demo_customer(session: Session, ref: str) -> Context:
    customer = find_customer_by_external_ref(session, ref)
    if customer is None:
        raise LookupError(f"demo customer {ref} is not in the seeded CRM")
    orders = sorted(customer.orders, key=lambda o: o.placed_at, reverse=True)
    return Context(
        customer_ref=ref,
        customer_id=customer.id,
        email=customer.email,
        orders=[(o.order_number, o.id) for o in orders],
    )


def build(
    database_url: str, conversations: list[Conversation], *, seed_demo: bool = True
) -> dict[str, Context]:
    """Seed the demo data into the (migrated, empty) CRM and add each conversation's customer.

    ``seed_demo=False`` (a CRM shared with other tests) adds only the conversations' own
    customers; conversations with a ``demo`` customer then cannot run."""
    engine = create_engine(database_url)
    contexts: dict[str, Context] = {}
    try:
        with Session(engine) as session:
            if seed_demo:
                seed(session)
            taken = set(session.scalars(select(Order.order_number)))
            for conv in conversations:
                spec = conv.customer or {}
                if spec.get("demo"):
                    ctx = _demo_customer(session, spec["demo"])
                elif spec:
                    ctx = _bench_customer(session, conv, spec, taken)
                else:
                    ctx = Context()
                ctx.wrong_order = _number(f"wrong/{conv.id}", taken)
                assert find_order(session, ctx.wrong_order) is None
                contexts[conv.id] = ctx
            session.commit()
    finally:
        engine.dispose()
    return contexts
