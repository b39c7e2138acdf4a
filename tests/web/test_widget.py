"""Customer widget in a real browser: a KB answer in Traditional Chinese, history after a reload,
the language switch, keyboard use and the mobile layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.web.conftest import ask, open_widget

pytestmark = pytest.mark.browser
FAQ = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "kb/data/reference_faq.yml").read_text(encoding="utf-8")
)
RETURNS = next(e for e in FAQ["entries"] if e["id"] == "returns-policy")["answer"]


def test_kb_question_in_traditional_chinese_is_answered(web_stack, pages):
    page = pages.new()
    open_widget(page, web_stack)
    page.wait_for_selector(".lw-quick button")
    assert page.get_attribute(".lw-lang [data-lang='zh-Hant']", "aria-pressed") == "true"  # zh-TW browser
    assert page.evaluate("document.activeElement.id") == "lw-input"  # focus moves into the chat
    pages.shot(page, "widget-open")
    ask(page, "退貨期限是幾天？")
    answer = page.locator(".lw-bot .lw-msg", has_text=RETURNS["zh-Hant"][:20])
    answer.wait_for()
    assert answer.inner_text().strip() == RETURNS["zh-Hant"]
    assert page.locator(".lw-customer .lw-msg").inner_text() == "退貨期限是幾天？"
    assert page.locator(".lw-bot .lw-msg a[href='https://lumen.example/returns']").count() == 1  # links
    pages.shot(page, "answered")

    mobile = pages.new(width=390, height=844)
    open_widget(mobile, web_stack)
    box = mobile.locator(".lw-panel").bounding_box()
    assert box["width"] == 390 and box["x"] == 0  # full screen on a phone
    ask(mobile, "How long do I have to return an item?")
    mobile.locator(".lw-bot .lw-msg", has_text=RETURNS["en"][:30]).wait_for()
    pages.shot(mobile, "mobile")
    assert not pages.errors


def test_reload_mid_conversation_keeps_the_history(web_stack, pages):
    page = pages.new()
    open_widget(page, web_stack)
    ask(page, "退货期限是多久")
    page.locator(".lw-bot .lw-msg", has_text=RETURNS["zh-Hans"][:20]).wait_for()
    token = page.evaluate("localStorage.getItem('lumen-chat-token')")
    pages.shot(page, "before-reload")
    page.reload()
    page.click(".lw-launcher")
    page.locator(".lw-bot .lw-msg", has_text=RETURNS["zh-Hans"][:20]).wait_for()
    assert page.evaluate("localStorage.getItem('lumen-chat-token')") == token
    assert page.locator(".lw-customer .lw-msg").all_inner_texts() == ["退货期限是多久"]  # no duplicates
    assert page.locator(".lw-quick").is_hidden()
    pages.shot(page, "after-reload")
    ask(page, "How long do I have to return an item?")
    page.locator(".lw-bot .lw-msg", has_text=RETURNS["en"][:30]).wait_for()
    assert page.locator(".lw-customer .lw-msg").count() == 2


def test_language_switch_and_keyboard(web_stack, pages):
    page = pages.new(locale="en-US")
    page.goto(web_stack.url + "/")
    page.focus(".lw-launcher")
    page.keyboard.press("Enter")
    page.wait_for_selector(".lw-panel:not([hidden])")
    assert page.get_attribute(".lw-panel", "role") == "dialog"
    assert page.get_attribute(".lw-log", "role") == "log"
    page.click(".lw-lang [data-lang='zh-Hans']")
    assert page.locator(".lw-head h2").inner_text() == "流明客服"
    assert page.locator(".lw-send").inner_text() == "发送"
    assert page.locator(".lw-quick button").first.inner_text() == "订单查询"
    pages.shot(page, "simplified")
    page.keyboard.press("Escape")
    assert page.locator(".lw-panel").is_hidden()
    assert page.evaluate("document.activeElement.className").startswith("lw-launcher")


def test_returning_customer_answers_the_overdue_promise_with_a_button_shown_by_its_title(web_stack, pages):
    """DEMO-0002 (demo data: an open promise past its deadline) says hello and is asked whether
    the promise was kept; the "No" button's title, not its payload, is the customer's message,
    also after a reload; the answer is recorded on the follow-up."""
    page = pages.new()
    open_widget(page, web_stack, "?customer=DEMO-0002")
    ask(page, "你好")
    no = page.locator(".lw-buttons button", has_text="否")
    no.wait_for()
    question = page.locator(".lw-bot .lw-msg").last.inner_text()
    assert "#" in question and "前" in question  # the ticket and its deadline
    pages.shot(page, "overdue-promise-asked")
    replies = page.locator(".lw-bot:not(.lw-hello) .lw-msg").count()
    no.click()
    page.locator(".lw-bot:not(.lw-hello) .lw-msg").nth(replies).wait_for()  # (the CSP forbids eval)
    assert page.locator(".lw-customer .lw-msg").all_inner_texts() == ["你好", "否"]
    page.reload()
    page.click(".lw-launcher")
    page.locator(".lw-customer .lw-msg", has_text="否").wait_for()
    assert page.locator(".lw-customer .lw-msg").all_inner_texts() == ["你好", "否"]
    answered = page.locator(".lw-buttons button", has_text="否")
    assert answered.count() == 1 and answered.is_disabled()  # answered: not offered again
    assert "lw-chosen" in (answered.get_attribute("class") or "")  # and shown as the choice
    assert page.locator(".lw-buttons button:enabled").count() >= 1  # the latest reply's still are
    pages.shot(page, "click-shown-by-title-after-reload")
    assert web_stack.sql(
        "SELECT f.status, f.outcome FROM follow_ups f JOIN customers c ON c.id = f.customer_id"
        " WHERE c.external_ref = 'DEMO-0002'"
    ) == [("done", "not_kept")]
    assert not pages.errors


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_every_quick_reply_leads_to_a_real_answer(web_stack, pages, language):
    """Issue 17: the quick replies ("Track my order", 退货政策 …) each get an answer or a person,
    never "anything else?" or "I'm not sure"."""
    not_sure = {"zh-Hans": "没有把握", "en": "not sure"}[language]
    for i in range(4):
        page = pages.new()  # a new visitor each time: quick replies show before the first message
        open_widget(page, web_stack)
        page.click(f".lw-lang [data-lang='{language}']")
        button = page.locator(".lw-quick button").nth(i)
        button.wait_for()
        button.click()
        reply = page.locator(".lw-bot:not(.lw-hello) .lw-msg").first
        reply.wait_for()
        said = reply.inner_text()
        assert not_sure not in said and "anything else" not in said.lower(), (i, said)
    assert not pages.errors
