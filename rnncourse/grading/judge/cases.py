"""The hidden cases of a submission: drawn here, in the grader, from a seed the sandbox never sees.

The grader keeps its own copy of the cases (the judge recomputes the references from it) and
sends the sandbox plain data: the call plans as JSON and the inputs as an ``.npz`` of arrays.

An item with an ``alone`` plan (a backward pass judged on a correct forward's cache) is sent twice:
its own plan in its place, and the ``alone`` plan as an extra manifest entry *after all the items*,
so that nothing a student's function learns from a correct cache can reach a forward item, which
has run (on other inputs) before.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..sandbox.plan import plan_inputs, plan_objects
from ..sandbox.wire import pack_cases
from .registry import Exercise

__all__ = ["HiddenPlan", "build_plan"]


@dataclass
class HiddenPlan:
    """The hidden cases of one exercise for one seed, and their description for the sandbox."""

    exercise: Exercise
    seed: int
    cases: list = field(default_factory=list)      # per item: list of case dicts (grader's copy)
    manifest: list = field(default_factory=list)   # per item: JSON-able spec for the sandbox
    arrays: dict = field(default_factory=dict)     # the inputs, as sent
    alone: dict = field(default_factory=dict)      # item index -> manifest index of its alone plan


def _only(cases: list, names: list) -> list:
    return [{k: v for k, v in case.items() if k in names} for case in cases]


def build_plan(exercise: Exercise, seed: int) -> HiddenPlan:
    """Draw every item's hidden cases: other values *and other shapes* than ``check`` shows."""
    hp = HiddenPlan(exercise=exercise, seed=int(seed))
    for i, item in enumerate(exercise.items):
        cases = item.draw(np.random.default_rng([hp.seed, i]), hidden=True)
        specs, arrays = pack_cases(_only(cases, plan_inputs(item.calls)), prefix=f"i{i}_")
        hp.cases.append(cases)
        hp.arrays.update(arrays)
        extra = [n for _, names in exercise.dependencies(item) for n in names]
        hp.manifest.append({"name": item.name, "calls": [dict(c) for c in item.calls],
                            "outputs": list(item.outputs), "extra": extra,
                            "objects": item.objects, "cases": specs})
    for i, item in enumerate(exercise.items):
        if not item.alone:
            continue
        j = len(hp.manifest)
        specs, arrays = pack_cases(_only(hp.cases[i], plan_inputs(item.alone)), prefix=f"i{j}_")
        hp.arrays.update(arrays)
        hp.alone[i] = j
        hp.manifest.append({"name": f"{item.name} (alone)", "calls": [dict(c) for c in item.alone],
                            "outputs": list(item.outputs), "extra": [],
                            "objects": plan_objects(item.alone), "cases": specs})
    return hp
