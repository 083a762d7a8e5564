"""Gradescope: the autograder zip (``rnncourse gradescope-bundle``) and its entry point.

The zip holds ``setup.sh`` (a virtualenv with pinned requirements), ``run_autograder`` and this very
``rnncourse`` package, so Gradescope grades with the same engine and the same exercise registry as
``rnncourse grade``. Its entry point, ``python -m rnncourse.grading.bundle``, grades
``/autograder/submission/**/*.ipynb`` and writes ``/autograder/results/results.json``; when several
notebooks are submitted, the best-scoring one counts (a copy cannot double the score).
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import re
import sys
import zipfile
from pathlib import Path

from .. import __version__
from .grade import Options, grade_files, new_seed, protect_grader
from .registry import UnknownExercise, get_exercise
from .report import results_json, write_atomic
from .runner import Limits, resolve_kernel_user

__all__ = ["BundleError", "write_bundle", "requirements", "run_gradescope", "main"]

_PACKAGE = Path(__file__).resolve().parents[1]
_FALLBACK = ("numpy", "matplotlib", "nbformat", "nbclient", "ipykernel", "tqdm")
_ALSO = ("jupyter_client", "pyzmq", "ipython")

_SETUP = """#!/usr/bin/env bash
# Gradescope setup, written by `rnncourse gradescope-bundle` (rnncourse {version}).
set -euxo pipefail
PY=python{pyver}
if ! "$PY" -c "import venv, ensurepip" 2>/dev/null; then
    apt-get update
    apt-get install -y --no-install-recommends "$PY" "$PY-venv"
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
# kernels run as 'nobody': they must be able to read Python and the course package
chmod -R a+rX /autograder/venv /autograder/source
"""

_RUN = """#!/usr/bin/env bash
# Gradescope entry point, written by `rnncourse gradescope-bundle` (rnncourse {version}).
set -u
export PYTHONPATH=/autograder/source
cd /autograder/source
exec /autograder/venv/bin/python -m rnncourse.grading.bundle \\
    --submission /autograder/submission --results /autograder/results/results.json{exercise}
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


def write_bundle(outdir: Path, exercise: str | None = None, extra=()) -> Path:
    """Write ``outdir/rnncourse-autograder.zip`` and return its path."""
    if exercise:
        try:
            get_exercise(exercise)
        except UnknownExercise as exc:
            raise BundleError(str(exc).strip("'\"")) from None
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BundleError(f"{outdir}: {exc.strerror or exc}") from None
    path = outdir / "rnncourse-autograder.zip"
    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    opt = f" \\\n    --exercise {exercise}" if exercise else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _executable(zf, "setup.sh", _SETUP.format(version=__version__, pyver=pyver))
        _executable(zf, "run_autograder", _RUN.format(version=__version__, exercise=opt))
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


def _best(graded: list, exercise: str | None):
    for g in graded:
        if exercise and g.graded and g.exercise.id != exercise:
            g.graded, g.error = False, (f"this notebook is exercise {g.exercise.id}, but this "
                                        f"assignment is {exercise}")
            for t in g.tests:
                t.score, t.output = 0.0, f"Not graded: {g.error}"
    return max(graded, key=lambda g: (g.graded, g.score))


def run_gradescope(submission: Path, results: Path, exercise: str | None = None,
                   limits: Limits | None = None, seed: int | None = None) -> dict:
    """Grade the submission folder; write and return Gradescope's results dict."""
    notebooks = _notebooks(submission)
    if not notebooks:
        data = {"score": 0.0, "max_score": get_exercise(exercise).max_score if exercise else 0.0,
                "output": "No .ipynb notebook was found in your submission: upload the exercise "
                          "notebook itself (File > Download > .ipynb).", "tests": []}
    else:
        opts = Options(limits=limits or Limits(kernel_user=resolve_kernel_user("auto")),
                       seed=new_seed() if seed is None else seed)
        graded = grade_files(notebooks, opts)
        best = _best(graded, exercise)
        data = results_json(best)
        if len(graded) > 1:
            names = ", ".join(g.path.name for g in graded)
            data["output"] = (f"{len(graded)} notebooks were submitted ({names}); this grade is "
                              f"the best of them, {best.path.name}.\n\n{data['output']}")
    results.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(results, json.dumps(data, indent=2) + "\n")
    return data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnncourse.grading.bundle",
                                description="Gradescope entry point: grade a submission folder.")
    p.add_argument("--submission", default="/autograder/submission")
    p.add_argument("--results", default="/autograder/results/results.json")
    p.add_argument("--exercise", default=None)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    protect_grader()
    run_gradescope(Path(args.submission), Path(args.results), args.exercise, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
