"""``service_targets`` in compensation_policy.yml: read per tier, refused when malformed."""

from __future__ import annotations

from copy import deepcopy

import pytest

from recovery import policy


def test_the_shipped_targets_cover_every_tier_and_tighten_towards_the_top():
    targets = policy.service_targets()
    assert set(targets) == {"standard", "silver", "gold", "platinum"}
    order = ["standard", "silver", "gold", "platinum"]
    for key in policy.SERVICE_TARGET_KEYS:
        values = [targets[tier][key] for tier in order]
        assert values == sorted(values, reverse=True) and all(isinstance(v, float) for v in values)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(service_targets=[1, 2]), "service_targets must map"),
        (
            lambda d: d["service_targets"]["gold"].pop("resolution_hours"),
            "service_targets.gold.resolution_hours",
        ),
        (
            lambda d: d["service_targets"]["gold"].update(first_response_minutes=0),
            "gold.first_response_minutes",
        ),
        (lambda d: d["service_targets"].update(vip="fast"), "service_targets.vip.first_response_minutes"),
        (lambda d: d["service_targets"]["silver"].update(resolution_hours=True), "silver.resolution_hours"),
    ],
)
def test_a_broken_service_targets_section_is_refused(change, message):
    broken = deepcopy(policy.load_policy())
    change(broken)
    with pytest.raises(policy.PolicyError, match=message):
        policy._check(broken)


def test_the_section_is_optional():
    without = deepcopy(policy.load_policy())
    without.pop("service_targets")
    assert policy._check(without) is without
