"""The text catalogue (common/texts.yml): complete in three languages, used as the code asks,
and rendered into domain.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from common import texts
from common.texts import LANGUAGES, CatalogueError, catalogue, parse, placeholders, text
from crm.orm.base import ORDER_STATUSES
from recovery.policy import CATEGORIES, OPTION_TYPES, RESOLUTIONS

ROOT = Path(__file__).resolve().parents[2]
CODE = [
    p
    for d in ("actions", "bot", "common", "crm", "gateway", "kb", "ops", "recovery")
    for p in sorted((ROOT / d).rglob("*.py"))
]
CALL = re.compile(r"""\b(?:text|text_list|has|all_languages)\(\s*["']([^"']+)["']""")
DYNAMIC = re.compile(r"""\bf["']([a-z_]+\.[a-z_]*)\{""")  # f"order_status.{...}"
LITERAL = re.compile(r"""["']([a-z_]+\.[a-z_]+)["']""")


def _code() -> str:
    """The modules that read the catalogue (``text`` elsewhere may be SQLAlchemy's)."""
    sources = [p.read_text(encoding="utf-8") for p in CODE]
    return "\n".join(s for s in sources if "from common.texts import" in s)


def test_every_entry_has_the_three_languages_with_the_same_placeholders():
    raw = yaml.safe_load(texts.CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert set(raw) == {"responses", "widget", "texts"}
    for section in raw:
        for key, entry in raw[section].items():
            assert set(LANGUAGES) <= set(entry) <= {*LANGUAGES, "buttons"}, f"{section}/{key}"
            items = {
                lang: entry[lang] if isinstance(entry[lang], list) else [entry[lang]] for lang in LANGUAGES
            }
            assert all(w.strip() for ws in items.values() for w in ws), f"{section}/{key}: empty"
            if section == "responses":  # several wordings: all with the same placeholders
                names = {placeholders(w) for ws in items.values() for w in ws}
                assert len(names) == 1, f"{section}/{key}: placeholders differ {names}"
            else:  # a text, or a list as long in each language, item by item the same placeholders
                assert len({len(ws) for ws in items.values()}) == 1, f"{section}/{key}: lengths differ"
                for group in zip(*items.values()):
                    assert len({placeholders(w) for w in group}) == 1, f"{section}/{key}: placeholders differ"
            for button in entry.get("buttons") or []:
                title = button["title"]
                assert isinstance(title, str) or set(title) == set(LANGUAGES), f"{section}/{key}: {button}"


@pytest.mark.parametrize(
    "broken",
    [
        {"responses": {}, "widget": {}, "texts": {"a.b": {"en": "x", "zh-Hant": "x"}}},
        {
            "responses": {},
            "widget": {},
            "texts": {"a.b": {"en": ["x"], "zh-Hant": ["x", "y"], "zh-Hans": ["x"]}},
        },
        {"responses": {}, "widget": {}, "texts": {"a.b": {"en": ["x"], "zh-Hant": "x", "zh-Hans": ["x"]}}},
        {"responses": {}, "widget": {"a-b": {"en": "x", "zh-Hant": "x", "zh-Hans": "x"}}, "texts": {}},
        {"responses": {}, "texts": {}},
        {
            "responses": {},
            "widget": {},
            "texts": {"a.b": {"en": "{n} left", "zh-Hant": "{n}", "zh-Hans": "剩下"}},
        },
        {
            "responses": {"utter_x": {"en": ["a", "{b}"], "zh-Hant": "a", "zh-Hans": "a"}},
            "widget": {},
            "texts": {},
        },
        {"responses": {"greet": {"en": "a", "zh-Hant": "a", "zh-Hans": "a"}}, "widget": {}, "texts": {}},
        {"responses": {}, "widget": {}, "texts": {"a.b": {"en": "", "zh-Hant": "x", "zh-Hans": "x"}}},
        {
            "responses": {
                "utter_x": {"en": "a", "zh-Hant": "a", "zh-Hans": "a", "buttons": [{"title": {"en": "Y"}}]}
            },
            "widget": {},
            "texts": {},
        },
    ],
)
def test_a_broken_catalogue_is_refused(broken):
    with pytest.raises(CatalogueError):
        parse(broken)


def test_every_key_the_code_asks_for_exists():
    code = _code()
    asked = set(CALL.findall(code))
    assert asked, "no text() calls found: the scan is broken"
    assert asked <= set(catalogue().texts), sorted(asked - set(catalogue().texts))
    prefixes = set(DYNAMIC.findall(code))
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in catalogue().texts), prefix


def test_every_key_built_from_a_code_exists_for_each_code():
    keys = set(catalogue().texts)
    wanted = (
        {f"category.{c}" for c in CATEGORIES}
        | {f"resolution.{r}" for r in RESOLUTIONS}
        | {f"option.{o}" for o in OPTION_TYPES}
        | {f"order_status.{s}" for s in ORDER_STATUSES}
        | {"notice.status_agent", "notice.status_bot"}
    )
    assert wanted <= keys, sorted(wanted - keys)


def test_every_text_is_used_by_the_code():
    code = _code()
    literal, prefixes = set(LITERAL.findall(code)), set(DYNAMIC.findall(code))
    unused = [k for k in catalogue().texts if k not in literal and not any(k.startswith(p) for p in prefixes)]
    assert not unused, unused


def test_widget_reads_exactly_the_widget_labels():
    script = texts.WIDGET_PATH.read_text(encoding="utf-8")
    assert texts.render_widget(script) == script, "widget.js is stale: run python -m common.texts render"
    code = script[script.index("\n  };\n") :]  # after the generated T block
    read = set(re.findall(r"(?:\bt|T\[lang\])\.([A-Za-z]+)\b", code))  # t = T[lang], or a `times` item
    assert set(catalogue().widget) <= read, set(catalogue().widget) - read
    assert set(re.findall(r"T\[lang\]\.([A-Za-z]+)", code)) <= set(catalogue().widget)


def test_lists_are_read_with_text_list():
    assert texts.text_list("date.weekdays", "zh-Hans")[6] == "周日"
    with pytest.raises(TypeError):
        text("date.weekdays", "en")
    with pytest.raises(TypeError):
        texts.text_list("date.year", "en")


def test_text_fills_placeholders_and_falls_back_to_english():
    assert (
        text("order.choice", "zh-Hans", order="LM1", date="2025-01-02", total="¥9") == "LM1・2025-01-02・¥9"
    )
    assert text("button.talk_to_person", None) == text("button.talk_to_person", "fr") == "Talk to a person"
    assert text("button.talk_to_person", "zh-Hant") == "轉接真人客服"
    with pytest.raises(KeyError):
        text("no.such_key", "en")


def test_domain_responses_are_rendered_from_the_catalogue():
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    assert texts.render_domain(domain) == domain, "domain.yml is stale: run python -m common.texts render"
    responses = yaml.safe_load(domain)["responses"]
    assert list(responses) == list(catalogue().responses)
    greet = responses["utter_ask_csat_comment"]
    assert greet[0] == {
        "condition": [{"type": "slot", "name": "language", "value": "zh-Hant"}],
        "text": "謝謝！有什麼想補充的建議嗎？（可略過）",
        "buttons": [{"title": "略過", "payload": "/deny"}],
    }
    assert greet[-1] == {
        "text": "Thank you! Anything you'd like to add? (optional)",
        "buttons": [{"title": "Skip", "payload": "/deny"}],
    }


def test_check_fails_on_a_stale_domain_and_render_fixes_it(tmp_path, capsys):
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    stale = tmp_path / "domain.yml"
    stale.write_text(
        domain.replace("Thank you! Anything you'd like to add?", "Anything to add?"), encoding="utf-8"
    )
    assert texts.main(["check", "--domain", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert texts.main(["render", "--domain", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == domain
    assert texts.main(["check", "--domain", str(stale)]) == 0
