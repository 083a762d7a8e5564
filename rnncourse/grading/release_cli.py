"""``rnncourse release SOLUTIONS EXERCISES [--check]``."""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["register"]


def _run(args) -> int:
    from ..cli import UsageError
    from .release import ReleaseError, release_dir

    src, dst = Path(args.solutions), Path(args.exercises)
    if not src.is_dir():
        raise UsageError(f"{src}: no such directory")
    try:
        changed = release_dir(src, dst, check=args.check)
    except ReleaseError as exc:
        raise UsageError(str(exc)) from None
    if args.check:
        if changed:
            print("out of date (run `rnncourse release` to regenerate):", file=sys.stderr)
            for p in changed:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"{dst}/ is up to date with {src}/")
        return 0
    for p in changed:
        print(f"wrote {p}")
    if not changed:
        print(f"{dst}/ was already up to date")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "release", help="make exercise notebooks from solution notebooks",
        description="Replace every solution region of SOLUTIONS/*.ipynb with a stub and write the "
                    "result to EXERCISES/ (outputs cleared).",
    )
    p.add_argument("solutions", help="folder of solution notebooks (e.g. solutions)")
    p.add_argument("exercises", help="output folder (e.g. exercises)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if EXERCISES differs from what would be written")
    p.set_defaults(func=_run)
