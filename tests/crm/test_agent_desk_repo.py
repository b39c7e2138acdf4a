"""The agent desk's repositories on each backend: search matching (case, wildcards, label),
notes redacted when a customer is forgotten, canned replies filled without ``str.format``."""

from __future__ import annotations

import pytest

from crm.models import Customer, Order
from crm.repo import canned, desk
from crm.repo import conversations as conv_repo
from crm.repo.privacy import REDACTED, forget_customer


@pytest.fixture
def chats(session):
    ann = Customer(name="Ann O'Neil", email="ann@example.com", external_ref="C-9")
    session.add(ann)
    session.flush()
    session.add(Order(order_number="LM7001", customer_id=ann.id, currency="HKD"))
    first = conv_repo.create_conversation(
        session, token="t1".ljust(32, "0"), customer_id=ann.id, language="en"
    )
    conv_repo.add_message(
        session, conversation_id=first.id, client_id="a", direction="customer", text="My KETTLE leaks 50%"
    )
    other = conv_repo.create_conversation(session, token="t2".ljust(32, "0"), language="zh-Hans")
    conv_repo.add_message(
        session, conversation_id=other.id, client_id="a", direction="customer", text="水壶漏水"
    )
    session.flush()
    return {"ann": ann.id, "first": first.id, "other": other.id}


def test_search_is_case_insensitive_and_wildcards_are_literal(session, chats):
    ids = lambda hits: [h["id"] for h in hits]  # noqa: E731
    assert ids(desk.search(session, "kettle")) == [chats["first"]]
    assert ids(desk.search(session, "50%")) == [chats["first"]]
    assert ids(desk.search(session, "5_%")) == []
    assert ids(desk.search(session, "o'neil")) == [chats["first"]]
    assert ids(desk.search(session, "lm7001")) == [chats["first"]]
    assert ids(desk.search(session, "漏水")) == [chats["other"]]
    assert desk.search(session, "") == []
    desk.add_label(session, chats["other"], "Leak", added_by="t")
    assert ids(desk.search(session, "", label="LEAK")) == [chats["other"]]
    assert ids(desk.search(session, "kettle", label="leak")) == []
    with pytest.raises(ValueError):
        desk.search(session, "x", label="a/b")


def test_forgetting_a_customer_redacts_the_notes_on_their_chats(session, chats):
    desk.add_note(session, chats["first"], author_id=None, author="Mei", body="Ann's address is 1 Main St")
    desk.add_note(session, chats["other"], author_id=None, author="Mei", body="someone else")
    counts = forget_customer(session, chats["ann"], actor="test")
    assert counts["notes"] == 1
    assert [n["body"] for n in desk.notes(session, chats["first"])] == [REDACTED]
    assert [n["body"] for n in desk.notes(session, chats["other"])] == ["someone else"]


def test_fill_replaces_only_the_known_variables():
    values = {"customer_name": "{agent_name}", "order_number": "LM1", "agent_name": "Mei"}
    assert (
        canned.fill("{customer_name}/{order_number}/{x}/{agent_name}", values) == "{agent_name}/LM1/{x}/Mei"
    )
    assert canned.fill("{customer_name.__class__}", values) == "{customer_name.__class__}"
