"""Console language: one catalogue per language, chosen per user and remembered."""

from __future__ import annotations

import json
import re

from gateway.console import i18n

CATALOGUES = i18n.CATALOGUE_DIR


def test_every_language_has_every_key_and_the_same_placeholders():
    english = json.loads((CATALOGUES / "en.json").read_text(encoding="utf-8"))
    for language in ("zh-Hant", "zh-Hans"):
        other = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
        assert set(other) == set(english), language
        for key, text in english.items():
            assert set(re.findall(r"{\w+}", other[key])) == set(re.findall(r"{\w+}", text)), (language, key)
            assert other[key].strip(), (language, key)


def test_translator_fills_placeholders_and_falls_back_to_the_key():
    t = i18n.translator("zh-Hant")
    assert t("agent.waiting_min", n=4) == "已等 4 分鐘"
    assert t("no.such.key") == "no.such.key"


def test_the_choice_is_remembered_per_user(as_user):
    agent, trainer = as_user("agent1"), as_user("trainer1")
    assert 'lang="en"' in agent.get("/agent").text  # English until chosen
    assert agent.post("/api/console/language", json={"language": "xx"}).status_code == 422
    assert agent.post("/api/console/language", json={"language": "zh-Hant"}).status_code == 200
    page = agent.get("/agent").text
    assert '<html lang="zh-Hant">' in page and "接手對話" in page and "Claim chat" not in page
    embedded = re.search(
        r'<script type="application/json" id="i18n-catalogue">(.*?)</script>', page, re.S
    ).group(1)
    assert json.loads(embedded)["agent.tab.waiting"] == "等待中"  # the scripts' catalogue
    assert 'lang="en"' in trainer.get("/trainer").text  # another user keeps their own language
    assert agent.client.post("/api/console/language", json={"language": "zh-Hans"}).status_code == 403  # CSRF


def test_every_console_page_renders_in_every_language(as_user):
    admin = as_user("admin1")
    for language, marker in (("zh-Hant", "數據分析"), ("zh-Hans", "数据分析"), ("en", "Analytics")):
        assert admin.post("/api/console/language", json={"language": language}).status_code == 200
        for path in ("/agent", "/trainer", "/analytics"):
            page = admin.get(path)
            assert page.status_code == 200 and f'<html lang="{language}">' in page.text, (language, path)
            assert marker in page.text
