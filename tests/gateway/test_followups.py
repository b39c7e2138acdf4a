"""The follow-up worker (gateway/followups.py) and its notifiers (gateway/notifiers.py),
against a real CRM store (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set): what is sent,
to whom and in which language, once only, the consent rule, failures retried with backoff, the
webhook's JSON, and the live push to an open widget."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from crm.db import make_session_factory, session_scope
from crm.models import Customer, FollowUp, Message
from crm.repo import conversations as convs
from crm.repo import follow_ups as fu
from crm.repo import tickets as tk
from gateway.followups import CLAIM_LEASE, FollowUpWorker, retry_delay
from gateway.hub import Hub
from gateway.notifiers import LocalNotifier, WebhookNotifier
from gateway.rasa_client import RasaUnavailable
from tests.gateway.stub_http import StubServer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PROMISE = tk.Promise("redelivery", "late_delivery")


class Primer:
    """Stands in for Rasa's tracker API."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, sender: str, events: list[dict[str, Any]]) -> None:
        if self.fail:
            raise RasaUnavailable("Rasa server unreachable: ConnectError")
        with self.lock:
            self.calls.append((sender, events))


def case(
    factory,
    *,
    language: str | None = "en",
    preferred: str = "en",
    consent: bool = True,
    chat: bool = True,
    chat_status: str = "bot",
    ticket: bool = True,
    ticket_status: str = "open",
    due: datetime = NOW - timedelta(hours=1),
    name: str = "Amy Lin",
) -> dict[str, int | None]:
    """A customer with a complaint ticket (promised for ``NOW - 2h``), its due follow-up and,
    optionally, a chat (an older one too, to check the latest is used)."""
    with session_scope(factory) as s:
        customer = Customer(
            name=name,
            preferred_language=preferred,
            tier="gold",
            email="amy@example.com",
            external_ref=f"C-{name}",
            consent_personalisation=consent,
        )
        s.add(customer)
        s.flush()
        conversation_id = None
        if chat:
            convs.create_conversation(
                s,
                token=f"old-{customer.id}",
                customer_id=customer.id,
                started_at=NOW - timedelta(days=5),
                language="en",
            )
            conv = convs.create_conversation(
                s,
                token=f"tok-{customer.id}",
                customer_id=customer.id,
                started_at=NOW - timedelta(days=2),
                language=language,
            )
            if chat_status != "bot":
                convs.set_conversation_status(s, conv.id, chat_status)
            conversation_id = conv.id
        ticket_id = None
        if ticket:
            t = tk.create_ticket(
                s,
                subject="Complaint: late delivery",
                category="delivery",
                customer_id=customer.id,
                conversation_id=conversation_id,
                due_at=NOW - timedelta(hours=2),
                follow_up=False,
            )
            if ticket_status != "open":
                tk.change_ticket_status(s, t.id, ticket_status)
            ticket_id = t.id
        follow_up = tk.add_follow_up(
            s,
            due_at=due,
            customer_id=customer.id,
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            promise=PROMISE,
            created_by="bot",
        )
        return {
            "customer": customer.id,
            "conversation": conversation_id,
            "ticket": ticket_id,
            "follow_up": follow_up.id,
        }


def row(factory, follow_up_id: int) -> FollowUp:
    with session_scope(factory) as s:
        return s.get(FollowUp, follow_up_id)


def chat_messages(factory, conversation_id: int) -> list[Message]:
    with session_scope(factory) as s:
        return convs.list_messages(s, conversation_id)


