"""Gradescope: the autograder zip (``rnncourse gradescope-bundle``) and its entry point.

The zip holds ``setup.sh`` (bubblewrap and a virtualenv with pinned requirements),
``run_autograder`` and this very ``rnncourse`` package, so Gradescope grades with the same engine,
sandbox and registry as ``rnncourse grade``. A bundle is for one exercise (``--exercise`` is
required): a notebook of another exercise gets that exercise's tests at 0. Its entry point,
``python -m rnncourse.grading.judge.bundle``, grades ``/autograder/submission/**/*.ipynb`` and
writes ``/autograder/results/results.json``; when several notebooks are submitted, the
best-scoring one counts (a copy cannot double the score). The seed goes to the autograder's stdout
(shown to instructors only), never into results.json.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import re
import shlex
import sys
import zipfile
from pathlib import Path

from ... import __version__
from .grade import Options, SandboxError, grade_files, new_seed
from .jail import ISOLATIONS, Limits
from .registry import UnknownExercise, get_exercise
from .report import VISIBILITIES, Visibility, results_json, write_atomic

__all__ = ["BundleError", "write_bundle", "requirements", "run_gradescope", "main"]

_PACKAGE = Path(__file__).resolve().parents[2]
_FALLBACK = ("numpy", "matplotlib", "nbformat", "nbclient", "ipykernel", "tqdm")
_ALSO = ("ipython", "matplotlib-inline", "traitlets", "packaging")

_SETUP = """#!/usr/bin/env bash
# Gradescope setup, written by `rnncourse gradescope-bundle` (rnncourse {version}).
set -euxo pipefail
PY=python{pyver}
if ! "$PY" -c "import venv, ensurepip" 2>/dev/null || {need_bwrap}; then
    apt-get update
    apt-get install -y --no-install-recommends "$PY" "$PY-venv" {bwrap_pkg}
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
# the sandboxed kernel runs the Python runtime and the allowed packages, never the course package
chmod -R a+rX /autograder/venv
chmod -R go-rwx /autograder/source
"""

_RUN = """#!/usr/bin/env bash
# Gradescope entry point, written by `rnncourse gradescope-bundle` (rnncourse {version}).
set -u
# nothing of the grader, the submission or its metadata is for a kernel's eyes
chmod -R go-rwx /autograder/source /autograder/submission 2>/dev/null || true
chmod go-rwx /autograder/submission_metadata.json /autograder/results 2>/dev/null || true
export PYTHONPATH=/autograder/source
cd /autograder/source
exec /autograder/venv/bin/python -m rnncourse.grading.judge.bundle \\
    --submission /autograder/submission --results /autograder/results/results.json \\
    --exercise {exercise} --isolation {isolation} --visibility {visibility}{items}
"""


class BundleError(ValueError):
    """The bundle cannot be written (unknown exercise, unwritable folder)."""


def requirements(extra=()) -> list[str]:
    """rnncourse's runtime requirements pinned to the versions installed here, plus ``extra``."""
    try:
        reqs = [r for r in (md.requires("rnncourse") or []) if "extra ==" not in r]
        names = [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in reqs]
    except md.PackageNotFoundError:
        names = list(_FALLBACK)
    lines = []
    for name in list(dict.fromkeys([*names, *_ALSO])):
        try:
            lines.append(f"{name}=={md.version(name)}")
        except md.PackageNotFoundError:
            lines.append(name)
    return lines + [str(e) for e in extra]


def _package_files():
    for path in sorted(_PACKAGE.rglob("*")):
        rel = path.relative_to(_PACKAGE.parent)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in (".pyc", ".pyo"):
            yield path, rel.as_posix()


