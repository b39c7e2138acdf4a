"""The catalogue of customer-facing text (``common/texts.yml``): one file, three languages.

Every sentence, fragment or label a customer reads is one key there, written in ``zh-Hant``,
``zh-Hans`` and ``en`` with the same ``{placeholders}`` in each. Three sections, by reader:

- ``responses``: Rasa's ``utter_*`` responses, one or several wordings per language (Rasa picks
  one at random) and optional buttons (a payload and a title per language);
- ``widget``: the chat widget's own labels (``gateway/web/static/widget.js``);
- ``texts``: what Python fills in or sends itself (button titles, order lines, dates,
  compensation labels, the gateway's notices, the follow-up message), read with :func:`text`
  (a list, e.g. weekday names, with :func:`text_list`).

Rasa reads its responses from ``domain.yml`` and the widget is a static script, so both carry a
rendering of their section, checked in: ``python -m common.texts render`` rewrites them, and
``python -m common.texts check`` (also a test) fails when either is stale. The other way round,
the domain as the catalogue, would put the gateway's notices and the actions' fragments into
the Rasa domain: a changed notice would retrain the model, and ``rasa data validate`` wants
every ``utter_`` response used in a story. Rasa never imports this module (it needs only the
rendered domain); it depends on the standard library and PyYAML, so either environment can.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Literal

import yaml

Language = Literal["zh-Hant", "zh-Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "zh-Hans", "en")
Value = str | tuple[str, ...]  # a text, or a list of texts (weekday names, quick replies)
ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_PATH = ROOT / "common" / "texts.yml"
DOMAIN_PATH = ROOT / "domain.yml"
WIDGET_PATH = ROOT / "gateway" / "web" / "static" / "widget.js"


class CatalogueError(ValueError):
    """The catalogue file is malformed, or a rendered file has no place for its section."""


@dataclass(frozen=True)
class Button:
    title: dict[Language, str]
    payload: str


@dataclass(frozen=True)
class Response:
    """A Rasa response: its wordings per language and the buttons every wording carries."""

    variations: dict[Language, tuple[str, ...]]
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    responses: dict[str, Response]
    widget: dict[str, dict[Language, Value]]
    texts: dict[str, dict[Language, Value]]


def language_of(language: str | None) -> Language:
    """The catalogue language for a ``language`` slot or code: English unless a Chinese script."""
    return "zh-Hant" if language == "zh-Hant" else "zh-Hans" if language == "zh-Hans" else "en"


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` of ``template`` (``{{`` and ``}}`` are literal braces)."""
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name is not None)


# ------------------------------------------------------------------ reading and checking


def _languages(where: str, raw: object, extra: frozenset[str] = frozenset()) -> dict[str, object]:
    if not isinstance(raw, dict) or not set(LANGUAGES) <= set(raw) or set(raw) - {*LANGUAGES, *extra}:
        raise CatalogueError(f"{where}: needs exactly {', '.join(LANGUAGES)}")
    return raw


def _texts(where: str, value: object) -> tuple[str, ...]:
    items = tuple(value) if isinstance(value, list) else (value,)
    if not items or not all(isinstance(t, str) and t.strip() for t in items):
        raise CatalogueError(f"{where}: a non-empty text or list of texts")
    return tuple(str(t) for t in items)


def _same_placeholders(where: str, groups: list[tuple[str, ...]]) -> None:
    names = {placeholders(t) for group in groups for t in group}
    if len(names) > 1:
        raise CatalogueError(f"{where}: placeholders differ: {sorted(sorted(n) for n in names)}")


def _entry(where: str, raw: object) -> dict[Language, Value]:
    """A text (the same ``{placeholders}`` in each language) or a list of texts (as long in each
    language, item by item the same placeholders)."""
    by_language = _languages(where, raw)
    kinds = {isinstance(by_language[lang], list) for lang in LANGUAGES}
    items = {lang: _texts(f"{where}/{lang}", by_language[lang]) for lang in LANGUAGES}
    if kinds == {False}:
        _same_placeholders(where, list(items.values()))
        return {lang: items[lang][0] for lang in LANGUAGES}
    if kinds != {True} or len({len(v) for v in items.values()}) != 1:
        raise CatalogueError(f"{where}: a list in every language, of the same length")
    for i, group in enumerate(zip(*items.values())):
        _same_placeholders(f"{where}[{i}]", [group])
    return dict(items)


def _response(where: str, raw: object) -> Response:
    by_language = _languages(where, raw, frozenset({"buttons"}))
    variations = {lang: _texts(f"{where}/{lang}", by_language[lang]) for lang in LANGUAGES}
    _same_placeholders(where, list(variations.values()))
    specs = by_language.get("buttons") or []
    if not isinstance(specs, list):
        raise CatalogueError(f"{where}: buttons are a list")
    buttons: list[Button] = []
    for spec in specs:
        if (
            not isinstance(spec, dict)
            or set(spec) != {"title", "payload"}
            or not isinstance(spec["payload"], str)
        ):
            raise CatalogueError(f"{where}: a button is {{title, payload}}")
        title = spec["title"]
        if isinstance(title, str):  # the same in every language, e.g. a digit
            title = dict.fromkeys(LANGUAGES, title)
        titles = _entry(f"{where} button title", title)
        buttons.append(Button({lang: str(titles[lang]) for lang in LANGUAGES}, spec["payload"]))
    return Response(variations, tuple(buttons))


