"""Issue 22, managers: the loyalty charts, the tier pyramid, per-agent performance and target
attainment in the analytics console, a CSV link, and a drill-down from a number to the
conversations behind it and one read-only transcript, in a real browser.

With ``LUMEN_DOC_SHOTS=1`` the test also writes docs/screenshots/analytics-managers.png."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from gateway.console.devusers import DEV_DISPLAY_NAMES
from tests.web.conftest import WebStack, login
from tests.web.test_seams import doc_shot

pytestmark = pytest.mark.browser
AGENT_TEXT = "您好，我是客服小林，幫您查一下訂單。"


def _handled_chat(web: WebStack) -> None:
    """A platinum customer's chat handed to the demo agent an hour ago: replied after 3 minutes,
    closed after 40, rated 5."""
    from crm.db import make_engine, make_session_factory, session_scope
    from crm.models import Conversation, Customer, Feedback
    from crm.repo import conversations as conv
    from crm.repo.admin import get_user_by_username

    start = datetime.now(timezone.utc) - timedelta(hours=1)
    engine = make_engine(web.database_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            agent = get_user_by_username(s, web.logins["agent"]["username"])
            vip = Customer(name="林美玲", preferred_language="zh-Hant", tier="platinum")
            s.add(vip)
            s.flush()
            chat = conv.create_conversation(
                s, token=os.urandom(12).hex(), language="zh-Hant", customer_id=vip.id
            )
            for n, (direction, minutes, text) in enumerate(
                [("customer", 0, "我要找真人客服"), ("bot", 0, "正在為您轉接"), ("agent", 3, AGENT_TEXT)]
            ):
                conv.add_message(
                    s,
                    conversation_id=chat.id,
                    client_id=f"m{n}",
                    direction=direction,
                    text=text,
                    created_at=start + timedelta(minutes=minutes),
                )
            row = s.get(Conversation, chat.id)
            row.started_at, row.handoff_at, row.ended_at = start, start, start + timedelta(minutes=40)
            row.assigned_agent_id, row.status, row.handoff_reason = agent.id, "closed", "explicit_request"
            s.add(Feedback(conversation_id=chat.id, customer_id=vip.id, csat=5))
    finally:
        engine.dispose()


def test_manager_charts_agent_table_csv_and_drill_down(web_stack, pages):
    _handled_chat(web_stack)
    manager = pages.new(height=2600)
    login(manager, web_stack, "manager", "/analytics")
    manager.locator("#updated", has_text="updated").wait_for()
    manager.locator("#agents td .drillable").first.wait_for()
    # the charts hold the CRM's numbers: customers per tier (the seed has every tier), a retention bar
    tiers = manager.evaluate("Chart.getChart('c-tiers').data")
    assert tiers["labels"] == ["Platinum", "Gold", "Silver", "Standard"]
    assert all(n > 0 for n in tiers["datasets"][0]["data"])
    assert manager.evaluate("Chart.getChart('c-loyalty').data.datasets[0].data.length") == 2
    attainment = manager.evaluate("Chart.getChart('c-attainment').data.datasets.map(d => d.data[0])")
    assert (
        attainment[1] >= 1 and attainment[2] >= 1
    )  # platinum: a 3-min reply misses 2 min; closed within 4 h
    assert "[object" not in manager.locator("#agents").inner_text()
    assert manager.locator("#loyalty .value").count() == 5
    href = manager.get_attribute("a.csv[data-table='agents']", "href")
    assert href.startswith("/api/analytics/export.csv?table=agents&from=")
    exported = manager.evaluate(
        f"fetch('{href}').then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))"
    )
    assert bytes(exported[:3]) == b"\xef\xbb\xbf"
    assert (
        bytes(exported).decode("utf-8-sig").startswith("Agent,Conversations")
        and DEV_DISPLAY_NAMES["agent"] in bytes(exported).decode()
    )
    pages.shot(manager, "analytics-managers", full_page=True)

    agent_name = web_stack.logins["agent"].get("display_name") or ""
    row = (
        manager.locator("#agents tr", has_text=agent_name)
        if agent_name
        else manager.locator("#agents tr").nth(1)
    )
    row.locator(".drillable").first.click()
    dialog = manager.locator("dialog#drill")
    dialog.locator("tbody tr").first.wait_for()
    assert dialog.is_visible()
    listed = dialog.locator("tbody tr", has_text="林美玲")
    assert listed.count() == 1
    pages.shot(manager, "drill-list")
    listed.click()
    dialog.locator(".drill-transcript .line", has_text=AGENT_TEXT).wait_for()
    assert dialog.locator(".drill-transcript .line").count() == 3
    assert dialog.locator("textarea, input[type=text]").count() == 0  # read-only
    pages.shot(manager, "drill-transcript")
    dialog.locator("#drill-back").click()
    assert dialog.locator("tbody tr", has_text="林美玲").is_visible()
    dialog.locator("#drill-close").click()
    manager.evaluate("window.scrollTo(0, 0)")
    doc_shot(manager, "analytics-managers")
    assert not pages.errors