def _executable(zf: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def write_bundle(outdir: Path, exercise: str, extra=(), isolation: str = "bwrap",
                 visibility: str = "visible", item_visibility=()) -> Path:
    """Write ``outdir/rnncourse-autograder.zip`` for ``exercise`` and return its path."""
    try:
        get_exercise(exercise)
    except UnknownExercise as exc:
        raise BundleError(str(exc).strip("'\"")) from None
    if isolation not in ISOLATIONS or visibility not in VISIBILITIES:
        raise BundleError(f"unknown isolation {isolation!r} or visibility {visibility!r}")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BundleError(f"{outdir}: {exc.strerror or exc}") from None
    path = outdir / "rnncourse-autograder.zip"
    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    bwrap = isolation == "bwrap"
    items = "".join(f" \\\n    --item-visibility {shlex.quote(p)}" for p in item_visibility)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _executable(zf, "setup.sh", _SETUP.format(
            version=__version__, pyver=pyver, bwrap_pkg="bubblewrap" if bwrap else "",
            need_bwrap="! command -v bwrap >/dev/null" if bwrap else "false"))
        _executable(zf, "run_autograder", _RUN.format(
            version=__version__, exercise=shlex.quote(exercise), isolation=isolation,
            visibility=visibility, items=items))
        zf.writestr("requirements.txt", "\n".join(requirements(extra)) + "\n")
        for file, arcname in _package_files():
            zf.write(file, arcname)
    return path


def _notebooks(folder: Path) -> list[Path]:
    found = []
    for nb in sorted(folder.rglob("*.ipynb")):
        if nb.is_file() and not any(p.startswith(".") for p in nb.relative_to(folder).parts):
            found.append(nb)
    return found


def _best(graded: list):
    return max(graded, key=lambda g: (g.graded, g.score))


def _failure(exercise: str, why: str) -> dict:
    ex = get_exercise(exercise)
    return {"score": 0.0, "output": why, "tests": [
        {"name": f"{it.name}: {it.title}", "score": 0.0, "max_score": float(it.points),
         "status": "failed", "output": f"Not graded: {why}", "visibility": "visible"}
        for it in ex.items]}


def run_gradescope(submission: Path, results: Path, exercise: str, limits: Limits | None = None,
                   seed: int | None = None, isolation: str = "bwrap",
                   visibility: Visibility = Visibility()) -> dict:
    """Grade the submission folder as ``exercise``; write and return Gradescope's results dict."""
    notebooks = _notebooks(submission)
    seed = new_seed() if seed is None else seed
    print(f"rnncourse {__version__}: exercise {exercise}, seed {seed} (instructors only: "
          "`rnncourse grade --seed-file` with this number repeats the hidden cases)", flush=True)
    if not notebooks:
        data = _failure(exercise, "No .ipynb notebook was found in your submission: upload the "
                                  "exercise notebook itself (File > Download > .ipynb).")
    else:
        opts = Options(limits=limits or Limits(), seed=seed, exercise=exercise,
                       isolation=isolation)
        try:
            graded = grade_files(notebooks, opts)
        except SandboxError as exc:
            print(f"cannot set up the sandbox: {exc}", flush=True)
            data = _failure(exercise, "The autograder could not set up its sandbox, so your "
                                      "notebook was not run. Your instructor can see why.")
        else:
            best = _best(graded)
            data = results_json(best, visibility)
            if len(graded) > 1:
                names = ", ".join(g.path.name for g in graded)
                data["output"] = (f"{len(graded)} notebooks were submitted ({names}); this grade "
                                  f"is the best of them, {best.path.name}.\n\n{data['output']}")
    results.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(results, json.dumps(data, indent=2) + "\n")
    return data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnncourse.grading.judge.bundle",
                                description="Gradescope entry point: grade a submission folder.")
    p.add_argument("--submission", default="/autograder/submission")
    p.add_argument("--results", default="/autograder/results/results.json")
    p.add_argument("--exercise", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--isolation", default="bwrap", choices=ISOLATIONS)
    p.add_argument("--visibility", default="visible", choices=VISIBILITIES)
    p.add_argument("--item-visibility", action="append", default=[])
    args = p.parse_args(argv)
    items = tuple(tuple(pair.split("=", 1)) for pair in args.item_visibility if "=" in pair)
    run_gradescope(Path(args.submission), Path(args.results), args.exercise, seed=args.seed,
                   isolation=args.isolation, visibility=Visibility(args.visibility, items))
    return 0


if __name__ == "__main__":
    sys.exit(main())
