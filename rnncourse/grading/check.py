"""In-notebook feedback: ``check("01_unfolding.rnn_forward", rnn_forward)``.

Feedback, not grading: it runs the visible test cases (a fixed seed) in the student's own kernel,
prints pass/fail per case with the max error or the shape mismatch, and never raises, so a notebook
with unsolved exercises still runs from top to bottom. The grade comes from ``rnncourse grade``,
which judges hidden cases outside the student's kernel.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import numpy as np

from .compare import compare_output
from .plan import PlanError, execute_plan
from .registry import UnknownExercise, find_item

__all__ = ["check", "CheckResult", "CHECK_SEED"]

CHECK_SEED = 0  # visible cases; the grader draws its seed at grading time


@dataclass
class CheckResult:
    item: str
    passed: int = 0
    total: int = 0
    points: float = 0.0
    max_points: float = 0.0
    messages: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def __repr__(self) -> str:
        return f"CheckResult({self.item}: {self.passed}/{self.total} cases passed)"


def _label(case: dict) -> str:
    parts = []
    for k, v in case.items():
        if isinstance(v, np.ndarray):
            parts.append(f"{k} {tuple(v.shape)}")
    return ", ".join(parts)


def _student_error(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        msg = str(exc) or "not implemented yet"
        return f"not implemented yet ({msg})"
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(frames):  # the innermost frame in the student's notebook, if any
        if fr.filename.startswith("<ipython-input") or "ipykernel" in fr.filename:
            where = f" at line {fr.lineno}: {fr.line}"
            break
    return f"raised {type(exc).__name__}: {exc}{where}"


def check(item_id: str, *objects, verbose: bool = True, **named) -> CheckResult:
    """Run the visible cases of a graded item against your implementation and print feedback.

    Args:
        item_id: ``"<exercise>.<item>"`` as written in the notebook, e.g. ``"01_unfolding.softmax"``.
        *objects: your function(s), in the order the item uses them (usually just one).
        verbose: print the per-case report (default True).
        **named: alternatively, pass functions by name.

    Returns:
        A :class:`CheckResult` (``.ok``, ``.passed``, ``.total``, ``.points``). Never raises.
    """
    result = CheckResult(item=str(item_id))
    out = result.messages
    try:
        ex, item = find_item(item_id)
        result.item = f"{ex.id}.{item.name}"
        result.max_points = float(item.points)
        names = item.objects
        if len(objects) > len(names):
            raise TypeError(f"{item.name} uses {len(names)} function(s) ({', '.join(names)}), "
                            f"got {len(objects)}")
        given = dict(zip(names, objects))
        given.update(named)
        missing = [n for n in names if n not in given]
        if missing:
            raise TypeError(f"pass your {', '.join(missing)} to check()")
        cases = item.cases(np.random.default_rng(CHECK_SEED))
        reference = item.reference()
        result.total = len(cases)
        out.append(f"{item.name} ({item.points:g} point{'s' if item.points != 1 else ''}): {item.title}")
        for k, case in enumerate(cases, 1):
            expected = execute_plan(reference, item.calls, case, item.outputs)
            try:
                got = execute_plan(given, item.calls, case, item.outputs)
            except PlanError as exc:
                out.append(f"  case {k} [{_label(case)}]: FAIL - {exc}")
                continue
            except NotImplementedError as exc:
                out.append(f"  {_student_error(exc)}: fill in the code, run its cell, then this one")
                break
            except Exception as exc:  # noqa: BLE001 - any student error becomes feedback
                out.append(f"  case {k} [{_label(case)}]: FAIL - {_student_error(exc)}")
                continue
            verdicts = [compare_output(n, got[n], np.asarray(expected[n]), item.rtol, item.atol)
                        for n in item.outputs]
            if all(v.ok for v in verdicts):
                result.passed += 1
                errs = [v.max_abs_error for v in verdicts if v.max_abs_error is not None]
                out.append(f"  case {k} [{_label(case)}]: ok (max abs error {max(errs):.1e})")
            else:
                why = "; ".join(v.message for v in verdicts if not v.ok)
                out.append(f"  case {k} [{_label(case)}]: FAIL - {why}")
        result.points = item.points * result.passed / max(result.total, 1)
        status = "PASSED" if result.ok else "not yet"
        out.append(f"  => {status}: {result.passed}/{result.total} cases, "
                   f"{result.points:g}/{item.points:g} points")
        if not result.ok and item.hint:
            out.append(f"  hint: {item.hint}")
    except UnknownExercise as exc:
        out.append(f"check: {exc}")
    except Exception as exc:  # noqa: BLE001 - check() must never raise
        out.append(f"check: could not run the check: {type(exc).__name__}: {exc}")
    if verbose:
        print("\n".join(out))
    return result
