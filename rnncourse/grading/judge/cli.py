"""``rnncourse grade`` and ``rnncourse gradescope-bundle``.

Exit codes: 0 every submission was graded (whatever its score), 1 some could not be graded (each
still has a results file saying why), 2 usage errors, and a sandbox that cannot be set up (nothing
is graded then: the grader fails closed).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

__all__ = ["register", "collect_notebooks", "parse_visibility"]


def collect_notebooks(args: list) -> list[Path]:
    """Files as given; folders searched recursively for ``*.ipynb`` (hidden folders skipped)."""
    from ...cli import UsageError

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


def parse_visibility(default: str, pairs, exercise: str | None):
    """``--visibility`` and ``--item-visibility ITEM=VIS`` as a :class:`Visibility`."""
    from ...cli import UsageError
    from .registry import UnknownExercise, all_exercises, get_exercise
    from .report import VISIBILITIES, Visibility

    items = []
    try:
        names = {i.name for ex in ([get_exercise(exercise)] if exercise else all_exercises())
                 for i in ex.items}
    except UnknownExercise as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    for pair in pairs:
        name, sep, vis = pair.partition("=")
        if not sep or vis not in VISIBILITIES:
            raise UsageError(f"--item-visibility {pair}: expected ITEM=VISIBILITY with VISIBILITY "
                             f"one of {', '.join(VISIBILITIES)}")
        if name not in names:
            raise UsageError(f"--item-visibility {pair}: no graded item named {name!r}")
        items.append((name, vis))
    return Visibility(default, tuple(items))


def _seed(args) -> int:
    from ...cli import UsageError
    from .grade import new_seed

    if args.seed is not None and args.seed_file is not None:
        raise UsageError("give --seed or --seed-file, not both")
    if args.seed_file is not None:
        try:
            text = Path(args.seed_file).read_text(encoding="utf-8").strip()
            data = json.loads(text) if text.startswith("{") else int(text)
            return int(data["seed"] if isinstance(data, dict) else data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"--seed-file {args.seed_file}: no seed in it ({exc})") from None
    if args.seed is not None:
        if args.isolation == "user":
            raise UsageError("with --isolation user a kernel can read the grader's command line: "
                             "pass the seed with --seed-file")
        return args.seed
    return new_seed()


def _limits(args):
    from ...cli import UsageError
    from .jail import Limits

    for name in ("timeout", "cell_timeout", "case_timeout", "memory_mb", "jobs", "tmp_mb"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    if args.memory_mb < args.tmp_mb + 64 + 256:
        raise UsageError(f"--memory-mb {args.memory_mb} leaves too little once /tmp "
                         f"({args.tmp_mb} MB) and /dev/shm (64 MB) are taken out of it")
    return Limits(cell_timeout=args.cell_timeout, total_timeout=args.timeout,
                  case_timeout=args.case_timeout, memory_mb=args.memory_mb, tmp_mb=args.tmp_mb)


def _options(args):
    from ...cli import UsageError
    from .grade import Options
    from .registry import UnknownExercise, get_exercise

    try:
        if args.exercise:
            get_exercise(args.exercise)
    except UnknownExercise as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    return Options(limits=_limits(args), seed=_seed(args), exercise=args.exercise,
                   isolation=args.isolation)


def _batch_record(args, opts, paths, outdir: Path) -> None:
    from ... import __version__
    from .report import write_atomic

    record = {"seed": opts.seed, "exercise": opts.exercise, "isolation": opts.isolation,
              "grader": f"rnncourse {__version__}", "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "submissions": [str(p) for p in paths],
              "note": "instructors only: --seed-file on this file repeats the hidden cases"}
    write_atomic(outdir / "batch.json", json.dumps(record, indent=2) + "\n", mode=0o600)


def _run_grade(args) -> int:
    from tqdm import tqdm

    from ...cli import UsageError
    from .grade import SandboxError, grade_files
    from .report import out_names, summary_table, write_csv, write_results
    from .similarity import write_similarity

    paths = collect_notebooks(args.submissions)
    opts = _options(args)
    visibility = parse_visibility(args.visibility, args.item_visibility, args.exercise)
    outdir = Path(args.out)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--out {outdir}: exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    _batch_record(args, opts, paths, outdir)
    names = dict(zip(map(str, paths), out_names(paths)))
    print(f"grading {len(paths)} submission(s); the seed of the hidden cases is in "
          f"{outdir / 'batch.json'} (--seed-file repeats them)", file=sys.stderr)
    bar = tqdm(total=len(paths), unit="nb", file=sys.stderr,
               disable=args.quiet or len(paths) < 2 or None)

    def done(g):
        g.out_name = names[str(g.path)]
        write_results(g, outdir, visibility)
        bar.update(1)

    private = [p.parent for p in paths] + [outdir] + (
        [Path(args.seed_file)] if args.seed_file else [])   # --isolation user: the seed too
    try:
        with bar:
            graded = grade_files(paths, opts, jobs=args.jobs, progress=done, private=private)
    except SandboxError as exc:
        raise UsageError(f"cannot set up the sandbox, so nothing was graded: {exc}") from None
    for g in graded:  # again, now that every sandbox of the batch is gone
        write_results(g, outdir, visibility)
    write_csv(graded, outdir / "grades.csv")
    flagged = write_similarity(graded, outdir / "similarity.csv", solutions=args.solutions)
    if not args.quiet:
        print(summary_table(graded))
    print(f"results in {outdir}/ (one .json per submission, grades.csv, similarity.csv: "
          f"{flagged} pair(s) flagged, for your eyes only)", file=sys.stderr)
    return 0 if all(g.graded for g in graded) else 1


def _run_bundle(args) -> int:
    from ...cli import UsageError
    from .bundle import BundleError, write_bundle

    parse_visibility(args.visibility, args.item_visibility, args.exercise)
    try:
        path = write_bundle(Path(args.outdir), exercise=args.exercise, extra=args.require,
                            isolation=args.isolation, visibility=args.visibility,
                            item_visibility=args.item_visibility)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def _visibility_options(p) -> None:
    from .report import VISIBILITIES

    p.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                   help="Gradescope visibility of every test (default visible; after_due_date "
                        "hides hidden-case feedback and hints until the deadline)")
    p.add_argument("--item-visibility", action="append", default=[], metavar="ITEM=VIS",
                   help="visibility of one item's test (repeatable), e.g. rnn_forward=hidden")


def register(sub) -> None:
    from .jail import ISOLATIONS

    p = sub.add_parser(
        "grade", help="grade submitted notebooks, each in its own sandbox",
        description="Run each notebook in a fresh sandbox (bubblewrap), call its graded functions "
                    "on hidden cases drawn from a fresh seed, and judge the results outside the "
                    "sandbox. Writes OUTDIR/<stem>.json (Gradescope format), OUTDIR/grades.csv, "
                    "OUTDIR/similarity.csv and OUTDIR/batch.json (the seed; instructors only).")
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
                   help="memory of one sandbox, /tmp and /dev/shm included (default 4096)")
    p.add_argument("--tmp-mb", type=int, default=256, metavar="MB",
                   help="size of the sandbox's private /tmp, taken out of --memory-mb (default 256)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="sandboxes at a time (default 1)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed of the hidden cases (default: drawn now, written to batch.json)")
    p.add_argument("--seed-file", default=None, metavar="FILE",
                   help="read the seed from FILE (an earlier batch.json, or a number)")
    p.add_argument("--exercise", default=None, metavar="ID",
                   help="the assignment: notebooks without an exercise id are graded as ID, "
                        "notebooks of another exercise get ID's tests at 0")
    p.add_argument("--isolation", default="bwrap", choices=ISOLATIONS,
                   help="bwrap (default): a bubblewrap sandbox per submission; user: only for "
                        "platforms without namespaces, a separate unprivileged user (needs root)")
    p.add_argument("--solutions", default=None, metavar="DIR",
                   help="published solution notebooks for similarity.csv (default: the "
                        "course's solutions/ folder, when it is there)")
    _visibility_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary table")
    p.set_defaults(func=_run_grade)

    b = sub.add_parser(
        "gradescope-bundle", help="write a Gradescope autograder zip for one exercise",
        description="Write OUTDIR/rnncourse-autograder.zip: setup.sh, run_autograder, "
                    "requirements.txt and this rnncourse package, grading "
                    "/autograder/submission/*.ipynb as exercise ID into "
                    "/autograder/results/results.json.")
    b.add_argument("outdir", help="folder for the zip")
    b.add_argument("--exercise", required=True, metavar="ID",
                   help="the assignment's exercise (required: a notebook of another exercise "
                        "gets this exercise's tests at 0)")
    b.add_argument("--isolation", default="bwrap", choices=ISOLATIONS,
                   help="bwrap (default; setup.sh installs bubblewrap) or user (for images "
                        "without namespaces)")
    _visibility_options(b)
    b.add_argument("--require", action="append", default=[], metavar="REQ",
                   help="an extra pip requirement for the autograder (repeatable), e.g. torch")
    b.set_defaults(func=_run_bundle)
