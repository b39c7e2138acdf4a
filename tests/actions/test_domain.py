"""The domain and the action server agree, and every response exists in all three languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
LANGS = ("zh-Hant", "zh-Hans")
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")


def _language(variation: dict) -> str:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition["value"]
    return "en"


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_response_exists_in_every_language_with_the_same_placeholders(name):
    variations = DOMAIN["responses"][name]
    by_language: dict[str, list[dict]] = {}
    for variation in variations:
        by_language.setdefault(_language(variation), []).append(variation)
    assert set(by_language) == {"en", *LANGS}, f"{name}: languages {sorted(by_language)}"
    placeholders = {
        lang: {frozenset(PLACEHOLDER.findall(v["text"])) for v in vs} for lang, vs in by_language.items()
    }
    assert len({frozenset().union(*p) for p in placeholders.values()}) == 1, f"{name}: {placeholders}"
    buttons = {lang: {len(v.get("buttons") or []) for v in vs} for lang, vs in by_language.items()}
    assert len({frozenset(b) for b in buttons.values()}) == 1, f"{name}: buttons differ {buttons}"


def test_every_custom_action_in_the_domain_is_served_and_vice_versa():
    executor = ActionExecutor()
    executor.register_package("actions")
    served = set(executor.actions)
    listed = {
        a if isinstance(a, str) else next(iter(a)) for a in DOMAIN["actions"]
    }  # "- name: {send_domain: true}"
    assert listed <= served, f"listed but not implemented: {listed - served}"
    assert served <= listed, f"implemented but not in the domain: {served - listed}"


def test_every_response_an_action_sends_is_in_the_domain():
    used = set()
    for path in (ROOT / "actions").glob("*.py"):
        used |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    used |= {f"utter_apology{a}{b}" for a in ("", "_named") for b in ("", "_order")}
    used |= {f"utter_handoff_{r}" for r in ("explicit", "failures", "frustration", "priority", "approval")}
    assert used <= set(DOMAIN["responses"]), used - set(DOMAIN["responses"])
