"""Fixtures for action unit tests: a seeded temporary SQLite CRM wired into
``actions.services``, rasa_sdk Trackers built from slots/intent/text, and a runner that returns
the action's events and dispatched messages."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import services
from crm import migrate
from crm.db import make_engine, make_session_factory, session_scope
from crm.models import Conversation, Customer, FollowUp, Order
from crm.seed import seed


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> str:
    """A migrated and seeded SQLite file, built once and copied for each test."""
    path = tmp_path_factory.mktemp("crm-template") / "crm.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        seed(session)
    engine.dispose()
    return str(path)


@pytest.fixture
def crm(seeded_template, tmp_path, monkeypatch):
    """A fresh copy of the seeded CRM; ``actions.services.crm_session`` uses it."""
    path = tmp_path / "crm.sqlite3"
    shutil.copy(seeded_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    monkeypatch.setattr(services, "_session_factory", factory)
    yield factory
    engine.dispose()


@dataclass
class Case:
    """A chat in the CRM (its id is the Rasa sender id) and, optionally, its verified customer."""

    conversation_id: int
    customer_id: int | None
    customer_name: str | None = None
    order_number: str | None = None


def _pick_customer(
    session,
    *,
    consent: bool | None = None,
    tier: str | None = None,
    tiers_not: tuple[str, ...] = (),
    promised: bool = False,
) -> Customer:
    """A seeded customer with orders; ``promised``: one with an open demo promise (a ticket whose
    follow-up is unanswered), else one with none (so the greeting asks nothing)."""
    open_promise = select(FollowUp.customer_id).where(
        FollowUp.done_at.is_(None), FollowUp.customer_id.is_not(None)
    )
    stmt = (
        select(Customer)
        .where(
            Customer.orders.any(),
            Customer.id.in_(open_promise) if promised else Customer.id.not_in(open_promise),
        )
        .order_by(Customer.id)
    )
    if consent is not None:
        stmt = stmt.where(Customer.consent_personalisation.is_(consent))
    if tier is not None:
        stmt = stmt.where(Customer.tier == tier)
    if tiers_not:
        stmt = stmt.where(Customer.tier.not_in(tiers_not))
    customer = session.scalars(stmt).first()
    assert customer is not None, "seed data has no such customer"
    return customer


@pytest.fixture
def new_chat(crm):
    """``new_chat(verified=..., consent=..., tier=...)`` -> :class:`Case`.

    ``verified`` attaches a seeded customer (with at least one order) to the conversation, as
    the gateway does for a signed identity; ``order_number`` is one of that customer's orders.
    An anonymous chat still gets a customer's order number, to type in the chat.
    """

    def make(
        verified: bool = False, consent: bool | None = None, tier: str | None = None, promised: bool = False
    ) -> Case:
        with session_scope(crm) as session:
            customer = _pick_customer(
                session,
                consent=consent,
                tier=tier,
                tiers_not=() if tier else ("platinum",),
                promised=promised,
            )
            conv = Conversation(token=uuid.uuid4().hex, customer_id=customer.id if verified else None)
            session.add(conv)
            session.flush()
            order = session.scalars(
                select(Order).where(Order.customer_id == customer.id).order_by(Order.id)
            ).first()
            return Case(
                conv.id,
                customer.id if verified else None,
                customer.name if verified else None,
                order.order_number,
            )

    return make


def tracker(
    sender_id: Any = "1",
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    entities = list(entities or [])
    all_slots = {"language": "en", "failed_answers": 0.0, "requested_slot": None}
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99} if intent else {},
        "entities": entities,
    }
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(
        str(sender_id),
        all_slots,
        latest,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def entity(name: str, value: Any) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 0}


def run(action: Any, trk: Tracker, domain: dict[str, Any] | None = None):
    """Run an action; return (events, messages, slots-after as a dict)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, domain or {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return events, dispatcher.messages, slots


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") for m in messages]
