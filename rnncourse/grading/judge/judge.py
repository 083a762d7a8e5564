"""Judge a submission's raw results in the grader process: plain data in, points out.

For every item: the source check reports forbidden shortcuts (:mod:`.forbidden`, a friendly
first warning; the sandbox does not hold them anyway), then for every hidden case the reference is
recomputed here, from the grader's own copy of the inputs, and compared
(:func:`~rnncourse.grading.sandbox.compare.compare_output`: type, shape, finiteness, tolerance).
Partial credit: ``points * passed cases / cases``, where edge cases that zeros, ones or an input
returned unchanged would pass count only once a case that needs working code passes. When an
item's plan first calls the function of another item (a backward pass on its forward's cache),
the item also has an ``alone`` plan that gives the item's function the cache of a correct
forward (built here, in the published solution's layout): a case passes when either plan is
right, so a wrong forward costs only the forward's points; when both are wrong and the forward is
wrong on the case, it says "fix X first". Messages say what to fix, never reference values.

What comes from the sandbox is untrusted: a record checked field by field, and an ``.npz`` whose
zip directory is checked (entry count, sizes, no compression) before it is parsed, and whose
members are read with ``allow_pickle=False``.
"""
from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..sandbox.compare import compare_output
from ..sandbox.feedback import failure_message
from ..sandbox.plan import execute_plan
from .forbidden import UNCHECKED, forbidden_uses, matches
from .registry import Exercise, Item

__all__ = ["TestResult", "judge_item", "load_arrays", "clean_record", "trivially_passed"]

_MAX_ARRAY = 16 * 1024 * 1024 + 4096
_MAX_ENTRIES = 4096
_EOCD = b"PK\x05\x06"


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


def clean_record(data, n_cases: int) -> dict | None:
    """The harness's record, validated and normalised; None if missing or malformed."""
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return None
    if len(data["cases"]) > n_cases or not all(isinstance(c, dict) for c in data["cases"]):
        return None
    objects = data.get("objects") if isinstance(data.get("objects"), dict) else {}
    cases = []
    for c in data["cases"]:
        outs = c.get("outputs") if isinstance(c.get("outputs"), dict) else {}
        cases.append({
            "error": _text(c.get("error")) or None, "where": _text(c.get("where"), 240),
            "outputs": {_text(k, 80): _text(v, 200) for k, v in list(outs.items())[:50]},
            "failed_call": _text(c.get("failed_call"), 80),
        })
    return {"cases": cases, "aborted": data.get("aborted") is True, "objects": {
        _text(k, 80): v for k, v in list(objects.items())[:20] if isinstance(v, dict)}}


def _zip_directory_ok(raw: bytes) -> bool:
    """Check the end-of-directory record before zipfile parses (and allocates for) the directory."""
    tail = raw[-(65536 + 22):]
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return False
    disk, cd_disk, here, total, cd_size, cd_offset = struct.unpack(
        "<HHHHII", tail[at + 4:at + 20])
    if total >= 0xFFFF or cd_size >= 0xFFFFFFFF or cd_offset >= 0xFFFFFFFF:   # zip64: not ours
        return False
    return disk == cd_disk == 0 and here == total <= _MAX_ENTRIES and \
        cd_size <= total * (46 + 256)


def load_arrays(raw: bytes | None, keys) -> dict:
    """``{key: plain numeric ndarray}`` for the wanted keys that are present and sane."""
    found: dict = {}
    if not raw or not _zip_directory_ok(raw):
        return found
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError, RecursionError):
        return found
    with zf:
        for key in keys:
            try:
                info = zf.getinfo(key + ".npy")
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > _MAX_ARRAY:
                    continue
                with zf.open(info) as fh:
                    arr = np.lib.format.read_array(fh, allow_pickle=False)
            except Exception:  # noqa: BLE001 - anything malformed just counts as missing
                continue
            if type(arr) is np.ndarray and arr.dtype.kind in "biuf":
                found[key] = arr
    return found


def _label(case: dict) -> str:
    return ", ".join(f"{k} {tuple(v.shape)}" for k, v in case.items() if isinstance(v, np.ndarray))


def _missing(rec: dict) -> str:
    names = [n for n, info in rec["objects"].items() if info.get("found") is False]
    return (f"{', '.join(names) or 'a graded function'} is not defined once the notebook has run "
            "(was its cell deleted or renamed, or did it raise an error?)")


def _broken_dependency(deps: list, k: int, expected: dict, arrays: dict, item: Item) -> str:
    for dep, names in deps:
        for name in names:
            got = arrays.get(f"c{k}_{name}")
            if got is not None and not compare_output(name, got, np.asarray(expected[name]),
                                                      item.rtol, item.atol).ok:
                return dep
    return ""