def parse(data: object) -> Catalogue:
    """The catalogue in ``data`` (the YAML file's content), checked; :class:`CatalogueError` if not."""
    if not isinstance(data, dict) or set(data) != {"responses", "widget", "texts"}:
        raise CatalogueError("the catalogue has three sections: responses, widget, texts")
    responses: dict[str, Response] = {}
    for name, raw in (data["responses"] or {}).items():
        if not str(name).startswith("utter_"):
            raise CatalogueError(f"responses/{name}: Rasa response names start with utter_")
        responses[str(name)] = _response(f"responses/{name}", raw)
    widget = {str(key): _entry(f"widget/{key}", raw) for key, raw in (data["widget"] or {}).items()}
    for key in widget:
        if not key.isidentifier():
            raise CatalogueError(f"widget/{key}: the widget reads it as a JavaScript property name")
    texts = {str(key): _entry(f"texts/{key}", raw) for key, raw in (data["texts"] or {}).items()}
    return Catalogue(responses, widget, texts)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shipped catalogue (cached)."""
    return parse(yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ reading texts from Python


def has(key: str) -> bool:
    return key in catalogue().texts


def _value(key: str, language: str | None) -> Value:
    return catalogue().texts[key][language_of(language)]


def text(key: str, language: str | None, **values: object) -> str:
    """Text ``key`` in ``language`` (English for anything but zh-Hant / zh-Hans), its
    ``{placeholders}`` filled from ``values``. An unknown key is a ``KeyError``."""
    template = _value(key, language)
    if not isinstance(template, str):
        raise TypeError(f"text {key!r} is a list: use text_list")
    return template.format(**values) if values else template


def text_list(key: str, language: str | None) -> tuple[str, ...]:
    """List text ``key`` (e.g. ``date.weekdays``) in ``language``."""
    items = _value(key, language)
    if isinstance(items, str):
        raise TypeError(f"text {key!r} is not a list: use text")
    return items


def all_languages(key: str) -> dict[str, str]:
    """Text ``key`` in every language (for a notice the widget shows in the reader's language)."""
    return {lang: text(key, lang) for lang in LANGUAGES}


# ------------------------------------------------------------------ rendered copies


def _yaml_quoted(value: str) -> str:
    if '"' in value and "'" not in value and "\n" not in value:
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def render_responses(source: Catalogue | None = None) -> str:
    """The ``responses:`` section of ``domain.yml``: each wording a variation conditioned on the
    ``language`` slot, English unconditioned (Rasa's default)."""
    lines = ["responses:"]
    for name, response in (source or catalogue()).responses.items():
        lines.append(f"  {name}:")
        for lang in LANGUAGES:
            for wording in response.variations[lang]:
                if lang == "en":
                    lines.append(f"    - text: {_yaml_quoted(wording)}")
                else:
                    lines.append(f"    - condition: [{{type: slot, name: language, value: {lang}}}]")
                    lines.append(f"      text: {_yaml_quoted(wording)}")
                if response.buttons:
                    lines.append("      buttons:")
                    lines += [
                        f"        - {{title: {_yaml_quoted(b.title[lang])}, payload: {_yaml_quoted(b.payload)}}}"
                        for b in response.buttons
                    ]
        lines.append("")
    return "\n".join(lines)


def render_widget_texts(source: Catalogue | None = None) -> str:
    """The widget's ``var T = {…};``: per language, one property per line."""
    lines = ["  var T = {"]
    for i, lang in enumerate(LANGUAGES):
        lines.append(f"    {json.dumps(lang)}: {{")
        entries = (source or catalogue()).widget
        for j, (key, by_language) in enumerate(entries.items()):
            value = by_language[lang]
            shown = json.dumps(value if isinstance(value, str) else list(value), ensure_ascii=False)
            lines.append(f"      {key}: {shown}{',' if j < len(entries) - 1 else ''}")
        lines.append("    }" + ("," if i < len(LANGUAGES) - 1 else ""))
    lines.append("  };")
    return "\n".join(lines)


def render_domain(domain: str, source: Catalogue | None = None) -> str:
    """``domain`` (the text of ``domain.yml``) with its last section, ``responses:``, rendered anew."""
    at = domain.find("\nresponses:\n")
    if at < 0:
        raise CatalogueError("domain.yml: no top-level 'responses:' section")
    if any(line and not line.startswith((" ", "#")) for line in domain[at + 1 :].splitlines()[1:]):
        raise CatalogueError("domain.yml: 'responses:' must be the last section")
    return domain[: at + 1] + render_responses(source)


def render_widget(script: str, source: Catalogue | None = None) -> str:
    """``script`` (the text of ``widget.js``) with its ``var T = {…};`` block rendered anew."""
    start = script.find("\n  var T = {\n")
    end = script.find("\n  };\n", start)
    if start < 0 or end < 0:
        raise CatalogueError("widget.js: no 'var T = {' … '};' block")
    return script[: start + 1] + render_widget_texts(source) + script[end + len("\n  };") :]


RENDERED: dict[str, Callable[[str], str]] = {"domain": render_domain, "widget": render_widget}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.texts", description="The text catalogue.")
    parser.add_argument(
        "command",
        choices=("render", "check"),
        help="rewrite domain.yml's responses and widget.js's texts, or check",
    )
    parser.add_argument("--domain", type=Path, default=DOMAIN_PATH)
    parser.add_argument("--widget", type=Path, default=WIDGET_PATH)
    args = parser.parse_args(argv)
    stale = 0
    for name, render in RENDERED.items():
        path: Path = getattr(args, name)
        current = path.read_text(encoding="utf-8")
        rendered = render(current)
        if rendered == current:
            continue
        if args.command == "render":
            path.write_text(rendered, encoding="utf-8")
            print(f"{path}: rewritten from {CATALOGUE_PATH.name}")
        else:
            print(f"{path} is stale: run `python -m common.texts render`", file=sys.stderr)
            stale += 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
