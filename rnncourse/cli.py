"""The ``rnncourse`` command. Each subcommand lives beside its code and registers itself here.

Exit codes: 0 success, 1 the work failed (e.g. some submission could not be graded, exercises are
stale), 2 usage errors (bad arguments, missing files).
"""
from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "UsageError"]

# module paths exposing ``register(subparsers)``; each adds one or more subcommands
_COMMAND_MODULES = (
    "rnncourse.grading.release_cli",
    "rnncourse.quiz.cli",
    "rnncourse.grading.judge.cli",
)


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnncourse",
        description="Recurrent neural networks course: release exercises, grade submissions, practise.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"rnncourse {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
