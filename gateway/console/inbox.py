"""Unanswered and low-confidence questions for trainers, grouped by similarity.

Questions with the same normalised text form one bucket; buckets are then merged greedily when
their sentence embeddings (the KB encoder) have a cosine of at least :data:`SIMILARITY` with a
group's first bucket. Without the encoder (not loaded yet) grouping falls back to equal text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from common.lang import LANGUAGES
from crm.db import session_scope
from crm.models import UnansweredQuestion
from crm.repo import kb as kb_repo
from crm.repo._serialize import iso
from crm.repo.admin import audit
from crm.repo.misrouted import reasons_by_question, record_misrouted
from gateway.console.auth import ConsoleUser
from gateway.console.errors import ConsoleError
from kb.normalize import normalize

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

SIMILARITY = 0.8
INBOX_LIMIT = 500
Embed = Callable[[list[str]], "NDArray[np.floating[Any]]"]  # texts -> L2-normalised rows
Suggest = Callable[[str, str], "str | None"]
MISROUTED_LOOKBACK = timedelta(days=30)


def cluster(
    texts: Sequence[str], embed: Embed | None = None, threshold: float = SIMILARITY
) -> list[list[int]]:
    """Indices of ``texts`` grouped: equal normalised text always together, similar meaning
    together when ``embed`` (texts -> L2-normalised vectors) is given. Largest groups first."""
    buckets: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        buckets.setdefault(normalize(text) or text.strip().lower(), []).append(i)
    keys = sorted(buckets, key=lambda k: (-len(buckets[k]), buckets[k][0]))
    if embed is None or len(keys) < 2:
        return [buckets[k] for k in keys]
    vectors = embed(keys)
    seeds: list[int] = []
    groups: list[list[int]] = []
    for n, key in enumerate(keys):
        best, best_score = -1, threshold
        for g, seed in enumerate(seeds):
            similarity = float(vectors[n] @ vectors[seed])
            if similarity >= best_score:
                best, best_score = g, similarity
        if best < 0:
            seeds.append(n)
            groups.append(list(buckets[key]))
        else:
            groups[best].extend(buckets[key])
    return sorted(groups, key=lambda g: (-len(g), min(g)))


def _group(rows: list[UnansweredQuestion], reasons: dict[int, str]) -> dict[str, Any]:
    variants = Counter(r.text for r in rows)
    entries = Counter(r.best_entry_id for r in rows if r.best_entry_id)
    scores = [r.best_score for r in rows if r.best_score is not None]
    return {
        "ids": [r.id for r in rows],
        "count": len(rows),
        "representative": variants.most_common(1)[0][0],
        "variants": [{"text": t, "count": c} for t, c in variants.most_common(10)],
        "languages": sorted({r.language for r in rows}),
        "language": Counter(r.language for r in rows).most_common(1)[0][0],
        "best_entry_id": entries.most_common(1)[0][0] if entries else None,
        "best_score": round(max(scores), 3) if scores else None,
        "last_asked": iso(max(r.created_at for r in rows)),
        "reasons": sorted({reasons.get(r.id, "unanswered") for r in rows}),
    }


def inbox(
    factory: sessionmaker[Session],
    embed: Embed | None,
    suggest: Suggest | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The open inbox: KB fallbacks plus misrouted questions (:mod:`crm.repo.misrouted`), in
    groups. A group the KB had no candidate for gets ``best_entry_id`` from ``suggest``
    (question, language -> closest entry id), the default of "Add as paraphrase"."""
    with session_scope(factory) as session:
        record_misrouted(session, (now or datetime.now(timezone.utc)) - MISROUTED_LOOKBACK)
        rows = kb_repo.list_unanswered(session, status="new", limit=INBOX_LIMIT)
        reasons = reasons_by_question(session, rows)
        groups = [_group([rows[i] for i in g], reasons) for g in cluster([r.text for r in rows], embed)]
    for group in groups:
        if group["best_entry_id"] is None and suggest is not None:
            group["best_entry_id"] = suggest(group["representative"], group["language"])
    return {"grouping": "similarity" if embed else "text", "total": len(rows), "groups": groups}


def _review(
    session: Session, ids: list[int], status: str, user: ConsoleUser, key: str | None
) -> list[UnansweredQuestion]:
    rows = [r for r in kb_repo.get_unanswered(session, ids) if r.status == "new"]
    if not rows:
        raise ConsoleError(404, "not_found", "These questions were already handled.")
    for row in rows:
        kb_repo.review_unanswered(session, row.id, status, reviewer=user.username, resolved_entry_id=key)
    return rows


def add_paraphrase(
    factory: sessionmaker[Session], user: ConsoleUser, ids: list[int], key: str, text: str, language: str
) -> dict[str, Any]:
    """Append ``text`` to the questions of entry ``key`` (new version) and close the group."""
    text = " ".join((text or "").split())[:300]
    if not text or language not in LANGUAGES:
        raise ConsoleError(422, "invalid", "Give the question text and its language.")
    with session_scope(factory) as session:
        entry = kb_repo.get_kb_entry(session, key)
        if entry is None:
            raise ConsoleError(404, "not_found", f"No KB entry {key!r}.")
        rows = _review(session, ids, "paraphrase", user, key)
        current = kb_repo.current_kb_version(session, entry)
        assert current is not None  # every saved entry has its current version
        questions = {lang: list(qs) for lang, qs in (current.questions or {}).items()}
        if text not in questions.setdefault(language, []):
            questions[language].append(text)
            kb_repo.save_kb_version(
                session,
                key=key,
                questions=questions,
                answers=dict(current.answers),
                author=user.username,
                note=f"paraphrase from the inbox: {text}",
            )
        audit(
            session,
            actor=user.username,
            action="kb.paraphrase",
            target=f"kb:{key}",
            details={"questions": [r.id for r in rows]},
        )
        return {"key": key, "version": entry.current_version, "closed": len(rows)}


def dismiss(factory: sessionmaker[Session], user: ConsoleUser, ids: list[int]) -> dict[str, Any]:
    with session_scope(factory) as session:
        rows = _review(session, ids, "dismissed", user, None)
        audit(session, actor=user.username, action="kb.inbox_dismissed", details={"questions": ids[:100]})
        return {"closed": len(rows)}
