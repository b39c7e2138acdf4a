"""Durable outbox: keep chat exchanges when the database is unreachable, replay them later.

The gateway calls :func:`record_exchange`. It writes to the database when it can; if the
database is down (connection/operational errors) the exchange is appended to an append-only,
fsync'd JSONL file (e.g. ``var/outbox/messages.jsonl``). :func:`replay` re-applies queued
entries in order using the idempotent :func:`~crm.repo.conversations.add_message` and removes
only the entries it applied, so a crash at any point never loses or duplicates a message.

While entries are queued, new exchanges are queued behind them (after one replay attempt) so
the stored order always matches the order in which they happened.
Entries that fail for a non-connectivity reason (bad data) go to ``<path>.dead`` with the error.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from crm.db import session_scope
from crm.models import Customer
from crm.orm.base import utcnow
from crm.outbox_store import (
    Outbox,
    append_bytes,
    compact,
    default_outbox_path,
    read_complete,
    terminate_torn_line,
)
from crm.repo.conversations import add_message, get_or_create_conversation

__all__ = [
    "DB_DOWN_ERRORS",
    "ExchangeResult",
    "Outbox",
    "OutboxEntry",
    "ReplayResult",
    "apply_entry",
    "default_outbox_path",
    "make_entry",
    "record_exchange",
    "replay",
]
log = logging.getLogger(__name__)

#: Errors meaning "the database is not usable right now" (as opposed to bad data).
DB_DOWN_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
MESSAGE_FIELDS = frozenset(
    {
        "client_id",
        "direction",
        "text",
        "language",
        "intent",
        "confidence",
        "kb_entry_id",
        "kb_score",
        "frustration",
        "latency_ms",
        "channel",
        "payload",
        "created_at",
    }
)


class OutboxEntry(TypedDict):
    """One exchange as queued (a JSON line). ``messages`` hold :func:`add_message` keyword
    arguments (``MESSAGE_FIELDS``) with ``created_at`` as an ISO string."""

    v: int
    id: str
    at: str
    token: str
    channel: str
    language: str | None
    customer_id: int | None
    messages: list[dict[str, Any]]


@dataclass
class ExchangeResult:
    stored: str  # "db" or "outbox"
    conversation_id: int | None = None
    message_ids: list[int] = field(default_factory=list)
    created: list[bool] = field(default_factory=list)


@dataclass
class ReplayResult:
    applied: int = 0
    remaining: int = 0
    dead: int = 0
    busy: bool = False


def make_entry(
    *,
    token: str,
    messages: Sequence[Mapping[str, Any]],
    channel: str = "web",
    language: str | None = None,
    customer_id: int | None = None,
) -> OutboxEntry:
    """Serialisable exchange; missing ``created_at`` values are stamped now."""
    msgs: list[dict[str, Any]] = []
    for m in messages:
        unknown = set(m) - MESSAGE_FIELDS
        if unknown:
            raise ValueError(f"unknown message fields: {sorted(unknown)}")
        item = dict(m)
        item.setdefault("channel", channel)
        ts = item.get("created_at") or utcnow()
        item["created_at"] = ts.isoformat() if isinstance(ts, datetime) else str(ts)
        msgs.append(item)
    return {
        "v": 1,
        "id": uuid.uuid4().hex,
        "at": utcnow().isoformat(),
        "token": token,
        "channel": channel,
        "language": language,
        "customer_id": customer_id,
        "messages": msgs,
    }


def apply_entry(session: Session, entry: Mapping[str, Any]) -> ExchangeResult:
    """Write one exchange (idempotent: re-applying it changes nothing)."""
    customer_id = entry.get("customer_id")
    if customer_id is not None and session.get(Customer, customer_id) is None:
        customer_id = None  # never drop a chat because its customer link went stale
    conv, _ = get_or_create_conversation(
        session,
        token=entry["token"],
        channel=entry.get("channel") or "web",
        language=entry.get("language"),
        customer_id=customer_id,
        started_at=_ts(entry["messages"][0]["created_at"]) if entry["messages"] else None,
    )
    result = ExchangeResult(stored="db", conversation_id=conv.id)
    for m in entry["messages"]:
        fields = dict(m)
        fields["created_at"] = _ts(fields.get("created_at"))
        msg, created = add_message(session, conversation_id=conv.id, **fields)
        result.message_ids.append(msg.id)
        result.created.append(created)
    return result


def _ts(value: str | datetime | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def record_exchange(
    session_factory: sessionmaker[Session],
    outbox: Outbox,
    *,
    token: str,
    messages: Sequence[Mapping[str, Any]],
    channel: str = "web",
    language: str | None = None,
    customer_id: int | None = None,
) -> ExchangeResult:
    """Store an exchange (customer message + replies) in the DB, or in the outbox if it is down.

    ``messages`` are dicts of :func:`add_message` keyword arguments (without
    ``conversation_id``); the conversation is created for ``token`` if needed.
    """
    entry = make_entry(
        token=token, messages=messages, channel=channel, language=language, customer_id=customer_id
    )
    if outbox.has_pending():
        replay(outbox, session_factory)
        if outbox.has_pending():  # still down (or another replay running): keep the order
            outbox.append(entry)
            return ExchangeResult(stored="outbox")
    try:
        with session_scope(session_factory) as session:
            return apply_entry(session, entry)
    except DB_DOWN_ERRORS as exc:
        log.warning(
            "database unavailable, exchange queued in %s: %s", outbox.path, " ".join(str(exc).split())[:200]
        )
        outbox.append(entry)
        return ExchangeResult(stored="outbox")


def replay(outbox: Outbox, session_factory: sessionmaker[Session]) -> ReplayResult:
    """Apply queued entries in order, one transaction each; stop at the first DB-down error.

    Only applied (or dead-lettered) entries are removed; entries appended meanwhile are kept.
    """
    if not outbox._replay_lock.acquire(blocking=False):
        return ReplayResult(busy=True, remaining=len(outbox))
    try:
        with outbox._locked():
            terminate_torn_line(outbox.path)
            snapshot, snap_len = read_complete(outbox.path)
        lines = snapshot.splitlines(keepends=True)
        done, result = 0, ReplayResult()
        for raw in lines:
            try:
                entry = json.loads(raw)
                with session_scope(session_factory) as session:
                    apply_entry(session, entry)
                result.applied += 1
            except DB_DOWN_ERRORS:
                break
            except Exception as exc:  # bad data: park it, keep going
                _dead_letter(outbox, raw, exc)
                result.dead += 1
            done += 1
        if done:
            compact(outbox, lines[done:], snap_len)
        result.remaining = len(outbox)
        return result
    finally:
        outbox._replay_lock.release()


def _dead_letter(outbox: Outbox, raw: bytes, exc: BaseException) -> None:
    log.error("outbox entry rejected (%s): moved to %s", type(exc).__name__, outbox.dead_path)
    record = {"error": " ".join(str(exc).split())[:500], "raw": raw.decode(errors="replace").rstrip("\n")}
    with outbox._locked():
        append_bytes(outbox.dead_path, (json.dumps(record, ensure_ascii=False) + "\n").encode())
