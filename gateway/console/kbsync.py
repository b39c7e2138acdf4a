"""Knowledge base between the CRM (where trainers edit it) and ``kb`` (what the index is built from).

``python -m gateway.console.kbsync import-if-empty [--source FILE]`` copies the default KB
(``KB_SOURCE``) into the CRM when it holds no KB entries yet (``make run`` calls it);
``python -m gateway.console.kbsync export FILE.yml`` writes the CRM's published entries as a
KB YAML file that ``python -m kb build --source`` accepts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common.lang import LANGUAGES, to_simplified, to_traditional
from crm.db import session_scope
from crm.repo import kb as kb_repo

IMPORT_AUTHOR = "import"


def import_kb(session: Session, kb: Any, source_name: str) -> int:
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
    from kb.faq import load_kb

    with session_scope(factory) as session:
        if kb_repo.count_kb_entries(session) > 0:
            return 0
        return import_kb(session, load_kb(source), source.name)


def _complete(texts: dict[str, Any], empty: Any) -> dict[str, Any]:
    """Fill a missing Chinese script from the other one; other gaps get ``empty``."""
    out = dict(texts)
    for lang in LANGUAGES:
        if out.get(lang):
            continue
        other = {"zh-Hans": ("zh-Hant", to_simplified), "zh-Hant": ("zh-Hans", to_traditional)}.get(lang)
        if other and out.get(other[0]):
            value = out[other[0]]
            out[lang] = [other[1](v) for v in value] if isinstance(value, list) else other[1](value)
        else:
            out[lang] = empty
    return out


def crm_knowledge_base(factory: sessionmaker[Session]) -> Any:
    """The published CRM entries (current versions) as a :class:`kb.faq.KnowledgeBase`."""
    from kb.faq import Entry, KnowledgeBase

    with session_scope(factory) as session:
        rows = kb_repo.list_kb_entries(session, statuses=("published",))
        entries = []
        for entry, version in rows:
            answers = _complete(version.answers or {}, "")
            fallback = answers.get("en") or next((a for a in answers.values() if a), "")
            entries.append(
                Entry(
                    id=entry.key,
                    category=entry.category or "",
                    questions={k: list(v) for k, v in _complete(version.questions or {}, []).items()},
                    answers={k: (v or fallback) for k, v in answers.items()},
                )
            )
    if not entries:
        raise ValueError("the CRM holds no published knowledge-base entries")
    return KnowledgeBase(entries, version="crm", company="", languages=LANGUAGES)


def export_yaml(kb: Any, path: Path) -> None:
    import yaml

    data = {
        "version": 1,
        "languages": list(kb.languages),
        "entries": [
            {"id": e.id, "category": e.category, "questions": e.questions, "answer": e.answers}
            for e in kb.entries
        ],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from common.settings import get_settings
    from crm import migrate
    from crm.db import make_engine, make_session_factory
    from crm.errors import CRMError

    parser = argparse.ArgumentParser(prog="python -m gateway.console.kbsync")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-if-empty", help="copy the default KB into an empty CRM")
    imp.add_argument("--source", type=Path, help="KB file (default: KB_SOURCE)")
    exp = sub.add_parser("export", help="write the CRM's published entries as KB YAML")
    exp.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        migrate.check(settings.database_url)
        engine = make_engine(settings.database_url)
        factory = make_session_factory(engine)
        if args.command == "import-if-empty":
            source = args.source or settings.kb_source
            count = import_if_empty(factory, source)
            print(
                f"==> [kb] imported {count} entries from {source} into the CRM"
                if count
                else "==> [kb] the CRM already holds the knowledge base; nothing imported"
            )
        else:
            export_yaml(crm_knowledge_base(factory), args.output)
            print(f"wrote {args.output}")
        engine.dispose()
    except (CRMError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
