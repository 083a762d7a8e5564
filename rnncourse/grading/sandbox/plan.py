"""Execute a call plan: the data-only description of how a graded item is exercised.

A plan is a list of calls, each ``{"fn": name, "args": [value names], "returns": [value names]}``.
Starting from the case's inputs, each call looks up ``fn`` among the objects, passes copies of the
named values, and binds what it returns. Grading a backward pass, for instance, may run the
student's forward to get a cache and pass that cache to the student's backward.

The same interpreter computes the reference in the grader process (with rnncourse's
implementations), gives in-notebook feedback (``check``) and runs inside the sandbox during
grading, so it imports nothing but numpy and the standard library.
"""
from __future__ import annotations

import copy

import numpy as np

__all__ = ["PlanError", "execute_plan", "plan_objects", "plan_inputs"]


class PlanError(Exception):
    """A call returned something the plan cannot use (wrong number of values, ...)."""


def plan_objects(calls) -> list[str]:
    """Names of the objects a plan calls, in order of first use."""
    names: list[str] = []
    for call in calls:
        if call["fn"] not in names:
            names.append(call["fn"])
    return names


def plan_inputs(calls) -> list[str]:
    """Names a plan reads from its inputs (not bound by one of its own calls first)."""
    bound: set = set()
    names: list[str] = []
    for call in calls:
        for name in list(call["args"]) + list(call.get("kwargs", {}).values()):
            if name not in bound and name not in names:
                names.append(name)
        bound.update(call["returns"])
    return names


def _fresh(value):
    # Students may modify their inputs in place; every call gets its own copy of arrays.
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def execute_plan(objects: dict, calls, inputs: dict, outputs, done: list | None = None) -> dict:
    """Run ``calls`` on ``inputs`` with ``objects``; return ``{name: value}`` for ``outputs``.

    Exceptions raised by the called objects propagate; the caller decides how to report them.
    ``done``, if given, gets the name of every call that returned, so that a caller can tell which
    call raised.
    """
    env = {k: copy.deepcopy(v) for k, v in inputs.items()}
    for call in calls:
        fn = objects[call["fn"]]
        args = [_fresh(env[a]) for a in call["args"]]
        kwargs = {k: _fresh(env[v]) for k, v in call.get("kwargs", {}).items()}
        result = fn(*args, **kwargs)
        names = call["returns"]
        if done is not None:
            done.append(call["fn"])
        if len(names) == 1:
            env[names[0]] = result
            continue
        if not isinstance(result, (tuple, list)):
            raise PlanError(
                f"{call['fn']} should return {len(names)} values ({', '.join(names)}), "
                f"got a single {type(result).__name__}"
            )
        if len(result) != len(names):
            raise PlanError(
                f"{call['fn']} should return {len(names)} values ({', '.join(names)}), "
                f"got {len(result)}"
            )
        env.update(zip(names, result))
    return {name: env[name] for name in outputs}
