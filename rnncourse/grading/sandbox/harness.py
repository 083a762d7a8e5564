"""The grading harness: runs *inside the sandbox*, after the notebook's own cells.

For each graded item it calls the notebook's objects on the hidden inputs (each case under its own
alarm), reduces what they return to plain numeric arrays, and hands back an ``.npz`` of them plus a
JSON-able record of errors and timings. It knows neither the seed nor the expected outputs.

Nothing here is trusted: the student's code ran first and may have patched numpy, the standard
library or this very module. That can only make the student's own results wrong or missing: the
grader reads them as plain data, checks them, and compares them with references it computes itself
on inputs it kept.
"""
from __future__ import annotations

import linecache
import signal
import time

import numpy as np

from .plan import execute_plan
from .wire import NUMERIC, npz_bytes, unpack_case

__all__ = ["make_runner", "to_plain"]

_MAX_ARRAY_BYTES = 16 * 1024 * 1024
_MAX_ITEM_BYTES = 48 * 1024 * 1024


class _CaseTimeout(BaseException):
    """Raised by the alarm when one case runs too long (not an Exception: harder to swallow)."""


class _Abort(BaseException):
    """The grader interrupted the item: stop calling, hand back what we have."""


def _alarm(signum, frame):
    raise _CaseTimeout()


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return "%s of dtype %s" % (type(value).__name__, value.dtype)
    return type(value).__name__


def to_plain(value):
    """(plain C-contiguous numeric ndarray, None) or (None, what it was instead)."""
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        arr = np.asarray(value)
    elif isinstance(value, np.ndarray):
        arr = np.asarray(value)  # drops any subclass: its raw data is what gets judged
    else:
        return None, _describe(value)
    if type(arr) is not np.ndarray or arr.dtype.kind not in NUMERIC:
        return None, _describe(value)
    if arr.nbytes > _MAX_ARRAY_BYTES:
        return None, "%s too large (%d bytes)" % (_describe(value), arr.nbytes)
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True), None


def _where(exc, user_ns) -> str:
    """The innermost line of notebook code in the traceback, if any."""
    found = ""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals is user_ns:
            line = linecache.getline(frame.f_code.co_filename, tb.tb_lineno).strip()
            found = "in %s, line %d: %s" % (frame.f_code.co_name, tb.tb_lineno, line[:160])
        tb = tb.tb_next
    return found


def _run_case(item, objects, case, rec, ctx) -> dict:
    """One case under an alarm; fills ``rec``; returns ``{name: array}``."""
    arrays = {}
    done: list = []
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, ctx["case_timeout"])
    try:
        try:
            got = execute_plan(objects, item["calls"], case, item["outputs"] + item["extra"], done)
            for name in item["outputs"] + item["extra"]:
                arr, why = to_plain(got[name])
                if arr is None:
                    rec["outputs"][name] = why
                else:
                    arrays[name] = arr
        except _CaseTimeout:
            rec["error"] = "timeout"
        except KeyboardInterrupt:
            rec["error"] = "interrupted"
            raise _Abort() from None
        except BaseException as exc:  # noqa: BLE001 - anything the student's code raises
            rec["error"] = "%s: %s" % (type(exc).__name__, str(exc)[:500])
            rec["where"] = _where(exc, ctx["user_ns"])
            if len(done) < len(item["calls"]):
                rec["failed_call"] = item["calls"][len(done)]["fn"]
    except _CaseTimeout:
        rec["error"] = rec.get("error") or "timeout"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        rec["seconds"] = round(time.perf_counter() - start, 4)
    return arrays


def make_runner(user_ns: dict, manifest: dict, inputs: dict):
    """``run(item_index) -> (record, npz bytes)`` for the items of ``manifest`` on ``inputs``."""
    ctx = {"user_ns": user_ns, "case_timeout": float(manifest["case_timeout"])}

    def run(index: int):
        item = manifest["items"][index]
        prefix = "i%d_" % index
        objects = {n: user_ns[n] for n in item["objects"] if n in user_ns}
        record = {"item": item["name"], "cases": [], "aborted": False,
                  "objects": {n: {"found": n in objects} for n in item["objects"]}}
        arrays, size = {}, 0
        for k, spec in enumerate(item["cases"]):
            rec = {"error": None, "where": "", "outputs": {}, "seconds": 0.0}
            record["cases"].append(rec)
            if len(objects) < len(item["objects"]):
                rec["error"] = "missing"
                continue
            try:
                got = _run_case(item, objects, unpack_case(spec, inputs, k, prefix), rec, ctx)
            except _Abort:
                record["aborted"] = True
                break
            for name, arr in got.items():
                size += arr.nbytes
                if size > _MAX_ITEM_BYTES:
                    rec["outputs"][name] = "too large (the item's outputs exceed %d bytes)" % (
                        _MAX_ITEM_BYTES)
                    continue
                arrays["c%d_%s" % (k, name)] = arr
        return record, npz_bytes(arrays)

    return run
