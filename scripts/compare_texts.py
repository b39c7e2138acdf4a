"""One-off check for issue 20: the catalogue (common/texts.yml) gives exactly the texts of the old homes.

Reads the old sources from a git revision (default ``main``): domain.yml's responses, the
dictionaries of recovery/labels.py and gateway/notices.py (by ``ast.literal_eval``, no import),
and compensation_policy.yml's labels; compares each entry with what the catalogue gives now
(the rendered domain responses, parsed, and ``common.texts.text``). Prints a summary; exit 1 on
any difference. ``python scripts/compare_texts.py [REV]``
"""

from __future__ import annotations

import ast
import subprocess
import sys

import yaml

from common import texts

LANGS = ("zh-Hant", "zh-Hans", "en")
UI_KEYS = {
    "no_order": "order.none",
    "order_line": "order.line",
    "order_carrier": "order.carrier",
    "order_expected": "order.expected",
    "order_choice": "order.choice",
}


def old(rev: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{path}"], check=True, capture_output=True, text=True).stdout


def literals(source: str) -> dict[str, object]:
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found


def main(rev: str) -> int:
    bad: list[str] = []
    compared = 0
    old_domain = yaml.safe_load(old(rev, "domain.yml"))["responses"]
    new_domain = yaml.safe_load(texts.render_responses())["responses"]
    if list(old_domain) != list(new_domain):
        bad.append(f"response names differ: {set(old_domain) ^ set(new_domain)}")
    for name, variations in old_domain.items():
        for i, variation in enumerate(variations):
            compared += 1
            got = (new_domain.get(name) or [])[i : i + 1]
            if got != [variation]:
                bad.append(f"{name}[{i}]: {variation!r} != {got!r}")
        if len(new_domain.get(name) or []) != len(variations):
            bad.append(f"{name}: {len(variations)} variations before, {len(new_domain.get(name) or [])} now")
    responses = compared

    def same(key: str, by_language: dict[str, str]) -> None:
        nonlocal compared
        for lang in LANGS:
            compared += 1
            now = texts.text(key, lang)
            if now != by_language[lang]:
                bad.append(f"{key}/{lang}: {by_language[lang]!r} != {now!r}")

    labels = literals(old(rev, "recovery/labels.py"))
    for key, by_language in labels["UI"].items():
        if key != "order_ref":  # used nowhere; not carried over
            same(UI_KEYS.get(key, f"button.{key}"), by_language)
    for key, by_language in labels["ORDER_STATUS"].items():
        same(f"order_status.{key}", by_language)
    policy = yaml.safe_load(old(rev, "compensation_policy.yml"))["labels"]
    for kind, table in policy.items():
        for key, by_language in table.items():
            same(f"{kind}.{key}", by_language)
    notices = literals(old(rev, "gateway/notices.py"))
    same("notice.one_moment", notices["_ONE_MOMENT"])
    same("notice.chosen_option", notices["_CHOSEN_OPTION"])
    same("notice.queue_busy", notices["_QUEUE_BUSY"])
    for status, by_language in notices["_STATUS"].items():
        same(f"notice.status_{status}", by_language)
    for part in ("deadline", "plain", "subject"):
        same(f"follow_up.{part}", {lang: notices["_FOLLOW_UP"][lang][part] for lang in LANGS})

    print(f"compared {responses} domain response variations and {compared - responses} texts with {rev}")
    for line in bad:
        print("DIFFERENT", line)
    print("identical" if not bad else f"{len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "main"))
