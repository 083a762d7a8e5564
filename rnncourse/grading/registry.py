"""What each exercise is worth and how each graded item is exercised and judged.

An :class:`Exercise` is one notebook (its id is stored in the notebook's metadata by ``release``);
it holds :class:`Item` s, each worth some points. An item says which notebook objects it calls and
how (a data-only call plan, see :mod:`rnncourse.grading.plan`), how to generate test cases from a
seed, which trusted implementation gives the expected outputs, the tolerances, and which shortcuts
are forbidden in the student's code.

Exercises live one per module in :mod:`rnncourse.grading.exercises` (``exNN_topic.py`` defining
``EXERCISE``) and are discovered on first use.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .plan import plan_objects

__all__ = ["Item", "Exercise", "call", "get_exercise", "all_exercises", "find_item", "UnknownExercise"]


class UnknownExercise(LookupError):
    """No exercise or item with that id."""


def call(fn: str, args, returns, **kwargs) -> dict:
    """One step of a call plan: ``returns = fn(*args, **kwargs)`` (names of values)."""
    return {"fn": fn, "args": list(args), "returns": list(returns),
            "kwargs": {k: v for k, v in kwargs.items()}}


@dataclass(frozen=True)
class Item:
    """One graded item of an exercise.

    Attributes:
        name: id inside the exercise, e.g. ``"rnn_forward"``.
        title: one line for reports.
        points: what the item is worth; partial credit is points * passed cases / cases.
        calls: the call plan (list of :func:`call` dicts).
        outputs: names of the plan values that are compared with the reference.
        cases: ``cases(rng) -> list of input dicts`` (arrays and plain scalars only).
        reference: ``reference() -> {object name: trusted implementation}``.
        rtol, atol: tolerance ``|got - expected| <= atol + rtol * |expected|``.
        forbidden: dotted names whose use in the student's code voids the item.
        hint: shown when the item fails.
    """

    name: str
    title: str
    points: float
    calls: tuple
    outputs: tuple
    cases: Callable[[np.random.Generator], list]
    reference: Callable[[], dict]
    rtol: float = 1e-6
    atol: float = 1e-8
    forbidden: tuple = ()
    hint: str = ""

    @property
    def objects(self) -> list[str]:
        """Names of the notebook objects this item calls."""
        return plan_objects(self.calls)


@dataclass(frozen=True)
class Exercise:
    """One exercise notebook: ``id`` matches ``metadata.rnncourse.exercise`` of the notebook."""

    id: str
    title: str
    chapter: str
    items: tuple = field(default_factory=tuple)

    @property
    def max_score(self) -> float:
        return float(sum(item.points for item in self.items))

    def item(self, name: str) -> Item:
        for it in self.items:
            if it.name == name:
                return it
        raise UnknownExercise(
            f"exercise {self.id!r} has no item {name!r}; items: {', '.join(i.name for i in self.items)}"
        )


_REGISTRY: dict[str, Exercise] = {}


def _load() -> dict[str, Exercise]:
    if not _REGISTRY:
        from . import exercises

        for mod in pkgutil.iter_modules(exercises.__path__):
            if mod.name.startswith("ex"):
                ex = importlib.import_module(f"{exercises.__name__}.{mod.name}").EXERCISE
                if ex.id in _REGISTRY:
                    raise RuntimeError(f"duplicate exercise id {ex.id!r} in {mod.name}")
                _REGISTRY[ex.id] = ex
    return _REGISTRY


def all_exercises() -> list[Exercise]:
    return [ex for _, ex in sorted(_load().items())]


def get_exercise(exercise_id: str) -> Exercise:
    reg = _load()
    if exercise_id not in reg:
        known = ", ".join(sorted(reg)) or "none"
        raise UnknownExercise(f"unknown exercise id {exercise_id!r}; known exercises: {known}")
    return reg[exercise_id]


def find_item(item_id: str) -> tuple[Exercise, Item]:
    """Look up ``"<exercise>.<item>"``, or a bare item name if it is unique across exercises."""
    if "." in item_id:
        ex_id, name = item_id.split(".", 1)
        ex = get_exercise(ex_id)
        return ex, ex.item(name)
    hits = [(ex, it) for ex in all_exercises() for it in ex.items if it.name == item_id]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UnknownExercise(f"no graded item named {item_id!r}")
    raise UnknownExercise(
        f"{item_id!r} is ambiguous; use one of: {', '.join(f'{e.id}.{i.name}' for e, i in hits)}"
    )
