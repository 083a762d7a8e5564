"""The engine of ``check()``: run the visible cases of one item and print what passed.

Feedback, not grading: it runs in the student's kernel (or in the grading sandbox, where the
expected outputs come from a data file), prints pass/fail per case with the largest error or the
shape mismatch, and never raises, so a notebook with unsolved exercises runs from top to bottom.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .compare import compare_output, to_plain_array
from .plan import PlanError, execute_plan

__all__ = ["CheckResult", "Visible", "run_check", "failure_message"]


@dataclass
class CheckResult:
    """What ``check`` found: ``ok``, ``passed`` of ``total`` cases, ``points`` of ``max_points``.

    In a notebook, the printed report is the feedback: the result itself displays nothing (so a
    ``check(...)`` cell does not echo an object after its report).
    """

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

    def _ipython_display_(self) -> None:
        """IPython calls this instead of printing the repr: the report was already printed."""


@dataclass
class Visible:
    """One item as ``check`` sees it: its plan, its visible cases and their expected outputs.

    ``expected(k, case)`` gives the expected values of ``outputs`` and of the dependencies'
    outputs; ``depends`` lists ``(item name, [output names])`` of other items whose functions this
    item's plan calls first (a backward pass graded on its forward's cache). ``alone``: a second
    plan that runs the item's function on the cache of a correct forward (``alone_input`` says
    which); a case passes when either plan is right, as in grading.
    """

    item: str
    title: str
    points: float
    objects: list
    calls: list
    outputs: list
    rtol: float
    atol: float
    hint: str
    cases: list
    expected: Callable[[int, dict], dict]
    depends: list = field(default_factory=list)
    alone: list = field(default_factory=list)
    alone_input: str = ""
    measure: Callable | None = None   # a capstone item: measure(case, outputs) -> Measurement


def _measured_case(vis: Visible, given: dict, k: int, case: dict, out: list) -> bool:
    """A capstone case: run the student's training, then measure the model (no comparison)."""
    try:
        got = execute_plan(given, vis.calls, case, vis.outputs)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - feedback, never a crash
        out.append(f"  case {k + 1}: FAIL - {_student_error(exc)}")
        return False
    plain = {n: to_plain_array(v) for n, v in got.items()}
    m = vis.measure(case, {n: v for n, v in plain.items() if v is not None})
    out.append(f"  case {k + 1}: {'' if m.ok else 'FAIL - '}{m.message}")
    return bool(m.ok)


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


def failure_message(dep: str, item: str) -> str:
    """The words for a dependency that fails: said the same way by check and by the grader."""
    return (f"fix {dep} first: {item} is run on what your {dep} returns, and your {dep} is "
            "wrong on this case")


def _broken_dependency(vis: Visible, depends: list, got: dict, expected: dict) -> str | None:
    for dep, names in depends:
        for name in names:
            if name in got and not compare_output(name, got[name], np.asarray(expected[name]),
                                                  vis.rtol, vis.atol).ok:
                return dep
    return None


def _attempt(vis: Visible, given: dict, calls: list, depends: list, case: dict,
             expected: dict) -> tuple[bool, str]:
    """Run one plan on one case: ``(passed, words)``. NotImplementedError propagates."""
    extra = [n for _, names in depends for n in names]
    done: list = []
    try:
        got = execute_plan(given, calls, case, list(vis.outputs) + extra, done)
    except PlanError as exc:
        return False, str(exc)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error becomes feedback
        failed = calls[len(done)]["fn"] if len(done) < len(calls) else ""
        dep = next((d for d, _ in depends if d == failed), None)
        return False, (f"fix {dep} first: it raised {type(exc).__name__}: {exc}" if dep else
                       _student_error(exc))
    verdicts = [compare_output(n, got[n], np.asarray(expected[n]), vis.rtol, vis.atol)
                for n in vis.outputs]
    if all(v.ok for v in verdicts):
        errs = [v.max_abs_error for v in verdicts if v.max_abs_error is not None]
        return True, f"ok (max abs error {max(errs):.1e})"
    dep = _broken_dependency(vis, depends, got, expected)
    return False, (failure_message(dep, vis.item.split(".")[-1]) if dep else
                   "; ".join(v.message for v in verdicts if not v.ok))


def _run_case(vis: Visible, given: dict, k: int, case: dict, out: list) -> bool:
    expected = vis.expected(k, case)
    try:
        ok, why = _attempt(vis, given, vis.calls, vis.depends, case, expected)
    except NotImplementedError:
        if not vis.alone:
            raise
        ok, why = False, "not implemented yet"
    if not ok and vis.alone:
        name = vis.item.split(".")[-1]
        ok_alone, alone_why = _attempt(vis, given, vis.alone, [], case, expected)
        if ok_alone:
            why = (f"{alone_why} on {vis.alone_input or 'the cache of a correct forward'} "
                   f"(through your own forward: {why})")
            ok = True
        elif " first" in why:
            why = f"{why}; and given {vis.alone_input or 'a correct cache'}, your {name}: {alone_why}"
    out.append(f"  case {k + 1} [{_label(case)}]: {'' if ok else 'FAIL - '}{why}")
    return ok


def run_check(vis: Visible, objects: tuple, named: dict, result: CheckResult) -> None:
    """Fill ``result`` (and its messages) by running ``vis``'s cases on the student's functions."""
    out = result.messages
    result.item, result.max_points = vis.item, float(vis.points)
    names = list(vis.objects)
    if len(objects) > len(names):
        raise TypeError(f"{vis.item.split('.')[-1]} uses {len(names)} function(s) "
                        f"({', '.join(names)}), got {len(objects)}")
    given = dict(zip(names, objects))
    given.update(named)
    missing = [n for n in names if n not in given]
    if missing:
        raise TypeError(f"pass your {', '.join(missing)} to check()")
    result.total = len(vis.cases)
    name = vis.item.split(".")[-1]
    out.append(f"{name} ({vis.points:g} point{'s' if vis.points != 1 else ''}): {vis.title}")
    for k, case in enumerate(vis.cases):
        try:
            run = _measured_case if vis.measure is not None else _run_case
            result.passed += run(vis, given, k, case, out)
        except NotImplementedError as exc:
            out.append(f"  {_student_error(exc)}: fill in the code, run its cell, then this one")
            break
    result.points = vis.points * result.passed / max(result.total, 1)
    status = "PASSED" if result.ok else "not yet"
    out.append(f"  => {status}: {result.passed}/{result.total} cases, "
               f"{result.points:g}/{vis.points:g} points")
    if not result.ok and vis.hint:
        out.append(f"  hint: {vis.hint}")
