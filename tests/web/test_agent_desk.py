"""The agent desk in a real browser (issue 22, "Missing" → Agents): a manager writes a canned
reply; an agent searches by order number, opens the chat, sees the customer's earlier chat,
writes a private note, labels the chat, filters the queue by the label and inserts the canned
reply with the customer's name, order number and her own name filled in. The note never
reaches the customer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.console.devusers import DEV_DISPLAY_NAMES
from tests.web.conftest import WebStack, login

AGENT_NAME = DEV_DISPLAY_NAMES["agent"]

pytestmark = pytest.mark.browser
ORDER = "LM20269999"
NOTE = "已致電客戶，倉庫週五補寄（內部備註）"
CANNED = {
    "zh-Hant": "{customer_name}您好，我是{agent_name}。訂單 {order_number} 已安排補寄。",
    "zh-Hans": "{customer_name}您好，我是{agent_name}。订单 {order_number} 已安排补寄。",
    "en": "Hello {customer_name}, this is {agent_name}. Order {order_number} is being re-sent.",
}


def _desk_data(web: WebStack) -> dict[str, int | str]:
    """A customer with an order, a closed chat from last week and a chat waiting for an agent."""
    from crm.db import make_engine, make_session_factory, session_scope
    from crm.models import Customer, Order
    from crm.orm.base import utcnow
    from crm.repo import conversations as conv_repo

    engine = make_engine(web.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            customer = Customer(
                name="林嘉欣",
                email="kayan@example.com",
                external_ref="C-DESK-1",
                preferred_language="zh-Hant",
            )
            session.add(customer)
            session.flush()
            session.add(Order(order_number=ORDER, customer_id=customer.id, status="shipped", currency="HKD"))
            ids: dict[str, int | str] = {}
            for key, days, text, status in (
                ("old", 7, "上次買的吸塵器想退款", "closed"),
                ("now", 0, f"我的訂單 {ORDER} 還沒有到，已經一個星期了", "waiting_agent"),
            ):
                conv = conv_repo.create_conversation(
                    session,
                    token=f"tok-desk-{key}".ljust(32, "0"),
                    language="zh-Hant",
                    customer_id=customer.id,
                    started_at=utcnow() - timedelta(days=days, minutes=5),
                )
                conv_repo.add_message(
                    session,
                    conversation_id=conv.id,
                    client_id="c1",
                    direction="customer",
                    text=text,
                    created_at=utcnow() - timedelta(days=days, minutes=4),
                )
                conv_repo.transition_conversation(
                    session, conv.id, from_statuses=("bot",), to_status="waiting_agent"
                )
                if status == "closed":
                    conv_repo.transition_conversation(
                        session, conv.id, from_statuses=("waiting_agent",), to_status="closed"
                    )
                ids[key] = conv.id
            ids["token"] = "tok-desk-now".ljust(32, "0")
            return ids
    finally:
        engine.dispose()


def test_agent_searches_opens_notes_labels_and_inserts_a_canned_reply(web_stack, pages):
    ids = _desk_data(web_stack)

    manager = pages.new()
    login(manager, web_stack, "manager", "/agent")
    manager.click("#canned-admin-toggle")
    form = manager.locator("#canned-admin-body form.canned-form").last
    form.locator("input[name=shortcut]").fill("resend")
    form.locator("input[name=title]").fill("補寄通知")
    for language, text in CANNED.items():
        form.locator(f"textarea[name={language}]").fill(text)
    form.locator("button[type=submit]").click()
    manager.locator("#canned-admin-body summary", has_text="/resend").wait_for()
    pages.shot(manager, "manager-canned-reply")

    agent = pages.new()
    login(agent, web_stack, "agent", "/agent")
    agent.fill("#search-q", ORDER.lower())
    agent.press("#search-q", "Enter")
    hits = agent.locator("#search-results .search-hit")
    hits.first.wait_for()
    assert [int(x) for x in hits.evaluate_all("nodes => nodes.map(n => n.dataset.id)")] == [
        ids["now"],
        ids["old"],
    ]
    assert "林嘉欣" in agent.locator("#search-results").inner_text()
    pages.shot(agent, "search-by-order")

    hits.first.click()
    agent.locator("#chat-title", has_text="林嘉欣").wait_for()
    history = agent.locator("#desk .history .search-hit")
    history.first.wait_for()
    assert history.count() == 1 and "吸塵器" in history.inner_text()
    agent.click("#claim")
    agent.wait_for_selector("#reply:not([disabled])")

    agent.fill("#note-input", NOTE)
    agent.click("#note-add")
    note = agent.locator("#desk .notes .note", has_text=NOTE)
    note.wait_for()
    assert AGENT_NAME in note.inner_text()
    customer_view = agent.request.get(f"{web_stack.url}/api/conversations/{ids['token']}/messages")
    assert customer_view.ok and NOTE not in customer_view.text()  # staff only

    agent.fill("#label-input", "補寄")
    agent.click("#label-add")
    agent.locator("#desk .desk-labels .chip.label", has_text="補寄").wait_for()
    agent.locator("#label-filter option[value='補寄']").wait_for(state="attached")
    agent.click("#search-clear")
    agent.select_option("#label-filter", "補寄")
    agent.click(".queue .tabs [data-filter='mine']")
    queue = agent.locator("#queue .queue-item")
    queue.first.wait_for()
    assert queue.evaluate_all("nodes => nodes.map(n => Number(n.dataset.id))") == [ids["now"]]
    pages.shot(agent, "note-and-label")

    agent.select_option("#canned", label="/resend · 補寄通知")
    expected = f"林嘉欣您好，我是{AGENT_NAME}。訂單 {ORDER} 已安排補寄。"
    agent.wait_for_function("text => document.getElementById('reply').value === text", arg=expected)
    pages.shot(agent, "canned-reply-inserted")

    history.first.click()  # the earlier, closed chat opens read-only
    agent.locator("#chat-status", has_text="Closed").wait_for()
    agent.locator("#desk .history .search-hit", has_text="我的訂單").wait_for()  # the other chat, beside it
    assert agent.locator("#reply").is_disabled() and agent.locator("#claim").is_hidden()
    assert agent.locator("#canned").is_disabled()
    assert agent.locator("#composer-hint").inner_text() == "This chat is closed: read only."
    pages.shot(agent, "earlier-chat-read-only")
    assert not pages.errors
