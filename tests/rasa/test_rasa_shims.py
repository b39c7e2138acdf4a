"""bot/rasa_shims.py: Rasa's action-response validation with one cached validator, same contract."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.rasa_shims import _version_ok

ROOT = Path(__file__).resolve().parents[2]

# Runs in the Rasa environment: Rasa's own check (kept before the shim is applied) and the shim must
# accept and reject the same responses with the same message, and the shim must not call
# jsonschema.validate (which re-checks the schema on every call).
CHECK = r"""
import jsonschema
from rasa.core.actions.action import RemoteAction
action = RemoteAction("action_x", None)
good = [{"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]},
        {"events": [], "responses": []}, {}]
bad = [{"events": [{"event": "no_such_event"}]}, {"events": "x"}, {"responses": [1]}]
def outcome(result):
    try:
        return action._validate_action_result(result)
    except jsonschema.ValidationError as e:
        return ("error", e.message)
expected = [outcome(r) for r in good + bad]   # Rasa's own check
original = RemoteAction._validate_action_result
import bot.nlu  # applies the shim, as when Rasa loads the model's components
assert RemoteAction._validate_action_result is not original, "shim not applied"
calls = []
jsonschema.validate = lambda *a, **k: calls.append(a)
got = [outcome(r) for r in good + bad]
assert got == expected, (got, expected)
assert got[:3] == [True, True, True] and all(g[0] == "error" for g in got[3:]), got
assert "Failed to validate Action server response" in got[3][1]
assert not calls, "the shim called jsonschema.validate"

# Event classes by name: the same class as Rasa's lookup, the same errors, and a known name is
# found again without walking the subclasses.
import rasa.shared.utils.common as common
from rasa.shared.core.events import Event, UserUttered
names = sorted({c.type_name for c in common.all_subclasses(Event)})
first = [Event.resolve_by_type(n) for n in names]
walks = []
real_walk = common.all_subclasses
common.all_subclasses = lambda cls: walks.append(cls) or real_walk(cls)
assert [Event.resolve_by_type(n) for n in names] == first and not walks, walks
assert all(c.type_name == n for c, n in zip(first, names)) and UserUttered in first
assert Event.resolve_by_type("no_such_event", UserUttered) is UserUttered
try:
    Event.resolve_by_type("no_such_event")
    raise AssertionError("unknown event name accepted")
except ValueError:
    pass
assert Event.resolve_by_type("topic") is None
print("ok")
"""


def test_shim_keeps_rasas_contract_without_revalidating_the_schema():
    result = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
        result.stdout + result.stderr[-3000:]
    )


def test_shim_applies_only_to_the_versions_it_was_written_for():
    assert _version_ok("3.6.21", "4.17.3")
    assert not _version_ok("3.7.0", "4.17.3")
    assert not _version_ok("3.6.21", "5.0.0")
