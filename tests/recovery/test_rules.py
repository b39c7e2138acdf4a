"""The service-recovery rules' one home each: approval limits from the policy file, one set of
frustration thresholds, and a package that imports nothing but the shared leaves."""

from __future__ import annotations

import ast
from copy import deepcopy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recovery import approvals, frustration, policy, priority

RECOVERY = Path(__file__).resolve().parents[2] / "recovery"


@pytest.fixture
def policy_file(tmp_path, monkeypatch):
    """Write a changed copy of compensation_policy.yml and make it the policy."""

    def use(change) -> None:
        data = deepcopy(policy.load_policy())
        change(data)
        path = tmp_path / "policy.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("COMPENSATION_POLICY", str(path))

    yield use
    monkeypatch.delenv("COMPENSATION_POLICY", raising=False)
    policy._load.cache_clear()


def test_recovery_imports_only_the_shared_leaves():
    for path in RECOVERY.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top not in {"crm", "kb", "actions", "gateway", "bot", "ops"}, f"{path.name}: {name}"


def test_approval_limits_are_the_policy_files():
    limits = policy.load_policy()["approval_limits"]
    assert limits == {
        "agent": {"TWD": 1000, "HKD": 250, "CNY": 250, "PTS": 2000},
        "manager": {"TWD": 10000, "HKD": 2500, "CNY": 2500, "PTS": 20000},
        "admin": None,
    }
    assert approvals.approval_limit("agent", "twd") == Decimal("1000")
    assert approvals.approval_limit("admin", "TWD") is None
    assert approvals.approval_limit("manager", "EUR") == Decimal("0")
    assert approvals.approval_limit("trainer", "TWD") == Decimal("0")


def test_changing_the_policy_file_changes_the_limits(policy_file):
    def raise_agent_limit(data):
        data["approval_limits"]["agent"]["TWD"] = 1500

    policy_file(raise_agent_limit)
    assert approvals.can_approve("agent", "1500", "TWD") and not approvals.can_approve("agent", "1501", "TWD")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("approval_limits"), "missing key 'approval_limits'"),
        (lambda d: d["approval_limits"].update(agent=[1000]), "approval_limits.agent"),
        (lambda d: d["approval_limits"]["agent"].update(EUR=5), "approval_limits.agent.EUR"),
        (lambda d: d["approval_limits"]["manager"].update(TWD="lots"), "approval_limits.manager.TWD"),
    ],
)
def test_a_broken_approval_limits_section_is_refused(change, message):
    broken = deepcopy(policy.load_policy())
    change(broken)
    with pytest.raises(policy.PolicyError, match=message):
        policy._check(broken)


def test_one_set_of_frustration_thresholds():
    threshold = float(policy.load_policy()["frustration_threshold"])
    assert frustration.handoff_threshold() == threshold == 0.7
    assert [frustration.message_level(s) for s in (0.0, 0.29, 0.3, 0.69, 0.7, 1.0)] == [0, 0, 1, 1, 2, 2]
    assert not frustration.hands_off(0.69) and frustration.hands_off(0.7)
    assert frustration.estimate_severity("it is broken", frustration=frustration.SEVERE) == "high"
    assert frustration.estimate_severity("it is broken", frustration=frustration.SEVERE - 0.01) == "medium"


def test_the_queue_and_the_handoff_follow_the_policys_threshold(policy_file):
    signals = {"customer_texts": ["x"], "customer_frustration": [0.6]}
    assert priority.frustration(signals) == 1 and not frustration.hands_off(0.6)

    def lower(data):
        data["frustration_threshold"] = 0.6

    policy_file(lower)
    assert priority.frustration(signals) == 2 and frustration.hands_off(0.6)
