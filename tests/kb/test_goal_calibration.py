"""Threshold calibration for the product's goals (kb/calibrate.py): the largest margin over both goals."""

from __future__ import annotations

import numpy as np

from kb.calibrate import GOAL_OOS, GRID_MIN, MIN_PRECISION, Scored, calibrate_for_goal, thresholds_tuple


def _scored(in_scope_tops: np.ndarray, oos_tops: np.ndarray) -> Scored:
    """Queries over two entries: in-scope ones expect entry 0 and rank it first; runner-ups far below."""
    tops = np.r_[in_scope_tops, oos_tops]
    scores = np.stack([tops, tops - 0.5], axis=1)
    expected = np.r_[np.zeros(len(in_scope_tops), int), -np.ones(len(oos_tops), int)]
    return Scored(scores, expected)


def _z(sc: Scored, th: dict, goal: float) -> float:
    d = sc.decisions(*thresholds_tuple(th))
    m = sc.decision_metrics(d)
    n_in, n_oos = int(sc.expected.sum()), int((~sc.expected).sum())
    z_in = (m["answered_right"] - goal) / np.sqrt(goal * (1 - goal) / n_in)
    z_oos = (m["oos_rejected"] - GOAL_OOS) / np.sqrt(GOAL_OOS * (1 - GOAL_OOS) / n_oos)
    return min(z_in, z_oos)


def test_separable_scores_get_a_threshold_between_the_two_kinds():
    sc = _scored(np.linspace(0.6, 0.9, 100), np.linspace(0.1, 0.4, 40))
    th = calibrate_for_goal(sc, 0.8)
    m = sc.decision_metrics(sc.decisions(*thresholds_tuple(th)))
    assert 0.4 < th["min_score"] <= 0.6 and th["answer_score"] <= 0.6
    assert m["answered_right"] == 1.0 and m["oos_rejected"] == 1.0


def test_overlapping_scores_get_the_threshold_with_the_largest_margin_over_both_goals():
    rng = np.random.default_rng(0)
    sc = _scored(rng.uniform(0.35, 0.9, 300), rng.uniform(0.05, 0.45, 60))
    goal = 0.8
    th = calibrate_for_goal(sc, goal)
    chosen = _z(sc, th, goal)
    for t in GRID_MIN:  # every single-threshold cell, scored through the engine's decision rule
        other = {"min_score": float(t), "answer_score": float(t), "margin": 0.0}
        m = sc.decision_metrics(sc.decisions(*thresholds_tuple(other)))
        if m["answer_precision"] >= MIN_PRECISION:
            assert chosen >= _z(sc, other, goal) - 1e-9
    m = sc.decision_metrics(sc.decisions(*thresholds_tuple(th)))
    assert m["oos_rejected"] >= GOAL_OOS and m["answered_right"] >= goal


def test_a_goal_met_to_the_last_query_does_not_let_the_other_slip():
    sc = _scored(
        np.linspace(0.45, 0.9, 100), np.linspace(0.1, 0.3, 20)
    )  # every grid cell 0.32-0.44 rejects all
    m = sc.decision_metrics(sc.decisions(*thresholds_tuple(calibrate_for_goal(sc, 0.8))))
    assert m["oos_rejected"] == 1.0 and m["answered_right"] == 1.0


def test_a_higher_in_scope_goal_moves_the_threshold_down():
    rng = np.random.default_rng(1)
    sc = _scored(rng.uniform(0.3, 0.9, 300), rng.uniform(0.1, 0.5, 60))
    assert calibrate_for_goal(sc, 0.93)["min_score"] < calibrate_for_goal(sc, 0.7)["min_score"]
