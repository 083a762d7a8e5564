"""Autograder speed: the sandbox's overhead and batch throughput (a table, not a test).

1. **Sandbox overhead**: start the cell runner, wait until it is ready, end it; once inside the
   bubblewrap sandbox (namespaces, mounts, the student kit, a user namespace per slot when root) and
   once as a plain subprocess with the same interpreter and the same kit (no isolation: measured
   here only, the grader never runs that way). The difference is what the sandbox costs.
2. **Per submission**: grading wall time minus the notebook's own cell time (sandbox start, harness,
   judge, teardown), median and max, with ``--jobs 1``.
3. **Batch**: N copies of a solved notebook (default ``solutions/01_unfolding.ipynb``, 20) graded
   with ``--jobs 1`` and ``--jobs 2``: wall time, throughput, speed-up.

Goals: sandbox overhead <= 1 s per submission; ``--jobs 2`` at least 1.7x faster than
``--jobs 1`` (on >= 2 otherwise idle cores).

    python benchmarks/grading.py
    python benchmarks/grading.py --n 6 --starts 5 --notebook solutions/01_unfolding.ipynb
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rnncourse.grading.judge.grade import Options, _Batch, grade_files, read_submission
from rnncourse.grading.judge.jail import Limits, Proc, _site_dirs
from rnncourse.grading.judge.session import Channel, _expect

ROOT = Path(__file__).resolve().parents[1]


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="submissions per batch (default 20)")
    ap.add_argument("--starts", type=int, default=10, help="sandbox starts to time (default 10)")
    ap.add_argument("--notebook", default=str(ROOT / "solutions" / "01_unfolding.ipynb"))
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    return ap.parse_args()


def _start_stop(batch, kit, sandboxed: bool) -> float:
    """Seconds from nothing to a ready runner and back to nothing."""
    start = time.perf_counter()
    if sandboxed:
        proc, paths = batch.jail.start(kit, 0)
    else:
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        log_r, log_w = os.pipe()
        scratch = Path(tempfile.mkdtemp(prefix="rnncourse-bench-plain-"))
        paths = {"home": str(scratch / "home"), "work": str(scratch / "work")}
        # the sandbox's bootstrap without its change of user (a plain subprocess of this user)
        code = ("import sys\n"
                f"sys.path[:0] = {[str(kit.path)] + _site_dirs()!r}\n"
                "from rnncourse.grading.sandbox.runner import main\nmain()\n")
        popen = subprocess.Popen([batch.jail.exe, "-I", "-S", "-B", "-c", code], stdin=cmd_r,
                                 stdout=rep_w, stderr=log_w, close_fds=True, cwd=str(scratch),
                                 env=batch.jail.env(paths["home"], str(scratch)))
        for fd in (cmd_r, rep_w, log_w):
            os.close(fd)
        proc = Proc(popen, cmd_w, rep_r, log_r, batch.jail, 0, None)
    chan = Channel(proc)
    chan.send({"op": "hello", "limits": {}, "output_cap": 1000, **paths})
    got, _ = _expect(chan, "ready", time.monotonic() + 60, interruptible=False)
    assert got is not None, bytes(chan.log)
    chan.send({"op": "bye"})
    proc.end()
    if not sandboxed:
        shutil.rmtree(Path(paths["home"]).parent, ignore_errors=True)
    return time.perf_counter() - start


def _overhead(notebook: str, starts: int) -> tuple[float, float]:
    batch = _Batch(Options(seed=1), jobs=1)
    try:
        kit, _ = batch.prepare(read_submission(Path(notebook)).exercise)
        _start_stop(batch, kit, True)          # warm the page cache
        _start_stop(batch, kit, False)
        boxed = [_start_stop(batch, kit, True) for _ in range(starts)]
        plain = [_start_stop(batch, kit, False) for _ in range(starts)]
    finally:
        batch.close()
    return statistics.median(boxed), statistics.median(plain)


def _batch(paths, jobs):
    opts = Options(limits=Limits(), seed=12345)
    start = time.perf_counter()
    graded = grade_files(paths, opts, jobs=jobs)
    wall = time.perf_counter() - start
    assert all(g.graded and g.score == g.max_score for g in graded), "the notebook must be solved"
    overhead = [g.seconds - g.run.notebook_seconds for g in graded]
    own = [g.run.notebook_seconds for g in graded]
    return wall, overhead, own


def main() -> None:
    args = _parse()
    boxed, plain = _overhead(args.notebook, args.starts)
    tmp = Path(tempfile.mkdtemp(prefix="rnncourse-bench-"))
    try:
        paths = []
        for k in range(args.n):
            paths.append(tmp / f"student{k:02d}.ipynb")
            shutil.copy(args.notebook, paths[-1])
        grade_files(paths[:1], Options(seed=1))  # warm caches (imports, kit, ...)
        rows = [(jobs, *_batch(paths, jobs)) for jobs in args.jobs]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"{Path(args.notebook).name}: {args.n} copies, {os.cpu_count()} CPU cores, "
          f"load average {load:.1f} when done\n")
    print(f"sandbox start+stop (median of {args.starts}): {boxed:.2f} s in bubblewrap, "
          f"{plain:.2f} s as a plain subprocess: overhead {boxed - plain:+.2f} s per submission\n")
    print(f"{'jobs':>4}  {'batch s':>8}  {'nb/s':>6}  {'speed-up':>8}  {'own s (med)':>11}  "
          f"{'overhead s (med)':>16}  {'overhead s (max)':>16}")
    base = rows[0][1]
    for jobs, wall, overhead, own in rows:
        print(f"{jobs:>4}  {wall:8.1f}  {args.n / wall:6.2f}  {base / wall:7.2f}x  "
              f"{statistics.median(own):11.2f}  {statistics.median(overhead):16.2f}  "
              f"{max(overhead):16.2f}")


if __name__ == "__main__":
    main()
