"""Issue 22, what customers expect besides answers, seen in a real browser with the customer's
and the agent's pages side by side: message times in the customer's time zone and language,
the agent's display name, the agent typing, the wait acknowledgement and read state both ways
(live and after a reload)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.web.conftest import WebStack, ask, login, open_widget, wait_for
from tests.web.test_consoles import hand_over

pytestmark = pytest.mark.browser
HONG_KONG = timedelta(hours=8)


def stored_time(web: WebStack, cid: int, direction: str, *, first: bool = False) -> datetime:
    """When the chat's latest (or ``first``) message in ``direction`` was stored."""
    order = "ASC" if first else "DESC"
    raw = web.sql(
        f"SELECT created_at FROM messages WHERE conversation_id = :c AND direction = :d ORDER BY id {order} LIMIT 1",
        c=cid,
        d=direction,
    )[0][0]
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return value.replace(tzinfo=None)


def clock_12h(moment: datetime) -> str:
    """How zh-TW writes the time of day with two-digit hours: 下午03:04 -> "03:04"."""
    return f"{(moment.hour % 12) or 12:02d}:{moment.minute:02d}"


def test_customer_sees_times_agent_name_typing_wait_and_read_state(web_stack, pages, browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-TW", timezone_id="Asia/Hong_Kong"
    )
    pages.contexts.append(context)
    customer = context.new_page()
    customer.set_default_timeout(30_000)
    customer.on("pageerror", lambda exc: pages.errors.append(str(exc)))
    open_widget(customer, web_stack)
    cid = hand_over(web_stack, customer)

    # every message carries its time, in Hong Kong time (UTC+8), not UTC
    question_at = stored_time(web_stack, cid, "customer", first=True)  # the widget's first message
    first_time = customer.locator(".lw-customer time.lw-time").first.inner_text()
    assert clock_12h(question_at + HONG_KONG) in first_time and clock_12h(question_at) not in first_time
    assert ("上午" in first_time) or ("下午" in first_time) or ("中午" in first_time), first_time

    # a message while waiting: acknowledged with the queue position and the expected wait
    ask(customer, "請問還要等多久？")
    customer.locator(".lw-notice", has_text="預計約").wait_for()
    notice = customer.locator(".lw-notice", has_text="預計約").inner_text()
    assert "您目前排在第" in notice and "分鐘" in notice, notice

    agent = pages.new()
    login(agent, web_stack, "agent", "/agent")
    agent.locator(f".queue-item[data-id='{cid}']").click()
    agent.click("#claim")
    agent.wait_for_selector("#reply:not([disabled])")
    agent.locator(".transcript .msg.customer .bubble", has_text="請問還要等多久").wait_for()

    # the agent has the chat open: the customer sees "read" under the message the agent saw
    read = customer.locator(".lw-customer .lw-read")
    read.wait_for()
    assert read.inner_text() == "已讀"
    assert customer.locator(".lw-customer").last.locator(".lw-read").count() == 1

    # the agent types: the customer sees that, never what
    draft = "草稿：正在查詢您的訂單 LM-SECRET"
    agent.locator("#reply").press_sequentially(draft[:6], delay=40)
    typing = customer.locator(".lw-typing[data-who='agent']")
    typing.wait_for(state="visible")
    assert customer.locator(".lw-typing .lw-sr").inner_text() == "客服專員正在輸入…"
    pages.shot(customer, "customer-sees-agent-typing")
    agent.fill("#reply", draft.replace("草稿：", "") + "，請稍候。")
    assert "LM-SECRET" not in customer.content() or customer.locator(".lw-agent").count() == 0
    agent.keyboard.press("Enter")

    # the reply is signed with the agent's display name and its time
    reply = customer.locator(".lw-agent").last
    reply.locator(".lw-msg", has_text="正在查詢").wait_for()
    typing.wait_for(state="hidden")
    assert reply.locator(".lw-sender").inner_text() == "Mei Chan（客服專員）"
    answered_at = stored_time(web_stack, cid, "agent")
    assert clock_12h(answered_at + HONG_KONG) in reply.locator("time.lw-time").inner_text()
    assert "Mei Chan" in agent.locator(".transcript .msg.agent .meta").last.inner_text()

    # the customer has the chat open: the agent sees "Seen" under its reply
    seen = agent.locator(".transcript .msg.agent .meta .seen")
    seen.wait_for()
    pages.shot(agent, "agent-sees-seen")
    pages.shot(customer, "customer-sees-name-time-read")

    # after a reload: the times, the agent's name and the read mark come back from the history
    customer.reload()
    customer.click(".lw-launcher")
    reloaded = customer.locator(".lw-agent").last
    reloaded.locator(".lw-msg", has_text="正在查詢").wait_for()
    assert reloaded.locator(".lw-sender").inner_text() == "Mei Chan（客服專員）"
    assert clock_12h(answered_at + HONG_KONG) in reloaded.locator("time.lw-time").inner_text()
    customer.locator(".lw-customer .lw-read").wait_for()
    wait_for(lambda: customer.locator(".lw-customer time.lw-time").count() >= 2, timeout=10)

    # switching the widget to English re-renders names, times and marks in English
    customer.click(".lw-lang [data-lang='en']")
    assert reloaded.locator(".lw-sender").inner_text() == "Mei Chan (agent)"
    assert customer.locator(".lw-bot:not(.lw-hello) .lw-sender").first.inner_text() == "Assistant"
    assert customer.locator(".lw-customer .lw-read").inner_text() == "Read"
    english = reloaded.locator("time.lw-time").inner_text()
    assert "AM" in english or "PM" in english, english
    pages.shot(customer, "customer-after-reload-in-english")

    # the agent renames themself in the console; the next message carries the new name
    agent.click("#edit-name")
    agent.fill("#name-input", "Mei")
    agent.keyboard.press("Enter")
    agent.locator("#me-name", has_text="Mei ·").wait_for()
    agent.fill("#reply", "還有其他需要嗎？")
    agent.keyboard.press("Enter")
    customer.locator(".lw-agent .lw-sender", has_text="Mei (agent)").wait_for()
    assert web_stack.sql(
        "SELECT display_name FROM users WHERE role = 'agent' AND username LIKE 'demo-%'"
    ) == [("Mei",)]
    web_stack.sql("UPDATE users SET display_name = 'Mei Chan' WHERE display_name = 'Mei'")  # for later tests
    assert not pages.errors, pages.errors


