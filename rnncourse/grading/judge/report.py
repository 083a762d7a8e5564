"""Reports: Gradescope ``results.json`` per submission, a CSV gradebook, a summary table.

``results.json`` follows Gradescope's specification exactly (top level: ``score``,
``execution_time``, ``output``, ``tests``, ``extra_data``; each test: ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility``), is at most 1 MB, and holds nothing only the
instructor may see: the seed of the hidden cases goes to the instructor's ``batch.json`` (or the
autograder's stdout on Gradescope), never into a file a student can see.

Files are written atomically (a temp file in the same folder, then ``os.replace``), so a file at
the same path is replaced, never appended to or followed if it is a symlink.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ... import __version__
from ..messages import translate

__all__ = ["results_json", "write_atomic", "write_results", "write_csv", "summary_table",
           "out_names", "VISIBILITIES", "MAX_RESULTS_BYTES", "Visibility"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
MAX_RESULTS_BYTES = 1024 * 1024
_MAX_CELLS_LISTED = 200


@dataclass(frozen=True)
class Visibility:
    """Gradescope visibility of each test: ``default`` for all, ``items`` overrides some."""

    default: str = "visible"
    items: tuple = ()          # ((item name, visibility), ...)

    def of(self, item: str) -> str:
        return dict(self.items).get(item, self.default)


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _clip(text: str, limit: int) -> str:
    text = _ANSI.sub("", text)
    return text if len(text) <= limit else text[:limit] + " ..."


def _cells_summary(run) -> list[str]:
    if run is None:
        return []
    cells = run.cells
    ran = [c for c in cells if c.status != "skipped"]
    errors = [c for c in cells if c.status == "error"]
    lines = [f"Your notebook ran {len(ran)} of {len(cells)} code cells in "
             f"{run.notebook_seconds:.1f} s; {len(errors)} raised an error."]
    for c in errors[:5]:
        lines.append(f"  cell {c.index}: {_clip(c.ename, 80)}: {_clip(c.evalue, 200)}")
    for c in cells:
        if c.status == "timeout":
            lines.append(f"  cell {c.index} did not finish in time and was interrupted.")
    if run.kernel_message:
        lines.append(f"  {run.kernel_message}.")
    return lines


def _overall(g) -> str:
    lang = getattr(g, "lang", "en")
    ex_id = g.exercise.id if g.exercise else None
    return translate(_overall_en(g), lang, ex_id)


def _overall_en(g) -> str:
    if not g.graded:
        return f"Not graded: {g.error}"
    ex = g.exercise
    lines = [f"Exercise {ex.id} ({ex.title}): {g.score:g}/{g.max_score:g} points.",
             *_cells_summary(g.run),
             "Graded on hidden test cases drawn at grading time; each test below says what failed."]
    return "\n".join(lines)


def results_json(g, visibility: Visibility = Visibility()) -> dict:
    """Gradescope's results.json for one :class:`~rnncourse.grading.judge.grade.Graded`."""
    run = g.run
    cells = run.cells if run else []
    extra = {
        "file": g.path.name, "graded": g.graded, "error": _clip(g.error, 500),
        "exercise": g.exercise.id if g.exercise else None, "max_score": g.max_score,
        "grader": f"rnncourse {__version__}",
        "notebook_seconds": round(run.notebook_seconds, 3) if run else 0.0,
        "kernel_exit": run.kernel_exit if run else "",
        "cells": [{"cell": c.index, "status": c.status, "seconds": c.seconds,
                   "error": _clip(f"{c.ename}: {c.evalue}", 300) if c.ename else ""}
                  for c in cells[:_MAX_CELLS_LISTED]],
        "cells_not_listed": max(len(cells) - _MAX_CELLS_LISTED, 0),
        "tests": [{"item": t.item, "passed_cases": t.passed_cases, "cases": t.cases,
                   "voided": list(t.notes)} for t in g.tests],
    }
    data = {
        "score": g.score,
        "execution_time": round(g.seconds, 3),
        "output": _clip(_overall(g), 8000),
        "tests": [{"name": t.name, "score": t.score, "max_score": t.max_score, "status": t.status,
                   "output": _clip(t.output, 4000), "visibility": visibility.of(t.item)}
                  for t in g.tests],
        "extra_data": extra,
    }
    board = [e for t in g.tests for e in getattr(t, "leaderboard", ())]   # capstones' metric
    if board:      # Gradescope's leaderboard: name, value, order ("asc": lower is better)
        data["leaderboard"] = board
    if len(json.dumps(data)) > MAX_RESULTS_BYTES:   # never: but a results file stays small
        extra["cells"], extra["cells_not_listed"] = [], len(cells)
        for t in data["tests"]:
            t["output"] = _clip(t["output"], 500)
    return data


def write_results(g, outdir: Path, visibility: Visibility = Visibility()) -> Path:
    path = Path(outdir) / g.out_name
    write_atomic(path, json.dumps(results_json(g, visibility), indent=2) + "\n")
    return path


def _test_columns(graded: list) -> list[str]:
    cols: list[str] = []
    for g in graded:
        for t in g.tests:
            if t.name not in cols:
                cols.append(t.name)
    return cols


def write_csv(graded: list, path: Path) -> None:
    """One row per submission: file, score, max_score, one column per test, then the path as given,
    the results file (unique even when two submissions share a file name), exercise and status."""
    cols = _test_columns(graded)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "score", "max_score", *cols, "path", "results", "exercise", "status"])
    for g in graded:
        by_name = {t.name: t.score for t in g.tests}
        writer.writerow([g.path.name, f"{g.score:g}", f"{g.max_score:g}",
                         *[f"{by_name[c]:g}" if c in by_name else "" for c in cols],
                         str(g.path), g.out_name,
                         g.exercise.id if g.exercise else "",
                         "graded" if g.graded else f"not graded: {_clip(g.error, 200)}"])
    write_atomic(path, buf.getvalue())


def _note(g) -> str:
    if not g.graded:
        return _clip(g.error, 70)
    failed = [t.item for t in g.tests if t.status == "failed"]
    void = [t.item for t in g.tests if t.notes]
    parts = []
    if void:
        parts.append("voided: " + ", ".join(void))
    if failed:
        parts.append("failed: " + ", ".join(failed))
    if g.run and g.run.kernel_message:
        parts.append("kernel stopped")
    return _clip("; ".join(parts) or "all passed", 70)


def summary_table(graded: list) -> str:
    """A plain-text table: file, exercise, score, tests passed, notes."""
    rows = [("FILE", "EXERCISE", "SCORE", "TESTS", "NOTES")]
    names = Counter(g.path.name for g in graded)
    for g in graded:
        passed = sum(t.status == "passed" for t in g.tests)
        shown = g.path.name if names[g.path.name] == 1 else str(g.path)
        shown = shown if len(shown) <= 40 else "..." + shown[-37:]
        rows.append((shown, g.exercise.id if g.exercise else "-",
                     f"{g.score:g}/{g.max_score:g}" if g.graded else "-",
                     f"{passed}/{len(g.tests)}" if g.graded else "-", _note(g)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    done = sum(g.graded for g in graded)
    lines.append(f"{done} of {len(graded)} submission(s) graded.")
    return "\n".join(line.rstrip() for line in lines)


def out_names(paths: list) -> list[str]:
    """``<stem>.json`` per submission; clashing stems get ``-2``, ``-3``, ... in input order."""
    taken: set = set()
    names = []
    for path in paths:
        stem = Path(path).stem or "submission"
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        names.append(name + ".json")
    return names
