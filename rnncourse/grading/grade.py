"""The grading engine: notebook file in, :class:`Graded` out (shared by the CLI and Gradescope).

A submission is *graded* when its notebook could be read, named a known exercise, and got a kernel;
everything that goes wrong after that (errors, timeouts, a dead kernel, hostile code) is part of
the grade. Otherwise it is *not graded*, with a reason, and still gets a results file.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .forbidden import CellSource, parse_notebook
from .harness import build_plan
from .judge import TestResult, judge_item
from .kernel import CANCEL, become_subreaper, describe_exit, sweep_orphans
from .kernel_launcher import PR_SET_DUMPABLE, prctl
from .registry import Exercise, UnknownExercise, all_exercises, get_exercise
from .runner import Limits, RunError, RunResult, run_notebook

__all__ = ["Graded", "Options", "SubmissionError", "read_submission", "grade_file", "grade_files",
           "new_seed", "protect_grader"]

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


class SubmissionError(ValueError):
    """The file cannot be graded (not a notebook, no or unknown exercise id)."""


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    seed: int = 0
    exercise: str | None = None   # force this exercise instead of the notebook's metadata


@dataclass
class Graded:
    """The outcome for one submission file."""

    path: Path
    graded: bool = False
    error: str = ""
    exercise: Exercise | None = None
    tests: list = field(default_factory=list)
    seed: int = 0
    seconds: float = 0.0
    run: RunResult | None = None
    out_name: str = ""
    trace: str = ""   # the grader's own traceback, for an internal error

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return self.exercise.max_score if self.exercise else 0.0


def protect_grader() -> None:
    """For a process that only grades (the CLI): harden it against the kernels it starts.

    Not dumpable: a kernel of the same user can neither ptrace it nor read its memory. A child
    subreaper: whatever a kernel leaves running, even after killing its warden, is adopted by the
    grader and killed (:func:`~rnncourse.grading.kernel.sweep_orphans`).
    """
    prctl(PR_SET_DUMPABLE, 0)
    become_subreaper()


def new_seed() -> int:
    """A seed drawn at grading time, never shown to the kernel."""
    return secrets.randbits(63)


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"


def read_submission(path: Path, force: str | None = None) -> tuple[bytes, list, Exercise]:
    """(bytes, code cells as ``[(cell number, source)]``, exercise) or :class:`SubmissionError`."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"the file is too large ({size / 1e6:.0f} MB) to be a notebook")
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    if not data.strip():
        raise SubmissionError("the file is empty: it is not a notebook")
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("this is not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"this is not a notebook: it is not valid JSON ({_json_error(exc)})") from None
    except RecursionError:
        raise SubmissionError("this is not a notebook: its JSON is nested too deeply") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise SubmissionError("this is not a Jupyter notebook in format 4 (no list of cells)")
    return data, _code_cells(nb["cells"]), _exercise_of(nb, force)


def _code_cells(cells: list) -> list:
    out = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(f"cell {number} is malformed (its source is not text)")
        if source.strip():
            out.append((number, source))
    return out


def _exercise_of(nb: dict, force: str | None) -> Exercise:
    meta = nb.get("metadata")
    ex_id = force
    if ex_id is None:
        ours = meta.get("rnncourse") if isinstance(meta, dict) else None
        ex_id = ours.get("exercise") if isinstance(ours, dict) else None
        if not isinstance(ex_id, str) or not ex_id:
            raise SubmissionError(
                "this notebook does not say which exercise it is (metadata.rnncourse.exercise is "
                "missing): it was not made by `rnncourse release`, or its metadata was removed. "
                "Start from the released exercise notebook and copy your code into it "
                "(instructors: --exercise ID grades it anyway)")
    try:
        return get_exercise(ex_id[:100])
    except UnknownExercise as exc:
        raise SubmissionError(str(exc)) from None


def grade_file(path: Path, opts: Options) -> Graded:
    """Grade one notebook. Never raises: every failure ends up in the returned :class:`Graded`."""
    start = time.monotonic()
    out = Graded(Path(path), seed=opts.seed)
    try:
        data, cells, out.exercise = read_submission(out.path, opts.exercise)
        hp = build_plan(out.exercise, opts.seed)
        out.run = run_notebook(data, _safe_name(out.path), cells, hp, opts.limits)
        units = parse_notebook([CellSource(n, s) for n, s in cells])
        for i, item in enumerate(out.exercise.items):
            item_run = out.run.items[i]
            out.tests.append(judge_item(item, hp.cases[i], item_run.record, item_run.arrays, units,
                                        _why_missing(out.run, item_run), opts.limits.case_timeout))
            item_run.record = item_run.arrays = None  # a batch keeps only what the reports need
        for cell in out.run.cells:
            cell.output = ""
        out.graded = True
    except (SubmissionError, RunError) as exc:
        out.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not take the batch down
        out.error = f"internal grader error: {type(exc).__name__}: {exc}"
        out.trace = traceback.format_exc()
    if not out.graded and out.exercise is not None:
        out.tests = [TestResult(it.name, f"{it.name}: {it.title}", float(it.points),
                                output=f"Not graded: {out.error}") for it in out.exercise.items]
    out.seconds = round(time.monotonic() - start, 3)
    return out


def _safe_name(path: Path) -> str:
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in path.name)[:100]
    return name if name.endswith(".ipynb") else name + ".ipynb"


def _why_missing(run: RunResult, item_run) -> str:
    if run.harness_error:
        return f"the grading harness could not start in your kernel ({run.harness_error})"
    if item_run.status == "dead":
        return ("the kernel died while your code was being graded on this item: "
                f"{describe_exit(run.kernel_exit)}")
    if item_run.status == "timeout":
        return "your code did not finish on this item's hidden cases in time, even when interrupted"
    if item_run.status == "not-run":
        return item_run.message or run.kernel_message or "the kernel had stopped"
    if item_run.status == "error":
        return f"the grading code failed in your kernel ({item_run.message})"
    return ""


def grade_files(paths: list, opts: Options, jobs: int = 1, progress=None) -> list:
    """Grade many files (``jobs`` kernels at a time); results in the order of ``paths``."""
    results: list = [None] * len(paths)
    all_exercises()  # load the registry once, here: its lazy loading is not thread-safe
    if jobs <= 1:
        for i, path in enumerate(paths):
            results[i] = grade_file(path, opts)
            if progress:
                progress(results[i])
        sweep_orphans()
        return results
    lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="rnncourse-grade")
    try:
        futures = {pool.submit(grade_file, path, opts): i for i, path in enumerate(paths)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if progress:
                with lock:
                    progress(results[futures[fut]])
    except BaseException:
        CANCEL.set()  # running kernels stop at once, queued submissions never start
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        CANCEL.clear()
        sweep_orphans()
    return results
