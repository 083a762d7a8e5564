"""The grading engine: notebook files in, :class:`Graded` out (shared by the CLI and Gradescope).

A batch is isolated by construction: every submission is read into memory before the first
sandbox starts; the sandbox is checked once (no sandbox, no grading: :class:`SandboxError`); each
submission then runs in a fresh sandbox of its own (see :mod:`.jail`), and whatever it does there,
the worst it can do is lose its own points. A submission is *graded* when its notebook could be
read, named the right exercise, and got a sandbox; everything that goes wrong after that (errors,
timeouts, a dead kernel, hostile code) is part of its grade. Otherwise it is *not graded*, with a
reason, and still gets a results file.
"""
from __future__ import annotations

import json
import queue
import secrets
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .cases import build_plan
from .cleanup import remove_tree
from .forbidden import CellSource, parse_notebook
from .jail import Jail, Limits, SandboxError
from ..messages import notebook_lang, translate
from .judge import TestResult, judge_item
from .kit import build_kit
from .registry import Exercise, UnknownExercise, all_exercises, get_exercise
from .session import CANCEL, RunError, RunResult, describe_exit, probe, run_notebook

__all__ = ["Graded", "Options", "Submission", "SubmissionError", "read_submission", "grade_files",
           "new_seed", "SandboxError", "MAX_NOTEBOOK_BYTES", "MAX_CODE_CELLS"]

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
MAX_CODE_CELLS = 2000


class SubmissionError(ValueError):
    """The file cannot be graded (not a notebook, no or unknown exercise id, too big)."""


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    seed: int = 0
    exercise: str | None = None   # the assignment: another exercise's notebook gets its tests at 0
    isolation: str = "bwrap"


@dataclass
class Submission:
    """One file, read into memory before any sandbox starts."""

    path: Path
    cells: list = field(default_factory=list)    # [(cell number, source)] of non-empty code cells
    exercise: Exercise | None = None
    error: str = ""
    lang: str = "en"      # metadata.rnncourse.lang: the language of the feedback


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
    cells: list = field(default_factory=list)
    lang: str = "en"  # the feedback's language (the points never depend on it)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return self.exercise.max_score if self.exercise else 0.0


def new_seed() -> int:
    """A seed drawn at grading time, never shown to a sandbox."""
    return secrets.randbits(63)


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"


def _load(path: Path) -> dict:
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"the file is too large ({size / 1e6:.0f} MB) to be graded "
                                  f"(at most {MAX_NOTEBOOK_BYTES // 2 ** 20} MB)")
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
    return nb


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
    if len(out) > MAX_CODE_CELLS:
        raise SubmissionError(f"the notebook has {len(out)} code cells; at most {MAX_CODE_CELLS} "
                              "are graded: hand in the exercise notebook itself")
    return out


def _metadata_id(nb: dict) -> str | None:
    meta = nb.get("metadata")
    ours = meta.get("rnncourse") if isinstance(meta, dict) else None
    ex_id = ours.get("exercise") if isinstance(ours, dict) else None
    return ex_id[:100] if isinstance(ex_id, str) and ex_id else None


def read_submission(path: Path, assignment: str | None = None) -> Submission:
    """Read and check one file; never raises (the error is in the result).

    ``assignment``: the exercise being graded. A notebook without an exercise id is graded as it;
    a notebook of another exercise is not run, and gets the assignment's tests at 0.
    """
    sub = Submission(Path(path))
    try:
        if assignment is not None:
            sub.exercise = get_exercise(assignment)
        nb = _load(sub.path)
        sub.lang = notebook_lang(nb)
        found = _metadata_id(nb)
        if found is None and assignment is None:
            raise SubmissionError(
                "this notebook does not say which exercise it is (metadata.rnncourse.exercise is "
                "missing): it was not made by `rnncourse release`, or its metadata was removed. "
                "Start from the released exercise notebook and copy your code into it "
                "(instructors: --exercise ID grades it anyway)")
        if assignment is not None and found not in (None, assignment):
            raise SubmissionError(f"this notebook is exercise {found}, but this assignment is "
                                  f"{assignment}: hand in the {assignment} notebook")
        try:
            sub.exercise = get_exercise(found or assignment)
        except UnknownExercise as exc:
            raise SubmissionError(str(exc)) from None
        sub.cells = _code_cells(nb["cells"])
    except SubmissionError as exc:
        sub.error = str(exc)
    return sub


def _why_missing(run: RunResult, item_run) -> str:
    if run.harness_error:
        return f"the grading harness could not run in your kernel ({run.harness_error})"
    if item_run.status == "dead":
        return item_run.message or ("the kernel died while your code was being graded on this "
                                    f"item: {describe_exit(run.kernel_exit)}")
    if item_run.status == "timeout":
        return "your code did not finish on this item's hidden cases in time, even when interrupted"
    if item_run.status == "not-run":
        return item_run.message or run.kernel_message or "the kernel had stopped"
    return ""


