"""The catalogue of customer-facing text (``common/texts.yml``): one file, three languages.

Every sentence or fragment a customer reads is one key there, written in ``zh-Hant``, ``zh-Hans``
and ``en`` with the same ``{placeholders}`` in each:

- ``responses``: Rasa's ``utter_*`` responses, one or several wordings per language (Rasa picks
  one at random) and optional buttons (a payload and a title per language);
- ``texts``: what Python fills in or sends itself (button titles, order lines, compensation
  labels, the gateway's notices, the follow-up message), read with :func:`text`.

Rasa reads its responses from ``domain.yml`` only, so the domain's ``responses:`` section is a
rendering of the catalogue, checked in: ``python -m common.texts render`` rewrites it and
``python -m common.texts check`` (also a test) fails when it is stale. The other way round, the
domain as the catalogue, would put the gateway's notices and the actions' fragments into the
Rasa domain: a changed notice would retrain the model, and ``rasa data validate`` wants every
``utter_`` response used in a story. Rasa never imports this module (it needs only the rendered
domain); it depends on the standard library and PyYAML, so either environment can.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Literal, cast

import yaml

Language = Literal["zh-Hant", "zh-Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "zh-Hans", "en")
CATALOGUE_PATH = Path(__file__).resolve().parent / "texts.yml"
DOMAIN_PATH = Path(__file__).resolve().parent.parent / "domain.yml"
_SECTION = "\nresponses:\n"


class CatalogueError(ValueError):
    """The catalogue file is malformed."""


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
    texts: dict[str, dict[Language, str]]


def language_of(language: str | None) -> Language:
    """The catalogue language for a ``language`` slot or code: English unless a Chinese script."""
    return "zh-Hant" if language == "zh-Hant" else "zh-Hans" if language == "zh-Hans" else "en"


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` of ``template`` (``{{`` and ``}}`` are literal braces)."""
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name is not None)


def _per_language(where: str, raw: object, *, several: bool) -> dict[Language, tuple[str, ...]]:
    if not isinstance(raw, dict) or set(raw) - {*LANGUAGES, "buttons"} or not set(LANGUAGES) <= set(raw):
        raise CatalogueError(f"{where}: needs exactly {', '.join(LANGUAGES)}")
    out: dict[Language, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        value = raw[lang]
        wordings = tuple(value) if several and isinstance(value, list) else (value,)
        if not wordings or not all(isinstance(w, str) and w.strip() for w in wordings):
            raise CatalogueError(f"{where}/{lang}: a non-empty text{' or list of texts' if several else ''}")
        out[lang] = wordings
    names = {placeholders(w) for wordings in out.values() for w in wordings}
    if len(names) > 1:
        raise CatalogueError(f"{where}: placeholders differ between wordings: {sorted(map(sorted, names))}")
    return out


def _button(where: str, raw: object) -> Button:
    if not isinstance(raw, dict) or set(raw) != {"title", "payload"} or not isinstance(raw["payload"], str):
        raise CatalogueError(f"{where}: a button is {{title, payload}}")
    title = raw["title"]
    if isinstance(title, str):  # the same in every language, e.g. a digit
        title = dict.fromkeys(LANGUAGES, title)
    titles = _per_language(f"{where} title", title, several=False)
    return Button({lang: titles[lang][0] for lang in LANGUAGES}, raw["payload"])


def parse(data: object) -> Catalogue:
    """The catalogue in ``data`` (the YAML file's content), checked; :class:`CatalogueError` if not."""
    if not isinstance(data, dict) or set(data) != {"responses", "texts"}:
        raise CatalogueError("the catalogue has two sections: responses, texts")
    responses: dict[str, Response] = {}
    for name, raw in (data["responses"] or {}).items():
        if not str(name).startswith("utter_"):
            raise CatalogueError(f"responses/{name}: Rasa response names start with utter_")
        variations = _per_language(f"responses/{name}", raw, several=True)
        buttons = tuple(_button(f"responses/{name}", b) for b in raw.get("buttons") or ())
        responses[name] = Response(variations, buttons)
    texts: dict[str, dict[Language, str]] = {}
    for key, raw in (data["texts"] or {}).items():
        if key in responses:
            raise CatalogueError(f"texts/{key}: also a response")
        texts[key] = {
            lang: wordings[0] for lang, wordings in _per_language(f"texts/{key}", raw, several=False).items()
        }
    return Catalogue(responses, texts)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shipped catalogue (cached)."""
    return parse(yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8")))


def has(key: str) -> bool:
    return key in catalogue().texts


def text(key: str, language: str | None, **values: object) -> str:
    """Text ``key`` in ``language`` (English for anything but zh-Hant / zh-Hans), its
    ``{placeholders}`` filled from ``values``. An unknown key is a ``KeyError``."""
    template = catalogue().texts[key][language_of(language)]
    return template.format(**values) if values else template


def all_languages(key: str) -> dict[str, str]:
    """Text ``key`` in every language (for a notice the widget shows in the reader's language)."""
    return {lang: template for lang, template in catalogue().texts[key].items()}


# ------------------------------------------------------------------ the domain's responses


def _quoted(value: str) -> str:
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
                    lines.append(f"    - text: {_quoted(wording)}")
                else:
                    lines.append(f"    - condition: [{{type: slot, name: language, value: {lang}}}]")
                    lines.append(f"      text: {_quoted(wording)}")
                if response.buttons:
                    lines.append("      buttons:")
                    lines += [
                        f"        - {{title: {_quoted(b.title[lang])}, payload: {_quoted(b.payload)}}}"
                        for b in response.buttons
                    ]
        lines.append("")
    return "\n".join(lines)


def render_domain(domain: str, source: Catalogue | None = None) -> str:
    """``domain`` (the text of ``domain.yml``) with its last section, ``responses:``, rendered anew."""
    at = domain.find(_SECTION)
    if at < 0:
        raise CatalogueError("domain.yml: no top-level 'responses:' section")
    if any(line and not line.startswith((" ", "#")) for line in domain[at + len(_SECTION) :].splitlines()):
        raise CatalogueError("domain.yml: 'responses:' must be the last section")
    return domain[: at + 1] + render_responses(source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.texts", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", choices=("render", "check"), help="rewrite domain.yml's responses, or check them"
    )
    parser.add_argument("--domain", type=Path, default=DOMAIN_PATH)
    args = parser.parse_args(argv)
    domain_path = cast(Path, args.domain)
    current = domain_path.read_text(encoding="utf-8")
    rendered = render_domain(current)
    if args.command == "render":
        if rendered != current:
            domain_path.write_text(rendered, encoding="utf-8")
        print(f"{domain_path}: {len(catalogue().responses)} responses from {CATALOGUE_PATH.name}")
        return 0
    if rendered != current:
        print(f"{domain_path} is stale: run `python -m common.texts render`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
