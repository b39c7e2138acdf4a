"""KB entry history and the unanswered-question queue."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.errors import CRMNotFound
from crm.models import KBEntry, KBEntryVersion, UnansweredQuestion
from crm.orm.base import UNANSWERED_STATUSES, utcnow


def save_kb_version(
    session: Session, *, key: str, questions: dict[str, Any], answers: dict[str, Any],
    author: str | None = None, note: str | None = None, category: str | None = None,
) -> KBEntryVersion:
    """Create the entry if needed and append a new version (versions are never edited)."""
    entry = session.scalars(select(KBEntry).where(KBEntry.key == key)).one_or_none()
    if entry is None:
        entry = KBEntry(key=key, category=category, current_version=0)
        session.add(entry)
        session.flush()
    elif category is not None:
        entry.category = category
    version = KBEntryVersion(entry_id=entry.id, version=entry.current_version + 1,
                             questions=questions, answers=answers, author=author, note=note)
    session.add(version)
    entry.current_version = version.version
    session.flush()
    return version


def record_unanswered(
    session: Session, *, text: str, language: str, best_score: float | None = None,
    best_entry_id: str | None = None, conversation_id: int | None = None,
    message_id: int | None = None,
) -> UnansweredQuestion:
    q = UnansweredQuestion(text=text, language=language, best_score=best_score,
                           best_entry_id=best_entry_id, conversation_id=conversation_id,
                           message_id=message_id)
    session.add(q)
    session.flush()
    return q


def review_unanswered(
    session: Session, question_id: int, status: str, *, reviewer: str,
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
    stmt = (select(UnansweredQuestion).where(UnansweredQuestion.status == status)
            .order_by(UnansweredQuestion.created_at, UnansweredQuestion.id).limit(limit))
    return list(session.scalars(stmt))
