"""``check()`` inside the grading sandbox, where the references are not.

The grader writes the visible cases and their expected outputs into the student kit
(``rnncourse/grading/visible.json`` and ``visible.npz``); this ``check`` reads them and runs the
same feedback as in the student's own kernel, so a notebook behaves alike in both places. The
visible cases are public (they are what ``check`` shows the student anyway); the hidden ones are
drawn later, from a seed the sandbox never sees.
"""
from __future__ import annotations

import json
from pathlib import Path

from .feedback import CheckResult, Visible, run_check
from .wire import read_npz, unpack_case

__all__ = ["check", "CheckResult"]

_DATA = Path(__file__).resolve().parents[1]
_CACHE: dict = {}


def _data() -> tuple[dict, dict]:
    if not _CACHE:
        spec = json.loads((_DATA / "visible.json").read_text(encoding="utf-8"))
        _CACHE["spec"], _CACHE["arrays"] = spec, read_npz((_DATA / "visible.npz").read_bytes())
    return _CACHE["spec"], _CACHE["arrays"]


def _visible(item_id: str) -> Visible:
    spec, arrays = _data()
    ex_id, _, name = str(item_id).rpartition(".")
    items = spec["items"]
    if ex_id != spec["exercise"] or name not in items:
        raise LookupError(f"{item_id!r} is not an item of exercise {spec['exercise']} "
                          f"(items: {', '.join(items)})")
    it = items[name]
    prefix, expect = it["prefix"], it["expected_prefix"]
    cases = [unpack_case(s, arrays, k, prefix) for k, s in enumerate(it["cases"])]

    def expected(k, case):
        return {n: arrays[f"{expect}c{k}_{n}"] for n in it["expected_names"]}

    return Visible(item=f"{spec['exercise']}.{name}", title=it["title"], points=it["points"],
                   objects=it["objects"], calls=it["calls"], outputs=it["outputs"],
                   rtol=it["rtol"], atol=it["atol"], hint=it["hint"], cases=cases,
                   expected=expected, depends=[tuple(d) for d in it["depends"]],
                   alone=it.get("alone", []), alone_input=it.get("alone_input", ""))


def check(item_id: str, *objects, verbose: bool = True, **named) -> CheckResult:
    """Run the visible cases of ``item_id`` on your function(s) and print feedback."""
    result = CheckResult(item=str(item_id))
    try:
        run_check(_visible(item_id), objects, named, result)
    except LookupError as exc:
        result.messages.append(f"check: {exc}")
    except Exception as exc:  # noqa: BLE001 - check() must never raise
        result.messages.append(f"check: could not run the check: {type(exc).__name__}: {exc}")
    if verbose:
        print("\n".join(result.messages))
    return result
