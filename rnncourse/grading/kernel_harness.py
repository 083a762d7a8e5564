"""The grading harness: runs *inside the student's kernel*, after the notebook's own cells.

Its source is sent to the kernel as text, together with :mod:`rnncourse.grading.plan`, and executed
in a private namespace (not the notebook's globals), so it imports nothing but the standard library
and numpy. For each graded item it calls the notebook's objects on the hidden inputs (each case
under its own alarm and a call trace), reduces what they return to plain numeric arrays, and writes
them with a hand-rolled ``.npz`` writer (zipfile + the ``.npy`` header; no ``np.savez``, no pickle)
plus a JSON record of errors, timings and which modules the notebook's code called.

Nothing here is trusted: the student's code ran first and may have patched numpy, the standard
library or this very harness. That can only make the student's own results wrong or missing: the
grader reads these files as plain data, checks them, and compares them with references it computes
itself on inputs it kept.
"""
import functools
import json
import linecache
import os
import signal
import struct
import sys
import threading
import time
import zipfile

import numpy as np

__all__ = ["make_runner"]

_MAX_OUTPUT_BYTES = 16 * 1024 * 1024
_MAX_TRACE = 300
_NUMERIC = "biuf"


class _CaseTimeout(BaseException):
    """Raised by the alarm when one case runs too long (not an Exception: harder to swallow)."""


class _Abort(BaseException):
    """The grader interrupted the item: stop calling, write what we have."""


def _alarm(signum, frame):
    raise _CaseTimeout()


def _npy_bytes(arr):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (
        arr.dtype.str, tuple(int(n) for n in arr.shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    magic = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
    return magic + header.encode("latin1") + arr.tobytes()


def _write_atomic(path, data):
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_npz(path, arrays):
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            zf.writestr(key + ".npy", _npy_bytes(arr))
    os.replace(tmp, path)


def _describe(value):
    if isinstance(value, np.ndarray):
        return "%s of dtype %s" % (type(value).__name__, value.dtype)
    return type(value).__name__


def _to_plain(value):
    """(plain C-contiguous numeric ndarray, None) or (None, what it was instead)."""
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        arr = np.asarray(value)
    elif isinstance(value, np.ndarray):
        arr = np.asarray(value)  # drops any subclass: its raw data is what gets judged
    else:
        return None, _describe(value)
    if type(arr) is not np.ndarray or arr.dtype.kind not in _NUMERIC:
        return None, _describe(value)
    if arr.nbytes > _MAX_OUTPUT_BYTES:
        return None, "%s too large (%d bytes)" % (_describe(value), arr.nbytes)
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True), None


def _where(exc, user_ns):
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


def _origin(obj, user_ns):
    """(defined in the notebook?, 'module.qualname') of a graded object."""
    target = obj
    for _ in range(8):
        if isinstance(target, functools.partial):
            target = target.func
        elif hasattr(target, "__func__"):
            target = target.__func__
        else:
            break
    if getattr(target, "__globals__", None) is user_ns:
        return True, "notebook"
    module = getattr(target, "__module__", None)
    qual = getattr(target, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qual, str):
        module, qual = type(target).__module__, type(target).__qualname__
    in_notebook = module == user_ns.get("__name__") and not hasattr(target, "__code__")
    return in_notebook, ("%s.%s" % (module, qual))[:200]


class _Tracer:
    """Which modules the notebook's code (and the plan) called directly: a first-hop call trace."""

    def __init__(self, user_ns, own_ns):
        self.mine = (user_ns, own_ns)
        self.seen = set()

    def __call__(self, frame, event, arg):
        if len(self.seen) >= _MAX_TRACE:
            return
        if event == "call":
            caller = frame.f_back
            if caller is not None and frame.f_globals is not caller.f_globals and (
                    caller.f_globals is self.mine[0] or caller.f_globals is self.mine[1]):
                name = frame.f_globals.get("__name__")
                self.seen.add((str(name)[:200], str(frame.f_code.co_filename)[:300]))
        elif event == "c_call" and (frame.f_globals is self.mine[0]
                                    or frame.f_globals is self.mine[1]):
            module = getattr(arg, "__module__", None)
            if not isinstance(module, str):
                owner = getattr(arg, "__self__", None)
                module = type(owner).__module__ if owner is not None else None
            if isinstance(module, str):
                self.seen.add((module[:200], ""))


def _case_inputs(manifest, loaded, item_index, case_index):
    spec = manifest["items"][item_index]["cases"][case_index]
    case = {}
    for name in spec["arrays"]:
        value = loaded["i%d_c%d_%s" % (item_index, case_index, name)]
        case[name] = value.item() if name in spec["scalars"] else value
    case.update(spec["literals"])
    return case


def _run_case(item, objects, case, rec, ctx):
    """One case under an alarm and the tracer; fills ``rec``; returns {key: array}."""
    arrays = {}
    tracer = _Tracer(ctx["user_ns"], ctx["own_ns"])
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, ctx["case_timeout"])
    try:
        try:
            threading.setprofile(tracer)
            sys.setprofile(tracer)
            try:
                got = ctx["execute_plan"](objects, item["calls"], case, item["outputs"])
            finally:
                rec["trace_lost"] = sys.getprofile() is not tracer
                sys.setprofile(None)
                threading.setprofile(None)
            for name in item["outputs"]:
                arr, why = _to_plain(got[name])
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
    except _CaseTimeout:
        rec["error"] = rec.get("error") or "timeout"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        rec["seconds"] = round(time.perf_counter() - start, 4)
        rec["calls"] = sorted(tracer.seen)
    return arrays


def _objects(item, user_ns):
    found, info = {}, {}
    for name in item["objects"]:
        if name not in user_ns:
            info[name] = {"found": False, "in_notebook": False, "origin": ""}
            continue
        found[name] = user_ns[name]
        in_nb, origin = _origin(found[name], user_ns)
        info[name] = {"found": True, "in_notebook": bool(in_nb), "origin": origin}
    return found, info


def make_runner(user_ns, own_ns, manifest_json):
    """Load the inputs now; return ``run(item_index)``, which grades one item and writes its files."""
    manifest = json.loads(manifest_json)
    with np.load(manifest["inputs"], allow_pickle=False) as data:
        loaded = {key: data[key] for key in data.files}
    ctx = {"user_ns": user_ns, "own_ns": own_ns, "case_timeout": float(manifest["case_timeout"]),
           "execute_plan": own_ns["execute_plan"]}

    def run(index):
        item = manifest["items"][index]
        objects, info = _objects(item, user_ns)
        record = {"item": item["name"], "objects": info, "cases": [], "aborted": False}
        arrays = {}
        for k in range(len(item["cases"])):
            rec = {"error": None, "where": "", "outputs": {}, "seconds": 0.0, "calls": []}
            record["cases"].append(rec)
            if len(objects) < len(item["objects"]):
                rec["error"] = "missing"
                continue
            try:
                got = _run_case(item, objects, _case_inputs(manifest, loaded, index, k), rec, ctx)
            except _Abort:
                record["aborted"] = True
                break
            arrays.update({"c%d_%s" % (k, name): arr for name, arr in got.items()})
        prefix = "%s-%d" % (manifest["outputs"], index)
        _write_npz(prefix + ".npz", arrays)
        _write_atomic(prefix + ".json", json.dumps(record).encode("utf-8"))

    return run
