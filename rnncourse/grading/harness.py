"""Grader side of the harness: hidden cases, the inputs file, and the code sent to the kernel.

The cases are drawn here, in the grader, from a seed the kernel never sees; the grader keeps them
(the judge recomputes the references from its own copy). The kernel gets the inputs as an ``.npz``
of plain arrays and the call plans as JSON embedded in the code, plus the source of
:mod:`~rnncourse.grading.plan` and :mod:`~rnncourse.grading.kernel_harness` as text.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import kernel_harness, plan
from .registry import Exercise

__all__ = ["HarnessPlan", "build_plan", "setup_code", "item_code", "cleanup_code", "write_inputs"]

_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)
_PLAN_SOURCE = Path(plan.__file__).read_text(encoding="utf-8")
_HARNESS_SOURCE = Path(kernel_harness.__file__).read_text(encoding="utf-8")


@dataclass
class HarnessPlan:
    """The hidden cases of one exercise for one seed, and their description for the kernel."""

    exercise: Exercise
    seed: int
    cases: list = field(default_factory=list)      # per item: list of case dicts (grader's copy)
    manifest: list = field(default_factory=list)   # per item: JSON-able spec for the kernel
    arrays: dict = field(default_factory=dict)     # what goes into the inputs .npz
    token: str = field(default_factory=lambda: secrets.token_hex(12))


def _case_spec(item_index: int, case_index: int, case: dict, arrays: dict) -> dict:
    spec = {"arrays": [], "scalars": [], "literals": {}}
    for name, value in case.items():
        key = f"i{item_index}_c{case_index}_{name}"
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(f"case input {name!r} has dtype {value.dtype}: numbers only")
            arrays[key] = value
            spec["arrays"].append(name)
        elif isinstance(value, _SCALARS):
            arrays[key] = np.asarray(value)
            spec["arrays"].append(name)
            spec["scalars"].append(name)
        else:
            json.dumps(value)  # raises for anything that cannot travel as JSON
            spec["literals"][name] = value
    return spec


def build_plan(exercise: Exercise, seed: int) -> HarnessPlan:
    """Draw every item's cases (``item.cases(default_rng(seed))``, as ``check`` does with its seed)."""
    hp = HarnessPlan(exercise=exercise, seed=int(seed))
    for i, item in enumerate(exercise.items):
        cases = list(item.cases(np.random.default_rng(hp.seed)))
        hp.cases.append(cases)
        hp.manifest.append({
            "name": item.name, "calls": [dict(c) for c in item.calls], "outputs": list(item.outputs),
            "objects": item.objects,
            "cases": [_case_spec(i, k, case, hp.arrays) for k, case in enumerate(cases)],
        })
    return hp


def write_inputs(hp: HarnessPlan, path: Path) -> None:
    """The inputs file for the kernel (written by the grader, plain arrays only)."""
    with open(path, "wb") as fh:
        np.savez(fh, **hp.arrays)


def _names(token: str) -> tuple[str, str]:
    return f"_rnncourse_boot_{token}", f"_rnncourse_run_{token}"


def setup_code(hp: HarnessPlan, inputs: Path, outputs: Path, case_timeout: float) -> str:
    """The first harness cell: build the runner in a private namespace, bind it to one hidden name."""
    boot, run = _names(hp.token)
    manifest = json.dumps({"items": hp.manifest, "inputs": str(inputs), "outputs": str(outputs),
                           "case_timeout": float(case_timeout)})
    return (
        f"def {boot}():\n"
        f"    ns = {{'__name__': '_rnncourse_harness_{hp.token}'}}\n"
        f"    exec(compile({_PLAN_SOURCE!r}, '<rnncourse-plan>', 'exec'), ns)\n"
        f"    exec(compile({_HARNESS_SOURCE!r}, '<rnncourse-harness>', 'exec'), ns)\n"
        f"    return ns['make_runner'](globals(), ns, {manifest!r})\n"
        f"{run} = {boot}()\n"
        f"del {boot}\n"
    )


def item_code(hp: HarnessPlan, index: int) -> str:
    return f"{_names(hp.token)[1]}({int(index)})\n"


def cleanup_code(hp: HarnessPlan) -> str:
    return f"del {_names(hp.token)[1]}\n"