class _Batch:
    """What a batch shares: the sandbox, one kit and one hidden plan per exercise, job slots."""

    def __init__(self, opts: Options, jobs: int, private=()):
        self.opts = opts
        self.root = Path(tempfile.mkdtemp(prefix="rnncourse-batch-"))
        self.jail = Jail(opts.isolation, self.root, opts.limits)
        self.kits: dict = {}
        self.plans: dict = {}
        self.lock = threading.Lock()
        self.slots: queue.Queue = queue.Queue()
        for slot in range(max(jobs, 1)):
            self.slots.put(slot)
        try:
            self.jail.check(private)
        except BaseException:
            self.close()
            raise

    def probe(self, ex: Exercise) -> None:
        """One sandbox started and ended before any submission runs: no sandbox, no grading."""
        kit, _ = self.prepare(ex)
        try:
            probe(self.jail, kit)
        except RunError as exc:
            if self.opts.isolation == "user":
                raise SandboxError(f"a test kernel did not start as a separate user ({exc})"
                                   ) from None
            raise SandboxError(f"a test sandbox did not start ({exc}); install bubblewrap and "
                               "allow user namespaces, or pass --isolation user on a platform "
                               "without them (see the instructor page)") from None

    def prepare(self, ex: Exercise):
        with self.lock:
            if ex.id not in self.kits:
                self.kits[ex.id] = build_kit(ex, self.root / f"kit-{ex.id}")
                self.jail.share(self.kits[ex.id].path)
                self.plans[ex.id] = build_plan(ex, self.opts.seed)
            return self.kits[ex.id], self.plans[ex.id]

    def close(self) -> None:
        self.jail.close()
        remove_tree(self.root)


def _grade(sub: Submission, batch: _Batch) -> Graded:
    """Grade one submission. Never raises: every failure ends up in the returned :class:`Graded`."""
    start = time.monotonic()
    opts = batch.opts
    out = Graded(sub.path, seed=opts.seed, exercise=sub.exercise, cells=sub.cells, lang=sub.lang)
    try:
        if sub.error:
            raise SubmissionError(sub.error)
        kit, plan = batch.prepare(sub.exercise)
        slot = batch.slots.get()
        try:
            out.run = run_notebook(batch.jail, kit, slot, sub.cells, plan, opts.limits)
        finally:
            batch.slots.put(slot)
        judging = time.monotonic()
        units = parse_notebook([CellSource(n, s) for n, s in sub.cells])
        for i, item in enumerate(sub.exercise.items):
            item_run = out.run.items[i]
            alone_run = out.run.items[plan.alone[i]] if i in plan.alone else None
            alone = (alone_run.record, alone_run.arrays) if alone_run is not None else None
            out.tests.append(judge_item(sub.exercise, item, plan.cases[i], item_run.record,
                                        item_run.arrays, units, _why_missing(out.run, item_run),
                                        opts.limits.case_timeout, alone))
        for item_run in out.run.items:
            item_run.record = item_run.arrays = None  # a batch keeps only what the reports need
        for cell in out.run.cells:
            cell.output = ""
        out.run.timings["judge"] = time.monotonic() - judging
        out.graded = True
    except (SubmissionError, RunError, SandboxError) as exc:
        out.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not take the batch down
        out.error = f"internal grader error: {type(exc).__name__}: {exc}"
        out.trace = traceback.format_exc()
    if not out.graded and out.exercise is not None:
        out.tests = [TestResult(it.name, f"{it.name}: {it.title}", float(it.points),
                                output=f"Not graded: {out.error}") for it in out.exercise.items]
    if out.lang != "en":     # the same results, said in the notebook's language
        for t in out.tests:
            t.output = translate(t.output, out.lang, out.exercise.id if out.exercise else None)
    out.seconds = round(time.monotonic() - start, 3)
    return out


def grade_files(paths: list, opts: Options, jobs: int = 1, progress=None, private=()) -> list:
    """Grade many files (``jobs`` sandboxes at a time); results in the order of ``paths``.

    Raises :class:`SandboxError` before running anything when the sandbox cannot be set up.
    ``private``: paths a kernel must not be able to read (checked with ``--isolation user``).
    """
    all_exercises()
    subs = [read_submission(Path(p), opts.exercise) for p in paths]   # all read, then run
    batch = _Batch(opts, jobs, private)
    first = next((s.exercise for s in subs if s.exercise is not None), None)
    try:
        if first is not None:
            batch.probe(first)
    except BaseException:
        batch.close()
        raise
    results: list = [None] * len(subs)
    pool = ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="rnncourse-grade")
    try:
        futures = {pool.submit(_grade, sub, batch): i for i, sub in enumerate(subs)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if progress:
                progress(results[futures[fut]])
    except BaseException:
        CANCEL.set()  # running sandboxes stop at once, queued submissions never start
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        CANCEL.clear()
        batch.close()
    return results