@pytest.mark.parametrize(
    "language, words",
    [
        ("zh-Hant", ["案件 #{ticket}", "配送延遲", "優先重新配送", "請問問題已經解決了嗎？"]),
        ("zh-Hans", ["工单 #{ticket}", "配送延迟", "优先重新配送", "请问问题已经解决了吗？"]),
        (
            "en",
            [
                "ticket #{ticket}",
                "the late delivery",
                "a priority re-delivery",
                "Has the issue been resolved?",
            ],
        ),
    ],
)
def test_a_due_follow_up_is_written_into_the_latest_chat_in_the_customers_language(
    session_factory, language, words
):
    ids = case(session_factory, language=language)
    primer = Primer()
    worker = FollowUpWorker(session_factory, LocalNotifier(primer))
    report = worker.run_once(NOW)
    assert report.sent == [ids["follow_up"]] and not (report.failed or report.not_sent)
    [message] = chat_messages(session_factory, ids["conversation"])
    assert (message.direction, message.client_id, message.language) == (
        "bot",
        f"follow-up-{ids['follow_up']}",
        language,
    )
    for word in words:
        assert word.format(ticket=ids["ticket"]) in message.text
    assert [b["payload"] for b in message.payload["buttons"]] == ["/affirm", "/deny"]
    assert message.payload["follow_up"] == {"id": ids["follow_up"], "ticket_id": ids["ticket"]}
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.status, follow_up.sent_at, follow_up.channel, follow_up.attempts) == (
        "sent",
        NOW,
        "local",
        0,
    )
    # the bot is told, so the customer's yes/no reaches action_follow_up_answer
    [(sender, events)] = primer.calls
    assert sender == str(ids["conversation"])
    assert {(e["name"], e["value"]) for e in events if e["event"] == "slot"} == {
        ("follow_up_id", ids["follow_up"]),
        ("flow_stage", "follow_up_asked"),
    }
    assert [e["text"] for e in events if e["event"] == "bot"] == [message.text]
    # never twice
    assert worker.run_once(NOW + timedelta(hours=1)).sent == []
    assert len(chat_messages(session_factory, ids["conversation"])) == 1 and len(primer.calls) == 1


def test_a_chat_without_a_language_gets_the_customers_preferred_one(session_factory):
    ids = case(session_factory, language=None, preferred="zh-Hans")
    FollowUpWorker(session_factory, LocalNotifier()).run_once(NOW)
    [message] = chat_messages(session_factory, ids["conversation"])
    assert message.language == "zh-Hans" and "工单" in message.text


def test_only_due_open_follow_ups_are_sent(session_factory):
    later = case(session_factory, due=NOW + timedelta(minutes=5), name="Later")
    answered = case(session_factory, name="Answered")
    sent = case(session_factory, name="Sent")
    due = case(session_factory, name="Due")
    with session_scope(session_factory) as s:
        tk.complete_follow_up(s, answered["follow_up"], "kept")
        s.get(FollowUp, sent["follow_up"]).status = "sent"
    worker = FollowUpWorker(session_factory, LocalNotifier())
    assert worker.run_once(NOW).sent == [due["follow_up"]]
    for ids in (later, answered, sent):
        assert chat_messages(session_factory, ids["conversation"]) == []
    assert worker.run_once(NOW + timedelta(minutes=5)).sent == [later["follow_up"]]


@pytest.mark.parametrize(
    "setup, status, reason",
    [
        ({"consent": False}, "needs_agent", "no_consent"),
        ({"ticket": False}, "needs_agent", "no_ticket"),
        ({"chat": False}, "needs_agent", "no_conversation"),
        ({"chat_status": "agent"}, "needs_agent", "with_agent"),
        ({"due": NOW - timedelta(days=30)}, "needs_agent", "stale"),
        ({"ticket_status": "closed"}, "skipped", "ticket_closed"),
    ],
)
def test_follow_ups_that_are_not_sent_go_to_an_agent(session_factory, setup, status, reason):
    ids = case(session_factory, **setup)
    primer = Primer()
    report = FollowUpWorker(session_factory, LocalNotifier(primer)).run_once(NOW)
    assert report.not_sent == [ids["follow_up"]] and report.sent == []
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.status, follow_up.reason, follow_up.sent_at) == (status, reason, None)
    assert primer.calls == []
    if ids["conversation"]:
        assert chat_messages(session_factory, ids["conversation"]) == []


def test_an_anonymised_customer_is_never_contacted(session_factory):
    from crm.repo.privacy import forget_customer

    ids = case(session_factory)
    with session_scope(session_factory) as s:
        forget_customer(s, ids["customer"], actor="test")
    webhook = StubServer()
    try:
        report = FollowUpWorker(session_factory, WebhookNotifier(webhook.url)).run_once(NOW)
    finally:
        webhook.close()
    assert report.not_sent == [ids["follow_up"]] and webhook.received == []
    assert (row(session_factory, ids["follow_up"]).status, row(session_factory, ids["follow_up"]).reason) == (
        "skipped",
        "anonymised",
    )


