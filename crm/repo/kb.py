"""KB entry history and the unanswered-question queue."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.errors import CRMNotFound
from crm.models import KBEntry, KBEntryVersion, UnansweredQuestion
from crm.orm.base import KB_STATUSES, UNANSWERED_STATUSES, utcnow


def save_kb_version(
    session: Session,
    *,
    key: str,
    questions: dict[str, list[str]],
    answers: dict[str, str],
    author: str | None = None,
    note: str | None = None,
    category: str | None = None,
) -> KBEntryVersion:
    """Create the entry if needed and append a new version (versions are never edited)."""
    entry = session.scalars(select(KBEntry).where(KBEntry.key == key)).one_or_none()
    if entry is None:
        entry = KBEntry(key=key, category=category, current_version=0)
        session.add(entry)
        session.flush()
    elif category is not None:
        entry.category = category
    version = KBEntryVersion(
        entry_id=entry.id,
        version=entry.current_version + 1,
        questions=questions,
        answers=answers,
        author=author,
        note=note,
    )
    session.add(version)
    entry.current_version = version.version
    session.flush()
    return version


def record_unanswered(
    session: Session,
    *,
    text: str,
    language: str,
    best_score: float | None = None,
    best_entry_id: str | None = None,
    conversation_id: int | None = None,
    message_id: int | None = None,
) -> UnansweredQuestion:
    q = UnansweredQuestion(
        text=text,
        language=language,
        best_score=best_score,
        best_entry_id=best_entry_id,
        conversation_id=conversation_id,
        message_id=message_id,
    )
    session.add(q)
    session.flush()
    return q


def review_unanswered(
    session: Session,
    question_id: int,
    status: str,
    *,
    reviewer: str,
    resolved_entry_id: str | None = None,
) -> UnansweredQuestion:
    if status not in UNANSWERED_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    q = session.get(UnansweredQuestion, question_id)
    if q is None:
        raise CRMNotFound(f"unanswered question {question_id} not found")
    q.status, q.reviewed_by, q.reviewed_at = status, reviewer, utcnow()
    if resolved_entry_id is not None:
        q.resolved_entry_id = resolved_entry_id
    session.flush()
    return q


def list_unanswered(session: Session, *, status: str = "new", limit: int = 100) -> list[UnansweredQuestion]:
    stmt = (
        select(UnansweredQuestion)
        .where(UnansweredQuestion.status == status)
        .order_by(UnansweredQuestion.created_at, UnansweredQuestion.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- trainer console


def get_kb_entry(session: Session, key: str) -> KBEntry | None:
    return session.scalars(select(KBEntry).where(KBEntry.key == key)).one_or_none()


def current_kb_version(session: Session, entry: KBEntry) -> KBEntryVersion | None:
    return session.scalars(
        select(KBEntryVersion).where(
            KBEntryVersion.entry_id == entry.id, KBEntryVersion.version == entry.current_version
        )
    ).one_or_none()


def list_kb_entries(
    session: Session,
    *,
    statuses: tuple[str, ...] | None = None,
) -> list[tuple[KBEntry, KBEntryVersion]]:
    """Every entry (optionally only some statuses) with its current version, ordered by key."""
    stmt = (
        select(KBEntry, KBEntryVersion)
        .join(
            KBEntryVersion,
            (KBEntryVersion.entry_id == KBEntry.id) & (KBEntryVersion.version == KBEntry.current_version),
        )
        .order_by(KBEntry.key)
    )
    if statuses:
        stmt = stmt.where(KBEntry.status.in_(statuses))
    return [(entry, version) for entry, version in session.execute(stmt).all()]


def count_kb_entries(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(KBEntry)) or 0)


def list_kb_versions(session: Session, key: str) -> list[KBEntryVersion]:
    entry = get_kb_entry(session, key)
    if entry is None:
        raise CRMNotFound(f"KB entry {key!r} not found")
    return list(entry.versions)


def set_kb_status(session: Session, key: str, status: str) -> KBEntry:
    if status not in KB_STATUSES:
        raise ValueError(f"unknown KB status {status!r}")
    entry = get_kb_entry(session, key)
    if entry is None:
        raise CRMNotFound(f"KB entry {key!r} not found")
    entry.status = status
    session.flush()
    return entry


def get_unanswered(session: Session, ids: list[int]) -> list[UnansweredQuestion]:
    if not ids:
        return []
    stmt = select(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids)).order_by(UnansweredQuestion.id)
    return list(session.scalars(stmt))
