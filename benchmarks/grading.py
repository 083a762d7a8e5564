"""Autograder speed: the sandbox's overhead and batch throughput (a table, not a test).

1. **Sandbox overhead**: start the cell runner, wait until it is ready, end it; once inside the
   bubblewrap sandbox (namespaces, mounts, the student kit, a user namespace per slot when root) and
   once as a plain subprocess with the same interpreter and the same kit (no isolation: measured
   here only, the grader never runs that way). The difference is what the sandbox costs.
2. **Per submission**: grading wall time minus the notebook's own cell time (sandbox start, harness,
   judge, teardown), median and max, with ``--jobs 1``.
3. **Batch**: N copies of a solved notebook (default ``solutions/01_unfolding.ipynb``, 20) graded
   with ``--jobs 1`` and ``--jobs 2``, ``--repeat`` times, interleaved (1, 2, 1, 2, ...) so that a
   change in the machine's load hits both alike: wall time, throughput and speed-up of each round,
   with the 1-minute load average before it, then the spread of the speed-ups. Beside each
   ``--jobs 2`` round: how much faster two plain CPU-bound processes ran side by side than one
   after the other just before it, i.e. what the machine could give two jobs at that moment.
4. **Where the time goes** (``--jobs 1``, medians per submission): sandbox start until the runner
   is ready, the notebook's cells, the harness on the hidden cases, ending the sandbox, and the
   judge (source check and comparisons, in the grader).

Goals: sandbox overhead <= 1 s per submission; ``--jobs 2`` at least 1.7x faster than
``--jobs 1`` (on >= 2 otherwise idle cores: on a loaded machine the speed-up says little).

    python benchmarks/grading.py
    python benchmarks/grading.py --n 8 --repeat 3 --starts 5 --notebook solutions/01_unfolding.ipynb
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
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
    ap.add_argument("--repeat", type=int, default=1, help="rounds of every --jobs (default 1)")
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


def _cpu_parallelism(work: int = 20_000_000) -> float:
    """How much faster 2 CPU-bound processes finish side by side than one after the other, now:
    what this machine can give ``--jobs 2`` at all (2.0 on 2 idle cores; less when shared)."""
    cmd = [sys.executable, "-I", "-S", "-c", f"sum(range({work}))"]
    start = time.perf_counter()
    for _ in range(2):
        subprocess.run(cmd, check=True)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd) for _ in range(2)]
    for proc in procs:
        proc.wait()
    return serial / (time.perf_counter() - start)


def _setup(notebook: str) -> tuple[float, float]:
    """Once per batch, before any submission: (kit + hidden cases, the test sandbox) seconds."""
    batch = _Batch(Options(seed=2), jobs=1)
    try:
        ex = read_submission(Path(notebook)).exercise
        start = time.perf_counter()
        batch.prepare(ex)
        built = time.perf_counter()
        batch.probe(ex)
        return built - start, time.perf_counter() - built
    finally:
        batch.close()


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
    load = os.getloadavg()[0]
    cpu = _cpu_parallelism() if jobs == 2 else float("nan")
    me = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    graded = grade_files(paths, opts, jobs=jobs)
    wall = time.perf_counter() - start
    me2 = resource.getrusage(resource.RUSAGE_SELF)
    grader_cpu = (me2.ru_utime + me2.ru_stime) - (me.ru_utime + me.ru_stime)
    assert all(g.graded and g.score == g.max_score for g in graded), "the notebook must be solved"
    overhead = [g.seconds - g.run.notebook_seconds for g in graded]
    own = [g.run.notebook_seconds for g in graded]
    return {"jobs": jobs, "load": load, "wall": wall, "overhead": overhead, "own": own,
            "timings": [g.run.timings for g in graded], "grader_cpu": grader_cpu, "cpu": cpu}


_PHASES = ("start", "cells", "items", "end", "judge")


def main() -> None:
    args = _parse()
    boxed, plain = _overhead(args.notebook, args.starts)
    kit_s, probe_s = _setup(args.notebook)
    tmp = Path(tempfile.mkdtemp(prefix="rnncourse-bench-"))
    try:
        paths = []
        for k in range(args.n):
            paths.append(tmp / f"student{k:02d}.ipynb")
            shutil.copy(args.notebook, paths[-1])
        grade_files(paths[:1], Options(seed=1))  # warm caches (imports, kit, ...)
        rows = [_batch(paths, jobs) for _ in range(args.repeat) for jobs in args.jobs]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{Path(args.notebook).name}: {args.n} copies, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f} when done\n")
    print(f"sandbox start+stop (median of {args.starts}): {boxed:.2f} s in bubblewrap, "
          f"{plain:.2f} s as a plain subprocess: overhead {boxed - plain:+.2f} s per submission\n")
    print(f"once per batch, before any submission runs: kit and hidden cases {kit_s:.2f} s, "
          f"test sandbox {probe_s:.2f} s (no sandbox, no grading)\n")
    print(f"{'round':>5}  {'jobs':>4}  {'load':>5}  {'batch s':>8}  {'nb/s':>6}  {'speed-up':>8}  "
          f"{'own s (med)':>11}  {'overhead s (med)':>16}  {'overhead s (max)':>16}  "
          f"{'2 CPU procs':>11}")
    speedups = {}
    for k, row in enumerate(rows):
        rnd = k // len(args.jobs)
        base = rows[rnd * len(args.jobs)]["wall"]
        speedups.setdefault(row["jobs"], []).append(base / row["wall"])
        print(f"{rnd + 1:>5}  {row['jobs']:>4}  {row['load']:5.1f}  {row['wall']:8.1f}  "
              f"{args.n / row['wall']:6.2f}  {base / row['wall']:7.2f}x  "
              f"{statistics.median(row['own']):11.2f}  {statistics.median(row['overhead']):16.2f}  "
              f"{max(row['overhead']):16.2f}  "
              + (f"{row['cpu']:10.2f}x" if row["cpu"] == row["cpu"] else f"{'':>11}"))
    for jobs, values in speedups.items():
        if jobs != args.jobs[0]:
            print(f"speed-up of --jobs {jobs} over --jobs {args.jobs[0]}: min {min(values):.2f}x, "
                  f"median {statistics.median(values):.2f}x, max {max(values):.2f}x "
                  f"({len(values)} round(s))")
    serial = [t for row in rows if row["jobs"] == 1 for t in row["timings"]]
    if serial:
        print("\nwhere a submission's time goes (--jobs 1, median s): " + ", ".join(
            f"{phase} {statistics.median(t.get(phase, 0.0) for t in serial):.2f}"
            for phase in _PHASES))
    ones = [r for r in rows if r["jobs"] == 1]
    if ones:
        # What two jobs cannot share: the grader is one process (its threads share one GIL), and
        # the set-up runs once before any submission; the rest of a submission's time is its own
        # sandbox, which runs beside the other one.
        g = statistics.median(r["grader_cpu"] for r in ones) / args.n
        w = statistics.median(r["wall"] for r in ones) / args.n
        print(f"serial parts: grader process CPU {g:.2f} s per submission (of {w:.2f} s wall with "
              f"--jobs 1), set-up {kit_s + probe_s:.2f} s per batch")

if __name__ == "__main__":
    main()
