"""Plain data across the sandbox boundary: cases as arrays, arrays as ``.npz``, messages as lines.

* **Cases** (dicts of inputs) become a JSON-able spec plus named arrays (:func:`pack_cases`), and
  back (:func:`unpack_case`). Values are numeric arrays, numeric scalars, small JSON literals, or
  tuples and lists nesting all of these (the cache of a correct forward, built by the grader in
  the layout the student's backward expects).
* **Arrays** travel as an uncompressed ``.npz`` written here by hand (zipfile + the ``.npy``
  header), never pickled.
* **Messages** between the grader and the cell runner are one JSON line, then ``size`` bytes of
  payload. The grader reads them with its own limits (:mod:`rnncourse.grading.judge.session`).
"""
from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import numpy as np

__all__ = ["pack_cases", "unpack_case", "npy_bytes", "npz_bytes", "read_npz", "send", "recv",
           "NUMERIC"]

NUMERIC = "biuf"
_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def _key(prefix: str, k: int, name: str) -> str:
    return f"{prefix}c{k}_{name}"


def _pack_tree(value, key: str, arrays: dict, depth: int = 0):
    """A tuple/list nesting arrays and literals as JSON: ``{"t"|"l": [...]}``, ``{"a": key}``
    for an array (stored in ``arrays``), ``{"v": literal}`` for anything JSON can hold."""
    if depth > 8:
        raise TypeError("case input nested more than 8 levels deep")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in NUMERIC:
            raise TypeError(f"case input {key!r} holds an array of dtype {value.dtype}")
        arrays[key] = value
        return {"a": key}
    if isinstance(value, (tuple, list)):
        return {"t" if isinstance(value, tuple) else "l":
                [_pack_tree(v, f"{key}_{j}", arrays, depth + 1) for j, v in enumerate(value)]}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    json.dumps(value)  # raises for anything that cannot travel as JSON
    return {"v": value}


def _unpack_tree(node, arrays):
    if "a" in node:
        return np.array(arrays[node["a"]])
    if "t" in node:
        return tuple(_unpack_tree(n, arrays) for n in node["t"])
    if "l" in node:
        return [_unpack_tree(n, arrays) for n in node["l"]]
    return node["v"]


def pack_cases(cases, prefix: str = "") -> tuple[list, dict]:
    """``(specs, arrays)`` for a list of case dicts; raises TypeError for what cannot travel."""
    specs, arrays = [], {}
    for k, case in enumerate(cases):
        spec = {"arrays": [], "scalars": [], "trees": {}, "literals": {}}
        for name, value in case.items():
            key = _key(prefix, k, name)
            if isinstance(value, np.ndarray):
                if value.dtype.kind not in NUMERIC:
                    raise TypeError(f"case input {name!r} has dtype {value.dtype}: numbers only")
                arrays[key] = value
                spec["arrays"].append(name)
            elif isinstance(value, _SCALARS):
                arrays[key] = np.asarray(value)
                spec["arrays"].append(name)
                spec["scalars"].append(name)
            elif isinstance(value, (tuple, list)):
                spec["trees"][name] = _pack_tree(value, key, arrays)
            else:
                json.dumps(value)  # raises for anything that cannot travel as JSON
                spec["literals"][name] = value
        specs.append(spec)
    return specs, arrays


def unpack_case(spec: dict, arrays, k: int, prefix: str = "") -> dict:
    """The case dict ``k`` back from its spec and the arrays (fresh copies)."""
    case = {}
    for name in spec["arrays"]:
        value = np.array(arrays[_key(prefix, k, name)])
        case[name] = value.item() if name in spec["scalars"] else value
    for name, tree in spec.get("trees", {}).items():
        case[name] = _unpack_tree(tree, arrays)
    case.update(spec["literals"])
    return case


def npy_bytes(arr: np.ndarray) -> bytes:
    """One array in ``.npy`` format (version 1.0, C order)."""
    arr = np.asarray(arr, order="C")   # (not ascontiguousarray: it makes a 0-d array 1-d)
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (
        arr.dtype.str, tuple(int(n) for n in arr.shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    magic = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
    return magic + header.encode("latin1") + arr.tobytes()


def npz_bytes(arrays: dict) -> bytes:
    """An uncompressed ``.npz`` of plain numeric arrays."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            zf.writestr(key + ".npy", npy_bytes(arr))
    return buf.getvalue()


def read_npz(data: bytes) -> dict:
    """Arrays of an ``.npz`` from a trusted source (the grader's inputs), without pickle."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def send(fd: int, header: dict, payload: bytes = b"") -> None:
    """Write one message: a JSON line (with the payload's ``size``), then the payload."""
    header = dict(header, size=len(payload))
    data = json.dumps(header).encode("utf-8") + b"\n" + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def recv(stream) -> tuple[dict, bytes]:
    """Read one message from a binary stream (the grader's side of the pipe is trusted)."""
    line = stream.readline()
    if not line:
        raise EOFError("the grader closed the channel")
    header = json.loads(line)
    size = int(header.get("size", 0))
    payload = stream.read(size) if size else b""
    if len(payload) != size:
        raise EOFError("the grader closed the channel")
    return header, payload
