"""The follow-up worker: keeps "we'll check back with you" promises even when the customer never
comes back to the chat (service recovery, step 6).

An asyncio task of the gateway (started and stopped by the app's lifespan, every
``FOLLOWUP_INTERVAL_S`` seconds, 0: off). Each tick runs in a worker thread with one Session:

1. claims older than :data:`CLAIM_LEASE` are given back (a worker died mid-send);
2. the due ``pending`` follow-ups of all customers are read (:func:`crm.repo.follow_ups.follow_ups_to_send`);
3. each one is claimed with a conditional UPDATE (``pending`` -> ``sending``) and committed, so
   of several gateway processes exactly one sends it; then, with no transaction open, it is
   sent through the notifier (:mod:`gateway.notifiers`), and the result is stored in a
   short transaction: ``sent``, or ``needs_agent`` / ``skipped`` with a reason, or a failure
   (back to ``pending`` with ``attempts``, ``last_error`` and ``next_attempt_at`` = now + backoff).

Back on the event loop, messages written into a chat are pushed to the customer's open widget
and to agent consoles.

Who is contacted: a follow-up is sent only for a known customer who consented to
personalisation (``Customer.consent_personalisation``, the flag the bot already requires before
it uses the profile to address someone). The CRM has no separate "may we contact you" flag, and
``consent_marketing`` is about promotions, not about an answer to the customer's own complaint.
Without consent the follow-up goes to an agent (``needs_agent``, reason ``no_consent``); the
bot still asks when the customer greets it again (then the customer started the contact).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from common.settings import Settings
from crm.orm.base import utcnow
from crm.repo import follow_ups as repo
from crm.repo._serialize import iso
from gateway.hub import Broadcaster
from gateway.notices import follow_up_language, follow_up_text
from gateway.notifiers import FollowUpNotice, Notifier, Push

logger = logging.getLogger(__name__)

CONSENT_FLAG = "consent_personalisation"
CLAIM_LEASE = timedelta(minutes=10)  # a claim this old is given back (its worker died)
STALE_AFTER = timedelta(days=14)  # due longer ago than this: an agent decides, no message
RETRY_BASE_S = 60.0  # failed sends: retried after 1, 2, 4 ... minutes,
RETRY_MAX_S = 3600.0  # at most hourly, never given up
BATCH = 20  # follow-ups per tick
STOP_TIMEOUT_S = 15.0


def retry_delay(attempt: int) -> timedelta:
    """Backoff before the next try after failed attempt number ``attempt`` (1-based)."""
    return timedelta(seconds=min(RETRY_MAX_S, RETRY_BASE_S * 2 ** max(0, attempt - 1)))


@dataclass
class NotSent:
    status: str  # needs_agent | skipped
    reason: str


def build_notice(ctx: repo.DeliveryContext, now: datetime, notifier: Notifier) -> FollowUpNotice | NotSent:
    """The message for one claimed follow-up, or why it is not sent automatically."""
    follow_up, customer, ticket = ctx.follow_up, ctx.customer, ctx.ticket
    if customer is None:
        return NotSent("needs_agent", "no_customer")
    if customer.anonymised_at is not None:
        return NotSent("skipped", "anonymised")
    if ticket is None:
        return NotSent("needs_agent", "no_ticket")  # an agent's own reminder
    if ticket.status == "closed":
        return NotSent("skipped", "ticket_closed")
    if not getattr(customer, CONSENT_FLAG):
        return NotSent("needs_agent", "no_consent")
    if follow_up.due_at < now - STALE_AFTER:
        return NotSent("needs_agent", "stale")
    conversation = ctx.conversation
    language = follow_up_language(
        (conversation.language if conversation else None) or customer.preferred_language
    )
    promised, complaint = follow_up.promised_resolution, follow_up.complaint_category
    message = follow_up_text(
        language, ticket_id=ticket.id, resolution=promised, category=complaint, deadline_at=ticket.due_at
    )
    notice = FollowUpNotice(
        follow_up_id=follow_up.id,
        attempt=(follow_up.attempts or 0) + 1,
        due_at=follow_up.due_at,
        language=language,
        text=message["text"],
        subject=message["subject"],
        buttons=message["buttons"],
        ticket={
            "id": ticket.id,
            "subject": ticket.subject,
            "status": ticket.status,
            "due_at": iso(ticket.due_at),
            "promised": promised,
            "complaint": complaint,
        },
        customer={
            "id": customer.id,
            "external_ref": customer.external_ref,
            "name": customer.name,
            "email": customer.email,
            "language": customer.preferred_language,
        },
        conversation_id=conversation.id if conversation else None,
        conversation_status=conversation.status if conversation else None,
        times=message["times"],
    )
    reason = notifier.unreachable(notice)
    return NotSent("needs_agent", reason) if reason else notice


@dataclass
class TickReport:
    sent: list[int] = field(default_factory=list)
    not_sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # claimed by another worker first
    released: int = 0
    pushes: list[Push] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.sent or self.not_sent or self.failed or self.released)


class FollowUpWorker:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        notifier: Notifier,
        hub: Broadcaster | None = None,
        interval_s: float = 60.0,
        batch: int = BATCH,
    ) -> None:
        self._factory = session_factory
        self.notifier = notifier
        self._hub = hub
        self.interval_s = interval_s
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._halt = threading.Event()  # seen by the tick thread between follow-ups

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Start the background task (not when the interval is 0); True when started."""
        if self.interval_s <= 0 or self.running:
            return False
        self._stop.clear()
        self._halt.clear()
        self._task = asyncio.create_task(self._run_forever(), name="follow-up-worker")
        return True

    async def stop(self) -> None:
        """Stop after the follow-up in hand (never leaves a thread writing after shutdown)."""
        self._stop.set()
        self._halt.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=STOP_TIMEOUT_S)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        self._task = None

    async def _run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval_s)
                return
            except asyncio.TimeoutError:
                pass
            try:
                await self.tick()
            except Exception:
                logger.exception("follow-up tick failed; trying again next tick")

    async def tick(self, now: datetime | None = None) -> TickReport:
        report = await asyncio.to_thread(self.run_once, now)
        await self._publish(report)
        return report

    async def _publish(self, report: TickReport) -> None:
        if self._hub is None:
            return
        for conversation_id, view in report.pushes:
            await self._hub.to_customer(conversation_id, {"type": "push", "messages": [view]})
            await self._hub.to_consoles(
                {"type": "messages", "conversation_id": conversation_id, "messages": [view]}
            )
        if report.changed:
            await self._hub.to_consoles({"type": "follow_ups_changed"})

    # ------------------------------------------------------------------ one tick (blocking)
    def run_once(self, now: datetime | None = None) -> TickReport:
        """One tick: one Session, a short transaction per step (see the module docstring)."""
        now = now or utcnow()
        report = TickReport()
        with self._factory() as session:
            report.released = repo.release_stale_claims(session, now - CLAIM_LEASE)
            due = repo.follow_ups_to_send(session, now, limit=self._batch)
            session.commit()
            for follow_up_id in due:
                if self._halt.is_set():
                    break
                try:
                    self._handle(session, follow_up_id, now, report)
                except Exception as exc:  # a bug or the database: record it, go on
                    session.rollback()
                    logger.exception("follow-up %s: unexpected error", follow_up_id)
                    self._failed(session, follow_up_id, None, exc, now, report)
                finally:
                    session.expunge_all()  # the UPDATEs bypass the identity map
        if report.changed:
            logger.info(
                "follow-ups: %d sent, %d to agents/skipped, %d failed, %d lost, %d released",
                len(report.sent),
                len(report.not_sent),
                len(report.failed),
                len(report.lost),
                report.released,
            )
        return report

    def _handle(self, session: Session, follow_up_id: int, now: datetime, report: TickReport) -> None:
        claimed = repo.claim_follow_up(session, follow_up_id, now)
        session.commit()  # the claim is durable before anything is sent
        if not claimed:
            report.lost.append(follow_up_id)
            return
        ctx = repo.delivery_context(session, follow_up_id)
        decision = build_notice(ctx, now, self.notifier) if ctx else NotSent("skipped", "deleted")
        session.commit()  # no transaction stays open while sending
        if isinstance(decision, NotSent):
            repo.mark_not_sent(session, follow_up_id, status=decision.status, reason=decision.reason)
            session.commit()
            report.not_sent.append(follow_up_id)
            return
        try:
            self.notifier.send(decision)
        except Exception as exc:
            self._failed(session, follow_up_id, decision.attempt, exc, now, report)
            return
        try:
            pushes = self.notifier.record(session, decision)
            if not repo.mark_sent(session, follow_up_id, channel=self.notifier.channel, at=now):
                session.rollback()  # answered or taken back meanwhile: store nothing
                report.lost.append(follow_up_id)
                return
            session.commit()
        except Exception as exc:
            session.rollback()
            self._failed(session, follow_up_id, decision.attempt, exc, now, report)
            return
        report.sent.append(follow_up_id)
        report.pushes.extend(pushes)

    def _failed(
        self,
        session: Session,
        follow_up_id: int,
        attempt: int | None,
        exc: BaseException,
        now: datetime,
        report: TickReport,
    ) -> None:
        if attempt is None:
            from crm.models import FollowUp

            row = session.get(FollowUp, follow_up_id)
            attempt = (row.attempts if row is not None else 0) + 1
        error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
        logger.warning(
            "follow-up %s: attempt %d failed (%s); retrying later", follow_up_id, attempt, error[:200]
        )
        try:
            repo.record_failure(session, follow_up_id, error=error, retry_at=now + retry_delay(attempt))
            session.commit()
        except Exception:  # the claim then expires (CLAIM_LEASE) and the send is retried
            session.rollback()
            logger.exception("follow-up %s: could not record the failure", follow_up_id)
        report.failed.append(follow_up_id)


def make_worker(
    settings: Settings, session_factory: sessionmaker[Session], hub: Broadcaster
) -> FollowUpWorker:
    from gateway.notifiers import make_notifier

    return FollowUpWorker(session_factory, make_notifier(settings), hub, settings.followup_interval_s)
