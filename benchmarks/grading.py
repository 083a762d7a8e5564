"""Autograder speed: per-submission overhead and batch throughput (a table, not a test).

Grades N copies of a solved notebook (default: ``solutions/01_unfolding.ipynb``, 20 copies) with the
same engine as ``rnncourse grade``, once with ``--jobs 1`` and once with ``--jobs 2``, and reports

* overhead per submission: grading wall time minus the notebook's own cell time (kernel start,
  harness, judge, teardown), median and max over the batch, measured with ``--jobs 1``;
* batch wall time and throughput for each ``--jobs``, and the speed-up of ``--jobs 2``.

Goals: overhead <= 3 s; ``--jobs 2`` at least 1.7x faster than ``--jobs 1`` (on >= 2 cores).

    python benchmarks/grading.py
    python benchmarks/grading.py --n 6 --notebook solutions/01_unfolding.ipynb
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rnncourse.grading.grade import Options, grade_files
from rnncourse.grading.runner import Limits, resolve_kernel_user

ROOT = Path(__file__).resolve().parents[1]


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="submissions per batch (default 20)")
    ap.add_argument("--notebook", default=str(ROOT / "solutions" / "01_unfolding.ipynb"))
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    return ap.parse_args()


def _batch(paths, jobs):
    opts = Options(limits=Limits(kernel_user=resolve_kernel_user("auto")), seed=12345)
    start = time.perf_counter()
    graded = grade_files(paths, opts, jobs=jobs)
    wall = time.perf_counter() - start
    assert all(g.graded and g.score == g.max_score for g in graded), "the notebook must be solved"
    overhead = [g.seconds - g.run.notebook_seconds for g in graded]
    own = [g.run.notebook_seconds for g in graded]
    return wall, overhead, own


def main() -> None:
    args = _parse()
    tmp = Path(tempfile.mkdtemp(prefix="rnncourse-bench-"))
    try:
        paths = []
        for k in range(args.n):
            paths.append(tmp / f"student{k:02d}.ipynb")
            shutil.copy(args.notebook, paths[-1])
        grade_files(paths[:1], Options(seed=1))  # warm caches (imports, font cache, ...)
        rows = []
        for jobs in args.jobs:
            wall, overhead, own = _batch(paths, jobs)
            rows.append((jobs, wall, overhead, own))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.n} copies of {Path(args.notebook).name}, {os.cpu_count()} CPU cores\n")
    print(f"{'jobs':>4}  {'batch s':>8}  {'nb/s':>6}  {'speed-up':>8}  {'own s (med)':>11}  "
          f"{'overhead s (med)':>16}  {'overhead s (max)':>16}")
    base = rows[0][1]
    for jobs, wall, overhead, own in rows:
        print(f"{jobs:>4}  {wall:8.1f}  {args.n / wall:6.2f}  {base / wall:7.2f}x  "
              f"{statistics.median(own):11.2f}  {statistics.median(overhead):16.2f}  "
              f"{max(overhead):16.2f}")


if __name__ == "__main__":
    main()