def test_a_second_worker_cannot_send_what_the_first_has_claimed(session_factory, engine):
    ids = case(session_factory)
    other = FollowUpWorker(make_session_factory(engine), LocalNotifier())
    seen: dict[str, Any] = {}

    def prime(sender, events):  # while worker A sends, worker B (another process) ticks ...
        seen["b"] = other.run_once(NOW)
        with session_scope(make_session_factory(engine)) as s:  # ... or had read it as due before
            seen["claim"] = fu.claim_follow_up(s, ids["follow_up"], NOW)

    first = FollowUpWorker(session_factory, LocalNotifier(prime))
    report = first.run_once(NOW)
    assert report.sent == [ids["follow_up"]]
    assert seen["b"].sent == [] and seen["b"].failed == [] and seen["claim"] is False
    assert len(chat_messages(session_factory, ids["conversation"])) == 1


def test_two_workers_racing_send_each_follow_up_once(session_factory, engine):
    cases = [case(session_factory, name=f"C{n}") for n in range(6)]
    primer = Primer()
    workers = [FollowUpWorker(make_session_factory(engine), LocalNotifier(primer)) for _ in range(2)]
    start = threading.Barrier(2)
    reports = []

    def tick(worker):
        start.wait()
        reports.append(worker.run_once(NOW))

    threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = sorted(reports[0].sent + reports[1].sent)
    assert sent == sorted(c["follow_up"] for c in cases)
    assert sorted(int(sender) for sender, _ in primer.calls) == sorted(c["conversation"] for c in cases)
    for c in cases:
        assert len(chat_messages(session_factory, c["conversation"])) == 1


def test_a_failed_send_is_recorded_and_retried_with_backoff(session_factory):
    ids = case(session_factory)
    primer = Primer(fail=True)
    worker = FollowUpWorker(session_factory, LocalNotifier(primer))
    assert worker.run_once(NOW).failed == [ids["follow_up"]]
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.status, follow_up.attempts, follow_up.next_attempt_at) == (
        "pending",
        1,
        NOW + retry_delay(1),
    )
    assert "Rasa server unreachable" in follow_up.last_error
    assert chat_messages(session_factory, ids["conversation"]) == []  # nothing half-sent
    assert worker.run_once(NOW + timedelta(seconds=30)).failed == []  # not before the backoff
    later = NOW + retry_delay(1)
    assert worker.run_once(later).failed == [ids["follow_up"]]
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.attempts, follow_up.next_attempt_at) == (2, later + retry_delay(2))
    assert retry_delay(2) == 2 * retry_delay(1) and retry_delay(50) == timedelta(hours=1)
    primer.fail = False
    assert worker.run_once(later + retry_delay(2)).sent == [ids["follow_up"]]
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.status, follow_up.last_error, follow_up.attempts) == ("sent", None, 2)
    assert len(chat_messages(session_factory, ids["conversation"])) == 1


def test_a_claim_left_by_a_dead_worker_is_sent_after_the_lease(session_factory):
    ids = case(session_factory)
    with session_scope(session_factory) as s:  # a worker claimed it and died
        assert fu.claim_follow_up(s, ids["follow_up"], NOW - CLAIM_LEASE - timedelta(seconds=1))
    worker = FollowUpWorker(session_factory, LocalNotifier())
    report = worker.run_once(NOW)
    assert report.released == 1 and report.sent == [ids["follow_up"]]


def test_webhook_notifier_posts_the_follow_up_as_signed_json(session_factory):
    ids = case(session_factory, language="zh-Hant")
    stub = StubServer()
    try:
        report = FollowUpWorker(session_factory, WebhookNotifier(stub.url, "s3cret")).run_once(NOW)
    finally:
        stub.close()
    assert report.sent == [ids["follow_up"]]
    [request] = stub.received
    assert request.path == "/hooks/follow-up"
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["x-lumen-event"] == "follow_up.due"
    assert request.headers["x-lumen-delivery"] == f"follow-up-{ids['follow_up']}"
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-lumen-signature"] == f"sha256={expected}"
    body = request.json()
    assert body["event"] == "follow_up.due" and body["delivery_id"] == f"follow-up-{ids['follow_up']}"
    assert body["follow_up"] == {
        "id": ids["follow_up"],
        "due_at": (NOW - timedelta(hours=1)).isoformat(),
        "attempt": 1,
    }
    assert body["ticket"] == {
        "id": ids["ticket"],
        "subject": "Complaint: late delivery",
        "status": "open",
        "due_at": (NOW - timedelta(hours=2)).isoformat(),
        "promised": "redelivery",
        "complaint": "late_delivery",
    }
    assert body["customer"] == {
        "id": ids["customer"],
        "external_ref": "C-Amy Lin",
        "name": "Amy Lin",
        "email": "amy@example.com",
        "language": "en",
    }
    message = body["message"]
    assert message["language"] == "zh-Hant" and f"案件 #{ids['ticket']}" in message["text"]
    assert message["answers"] == ["是", "否"] and f"#{ids['ticket']}" in message["subject"]
    follow_up = row(session_factory, ids["follow_up"])
    assert (follow_up.status, follow_up.channel) == ("sent", "webhook")
    assert chat_messages(session_factory, ids["conversation"]) == []  # the webhook does not write the chat


