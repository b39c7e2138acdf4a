"""How a due follow-up reaches the customer: the :class:`Notifier` interface and its two
implementations, chosen by ``FOLLOWUP_NOTIFIER`` (see :func:`make_notifier`).

A notifier works in two steps so that no database transaction stays open while it talks to
the outside world (on SQLite an open transaction blocks every other writer):

* :meth:`Notifier.send` does the external part (an HTTP call) with no transaction open, and
  raises on failure (the worker records it and retries later with backoff);
* :meth:`Notifier.record` writes what must be stored with the "sent" mark, in that transaction
  (the local notifier's chat message), and returns message views to push to live widgets.

A send may be repeated after a crash (a claim older than the lease is taken back), so both steps
are idempotent per follow-up: the chat message has the client id ``follow-up-<id>`` and the
webhook carries the delivery id ``follow-up-<id>`` for the receiver to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from sqlalchemy.orm import Session

from common.settings import Settings
from crm.repo import conversations as conv_repo
from crm.repo._serialize import iso

if TYPE_CHECKING:
    from gateway.store import MessageView

HUMAN_STATUSES = ("waiting_agent", "agent")
WEBHOOK_TIMEOUT_S = 10.0


class NotifyError(RuntimeError):
    """The notification could not be delivered now (retried on a later tick)."""


@dataclass
class FollowUpNotice:
    """One claimed follow-up, ready to send (built by ``gateway.followups``)."""

    follow_up_id: int
    attempt: int  # 1 for the first try
    due_at: datetime
    language: str
    text: str
    subject: str
    buttons: list[dict[str, str]]
    ticket: dict[str, Any]  # id, subject, status, due_at, promised, complaint
    customer: dict[str, Any]  # id, external_ref, name, email, language
    conversation_id: int | None = None  # the customer's latest chat
    conversation_status: str | None = None
    times: list[dict[str, str]] = field(default_factory=list)  # deadlines in ``text`` (see notices)

    @property
    def delivery_id(self) -> str:
        return f"follow-up-{self.follow_up_id}"


Push = tuple[int, "MessageView"]  # (conversation id, stored message view)


class Notifier(Protocol):
    channel: str

    def unreachable(self, notice: FollowUpNotice) -> str | None:
        """Why this channel cannot reach the customer now (the follow-up then goes to an agent),
        or None."""

    def send(self, notice: FollowUpNotice) -> None:
        """The external part; no transaction is open. Raise on failure."""

    def record(self, session: Session, notice: FollowUpNotice) -> list[Push]:
        """What is stored together with the "sent" mark (same transaction, never commits)."""


class LocalNotifier:
    """The follow-up becomes a bot message (with yes/no buttons) in the customer's latest
    conversation: the widget shows it on the next visit, or at once when it is open (the worker
    pushes it through the hub). ``prime`` (Rasa's tracker API) sets ``follow_up_id`` and
    ``flow_stage = follow_up_asked`` in that conversation first, so the answer is recorded by
    ``action_follow_up_answer`` as when the greeting asks."""

    channel = "local"

    def __init__(self, prime: Callable[[str, list[dict[str, Any]]], None] | None = None) -> None:
        self._prime = prime

    def unreachable(self, notice: FollowUpNotice) -> str | None:
        if notice.conversation_id is None:
            return "no_conversation"
        if notice.conversation_status in HUMAN_STATUSES:
            return "with_agent"  # a person is talking with the customer: they ask
        return None

    def send(self, notice: FollowUpNotice) -> None:
        if self._prime is None or notice.conversation_id is None:
            return
        try:
            self._prime(str(notice.conversation_id), tracker_events(notice))
        except Exception as exc:  # RasaUnavailable or anything else: retry later
            raise NotifyError(f"bot not primed: {exc}") from exc

    def record(self, session: Session, notice: FollowUpNotice) -> list[Push]:
        from gateway.store import message_view

        if notice.conversation_id is None:
            raise NotifyError("no conversation to write to")
        message, _ = conv_repo.add_message(
            session,
            conversation_id=notice.conversation_id,
            client_id=notice.delivery_id,
            direction="bot",
            text=notice.text,
            language=notice.language,
            payload={
                "buttons": notice.buttons,
                "times": notice.times,
                "follow_up": {"id": notice.follow_up_id, "ticket_id": notice.ticket["id"]},
            },
        )
        return [(notice.conversation_id, message_view(message))]


def tracker_events(notice: FollowUpNotice) -> list[dict[str, Any]]:
    """Rasa tracker events: the follow-up question as the bot's, and the slots its answer
    rules (data/rules/followup.yml) and ``action_follow_up_answer`` read."""
    return [
        {"event": "slot", "name": "follow_up_id", "value": notice.follow_up_id},
        {"event": "slot", "name": "flow_stage", "value": "follow_up_asked"},
        {"event": "bot", "text": notice.text, "data": {"buttons": notice.buttons}},
    ]


class WebhookNotifier:
    """POSTs the follow-up as JSON to ``FOLLOWUP_WEBHOOK_URL`` (an e-mail or messaging service
    of the shop). Any 2xx is a delivery; anything else, or no answer within the timeout, is
    retried. With ``FOLLOWUP_WEBHOOK_SECRET`` the body is signed:
    ``X-Lumen-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""

    channel = "webhook"

    def __init__(self, url: str, secret: str = "", timeout: float = WEBHOOK_TIMEOUT_S) -> None:
        self._url = url
        self._secret = secret.encode()
        self._timeout = timeout

    def unreachable(self, notice: FollowUpNotice) -> str | None:
        return None  # the receiving service decides how to reach the customer

    def send(self, notice: FollowUpNotice) -> None:
        body = json.dumps(webhook_payload(notice), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Lumen-Event": "follow_up.due",
            "X-Lumen-Delivery": notice.delivery_id,
        }
        if self._secret:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers["X-Lumen-Signature"] = f"sha256={digest}"
        try:
            reply = httpx.post(self._url, content=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:  # the URL may hold credentials: never in the message
            raise NotifyError(f"webhook unreachable: {exc.__class__.__name__}") from exc
        if not 200 <= reply.status_code < 300:
            raise NotifyError(f"webhook answered HTTP {reply.status_code}")

    def record(self, session: Session, notice: FollowUpNotice) -> list[Push]:
        return []


def webhook_payload(notice: FollowUpNotice) -> dict[str, Any]:
    return {
        "event": "follow_up.due",
        "delivery_id": notice.delivery_id,
        "follow_up": {"id": notice.follow_up_id, "due_at": iso(notice.due_at), "attempt": notice.attempt},
        "ticket": notice.ticket,
        "customer": notice.customer,
        "message": {
            "language": notice.language,
            "subject": notice.subject,
            "text": notice.text,
            "answers": [b["title"] for b in notice.buttons],
        },
    }


def make_notifier(settings: Settings) -> Notifier:
    """The notifier ``FOLLOWUP_NOTIFIER`` names; the local one primes Rasa through its API."""
    if settings.followup_notifier == "webhook":
        return WebhookNotifier(settings.followup_webhook_url, settings.followup_webhook_secret)
    from gateway.rasa_client import RasaTracker

    return LocalNotifier(RasaTracker(settings.rasa_url, settings.rasa_token).append_events)