def record_error(rec: dict | None, case_timeout: float, missing: str, failed_dependency: str = "",
                 timeout_note: str = "") -> str:
    """What stopped a case before its outputs could be judged ("" when it ran to the end): not run,
    missing, timed out, interrupted, not implemented, or raised (``fix <dependency> first`` when the
    call that raised is another graded function the item depends on)."""
    if rec is None:
        return "not run (the item stopped before this case)"
    if rec["error"] == "missing":
        return missing
    if rec["error"] == "timeout":
        return f"took longer than {case_timeout:g} s{timeout_note}"
    if rec["error"] == "interrupted":
        return "stopped: the item ran out of time"
    if rec["error"]:
        if rec["error"].startswith("NotImplementedError"):
            return f"not implemented yet ({rec['error']})"
        where = f" ({rec['where']})" if rec["where"] else ""
        if failed_dependency:
            return f"fix {failed_dependency} first: it raised {rec['error']}{where}"
        return f"raised {rec['error']}{where}"
    return ""


def _case_verdict(item: Item, deps: list, k: int, rec: dict | None, arrays: dict,
                  expected, case_timeout: float, missing: str) -> str | None:
    """None when case ``k`` passes, else what was wrong (never the expected values).

    ``expected()`` gives the reference outputs (and the dependencies') of the case, computed once.
    """
    dep = next((d for d, _ in deps if rec and d == rec.get("failed_call")), "")
    why = record_error(rec, case_timeout, missing, failed_dependency=dep)
    if why:
        return why
    problems = []
    for name in item.outputs:
        if name in rec["outputs"]:
            problems.append(f"{name}: expected a numeric array, got {rec['outputs'][name]}")
            continue
        got = arrays.get(f"c{k}_{name}")
        if got is None:
            problems.append(f"{name}: no value came back")
            continue
        verdict = compare_output(name, got, np.asarray(expected()[name]), item.rtol, item.atol)
        if not verdict.ok:
            problems.append(verdict.message)
    if problems:
        dep = _broken_dependency(deps, k, expected(), arrays, item)
        if dep:
            return failure_message(dep, item.name)
    return "; ".join(problems) or None


def _both(own: str, alone: str, item: Item) -> str:
    """Both plans failed: the words for the case."""
    if " first" not in own:           # the student's forward was right: its backward is wrong
        return own
    said = alone if alone.startswith(("raised", "not ", "took")) else "gave " + alone
    return (f"{own}; and given {item.alone_input or 'the cache of a correct forward'}, your "
            f"{item.name} {said}")


def trivially_passed(item: Item, case: dict, expected: dict) -> bool:
    """Would a function with no working code pass this case? True when every output equals
    (within the item's tolerance) zeros, ones, or one of the case's input arrays returned as it
    is: an edge case (a 1 x 1 softmax, a norm below the clipping threshold, a single key) that
    the hidden cases keep on purpose, but that alone proves nothing."""
    inputs = [v for v in case.values() if isinstance(v, np.ndarray)]
    for name in item.outputs:
        want = np.asarray(expected[name])
        if want.dtype.kind not in "biuf":
            return False
        tries = [np.zeros(want.shape), np.ones(want.shape)] + [
            v for v in inputs if v.shape == want.shape]
        if not any(compare_output(name, t, want, item.rtol, item.atol).ok for t in tries):
            return False
    return True


_TRIVIAL = ("passes, but so would zeros, ones or an input returned unchanged: this edge case "
            "counts once a case that needs working code passes")


def _forbidden_lines(item: Item, units) -> list[str]:
    uses = forbidden_uses(units, item.objects, item.forbidden)
    if not uses:
        return []
    names = sorted({f for u in uses for f in item.forbidden if matches(u.name, f)})
    if not names:  # the source could not be analysed at all
        why = uses[0].text or UNCHECKED
        return [f"0 points: cell {uses[0].cell} holds {why}, so the grader cannot verify "
                f"that this item avoids {', '.join(item.forbidden)}; simplify that code."]
    return [f"0 points: this item must not use {', '.join(names)}."] + [
        f"  cell {u.cell}, line {u.line}: {u.text}  (uses {u.name})" for u in uses[:3]]