def damaged_item_photo() -> bytes:
    """A small picture of a cracked phone screen (drawn, so the test needs no image file)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (235, 238, 245))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((150, 30, 330, 330), radius=24, fill=(30, 32, 40))
    draw.rectangle((162, 60, 318, 300), fill=(70, 110, 180))
    draw.line((170, 80, 240, 170, 210, 230, 300, 290), fill=(250, 250, 250), width=4)
    draw.line((240, 170, 310, 120), fill=(250, 250, 250), width=3)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def loaded(page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_a_photo_of_the_damaged_item_reaches_the_agent(web_stack, pages):
    customer = pages.new(width=1280)
    open_widget(customer, web_stack)
    cid = hand_over(web_stack, customer)

    # not an image, whatever its name says: refused with a clear message in the customer's language
    customer.set_input_files(
        ".lw-file", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": b"<svg onload=alert(1)>"}]
    )
    customer.locator(".lw-notice", has_text="請傳送 PNG、JPEG 或 WebP 格式的照片").wait_for()

    customer.set_input_files(
        ".lw-file", files=[{"name": "damaged.jpg", "mimeType": "image/jpeg", "buffer": damaged_item_photo()}]
    )
    customer.locator(".lw-customer img.lw-img").wait_for()
    wait_for(lambda: loaded(customer, ".lw-customer img.lw-img"), timeout=15)
    assert customer.locator(".lw-customer img.lw-img").get_attribute("src").startswith("blob:")
    pages.shot(customer, "customer-sent-a-photo")

    agent = pages.new()
    login(agent, web_stack, "agent", "/agent")
    agent.locator(f".queue-item[data-id='{cid}']").click()
    agent.locator(".transcript .msg.customer img.thumb").wait_for()
    wait_for(lambda: loaded(agent, ".transcript .msg.customer img.thumb"), timeout=15)
    pages.shot(agent, "agent-sees-the-photo")

    customer.reload()  # the customer's own history shows it again
    customer.click(".lw-launcher")
    customer.locator(".lw-customer img.lw-img").wait_for()
    wait_for(lambda: loaded(customer, ".lw-customer img.lw-img"), timeout=15)
    assert not pages.errors, pages.errors
