"""Judge a capstone item: measure what the student's code returned (a trained model) in the grader.

A capstone is not graded by comparing outputs with a reference (two correct trainings need not
agree to the last digit), but by a **measured threshold**: the sandbox runs the student's training
function on a cut of the real data with a fixed budget (the case's inputs) and returns the trained
weights as plain arrays; here, in the trusted process, :attr:`Item.measure` evaluates them on
held-out data the sandbox never received (held-out perplexity, exact match) and the case passes
when the value is on the right side of the item's threshold, which was chosen from the reference
solution's runs over seeds 0-4 with a margin (``benchmarks/capstones.py`` prints the table).

Partial credit is ``points * passed cases / cases``. The measured value of each case is reported,
and their mean goes to Gradescope's leaderboard (``leaderboard`` on the result).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .judge import TestResult, _forbidden_lines, _missing, clean_record, load_arrays, record_error
from .registry import Item

__all__ = ["Measurement", "judge_measured", "check_arrays"]


@dataclass(frozen=True)
class Measurement:
    """What :attr:`Item.measure` says about one case.

    ``value``: the metric (``nan`` if the outputs could not be evaluated); ``ok``: the case passes;
    ``message``: words for the student (the threshold, never reference outputs); ``metric`` and
    ``order`` name the leaderboard column (``"asc"``: lower is better).
    """

    value: float
    ok: bool
    message: str
    metric: str = "score"
    order: str = "desc"


def check_arrays(outputs: dict, shapes: dict) -> str:
    """"" when every output has its expected shape and finite values, else what is wrong."""
    for name, shape in shapes.items():
        got = outputs.get(name)
        if got is None:
            return f"{name}: no numeric array came back"
        if got.shape != tuple(shape):
            return f"{name}: wrong shape: expected {tuple(shape)}, got {got.shape}"
        if not np.all(np.isfinite(got)):
            return f"{name}: contains NaN/inf values"
    return ""


def judge_measured(item: Item, cases: list, record, arrays: bytes | None, units, run_note: str,
                   case_timeout: float) -> TestResult:
    """Score a measured item (see the module docstring); the sandbox's data is untrusted."""
    result = TestResult(item.name, f"{item.name}: {item.title}", float(item.points),
                        cases=len(cases))
    lines = _forbidden_lines(item, units)
    if lines:
        result.notes.append("forbidden")
    rec = clean_record(record, len(cases))
    if rec is None:
        lines.append(f"Not graded: {run_note or 'the grading harness returned nothing readable'}.")
        result.output = "\n".join(lines)
        return result
    got = load_arrays(arrays, [f"c{k}_{n}" for k in range(len(cases)) for n in item.outputs])
    values, said = [], []
    metric, order = "score", "desc"
    for k, case in enumerate(cases):
        crec = rec["cases"][k] if k < len(rec["cases"]) else None
        why = record_error(crec, case_timeout, _missing(rec),
                           timeout_note=" (the graded run has a fixed time limit)")
        if not why:
            for name in item.outputs:
                if name in crec["outputs"]:
                    why = f"{name}: expected a numeric array, got {crec['outputs'][name]}"
                    break
        if why:
            said.append(f"  case {k + 1}: {why}")
            continue
        outs = {n: got[f"c{k}_{n}"] for n in item.outputs if f"c{k}_{n}" in got}
        try:
            m = item.measure(case, outs)
        except Exception as exc:  # noqa: BLE001 - a malformed model is a failed case, not a crash
            said.append(f"  case {k + 1}: the returned model could not be evaluated "
                        f"({type(exc).__name__}: {str(exc)[:200]})")
            continue
        metric, order = m.metric, m.order
        if math.isfinite(m.value):
            values.append(m.value)
        result.passed_cases += bool(m.ok)
        said.append(f"  case {k + 1}: {'passed' if m.ok else 'failed'}: {m.message}")
    summary = f"{result.passed_cases}/{len(cases)} graded runs reached the threshold."
    if result.notes:
        lines.append(f"(Otherwise {summary})")
    else:
        result.score = round(float(item.points) * result.passed_cases / max(len(cases), 1), 4)
        lines.insert(0, summary)
    lines += said
    if result.score < result.max_score and item.hint:
        lines.append(f"Hint: {item.hint}")
    result.output = "\n".join(lines)
    if values and not result.notes:
        result.leaderboard = [{"name": f"{item.name}: {metric}",
                               "value": round(float(np.mean(values)), 4), "order": order}]
    return result
