"""Judge a submission's raw results in the grader process: plain data in, points out.

For every item: reject forbidden shortcuts (the source, via :mod:`forbidden`; the kernel's own
evidence of where the graded objects come from and which modules they called), then for every
hidden case recompute the reference here, from the grader's own copy of the inputs, and compare
(:func:`~rnncourse.grading.compare.compare_output`: type, shape, finiteness, tolerance). Partial
credit: ``points * passed cases / cases``. Messages say what to fix and never show reference values.

What comes from the kernel is untrusted bytes: JSON of bounded size checked field by field, and
``.npz`` members read with ``allow_pickle=False`` after checking their size.
"""
from __future__ import annotations

import functools
import importlib.util
import io
import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .compare import compare_output
from .forbidden import UNCHECKED, forbidden_uses, matches
from .plan import execute_plan
from .registry import Item

__all__ = ["TestResult", "judge_item", "load_arrays", "clean_record"]

_MAX_ARRAY = 16 * 1024 * 1024 + 4096


@dataclass
class TestResult:
    """One Gradescope test: an item of the exercise."""

    item: str
    name: str
    max_score: float
    score: float = 0.0
    output: str = ""
    passed_cases: int = 0
    cases: int = 0
    notes: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return "passed" if self.max_score > 0 and self.score >= self.max_score else "failed"


def _text(value, limit: int = 500) -> str:
    if not isinstance(value, str):
        return ""
    clean = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in value[:limit])
    return clean + ("..." if len(value) > limit else "")


def clean_record(raw: bytes | None, n_cases: int) -> dict | None:
    """The harness's JSON record, validated and normalised; None if missing or malformed."""
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return None
    if len(data["cases"]) > n_cases or not all(isinstance(c, dict) for c in data["cases"]):
        return None
    objects = data.get("objects") if isinstance(data.get("objects"), dict) else {}
    cases = []
    for c in data["cases"]:
        outs = c.get("outputs") if isinstance(c.get("outputs"), dict) else {}
        calls = c.get("calls") if isinstance(c.get("calls"), list) else []
        cases.append({
            "error": _text(c.get("error")) or None, "where": _text(c.get("where"), 240),
            "outputs": {_text(k, 80): _text(v, 200) for k, v in list(outs.items())[:50]},
            "calls": [(_text(m[0], 200), _text(m[1], 300)) for m in calls[:300]
                      if isinstance(m, list) and len(m) == 2],
            "trace_lost": c.get("trace_lost") is True,
        })
    return {"cases": cases, "aborted": data.get("aborted") is True, "objects": {
        _text(k, 80): v for k, v in list(objects.items())[:20] if isinstance(v, dict)}}


def load_arrays(raw: bytes | None, keys) -> dict:
    """``{key: plain numeric ndarray}`` for the wanted keys that are present and sane."""
    found: dict = {}
    if raw is None:
        return found
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError):
        return found
    with zf:
        for key in keys:
            try:
                info = zf.getinfo(key + ".npy")
                if info.file_size > _MAX_ARRAY:
                    continue
                with zf.open(info) as fh:
                    arr = np.lib.format.read_array(fh, allow_pickle=False)
            except Exception:  # noqa: BLE001 - anything malformed just counts as missing
                continue
            if type(arr) is np.ndarray and arr.dtype.kind in "biuf":
                found[key] = arr
    return found


@functools.lru_cache(maxsize=None)
def _package_dir(name: str) -> str | None:
    """Where the (sub)package ``name`` lives, found without importing anything."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], *rest)


def _called_forbidden(module: str, filename: str, forbidden) -> str | None:
    for f in forbidden:
        if matches(module, f):
            return f
        base = _package_dir(f)
        if base and filename and (filename.startswith(base + os.sep) or filename == base + ".py"):
            return f
    return None


def _evidence(item: Item, rec: dict) -> list[str]:
    """Reasons from the kernel's own report to void the item (empty: none)."""
    why = []
    for name, info in rec["objects"].items():
        origin = _text(info.get("origin"), 200)
        if origin and any(matches(origin, f) for f in item.forbidden):
            why.append(f"{name} is {origin}, which this item does not allow")
    for case in rec["cases"]:
        for module, filename in case["calls"]:
            f = _called_forbidden(module, filename, item.forbidden)
            if f:
                why.append(f"while grading, your code called into {module} ({f} is not allowed "
                           "in this item)")
                break
        if case["trace_lost"] and item.forbidden:
            why.append("your code switched off the grader's call trace (sys.setprofile)")
        if len(why) > 2:
            break
    return list(dict.fromkeys(why))


