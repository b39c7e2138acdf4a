"""One-off check for issue 20: the catalogue (common/texts.yml) gives exactly the texts of the old homes.

Reads the old sources from a git revision (default ``c96c97d``, main before the catalogue): domain.yml's responses, the
dictionaries of recovery/labels.py and gateway/notices.py (by ``ast.literal_eval``, no import),
and compensation_policy.yml's labels; compares each entry with what the catalogue gives now
(the rendered domain responses, parsed, and ``common.texts.text``), the widget's labels (both
``T`` objects evaluated by node) and ``recovery.labels.deadline`` (the old function, compiled
from the old source, against the new one). Prints a summary; exit 1 on any difference.
``PYTHONPATH=. .venv/bin/python scripts/compare_texts.py [REV]``
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

import yaml

from common import texts
from recovery import labels as new_labels
from recovery.policy import load_policy

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


def old_function(source: str, name: str, namespace: dict[str, object]) -> object:
    """Function ``name`` of the old module ``source``, compiled alone in ``namespace``."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[node], type_ignores=[]), f"<old {name}>", "exec"), namespace)
    return namespace[name]


def widget_texts(script: str) -> dict[str, dict[str, object]]:
    """The widget's ``T`` object, evaluated by node."""
    with tempfile.NamedTemporaryFile("w", suffix=".js", encoding="utf-8") as fh:
        fh.write(script)
        fh.flush()
        program = (
            "const s = require('fs').readFileSync(process.argv[1], 'utf8');"
            "const a = s.indexOf('{', s.indexOf('var T = {')), b = s.indexOf('\\n  };\\n', a);"
            "process.stdout.write(JSON.stringify(eval('(' + s.slice(a, b + 4) + ')')));"
        )
        out = subprocess.run(["node", "-e", program, fh.name], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


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

    old_widget = widget_texts(old(rev, "gateway/web/static/widget.js"))
    new_widget = widget_texts(texts.WIDGET_PATH.read_text(encoding="utf-8"))
    unused = {"you", "sending"}  # in the old T, read nowhere in widget.js; not carried over
    widget = 0
    for lang in LANGS:
        if set(new_widget[lang]) != set(old_widget[lang]) - unused:
            bad.append(f"widget {lang}: keys {set(new_widget[lang]) ^ set(old_widget[lang])}")
        for key, value in old_widget[lang].items():
            if key not in unused:
                widget += 1
                if new_widget[lang].get(key) != value:
                    bad.append(f"widget {lang}.{key}: {value!r} != {new_widget[lang].get(key)!r}")

    old_labels = old(rev, "recovery/labels.py")
    namespace: dict[str, object] = {
        **labels,
        "datetime": datetime,
        "timedelta": timedelta,
        "timezone": timezone,
        "load_policy": load_policy,
    }
    namespace["lang"] = old_function(old_labels, "lang", namespace)
    old_deadline = old_function(old_labels, "deadline", namespace)
    instants = [
        datetime(2024, 12, 31, 15, 59, tzinfo=timezone.utc) + timedelta(hours=37 * i) for i in range(400)
    ]
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    dates = 0
    for when in [*instants, datetime(2025, 1, 1, 12, 0)]:  # a naive one too (read as UTC)
        for lang in (*LANGS, None, "fr"):
            dates += 1
            before = old_deadline(when, lang, now=now)  # type: ignore[operator]
            after = new_labels.deadline(when, lang, now=now)
            if before != after:
                bad.append(f"deadline {when} {lang}: {before!r} != {after!r}")

    print(f"compared {responses} domain response variations and {compared - responses} texts with {rev}")
    print(f"compared {widget} widget labels and {dates} deadlines (old recovery.labels.deadline vs new)")
    for line in bad:
        print("DIFFERENT", line)
    print("identical" if not bad else f"{len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "c96c97d"))
