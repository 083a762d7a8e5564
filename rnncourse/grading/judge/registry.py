"""What each exercise is worth, how each graded item is exercised and judged, and what the
sandbox may see.

An :class:`Exercise` is one notebook (its id is stored in the notebook's metadata by ``release``);
it holds :class:`Item` s, each worth some points. An item says which notebook objects it calls and
how (a data-only call plan, see :mod:`rnncourse.grading.sandbox.plan`), how to draw test cases,
which trusted implementation gives the expected outputs, the tolerances, and which shortcuts the
source check reports. The exercise says which parts of ``rnncourse`` its student kit holds (an
allow-list: everything else of the package, the references above all, is absent from the sandbox).

Exercises live one per module in :mod:`rnncourse.grading.judge.exercises` (``exNN_topic.py``
defining ``EXERCISE``) and are discovered on first use.
"""
from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..sandbox.plan import plan_objects

__all__ = ["Item", "Exercise", "call", "sizes", "get_exercise", "all_exercises", "find_item",
           "UnknownExercise", "TOOLS", "DATA", "STANDARD_KIT"]

# The student kit: what every sandbox may import from rnncourse (check() and the harness are always
# there). Exercises add the library modules they allow, or leave out data modules that hold a
# reference implementation.
TOOLS = ("rnncourse.gradcheck", "rnncourse.plot")
DATA = ("rnncourse.data", "rnncourse.data.chars", "rnncourse.data.addition",
        "rnncourse.data.dates", "rnncourse.data.corpus", "rnncourse.data.dialogues",
        "rnncourse.data.longlag", "rnncourse.data.memory", "rnncourse.data.tagging",
        "rnncourse.data.text", "rnncourse.data.trees")
STANDARD_KIT = TOOLS + DATA


class UnknownExercise(LookupError):
    """No exercise or item with that id."""


def call(fn: str, args, returns, **kwargs) -> dict:
    """One step of a call plan: ``returns = fn(*args, **kwargs)`` (names of values)."""
    return {"fn": fn, "args": list(args), "returns": list(returns),
            "kwargs": {k: v for k, v in kwargs.items()}}


def sizes(rng: np.random.Generator, fixed, hidden: bool, keep=()) -> list:
    """The size tuples a case generator iterates over.

    For ``check`` (``hidden=False``): ``fixed``, the sizes the notebook shows. At grading time each
    integer above 1 is drawn again, uniformly in ``[2, 2 * size]``, so a function written for the
    visible shapes only does not pass; a size of 1 stays 1 (the edge cases stay edge cases), and
    floats (weight scales, rates) and the positions in ``keep`` stay as they are.
    """
    if not hidden:
        return [tuple(t) for t in fixed]
    out = []
    for tup in fixed:
        new = []
        for i, v in enumerate(tup):
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 1 \
                    and i not in keep:
                v = int(rng.integers(2, 2 * int(v) + 1))
            new.append(v)
        out.append(tuple(new))
    return out


@dataclass(frozen=True)
class Item:
    """One graded item of an exercise.

    Attributes:
        name: id inside the exercise, e.g. ``"rnn_forward"``.
        title: one line for reports.
        points: what the item is worth; partial credit is points * passed cases / cases.
        calls: the call plan (list of :func:`call` dicts).
        outputs: names of the plan values that are compared with the reference.
        cases: ``cases(rng, hidden) -> list of input dicts`` (arrays, plain scalars, tuples of
            arrays); ``hidden`` draws the shapes too (see :func:`sizes`).
        reference: ``reference() -> {object name: trusted implementation}``.
        rtol, atol: tolerance ``|got - expected| <= atol + rtol * |expected|``.
        forbidden: dotted names whose use in the item's code the source check reports (and which
            void the item); the sandbox does not hold them anyway.
        hint: shown when the item fails.
        alone: optional second call plan that runs the item's own function on inputs the grader
            builds, so that the item is judged on its own: for a backward pass whose ``calls``
            run the student's forward first, the cache of a *correct* forward, in the layout of
            the published solution (a case input the case generator adds). A case passes when
            either plan gives the expected outputs (computed from ``calls``), so a wrong forward
            costs the backward nothing, and a backward written for a cache layout of its own
            still passes through its own forward.
        alone_input: words for what ``alone`` passes (for messages), e.g. the cache's layout.
        measure: for a capstone item, a trusted ``measure(case, outputs) -> Measurement`` that
            scores what the student's code returned (a trained model) instead of comparing it with
            ``reference`` (see :mod:`rnncourse.grading.judge.measured`); ``check`` leaves it out.
    """

    name: str
    title: str
    points: float
    calls: tuple
    outputs: tuple
    cases: Callable[..., list]
    reference: Callable[[], dict]
    rtol: float = 1e-6
    atol: float = 1e-8
    forbidden: tuple = ()
    hint: str = ""
    alone: tuple = ()
    alone_input: str = ""
    measure: Callable | None = None

    @property
    def objects(self) -> list[str]:
        """Names of the notebook objects this item calls."""
        return plan_objects(self.calls)

    def draw(self, rng: np.random.Generator, hidden: bool = False) -> list:
        """The cases: visible (``check``'s) or hidden (drawn at grading time)."""
        return list(self.cases(rng, hidden))


@dataclass(frozen=True)
class Exercise:
    """One exercise notebook: ``id`` matches ``metadata.rnncourse.exercise`` of the notebook.

    ``kit``: the rnncourse modules its sandbox holds (an allow-list). ``packages``: distributions
    it allows beyond numpy, IPython, matplotlib and tqdm (with their dependencies).
    """

    id: str
    title: str
    chapter: str
    items: tuple = field(default_factory=tuple)
    kit: tuple = STANDARD_KIT
    packages: tuple = ()

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

    def dependencies(self, item: Item) -> list[tuple[str, list[str]]]:
        """Other items whose function this item's plan calls first, with the outputs to check.

        A backward pass graded on its own forward's cache depends on the forward item: when the
        forward is wrong on a case, the grader and ``check`` say "fix the forward first".
        """
        deps = []
        for c in item.calls[:-1]:
            for other in self.items:
                if other is not item and other.objects == [c["fn"]]:
                    names = [n for n in c["returns"] if n in other.outputs]
                    if names:
                        deps.append((other.name, names))
        return deps


_REGISTRY: dict[str, Exercise] = {}
_LOCK = threading.Lock()


def _load() -> dict[str, Exercise]:
    with _LOCK:
        if not _REGISTRY:
            from . import exercises

            found = {}
            for mod in pkgutil.iter_modules(exercises.__path__):
                if mod.name.startswith("ex"):
                    ex = importlib.import_module(f"{exercises.__name__}.{mod.name}").EXERCISE
                    if ex.id in found:
                        raise RuntimeError(f"duplicate exercise id {ex.id!r} in {mod.name}")
                    found[ex.id] = ex
            _REGISTRY.update(found)
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
    if not isinstance(item_id, str):
        raise UnknownExercise(f"{item_id!r} is not an item id like '01_unfolding.softmax'")
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