def _case_lines(item: Item, deps: list, cases: list, rec: dict, arrays: bytes | None,
                case_timeout: float, alone: tuple | None = None) -> tuple[int, list[str]]:
    """(cases passed, one line per distinct failure naming the cases it hit).

    ``alone``: ``(record, arrays)`` of the item's ``alone`` plan (already cleaned), if it has one.
    """
    names = list(item.outputs) + [n for _, ns in deps for n in ns]
    got = load_arrays(arrays, [f"c{k}_{n}" for k in range(len(cases)) for n in names])
    alone_rec, alone_got = None, {}
    if item.alone and alone is not None and alone[0] is not None:
        alone_rec = alone[0]
        alone_got = load_arrays(alone[1], [f"c{k}_{n}" for k in range(len(cases))
                                           for n in item.outputs])
    fails: dict = {}  # reason -> [(case number, label)], so that one mistake is said once
    passed, trivial, expectations = 0, [], []
    for k, case in enumerate(cases):
        memo: dict = {}

        def expected(case=case, memo=memo):
            if not memo:
                memo.update(execute_plan(item.reference(), item.calls, case, names))
            return memo
        expectations.append(expected)

        crec = rec["cases"][k] if k < len(rec["cases"]) else None
        why = _case_verdict(item, deps, k, crec, got, expected, case_timeout, _missing(rec))
        if why is not None and item.alone and alone is not None:
            arec = None
            if alone_rec is not None and k < len(alone_rec["cases"]):
                arec = alone_rec["cases"][k]
            other = _case_verdict(item, [], k, arec, alone_got, expected, case_timeout,
                                  _missing(alone_rec) if alone_rec else "")
            why = None if other is None else _both(why, other, item)
        if why is None:
            passed += 1
            trivial.append((k, trivially_passed(item, case, expected())))
        else:
            fails.setdefault(why, []).append((k + 1, _label(case)))
    # Edge cases that a function without working code would pass earn nothing on their own.
    if trivial and all(t for _, t in trivial) and not all(
            trivially_passed(item, case, expectations[k]()) for k, case in enumerate(cases)):
        passed = 0
        for k, _ in trivial:
            fails.setdefault(_TRIVIAL, []).append((k + 1, _label(cases[k])))
    lines = []
    for why, where in list(fails.items())[:6]:
        lines.append(f"  case {where[0][0]} [{where[0][1]}]: {why}" if len(where) == 1 else
                     f"  cases {', '.join(str(n) for n, _ in where)}: {why}")
    return passed, lines


def judge_item(ex: Exercise, item: Item, cases: list, record, arrays: bytes | None,
               units, run_note: str, case_timeout: float, alone=None) -> TestResult:
    """Score one item. ``run_note`` says why no record came back, if none did.

    ``alone``: ``(record, arrays)`` that the item's ``alone`` plan returned, for an item with one.
    """
    if item.measure is not None:     # a capstone: a trusted measurement against a threshold
        from .measured import judge_measured
        return judge_measured(item, cases, record, arrays, units, run_note, case_timeout)
    result = TestResult(item.name, f"{item.name}: {item.title}", float(item.points),
                        cases=len(cases))
    lines = _forbidden_lines(item, units)
    if lines:
        result.notes.append("forbidden")
    rec = clean_record(record, len(cases))
    alone_clean = None
    if item.alone and alone is not None:
        alone_clean = (clean_record(alone[0], len(cases)), alone[1])
        if rec is None and alone_clean[0] is not None:   # the own plan gave nothing: judge alone
            rec = {"cases": [], "aborted": False, "objects": {}}
    if rec is None:
        lines.append(f"Not graded: {run_note or 'the grading harness returned nothing readable'}.")
        result.output = "\n".join(lines)
        return result
    deps = ex.dependencies(item)
    result.passed_cases, fails = _case_lines(item, deps, cases, rec, arrays, case_timeout,
                                             alone_clean)
    summary = f"{result.passed_cases}/{len(cases)} hidden cases passed."
    if result.notes:
        lines.append(f"(Otherwise {summary})")
    else:
        result.score = round(float(item.points) * result.passed_cases / max(len(cases), 1), 4)
        lines.insert(0, summary)
    lines += fails
    if any("first:" in line for line in fails):
        dep = ", ".join(d for d, _ in deps)
        if item.alone:
            lines.append(f"{item.name} is run on what your {dep} returns, and also on "
                         f"{item.alone_input or 'the cache of a correct forward'}: it was wrong "
                         f"both times. Fix {dep} first, or write {item.name} for that cache.")
        else:
            lines.append(f"{item.name} is run on what your {dep} returns: "
                         "fix that first, then this item can be judged.")
    elif result.score < result.max_score and item.hint:
        lines.append(f"Hint: {item.hint}")
    result.output = "\n".join(lines)
    return result
