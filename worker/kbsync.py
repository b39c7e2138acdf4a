"""The knowledge base between the CRM (where trainers edit it) and ``kb`` (what the index is built from).

:func:`import_if_empty` copies the default KB (``KB_SOURCE``) into a CRM that holds no entries yet
(``make db`` runs ``python -m worker import-if-empty``); :func:`crm_knowledge_base` reads the
published entries back as a :class:`kb.faq.KnowledgeBase` and :func:`export_yaml` writes one as a
KB YAML file that ``python -m kb build --source`` accepts (``python -m worker export FILE``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from sqlalchemy.orm import Session, sessionmaker

from common.lang import LANGUAGES, to_simplified, to_traditional
from crm.db import session_scope
from crm.repo import kb as kb_repo
from kb.faq import Entry, KnowledgeBase, load_kb

IMPORT_AUTHOR = "import"
T = TypeVar("T", str, list[str])
_OTHER_SCRIPT: dict[str, tuple[str, Callable[[str], str]]] = {
    "zh-Hans": ("zh-Hant", to_simplified),
    "zh-Hant": ("zh-Hans", to_traditional),
}


def import_kb(session: Session, kb: KnowledgeBase, source_name: str) -> int:
    for entry in kb.entries:
        kb_repo.save_kb_version(
            session,
            key=entry.id,
            questions=entry.questions,
            answers=entry.answers,
            author=IMPORT_AUTHOR,
            note=f"imported from {source_name}",
            category=entry.category or None,
        )
    return len(kb.entries)


def import_if_empty(factory: sessionmaker[Session], source: Path) -> int:
    """Import ``source`` when the CRM has no KB entries; return how many were imported."""
    with session_scope(factory) as session:
        if kb_repo.count_kb_entries(session) > 0:
            return 0
        return import_kb(session, load_kb(source), source.name)


def _convert(value: T, fn: Callable[[str], str]) -> T:
    if isinstance(value, list):
        return [fn(v) for v in value]
    return fn(value)


def _complete(texts: Mapping[str, T], empty: T) -> dict[str, T]:
    """Fill a missing Chinese script from the other one; other gaps get ``empty``."""
    out = dict(texts)
    for lang in LANGUAGES:
        if out.get(lang):
            continue
        other = _OTHER_SCRIPT.get(lang)
        if other and out.get(other[0]):
            out[lang] = _convert(out[other[0]], other[1])
        else:
            out[lang] = empty
    return out


def crm_knowledge_base(factory: sessionmaker[Session]) -> KnowledgeBase:
    """The published CRM entries (current versions) as a :class:`kb.faq.KnowledgeBase`."""
    with session_scope(factory) as session:
        rows = kb_repo.list_kb_entries(session, statuses=("published",))
        entries = []
        for entry, version in rows:
            answers: dict[str, str] = _complete(version.answers or {}, "")
            fallback = answers.get("en") or next((a for a in answers.values() if a), "")
            questions: dict[str, list[str]] = _complete(version.questions or {}, [])
            entries.append(
                Entry(
                    id=entry.key,
                    category=entry.category or "",
                    questions={k: list(v) for k, v in questions.items()},
                    answers={k: (v or fallback) for k, v in answers.items()},
                )
            )
    if not entries:
        raise ValueError("the CRM holds no published knowledge-base entries")
    return KnowledgeBase(entries, version="crm", company="", languages=LANGUAGES)


def export_yaml(kb: KnowledgeBase, path: Path) -> None:
    data = {
        "version": 1,
        "languages": list(kb.languages),
        "entries": [
            {"id": e.id, "category": e.category, "questions": e.questions, "answer": e.answers}
            for e in kb.entries
        ],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
