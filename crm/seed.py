"""Deterministic demo data (``python -m crm seed``), only ever written into an EMPTY database.

The same ``rng_seed`` and ``reference`` always produce the same rows. Every demo ticket has a
due date and, like every promise, the follow-up that checks it: answered (``kept``) for closed
tickets, still open otherwise, so the customers of open tickets (``DEMO-0002`` the first) have an
overdue promise that the bot asks about at their next greeting. Dev users are created
only for the passwords the caller passes (the CLI generates random ones); nothing secret is
stored in the repository.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Conversation, Customer, Order, OrderItem, Ticket
from crm.orm.base import LANGUAGES, TICKET_CATEGORIES, TIERS
from crm.repo import tickets as tk
from crm.repo.admin import create_user, get_user_by_username
from crm.repo.conversations import add_message
from crm.seed_data import (
    BOT_LINES,
    CATALOGUE,
    CUSTOMER_LINES,
    GIVEN_NAMES,
    MARKETS,
    SURNAMES,
    TICKET_PROMISES,
    TICKET_SUBJECTS,
    Market,
)

REFERENCE = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)
N_CUSTOMERS = 50
DEV_USERNAMES = {
    "agent": "demo-agent",
    "trainer": "demo-trainer",
    "manager": "demo-manager",
    "admin": "demo-admin",
}
TICKET_PATHS = [  # status histories for demo tickets (every path starts at "open")
    ["open"],
    ["open", "in_progress"],
    ["open", "in_progress", "waiting_customer"],
    ["open", "in_progress", "resolved"],
    ["open", "in_progress", "resolved", "closed"],
]


@dataclass
class SeedResult:
    skipped: bool = False
    customers: int = 0
    orders: int = 0
    tickets: int = 0
    conversations: int = 0
    users: list[str] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    return all(
        session.scalar(select(func.count()).select_from(m)) == 0
        for m in (Customer, Order, Conversation, Ticket)
    )


def seed(
    session: Session,
    *,
    user_passwords: Mapping[str, str] | None = None,
    rng_seed: int = 20250115,
    reference: datetime = REFERENCE,
) -> SeedResult:
    """Insert demo data if the database holds no customers/orders/conversations/tickets.

    ``user_passwords`` maps role (agent/trainer/manager/admin) to a password; a ``demo-<role>``
    user is created for each one that does not exist yet. Does not commit.
    """
    result = SeedResult()
    for role, password in (user_passwords or {}).items():
        username = DEV_USERNAMES[role]
        if get_user_by_username(session, username) is None:
            create_user(session, username=username, password=password, role=role, display_name=f"Demo {role}")
            result.users.append(username)
    if not is_empty(session):
        result.skipped = True
        return result
    rng = random.Random(rng_seed)
    used_numbers: set[str] = set()
    for i in range(N_CUSTOMERS):
        lang = LANGUAGES[i % len(LANGUAGES)]
        market = rng.choice(MARKETS[lang])
        customer = _customer(rng, i, lang, market, reference)
        session.add(customer)
        session.flush()
        result.customers += 1
        orders = [
            _order(rng, customer, lang, market, reference, used_numbers) for _ in range(rng.randint(0, 4))
        ]
        session.add_all(orders)
        session.flush()
        result.orders += len(orders)
        customer.lifetime_value = sum((o.total for o in orders if o.status != "cancelled"), Decimal("0"))
        if i % 3 == 0:
            _conversation(session, rng, customer, lang, reference, i)
            result.conversations += 1
        if i % 4 == 1:
            _ticket(session, rng, customer, orders, market[0], reference, i)
            result.tickets += 1
    session.flush()
    return result


def _customer(rng: random.Random, i: int, lang: str, market: Market, ref: datetime) -> Customer:
    surname, given = rng.choice(SURNAMES[lang]), rng.choice(GIVEN_NAMES[lang])
    name = f"{given} {surname}" if lang == "en" else f"{surname}{given}"
    tier = rng.choices(TIERS, weights=[50, 25, 15, 10])[0]
    created = ref - timedelta(days=rng.randint(30, 1500))
    consent_p, consent_m = rng.random() < 0.6, rng.random() < 0.4
    return Customer(
        external_ref=f"DEMO-{i + 1:04d}",
        name=name,
        email=f"customer{i + 1:03d}@example.com",
        phone=f"{market[1]}{rng.randint(0, 10 ** market[2] - 1):0{market[2]}d}",
        preferred_language=lang,
        tier=tier,
        birthday=date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        preferences={
            "contact": rng.choice(["email", "sms", "chat"]),
            "currency": market[0],
            "interests": sorted(rng.sample(["audio", "tv", "home", "wearables"], 2)),
        },
        notes="VIP: greet by name" if tier == "platinum" else None,
        consent_personalisation=consent_p,
        consent_personalisation_at=created if consent_p else None,
        consent_personalisation_source="signup_form" if consent_p else None,
        consent_marketing=consent_m,
        consent_marketing_at=created if consent_m else None,
        consent_marketing_source="signup_form" if consent_m else None,
        created_at=created,
    )


CARRIERS = (("SF Express", "SF"), ("Kerry Express", "KE"), ("Hongkong Post", "HKP"))


def _order(
    rng: random.Random, customer: Customer, lang: str, market: Market, ref: datetime, used: set[str]
) -> Order:
    number = f"LM{rng.randint(10_000_000, 99_999_999)}"
    while number in used:
        number = f"LM{rng.randint(10_000_000, 99_999_999)}"
    used.add(number)
    age_days = rng.randint(0, 365)
    status = (
        "pending"
        if age_days < 1
        else "shipped"
        if age_days < 5
        else rng.choices(["delivered", "cancelled", "returned", "refunded"], [85, 6, 5, 4])[0]
    )
    name_index = {"en": 1, "zh-Hant": 2, "zh-Hans": 3}[lang]
    items = []
    for product in rng.sample(CATALOGUE, rng.randint(1, 3)):
        items.append(
            OrderItem(
                sku=product[0],
                name=product[name_index],
                qty=rng.randint(1, 3),
                unit_price=Decimal(round(product[4] / market[3])),
            )
        )
    total = sum((it.unit_price * it.qty for it in items), Decimal("0"))
    placed = ref - timedelta(days=age_days, hours=rng.randint(0, 23))
    return Order(
        order_number=number,
        customer_id=customer.id,
        status=status,
        placed_at=placed,
        total=total,
        currency=market[0],
        items=items,
        **_shipment(number, status, placed),
    )


def _shipment(number: str, status: str, placed: datetime) -> dict[str, str | datetime]:
    """Carrier, tracking number and expected delivery of a shipped or delivered order, derived
    from its number (so the rest of the demo data stays as it was)."""
    if status not in ("shipped", "delivered", "returned", "refunded"):
        return {}
    digits = int(number[2:])
    carrier, prefix = CARRIERS[digits % len(CARRIERS)]
    return {
        "carrier": carrier,
        "tracking_number": f"{prefix}{digits * 7 % 10**10:010d}",
        "expected_at": placed + timedelta(days=2 + digits % 3),
    }


def _conversation(
    session: Session, rng: random.Random, customer: Customer, lang: str, ref: datetime, i: int
) -> None:
    started = ref - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
    conv = Conversation(
        token=f"demo-{i:04d}-{rng.getrandbits(64):016x}",
        customer_id=customer.id,
        language=lang,
        channel="web",
        status="closed",
        started_at=started,
        ended_at=started + timedelta(minutes=4),
    )
    session.add(conv)
    session.flush()
    lines = [
        ("customer", CUSTOMER_LINES[lang][0]),
        ("bot", BOT_LINES[lang][0]),
        ("customer", CUSTOMER_LINES[lang][1]),
        ("bot", BOT_LINES[lang][1]),
    ]
    for n, (direction, text) in enumerate(lines):
        add_message(
            session,
            conversation_id=conv.id,
            client_id=f"seed-{n}",
            direction=direction,
            text=text,
            language=lang,
            created_at=started + timedelta(seconds=20 * n),
            kb_entry_id="order-status" if n == 1 else None,
            intent="order_status" if direction == "customer" and n == 0 else None,
        )
    tk.add_feedback(
        session,
        conversation_id=conv.id,
        customer_id=customer.id,
        csat=rng.choice([3, 4, 5, 5, 2]),
        created_at=conv.ended_at,
        comment=rng.choice([None, "Quick answer", "OK"]),
    )


def _ticket(
    session: Session,
    rng: random.Random,
    customer: Customer,
    orders: list[Order],
    currency: str,
    ref: datetime,
    i: int,
) -> None:
    category = TICKET_CATEGORIES[i % len(TICKET_CATEGORIES)]
    complaint, resolution = TICKET_PROMISES[category]
    created = ref - timedelta(days=rng.randint(1, 30))
    ticket = tk.create_ticket(
        session,
        subject=TICKET_SUBJECTS[category],
        category=category,
        severity=rng.choice(["low", "medium", "medium", "high", "critical"]),
        customer_id=customer.id,
        order_id=orders[0].id if orders else None,
        due_at=created + timedelta(days=2),
        actor="seed",
        created_at=created,
        promise=tk.Promise(resolution, complaint),
    )
    path = TICKET_PATHS[i % len(TICKET_PATHS)]
    for step, status in enumerate(path[1:], start=1):
        tk.change_ticket_status(
            session,
            ticket.id,
            status,
            actor="seed",
            at=created + timedelta(hours=6 * step),
            resolution="Refunded the difference" if status == "resolved" else None,
        )
    if path[-1] == "closed":
        for follow_up in tk.ticket_follow_ups(session, ticket.id):
            follow_up.status, follow_up.outcome = "done", "kept"
            follow_up.done_at = created + timedelta(hours=6 * len(path))
    if category in ("delivery", "product", "complaint"):
        offer = tk.offer_compensation(
            session,
            customer_id=customer.id,
            ticket_id=ticket.id,
            type=rng.choice(["coupon", "voucher", "free_shipping"]),
            amount=rng.choice([100, 200, 500]),
            currency=currency,
            offered_at=created,
        )
        if "resolved" in path:
            tk.set_offer_status(session, offer.id, "chosen")
            tk.set_offer_status(session, offer.id, "approved", at=created + timedelta(hours=8))
            tk.set_offer_status(session, offer.id, "granted")
