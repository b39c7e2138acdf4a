"""Knowledge-base model and loaders (reference YAML or plain CSV).

YAML format (see ``kb/data/reference_faq.yml``)::

    version: 1
    company: ...
    languages: [zh-Hant, zh-Hans, en]
    entries:
      - id: order-status
        category: orders
        questions: {zh-Hant: [...], zh-Hans: [...], en: [...]}
        answer: {zh-Hant: "...", zh-Hans: "...", en: "..."}

CSV format: header ``question,answer`` plus optional ``id``, ``category`` and ``language`` columns.
Without ``language`` each row is one entry whose text serves every language; with it, rows sharing
an ``id`` are merged into one entry (that is what ``python -m kb export --format csv`` writes).
A question cell may hold several questions, one per line.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.lang import LANGUAGES


class KBValidationError(ValueError):
    """The knowledge-base source is invalid; the message names the entry and the field."""


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    questions: dict[str, list[str]]
    answers: dict[str, str]


@dataclass(frozen=True)
class KnowledgeBase:
    entries: list[Entry]
    version: str = "1"
    company: str = ""
    languages: tuple[str, ...] = field(default=LANGUAGES)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id().get(entry_id)

    def _by_id(self) -> dict[str, Entry]:
        cache = self.__dict__.get("_index")
        if cache is None:
            cache = {e.id: e for e in self.entries}
            object.__setattr__(self, "_index", cache)
        return cache


def kb_hash(kb: KnowledgeBase) -> str:
    """Stable sha256 of the content (entries in order, languages, version, company)."""
    payload = {
        "version": str(kb.version),
        "company": kb.company,
        "languages": list(kb.languages),
        "entries": [asdict(e) for e in kb.entries],
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_kb(path: str | Path) -> KnowledgeBase:
    """Load and validate a knowledge base from a ``.yml``/``.yaml`` or ``.csv`` file."""
    path = Path(path)
    if not path.is_file():
        raise KBValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return _load_yaml(path)
    if suffix == ".csv":
        return _load_csv(path)
    raise KBValidationError(f"{path}: unsupported format {suffix!r} (use .yml, .yaml or .csv)")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KBValidationError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _load_yaml(path: Path) -> KnowledgeBase:
    import yaml

    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KBValidationError(f"{path}: broken YAML{where}: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise KBValidationError(f"{path}: expected a mapping with an 'entries' list")
    languages = tuple(data.get("languages") or LANGUAGES)
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise KBValidationError(
            f"{path}: field 'languages': unknown language(s) {unknown}, expected {list(LANGUAGES)}"
        )
    entries = []
    for n, raw in enumerate(data["entries"], start=1):
        if not isinstance(raw, dict):
            raise KBValidationError(f"{path}: entry #{n}: expected a mapping, got {type(raw).__name__}")
        entries.append(_entry_from_mapping(raw, n, languages))
    kb = KnowledgeBase(entries, str(data.get("version", "1")), str(data.get("company") or ""), languages)
    _check_unique(kb, path)
    return kb


def _entry_from_mapping(raw: dict[str, Any], n: int, languages: tuple[str, ...]) -> Entry:
    entry_id = raw.get("id")
    if entry_id is None or str(entry_id).strip() == "":
        raise KBValidationError(f"entry #{n}: field 'id' is missing or empty")
    entry_id = str(entry_id).strip()
    where = f"entry {entry_id!r}"
    questions, answers = raw.get("questions"), raw.get("answer", raw.get("answers"))
    if not isinstance(questions, dict):
        raise KBValidationError(f"{where}: field 'questions' must map language -> list of questions")
    if not isinstance(answers, dict):
        raise KBValidationError(f"{where}: field 'answer' must map language -> answer text")
    qs: dict[str, list[str]] = {}
    ans: dict[str, str] = {}
    for lang in languages:
        if lang not in questions:
            raise KBValidationError(f"{where}: field 'questions': missing language {lang!r}")
        if lang not in answers:
            raise KBValidationError(f"{where}: field 'answer': missing language {lang!r}")
        items = questions[lang]
        items = [items] if isinstance(items, str) else items
        if not isinstance(items, list) or not [q for q in items if str(q or "").strip()]:
            raise KBValidationError(
                f"{where}: field 'questions.{lang}' must be a non-empty list of questions"
            )
        qs[lang] = [str(q).strip() for q in items if str(q or "").strip()]
        text = answers[lang]
        if not isinstance(text, str) or not text.strip():
            raise KBValidationError(f"{where}: field 'answer.{lang}' is empty")
        ans[lang] = text.strip()
    return Entry(entry_id, str(raw.get("category") or ""), qs, ans)


def _check_unique(kb: KnowledgeBase, path: Path) -> None:
    seen: dict[str, int] = {}
    for n, entry in enumerate(kb.entries, start=1):
        if entry.id in seen:
            raise KBValidationError(f"{path}: duplicate id {entry.id!r} (entries #{seen[entry.id]} and #{n})")
        seen[entry.id] = n
    if not kb.entries:
        raise KBValidationError(f"{path}: field 'entries' is empty")


CSV_REQUIRED = ("question", "answer")
CSV_OPTIONAL = ("id", "category", "language")


def _load_csv(path: Path) -> KnowledgeBase:
    text = _read_text(path)
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    extra = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or extra or len(set(header)) != len(header):
        raise KBValidationError(
            f"{path}: wrong CSV header {header}: expected 'question,answer' "
            f"with optional {', '.join(CSV_OPTIONAL)} columns"
        )
    reader.fieldnames = header
    by_id: dict[str, dict[str, Any]] = {}
    for row_no, row in enumerate(reader, start=1):
        line = reader.line_num
        if None in row:
            raise KBValidationError(f"{path}: line {line}: more cells than header columns")
        row = {k: (v or "").strip() for k, v in row.items()}
        entry_id = row.get("id") or str(row_no)
        lang = row.get("language") or ""
        where = f"{path}: line {line}, entry {entry_id!r}"
        if lang and lang not in LANGUAGES:
            raise KBValidationError(f"{where}: field 'language': unknown language {lang!r}")
        questions = [q.strip() for q in row["question"].splitlines() if q.strip()]
        if not questions:
            raise KBValidationError(f"{where}: field 'question' is empty")
        if not row["answer"]:
            raise KBValidationError(f"{where}: field 'answer' is empty")
        slot = by_id.setdefault(
            entry_id, {"category": row.get("category", ""), "q": {}, "a": {}, "line": line}
        )
        for target_lang in [lang] if lang else LANGUAGES:
            if target_lang in slot["a"]:
                raise KBValidationError(
                    f"{where}: duplicate id {entry_id!r} (first on line {slot['line']})"
                    + (f" for language {lang!r}" if lang else "")
                )
            slot["q"][target_lang] = questions
            slot["a"][target_lang] = row["answer"]
    if not by_id:
        raise KBValidationError(f"{path}: no data rows")
    languages = tuple(l for l in LANGUAGES if any(l in s["a"] for s in by_id.values()))
    entries = []
    for entry_id, slot in by_id.items():
        for lang in languages:
            if lang not in slot["a"]:
                raise KBValidationError(
                    f"{path}: entry {entry_id!r}: field 'language': missing language {lang!r}"
                )
        entries.append(Entry(entry_id, slot["category"], slot["q"], slot["a"]))
    return KnowledgeBase(entries, "1", "", languages)
