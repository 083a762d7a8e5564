"""The judge's tolerances are pinned: an answer just outside fails, one just inside passes.

The numbers are written here, not read from the registry: loosening a tolerance in an exercise
(say from 1e-6 to 1e-2) makes the near-miss answers below pass, and these tests fail.
"""
from __future__ import annotations

import numpy as np
import pytest

from rnncourse.grading.judge.cases import build_plan
from rnncourse.grading.judge.judge import judge_item
from rnncourse.grading.judge.registry import all_exercises
from rnncourse.grading.sandbox.compare import compare_output
from rnncourse.grading.sandbox.plan import execute_plan
from rnncourse.grading.sandbox.wire import npz_bytes

DEFAULT = (1e-6, 1e-8)
PINNED = {("07_recursive", "node_heights"): (0.0, 0.0),
          ("10_attention", "dot_attention_backward"): (1e-6, 1e-9),
          ("10_attention", "additive_attention_backward"): (1e-6, 1e-9)}
# a measured item (a capstone's trained model) has no tolerance: tests/test_capstone_*.py
ITEMS = [(ex, item) for ex in all_exercises() for item in ex.items if item.measure is None]
IDS = [f"{ex.id}.{item.name}" for ex, item in ITEMS]


@pytest.mark.parametrize("ex, item", ITEMS, ids=IDS)
def test_every_tolerance_is_the_pinned_one(ex, item):
    assert (item.rtol, item.atol) == PINNED.get((ex.id, item.name), DEFAULT)


def _nudged(value: np.ndarray, factor: float, rtol: float, atol: float) -> np.ndarray:
    """``value`` with its largest entry moved by ``factor`` times its allowed error."""
    out = np.array(value, dtype=np.float64)
    if out.size == 0:
        return out
    j = int(np.argmax(np.abs(out)))
    allowed = atol + rtol * abs(out.flat[j])
    out.flat[j] += factor * allowed if allowed > 0 else (1e-9 if factor > 1 else 0.0)
    return out


def _judge(ex, item, index, factor):
    """Judge the reference's own outputs, each case nudged by ``factor`` x the pinned tolerance."""
    rtol, atol = PINNED.get((ex.id, item.name), DEFAULT)
    plan = build_plan(ex, 20240611)
    cases = plan.cases[index]
    arrays = {}
    for k, case in enumerate(cases):
        for name, value in execute_plan(item.reference(), item.calls, case, item.outputs).items():
            arrays[f"c{k}_{name}"] = _nudged(np.asarray(value), factor, rtol, atol)
    record = {"cases": [{"error": None, "where": "", "outputs": {}} for _ in cases],
              "objects": {}}
    return judge_item(ex, item, cases, record, npz_bytes(arrays), [], "", 1.0)


@pytest.mark.parametrize("ex, item", ITEMS, ids=IDS)
def test_a_near_miss_fails_and_a_near_hit_passes(ex, item):
    index = list(ex.items).index(item)
    outside = _judge(ex, item, index, 3.0)       # relative error 3x the stated tolerance
    inside = _judge(ex, item, index, 0.3)        # 0.3x: within it
    assert outside.passed_cases == 0 and outside.score == 0, outside.output
    assert "outside tolerance" in outside.output
    assert inside.passed_cases == inside.cases and inside.score == item.points, inside.output


@pytest.mark.parametrize("rel, ok", [(3e-6, False), (1.5e-6, False), (0.9e-6, True), (0.0, True)])
def test_compare_output_at_the_default_tolerance(rel, ok):
    expected = np.array([[2.0, -3.0], [0.5, 100.0]])
    got = expected * (1 + rel)
    assert compare_output("h", got, expected, *DEFAULT).ok is ok
    near_zero = np.array([0.0, 1e-12])
    assert compare_output("h", near_zero + 3e-8, near_zero, *DEFAULT).ok is False
    assert compare_output("h", near_zero + 3e-9, near_zero, *DEFAULT).ok is True