def _label(case: dict) -> str:
    return ", ".join(f"{k} {tuple(v.shape)}" for k, v in case.items() if isinstance(v, np.ndarray))


def _missing(rec: dict) -> str:
    names = [n for n, info in rec["objects"].items() if info.get("found") is False]
    return (f"{', '.join(names) or 'a graded function'} is not defined once the notebook has run "
            "(was its cell deleted or renamed, or did it raise an error?)")


def _case_verdict(item: Item, k: int, case: dict, rec: dict | None, arrays: dict,
                  case_timeout: float, missing: str) -> str | None:
    """None when case ``k`` passes, else what was wrong (never the expected values)."""
    if rec is None:
        return "not run (the item stopped before this case)"
    if rec["error"] == "missing":
        return missing
    if rec["error"] == "timeout":
        return f"took longer than {case_timeout:g} s"
    if rec["error"] == "interrupted":
        return "stopped: the item ran out of time"
    if rec["error"]:
        if rec["error"].startswith("NotImplementedError"):
            return f"not implemented yet ({rec['error']})"
        where = f" ({rec['where']})" if rec["where"] else ""
        return f"raised {rec['error']}{where}"
    expected = execute_plan(item.reference(), item.calls, case, item.outputs)
    problems = []
    for name in item.outputs:
        if name in rec["outputs"]:
            problems.append(f"{name}: expected a numeric array, got {rec['outputs'][name]}")
            continue
        got = arrays.get(f"c{k}_{name}")
        if got is None:
            problems.append(f"{name}: no value came back")
            continue
        verdict = compare_output(name, got, np.asarray(expected[name]), item.rtol, item.atol)
        if not verdict.ok:
            problems.append(verdict.message)
    return "; ".join(problems) or None


def _forbidden_lines(item: Item, units: list) -> list[str]:
    uses = forbidden_uses(units, item.objects, item.forbidden)
    if not uses:
        return []
    names = sorted({f for u in uses for f in item.forbidden if matches(u.name, f)})
    if not names:  # the source could not be analysed at all
        return [f"0 points: cell {uses[0].cell} holds {UNCHECKED}, so the grader cannot verify "
                f"that this item avoids {', '.join(item.forbidden)}; simplify that code."]
    return [f"0 points: this item must not use {', '.join(names)}."] + [
        f"  cell {u.cell}, line {u.line}: {u.text}  (uses {u.name})" for u in uses[:3]]


def _case_lines(item: Item, cases: list, rec: dict, arrays: bytes | None,
                case_timeout: float) -> tuple[int, list[str]]:
    """(cases passed, one line per distinct failure naming the cases it hit)."""
    got = load_arrays(arrays, [f"c{k}_{n}" for k in range(len(cases)) for n in item.outputs])
    fails: dict = {}  # reason -> [(case number, label)], so that one mistake is said once
    passed = 0
    for k, case in enumerate(cases):
        crec = rec["cases"][k] if k < len(rec["cases"]) else None
        why = _case_verdict(item, k, case, crec, got, case_timeout, _missing(rec))
        if why is None:
            passed += 1
        else:
            fails.setdefault(why, []).append((k + 1, _label(case)))
    lines = []
    for why, where in list(fails.items())[:6]:
        lines.append(f"  case {where[0][0]} [{where[0][1]}]: {why}" if len(where) == 1 else
                     f"  cases {', '.join(str(n) for n, _ in where)}: {why}")
    return passed, lines


def judge_item(item: Item, cases: list, record: bytes | None, arrays: bytes | None,
               units: list, run_note: str, case_timeout: float) -> TestResult:
    """Score one item. ``run_note`` says why no record came back, if none did."""
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
    evidence = _evidence(item, rec)
    if evidence:
        lines.append("0 points: " + "; ".join(evidence) + ".")
        result.notes.append("evidence")
    result.passed_cases, fails = _case_lines(item, cases, rec, arrays, case_timeout)
    summary = f"{result.passed_cases}/{len(cases)} hidden cases passed."
    if result.notes:
        lines.append(f"(Otherwise {summary})")
    else:
        result.score = round(float(item.points) * result.passed_cases / max(len(cases), 1), 4)
        lines.insert(0, summary)
    lines += fails
    if result.score < result.max_score and item.hint:
        lines.append(f"Hint: {item.hint}")
    result.output = "\n".join(lines)
    return result
