"""The visible cases of ``check``: as objects for the student's kernel, as data for the sandbox.

In the student's own kernel ``check`` computes the expected outputs with the references (the whole
course package is installed there). The sandbox has no references, so the grader writes the same
visible cases and their expected outputs into the student kit as ``visible.json`` + ``visible.npz``
(:func:`kit_files`), and the kit's ``check`` reads them.
"""
from __future__ import annotations

import json

import numpy as np

from ..sandbox.feedback import Visible
from ..sandbox.plan import execute_plan
from ..sandbox.wire import npz_bytes, pack_cases
from .registry import Exercise, Item

__all__ = ["CHECK_SEED", "visible_item", "kit_files"]

CHECK_SEED = 0  # visible cases; the grader draws its own seed at grading time


def _cases_and_expected(ex: Exercise, item: Item) -> tuple:
    cases = item.draw(np.random.default_rng(CHECK_SEED), hidden=False)
    deps = ex.dependencies(item)
    names = list(item.outputs) + [n for _, ns in deps for n in ns]
    ref = item.reference()
    return cases, names, deps, ref


def visible_item(ex: Exercise, item: Item) -> Visible:
    """The item for ``check`` in the student's kernel (expected outputs computed on demand)."""
    cases, names, deps, ref = _cases_and_expected(ex, item)

    def expected(k, case):
        return execute_plan(ref, item.calls, case, names)

    return Visible(item=f"{ex.id}.{item.name}", title=item.title, points=float(item.points),
                   objects=item.objects, calls=[dict(c) for c in item.calls],
                   outputs=list(item.outputs), rtol=item.rtol, atol=item.atol, hint=item.hint,
                   cases=cases, expected=expected, depends=deps,
                   alone=[dict(c) for c in item.alone], alone_input=item.alone_input,
                   measure=item.measure)


def kit_files(ex: Exercise) -> tuple[bytes, bytes]:
    """``(visible.json, visible.npz)`` of every item of ``ex``: public data, no references."""
    items, arrays = {}, {}
    for index, item in enumerate(ex.items):
        if item.measure is not None:   # measured in the grader only: no visible expected outputs
            continue
        cases, names, deps, ref = _cases_and_expected(ex, item)
        prefix, expect = f"i{index}_", f"e{index}_"
        specs, packed = pack_cases(cases, prefix)
        arrays.update(packed)
        for k, case in enumerate(cases):
            for name, value in execute_plan(ref, item.calls, case, names).items():
                arrays[f"{expect}c{k}_{name}"] = np.asarray(value)
        items[item.name] = {
            "title": item.title, "points": float(item.points), "objects": item.objects,
            "calls": [dict(c) for c in item.calls], "outputs": list(item.outputs),
            "rtol": item.rtol, "atol": item.atol, "hint": item.hint, "cases": specs,
            "prefix": prefix, "expected_prefix": expect, "expected_names": names,
            "depends": [[d, ns] for d, ns in deps],
            "alone": [dict(c) for c in item.alone], "alone_input": item.alone_input}
    spec = json.dumps({"exercise": ex.id, "items": items}, indent=1)
    return spec.encode("utf-8"), npz_bytes(arrays)
