"""The consoles' language: one catalogue per language (``gateway/web/console/i18n/<lang>.json``,
flat ``key -> text`` with ``{name}`` placeholders), shared by the templates (``t``) and the
scripts (the catalogue is embedded in each page and read by ``i18n.js``).

Each staff member picks a language in the console; it is remembered per user in this browser
(cookie ``lumen_lang_<user id>``); until they choose, the consoles are in English.
Missing keys fall back to English, then to the key itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from fastapi import Request

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "web" / "console" / "i18n"
LANGUAGES = ("en", "zh-Hant", "zh-Hans")
DEFAULT_LANGUAGE = "en"
COOKIE_PREFIX = "lumen_lang_"
COOKIE_MAX_AGE = 400 * 24 * 3600


@cache
def catalogue(language: str) -> dict[str, str]:
    """The texts of ``language`` over the English ones (so a missing key reads in English)."""
    english: dict[str, str] = json.loads((CATALOGUE_DIR / "en.json").read_text(encoding="utf-8"))
    if language == "en":
        return english
    return {**english, **json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))}


def translator(language: str) -> Callable[..., str]:
    texts = catalogue(language)

    def t(key: str, **values: object) -> str:
        text = texts.get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return t


def cookie_name(user_id: int) -> str:
    return f"{COOKIE_PREFIX}{int(user_id)}"


def language_for(request: Request, user_id: int | None) -> str:
    if user_id is not None:
        chosen = request.cookies.get(cookie_name(user_id))
        if chosen in LANGUAGES:
            return chosen
    return DEFAULT_LANGUAGE