def test_a_failing_webhook_is_retried_on_a_later_tick(session_factory):
    ids = case(session_factory)
    stub = StubServer(statuses=[503, 200])
    try:
        worker = FollowUpWorker(session_factory, WebhookNotifier(stub.url))
        assert worker.run_once(NOW).failed == [ids["follow_up"]]
        follow_up = row(session_factory, ids["follow_up"])
        assert (follow_up.status, follow_up.attempts, follow_up.last_error) == (
            "pending",
            1,
            "NotifyError: webhook answered HTTP 503",
        )
        assert worker.run_once(NOW + retry_delay(1)).sent == [ids["follow_up"]]
    finally:
        stub.close()
    first, second = stub.received
    assert first.headers["x-lumen-delivery"] == second.headers["x-lumen-delivery"]  # receivers dedupe
    assert [first.json()["follow_up"]["attempt"], second.json()["follow_up"]["attempt"]] == [1, 2]
    assert row(session_factory, ids["follow_up"]).status == "sent"


def test_an_unreachable_webhook_is_a_failure_too(session_factory):
    ids = case(session_factory)
    stub = StubServer()
    url = stub.url
    stub.close()  # nothing listens there any more
    report = FollowUpWorker(session_factory, WebhookNotifier(url, timeout=2)).run_once(NOW)
    assert report.failed == [ids["follow_up"]]
    assert row(session_factory, ids["follow_up"]).last_error.startswith("NotifyError: webhook unreachable")


class Recorder:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_json(self, data: Any) -> None:
        self.frames.append(data)


def test_an_open_widget_and_the_agent_consoles_see_the_follow_up_at_once(session_factory):
    ids = case(session_factory)
    hub, widget, console = Hub(), Recorder(), Recorder()
    hub.join(ids["conversation"], widget)
    hub.join_console(console)
    asyncio.run(FollowUpWorker(session_factory, LocalNotifier(), hub).tick(NOW))
    [push] = widget.frames
    assert push["type"] == "push" and push["messages"][0]["client_id"] == f"follow-up-{ids['follow_up']}"
    assert [b["payload"] for b in push["messages"][0]["buttons"]] == ["/affirm", "/deny"]
    assert "follow_up" not in push["messages"][0]  # internal payload stays internal
    assert [f["type"] for f in console.frames] == ["messages", "follow_ups_changed"]


def test_follow_up_settings_are_read_and_checked(monkeypatch, tmp_path):
    from common.settings import get_settings

    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    for name in (
        "FOLLOWUP_INTERVAL_S",
        "FOLLOWUP_NOTIFIER",
        "FOLLOWUP_WEBHOOK_URL",
        "FOLLOWUP_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    try:
        get_settings.cache_clear()
        defaults = get_settings()
        assert (defaults.followup_interval_s, defaults.followup_notifier, defaults.followup_webhook_url) == (
            60.0,
            "local",
            "",
        )
        monkeypatch.setenv("FOLLOWUP_NOTIFIER", "webhook")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="FOLLOWUP_WEBHOOK_URL"):
            get_settings()
        monkeypatch.setenv("FOLLOWUP_WEBHOOK_URL", "https://mail.example.com/hooks/follow-up")
        monkeypatch.setenv("FOLLOWUP_INTERVAL_S", "0")
        get_settings.cache_clear()
        configured = get_settings()
        assert (configured.followup_interval_s, configured.followup_notifier) == (0.0, "webhook")
        from gateway.notifiers import WebhookNotifier, make_notifier

        assert isinstance(make_notifier(configured), WebhookNotifier)
        for name, value in (("FOLLOWUP_INTERVAL_S", "-1"), ("FOLLOWUP_NOTIFIER", "sms")):
            monkeypatch.setenv(name, value)
            get_settings.cache_clear()
            with pytest.raises(ValueError, match=name):
                get_settings()
            monkeypatch.setenv(name, {"FOLLOWUP_INTERVAL_S": "0", "FOLLOWUP_NOTIFIER": "webhook"}[name])
    finally:
        get_settings.cache_clear()
