"""``rnncourse release SOLUTIONS EXERCISES [--check] [--lang ja] [--update-po [NAME ...]]``."""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["register"]

ROOT = Path(__file__).resolve().parents[2]


def _catalogues(args) -> Path:
    if args.catalogues:
        return Path(args.catalogues)
    from .messages import catalogue_path
    return catalogue_path("x", args.lang).parent


def _update_po(args, src: Path) -> int:
    import nbformat

    from .release import ReleaseError, update_catalogue

    cats = _catalogues(args)
    names = set(args.update_po)
    known = {p.stem for p in src.glob("*.ipynb")}
    unknown = sorted(names - known)
    if unknown:
        from ..cli import UsageError
        raise UsageError(f"no solution notebook named {', '.join(unknown)} in {src}/")
    for path in sorted(src.glob("*.ipynb")):
        po = cats / f"{path.stem}.po"
        if not po.exists() and path.stem not in names:
            continue     # a new catalogue only when asked for by name
        try:
            changed = update_catalogue(nbformat.read(path, as_version=4), po, args.lang, str(path))
        except ReleaseError as exc:
            from ..cli import UsageError
            raise UsageError(str(exc)) from None
        print(f"{'updated' if changed else 'unchanged'} {po}")
    return 0


def _run_lang(args, src: Path, dst: Path) -> int:
    from .release import LANG_DIRS, ReleaseError, release_dir_lang

    out = dst / LANG_DIRS.get(args.lang, args.lang)
    try:
        changed, skipped, errors = release_dir_lang(src, out, _catalogues(args), args.lang,
                                                    check=args.check)
    except ReleaseError as exc:
        from ..cli import UsageError
        raise UsageError(str(exc)) from None
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if skipped:
        print(f"no {args.lang} catalogue (English only): {', '.join(skipped)}")
    if args.check:
        if changed:
            print("out of date (run `rnncourse release --lang "
                  f"{args.lang}` to regenerate):", file=sys.stderr)
            for p in changed:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"{out}/ is up to date with {src}/ and its catalogues")
        return 1 if changed or errors else 0
    for p in changed:
        print(f"wrote {p}")
    return 1 if errors else 0


def _run(args) -> int:
    from ..cli import UsageError
    from .release import ReleaseError, release_dir

    src, dst = Path(args.solutions), Path(args.exercises)
    if not src.is_dir():
        raise UsageError(f"{src}: no such directory")
    if args.update_po is not None:
        return _update_po(args, src)
    if args.lang != "en":
        return _run_lang(args, src, dst)
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
                    "result to EXERCISES/ (outputs cleared). With --lang ja, write the Japanese "
                    "notebooks to EXERCISES/ja/ from the catalogues locales/ja/exercises/*.po "
                    "(only complete catalogues; a partly translated notebook is refused).",
    )
    p.add_argument("solutions", help="folder of solution notebooks (e.g. solutions)")
    p.add_argument("exercises", help="output folder (e.g. exercises)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if EXERCISES differs from what would be written")
    p.add_argument("--lang", default="en", choices=["en", "ja"],
                   help="the notebooks' language (default en; ja writes EXERCISES/ja/)")
    p.add_argument("--update-po", nargs="*", metavar="NAME", default=None,
                   help="update the --lang catalogues from SOLUTIONS (translations kept, changed "
                        "messages marked fuzzy); NAMEs (e.g. 04_lstm) also create new ones")
    p.add_argument("--catalogues", default=None,
                   help="folder of the catalogues (default locales/<lang>/exercises)")
    p.set_defaults(func=_run)
