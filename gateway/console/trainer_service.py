"""Units of work behind the trainer console's knowledge-base editor (blocking)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common.lang import LANGUAGES
from crm.db import session_scope
from crm.errors import CRMNotFound
from crm.models import KBEntry, KBEntryVersion
from crm.orm.base import KB_STATUSES
from crm.repo import kb as kb_repo
from crm.repo._serialize import iso
from crm.repo.admin import audit
from gateway.console.auth import ConsoleUser
from gateway.console.errors import ConsoleError
from gateway.console.kbdiff import version_diff
from kb.normalize import normalize

Factory = sessionmaker[Session]
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
MAX_QUESTION, MAX_ANSWER, MAX_QUESTIONS = 300, 4000, 50


def clean_content(questions: object, answers: object) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Validated ``({lang: [questions]}, {lang: answer})``: every language needs an answer and
    at least one question must exist; blanks and repeats are dropped."""
    if not isinstance(questions, dict) or not isinstance(answers, dict):
        raise ConsoleError(422, "invalid_content", "questions and answers must be objects by language")
    qs: dict[str, list[str]] = {}
    ans: dict[str, str] = {}
    for lang in LANGUAGES:
        items = questions.get(lang) or []
        items = [items] if isinstance(items, str) else items
        if not isinstance(items, list):
            raise ConsoleError(422, "invalid_content", f"questions.{lang} must be a list")
        seen: list[str] = []
        for q in items:
            q = " ".join(str(q or "").split())
            if len(q) > MAX_QUESTION:
                raise ConsoleError(
                    422, "too_long", f"a {lang} question is longer than {MAX_QUESTION} characters"
                )
            if q and q not in seen:
                seen.append(q)
        qs[lang] = seen[:MAX_QUESTIONS]
        answer = str(answers.get(lang) or "").strip()
        if not answer:
            raise ConsoleError(422, "missing_answer", f"the {lang} answer is empty")
        if len(answer) > MAX_ANSWER:
            raise ConsoleError(422, "too_long", f"the {lang} answer is longer than {MAX_ANSWER} characters")
        ans[lang] = answer
    if not any(qs.values()):
        raise ConsoleError(422, "missing_question", "add at least one question")
    return qs, ans


def _summary(entry: KBEntry, version: KBEntryVersion) -> dict[str, Any]:
    questions = version.questions or {}
    first = next((q[0] for lang in LANGUAGES if (q := questions.get(lang))), "")
    return {
        "key": entry.key,
        "category": entry.category,
        "status": entry.status,
        "version": entry.current_version,
        "updated_at": iso(version.created_at),
        "author": version.author,
        "title": first,
        "counts": {lang: len(questions.get(lang) or []) for lang in LANGUAGES},
    }


def _matches(query: str, entry: KBEntry, version: KBEntryVersion) -> bool:
    haystack = " ".join(
        [entry.key, entry.category or ""]
        + [q for qs in (version.questions or {}).values() for q in qs]
        + list((version.answers or {}).values())
    )
    return normalize(query) in normalize(haystack) or query.lower() in haystack.lower()


def list_entries(factory: Factory, query: str = "", status: str = "") -> list[dict[str, Any]]:
    statuses = (status,) if status in KB_STATUSES else None
    with session_scope(factory) as session:
        rows = kb_repo.list_kb_entries(session, statuses=statuses)
        query = query.strip()
        return [_summary(e, v) for e, v in rows if not query or _matches(query, e, v)]


def entry_detail(factory: Factory, key: str) -> dict[str, Any]:
    with session_scope(factory) as session:
        entry = kb_repo.get_kb_entry(session, key)
        if entry is None:
            raise ConsoleError(404, "not_found", f"No KB entry {key!r}.")
        versions = list(entry.versions)
        current = next(v for v in versions if v.version == entry.current_version)
        return {
            **_summary(entry, current),
            "questions": current.questions,
            "answers": current.answers,
            "versions": [
                {"version": v.version, "author": v.author, "note": v.note, "created_at": iso(v.created_at)}
                for v in reversed(versions)
            ],
        }


def save_entry(
    factory: Factory, user: ConsoleUser, key: str, body: dict[str, Any], *, create: bool
) -> dict[str, Any]:
    """Create an entry, or append a version (refused if someone saved in between)."""
    key = (key or "").strip().lower()
    if not KEY.match(key):
        raise ConsoleError(422, "invalid_key", "Use 3-64 lower-case letters, digits and dashes for the id.")
    questions, answers = clean_content(body.get("questions"), body.get("answers"))
    category = str(body.get("category") or "").strip()[:60] or None
    note = str(body.get("note") or "").strip()[:500] or None
    with session_scope(factory) as session:
        entry = kb_repo.get_kb_entry(session, key)
        if create and entry is not None:
            raise ConsoleError(409, "exists", f"An entry {key!r} already exists.")
        if not create:
            if entry is None:
                raise ConsoleError(404, "not_found", f"No KB entry {key!r}.")
            if body.get("base_version") not in (None, entry.current_version):
                raise ConsoleError(409, "stale", "Someone saved a newer version; reload before editing.")
        version = kb_repo.save_kb_version(
            session,
            key=key,
            questions=questions,
            answers=answers,
            author=user.username,
            note=note,
            category=category,
        )
        for question_id in body.get("from_questions") or []:
            try:
                kb_repo.review_unanswered(
                    session, int(question_id), "new_entry", reviewer=user.username, resolved_entry_id=key
                )
            except (CRMNotFound, ValueError, TypeError):
                continue
        audit(
            session,
            actor=user.username,
            action="kb.created" if create else "kb.edited",
            target=f"kb:{key}",
            details={"version": version.version},
        )
        return {"key": key, "version": version.version}


def set_status(factory: Factory, user: ConsoleUser, key: str, status: str) -> dict[str, Any]:
    with session_scope(factory) as session:
        try:
            entry = kb_repo.set_kb_status(session, key, status)
        except CRMNotFound:
            raise ConsoleError(404, "not_found", f"No KB entry {key!r}.") from None
        except ValueError as exc:
            raise ConsoleError(422, "invalid_status", str(exc)) from None
        audit(
            session, actor=user.username, action="kb.status", target=f"kb:{key}", details={"status": status}
        )
        return {"key": entry.key, "status": entry.status}


def diff(factory: Factory, key: str, a: int, b: int) -> dict[str, Any]:
    with session_scope(factory) as session:
        try:
            versions = {v.version: v for v in kb_repo.list_kb_versions(session, key)}
        except CRMNotFound:
            raise ConsoleError(404, "not_found", f"No KB entry {key!r}.") from None
        if a not in versions or b not in versions:
            raise ConsoleError(404, "not_found", "No such version.")
        old, new = versions[a], versions[b]
        return {
            "key": key,
            "from": a,
            "to": b,
            "author": new.author,
            "note": new.note,
            **version_diff(old.questions, old.answers, new.questions, new.answers),
        }
