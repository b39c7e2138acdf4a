"""Routing seen in the agent console: an agent marks themselves available, a waiting chat that
fits their languages and skills is assigned to them at once, the queue warns before the
first-response target is missed, and the tab title and a beep tell them about the chat and about
the customer's next message; muting is remembered."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.web.conftest import login, wait_for

pytestmark = pytest.mark.browser


def _waiting_gold_chat(web) -> tuple[int, str]:
    """A gold customer's English chat about a broken product, handed over 4.5 minutes ago (the
    gold first-response target is 5 minutes: the queue should warn)."""
    token = httpx.post(f"{web.url}/api/conversations").json()["token"]
    cid = web.sql("SELECT id FROM conversations WHERE token = :t", t=token)[0][0]
    customer = web.sql("SELECT id FROM customers WHERE tier = 'gold' ORDER BY id LIMIT 1")[0][0]
    handoff = datetime.now(timezone.utc) - timedelta(minutes=4, seconds=30)
    web.sql(
        "UPDATE conversations SET status = 'waiting_agent', language = 'en', customer_id = :c,"
        " handoff_at = :at, handoff_reason = 'customer_request' WHERE id = :i",
        c=customer,
        at=handoff.replace(tzinfo=None),
        i=cid,
    )
    web.sql(
        "INSERT INTO tickets (customer_id, conversation_id, category, severity, status, subject,"
        " created_at, updated_at) VALUES (:c, :i, 'product', 'high', 'open', 'Broken headphones', :at, :at)",
        c=customer,
        i=cid,
        at=handoff.replace(tzinfo=None),
    )
    return cid, token


def test_available_agent_gets_a_fitting_chat_with_target_warning_title_and_sound(web_stack, pages):
    web = web_stack
    # earlier tests' chats still waiting would compete for the agent's places: close them
    web.sql("UPDATE conversations SET status = 'closed' WHERE status = 'waiting_agent'")
    username = web.logins["agent"]["username"]
    try:
        cid, token = _waiting_gold_chat(web)
        agent = pages.new(locale="en-US")
        login(agent, web, "agent", "/agent")
        agent.evaluate("() => localStorage.clear()")
        agent.locator(f".queue-item[data-id='{cid}']").wait_for()
        assert web.sql("SELECT status FROM conversations WHERE id = :i", i=cid)[0][0] == "waiting_agent"
        assert agent.locator("#availability").inner_text() == "Away"
        title = agent.title()
        assert not title.startswith("(")

        agent.click("#availability")  # available: the router gives the chat to this agent
        agent.locator("#availability[aria-pressed='true']").wait_for()
        wait_for(lambda: agent.title().startswith("(1) "), timeout=20)
        assert agent.title() == "(1) " + title
        assert web.sql(
            "SELECT c.status, u.username FROM conversations c JOIN users u ON u.id = c.assigned_agent_id"
            " WHERE c.id = :i",
            i=cid,
        ) == [("agent", username)]
        assert web.sql(
            "SELECT actor FROM audit_log WHERE action = 'chat.assigned' AND target = :t",
            t=f"conversation:{cid}",
        ) == [("router",)]
        assert agent.evaluate("() => window.LumenRouting.alerts") == 1

        agent.click(".queue .tabs [data-filter='mine']")
        chip = agent.locator(f".queue-item[data-id='{cid}'] .chip.sla")
        chip.wait_for()
        assert chip.get_attribute("data-sla") == "first_response:warning"
        assert chip.inner_text() == "Reply due in 1 min"
        pages.shot(agent, "assigned-with-target-warning")

        # the customer writes: another alert (same chat, so still one unseen in the title)
        httpx.post(
            f"{web.url}/api/conversations/{token}/messages",
            json={"id": "routing-c1", "text": "Hello? Is anyone there?"},
            timeout=30,
        )
        wait_for(lambda: agent.evaluate("() => window.LumenRouting.alerts") == 2, timeout=20)
        assert agent.title() == "(1) " + title

        agent.locator(f".queue-item[data-id='{cid}']").click()  # opened: seen
        agent.locator(".transcript .msg.customer .bubble", has_text="Is anyone there").wait_for()
        wait_for(lambda: agent.title() == title, timeout=10)
        assert agent.locator("#transfer").is_visible()
        pages.shot(agent, "chat-open-title-cleared")

        agent.click("#sound")  # mute, remembered after a reload
        assert agent.locator("#sound").get_attribute("aria-pressed") == "false"
        agent.reload()
        agent.locator("#sound[aria-pressed='false']").wait_for()
        assert agent.locator("#sound").inner_text() == "Sound off"
        assert not pages.errors, pages.errors
    finally:  # later tests expect their chats to wait in the queue
        web.sql("UPDATE users SET available = false WHERE username = :u", u=username)
