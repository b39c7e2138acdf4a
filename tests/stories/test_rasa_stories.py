"""The Rasa test stories in this folder pass against the trained model (`rasa test core`).

Every flow in each language: complaint happy paths and unhappy ones (proposal denied, topic
switched mid-form, invalid order number, correction, angry customer, top tier, second
compensation within 30 days, stop), follow-up visits, handoff triggers, chitchat and CSAT.
`rasa test core` predicts the next action from the story's intents and slots; it does not call
the action server (custom actions are unit-tested in tests/actions).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.stack import trained_model

ROOT = Path(__file__).resolve().parents[2]


def test_rasa_test_stories_pass(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    model = trained_model(env)
    result = subprocess.run(
        [
            str(ROOT / ".venv-rasa" / "bin" / "rasa"),
            "test",
            "core",
            "--model",
            model,
            "--stories",
            str(Path(__file__).parent),
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    report = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + report[-3000:]
    assert "None of the test stories failed" in report
