"""``rnncourse grade`` and ``rnncourse gradescope-bundle``.

Exit codes: 0 every submission was graded (whatever its score), 1 some could not be graded (each
still has a results file saying why), 2 usage errors.
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["register", "collect_notebooks"]


def collect_notebooks(args: list) -> list[Path]:
    """Files as given; folders searched recursively for ``*.ipynb`` (hidden folders skipped)."""
    from ..cli import UsageError

    found: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            for nb in sorted(path.rglob("*.ipynb")):
                rel = nb.relative_to(path).parts
                if nb.is_file() and not any(p.startswith(".") for p in rel):
                    found.append(nb)
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{arg}: no such file or directory")
    unique, seen = [], set()
    for nb in found:
        key = nb.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(nb)
    if not unique:
        raise UsageError(f"no .ipynb files found in {', '.join(map(str, args))}")
    return unique


def _positive(args, *names) -> None:
    from ..cli import UsageError

    for name in names:
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")


def _options(args):
    from ..cli import UsageError
    from .grade import Options, new_seed
    from .registry import UnknownExercise, get_exercise
    from .runner import Limits, resolve_kernel_user

    _positive(args, "timeout", "cell_timeout", "case_timeout", "memory_mb", "jobs")
    try:
        user = resolve_kernel_user(args.kernel_user)
        if args.exercise:
            get_exercise(args.exercise)
    except (ValueError, UnknownExercise) as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    limits = Limits(cell_timeout=args.cell_timeout, total_timeout=args.timeout,
                    case_timeout=args.case_timeout, memory_mb=args.memory_mb, kernel_user=user)
    seed = args.seed if args.seed is not None else new_seed()
    return Options(limits=limits, seed=seed, exercise=args.exercise)


def _run_grade(args) -> int:
    from tqdm import tqdm

    from ..cli import UsageError
    from .grade import grade_files, protect_grader
    from .report import out_names, summary_table, write_csv, write_results

    paths = collect_notebooks(args.submissions)
    opts = _options(args)
    outdir = Path(args.out)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--out {outdir}: exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    protect_grader()
    names = dict(zip(map(str, paths), out_names(paths)))
    print(f"grading {len(paths)} submission(s) with seed {opts.seed} "
          f"(--seed {opts.seed} reproduces the hidden cases)", file=sys.stderr)
    bar = tqdm(total=len(paths), unit="nb", file=sys.stderr,
               disable=args.quiet or len(paths) < 2 or None)

    def done(g):
        g.out_name = names[str(g.path)]
        write_results(g, outdir)
        bar.update(1)

    with bar:
        graded = grade_files(paths, opts, jobs=args.jobs, progress=done)
    for g in graded:  # again, now that every kernel of the batch is dead
        write_results(g, outdir)
    write_csv(graded, outdir / "grades.csv")
    if not args.quiet:
        print(summary_table(graded))
    print(f"results in {outdir}/ (one .json per submission, grades.csv)", file=sys.stderr)
    return 0 if all(g.graded for g in graded) else 1


def _run_bundle(args) -> int:
    from ..cli import UsageError
    from .bundle import BundleError, write_bundle

    try:
        path = write_bundle(Path(args.outdir), exercise=args.exercise, extra=args.require)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "grade", help="grade submitted notebooks in isolated kernels",
        description="Run each notebook in a fresh, limited kernel, call its graded functions on "
                    "hidden cases drawn from a fresh seed, and judge the results outside the "
                    "kernel. Writes OUTDIR/<stem>.json (Gradescope format) and OUTDIR/grades.csv.")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="notebook files, or folders searched for *.ipynb")
    p.add_argument("--out", required=True, metavar="OUTDIR", help="folder for the results")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="time for all of a notebook's cells (default 600)")
    p.add_argument("--cell-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="time for one cell before it is interrupted (default 60)")
    p.add_argument("--case-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time for one hidden test case (default 10)")
    p.add_argument("--memory-mb", type=int, default=4096, metavar="MB",
                   help="address-space cap of the kernel (default 4096)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="kernels at a time (default 1)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed of the hidden cases (default: drawn now; printed)")
    p.add_argument("--exercise", default=None, metavar="ID",
                   help="grade as this exercise, ignoring the notebooks' metadata")
    p.add_argument("--kernel-user", default="auto", metavar="USER",
                   help="run kernels as USER; 'auto' (default): 'nobody' when grading as root and "
                        "that user can run Python, else the grader's own user; 'same': never switch")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary table")
    p.set_defaults(func=_run_grade)

    b = sub.add_parser(
        "gradescope-bundle", help="write a Gradescope autograder zip",
        description="Write OUTDIR/rnncourse-autograder.zip: setup.sh, run_autograder, "
                    "requirements.txt and this rnncourse package, grading "
                    "/autograder/submission/*.ipynb into /autograder/results/results.json.")
    b.add_argument("outdir", help="folder for the zip")
    b.add_argument("--exercise", default=None, metavar="ID",
                   help="accept only notebooks of this exercise (default: any known exercise)")
    b.add_argument("--require", action="append", default=[], metavar="REQ",
                   help="an extra pip requirement for the autograder (repeatable), e.g. torch")
    b.set_defaults(func=_run_bundle)
