from __future__ import annotations

import textwrap

import pytest

from kb.faq import KBValidationError, kb_hash, load_kb
from kb.io import export_kb

from .conftest import REFERENCE


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


YAML_OK = """
    version: 2
    company: Test
    languages: [zh-Hant, zh-Hans, en]
    entries:
      - id: a
        category: c
        questions: {zh-Hant: ["問題"], zh-Hans: ["问题"], en: ["question"]}
        answer: {zh-Hant: "答案", zh-Hans: "答案", en: "answer"}
"""


def test_reference_kb_loads(reference_kb):
    assert len(reference_kb.entries) == 80
    policy = reference_kb.get("returns-policy")
    assert set(policy.questions) == set(policy.answers) == {"zh-Hant", "zh-Hans", "en"}
    assert reference_kb.company == "Lumen Electronics"


def test_kb_hash_is_stable_and_content_sensitive(tmp_path):
    a = load_kb(write(tmp_path, "a.yml", YAML_OK))
    assert kb_hash(a) == kb_hash(load_kb(write(tmp_path, "b.yml", YAML_OK)))
    changed = load_kb(write(tmp_path, "c.yml", YAML_OK.replace('en: "answer"', 'en: "other"')))
    assert kb_hash(changed) != kb_hash(a)
    assert len(kb_hash(a)) == 64


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda y: y + y[y.index("  - id") :], "duplicate id 'a'"),
        (lambda y: y.replace(', en: ["question"]', ""), "questions': missing language 'en'"),
        (lambda y: y.replace('en: "answer"', 'en: "  "'), "'answer.en' is empty"),
        (lambda y: y.replace("entries:", "entries: [unclosed"), "broken YAML"),
        (lambda y: y.replace("- id: a", "- id: ''"), "field 'id'"),
    ],
)
def test_yaml_validation_errors_name_entry_and_field(tmp_path, mutate, fragment):
    with pytest.raises(KBValidationError) as err:
        load_kb(write(tmp_path, "bad.yml", mutate(textwrap.dedent(YAML_OK))))
    assert fragment in str(err.value)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(KBValidationError, match="not found"):
        load_kb(tmp_path / "nope.yml")
    with pytest.raises(KBValidationError, match="unsupported format"):
        load_kb(write(tmp_path, "kb.txt", "x"))


def test_csv_without_id_uses_row_numbers(tmp_path):
    kb = load_kb(
        write(
            tmp_path,
            "kb.csv",
            """
        question,answer
        How do I return an item?,"Use the returns page, within 7 days."
        營業時間？,每天9點到18點
    """,
        )
    )
    assert [e.id for e in kb.entries] == ["1", "2"]
    assert kb.entries[0].answers == {lang: "Use the returns page, within 7 days." for lang in kb.languages}
    assert kb.entries[1].questions["en"] == ["營業時間？"]


def test_csv_with_id_and_errors(tmp_path):
    kb = load_kb(write(tmp_path, "kb.csv", "id,question,answer\nret,Return?,7 days\n"))
    assert kb.entries[0].id == "ret"
    with pytest.raises(KBValidationError, match="wrong CSV header"):
        load_kb(write(tmp_path, "h.csv", "q,a\nx,y\n"))
    with pytest.raises(KBValidationError, match="duplicate id 'x'"):
        load_kb(write(tmp_path, "d.csv", "id,question,answer\nx,a,b\nx,c,d\n"))
    with pytest.raises(KBValidationError, match="line 3, entry '2': field 'answer' is empty"):
        load_kb(write(tmp_path, "e.csv", "question,answer\na,b\nc,\n"))
    with pytest.raises(KBValidationError, match="no data rows"):
        load_kb(write(tmp_path, "n.csv", "question,answer\n"))


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_export_round_trip(reference_kb, tmp_path, fmt):
    out = export_kb(reference_kb, tmp_path / f"kb.{fmt}")
    again = load_kb(out)
    assert again.entries == reference_kb.entries
    if fmt == "yaml":
        assert kb_hash(again) == kb_hash(load_kb(REFERENCE))
    else:
        rows = out.read_text(encoding="utf-8")
        assert rows.startswith("id,category,language,question,answer")
