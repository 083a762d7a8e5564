"""Trusted comparison of a submission's outputs with the reference.

Used by the judge (in the grader process, its own copy) and by ``check`` (feedback only, in the
student's kernel or the sandbox). Messages say what is wrong in words a student can act on (which
output, expected vs got shape, max error) and never print the reference values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OutputVerdict", "compare_output", "to_plain_array"]

_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class OutputVerdict:
    name: str
    ok: bool
    message: str
    max_abs_error: float | None = None


def to_plain_array(value):
    """Convert a returned value to a plain numeric ndarray, or return ``None`` if impossible.

    Subclasses of ndarray and objects with a custom ``__eq__`` are reduced to their raw data (or
    rejected): comparisons are made on plain numbers only.
    """
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.asarray(value)
    if type(value) is np.ndarray:
        return value if value.dtype.kind in _NUMERIC_KINDS else None
    if isinstance(value, np.ndarray):  # subclass: take the raw buffer
        arr = np.array(value, subok=False, copy=True)
        return arr if arr.dtype.kind in _NUMERIC_KINDS else None
    return None


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{type(value).__name__} of dtype {value.dtype}"
    return type(value).__name__


def compare_output(name: str, got, expected: np.ndarray, rtol: float, atol: float) -> OutputVerdict:
    """Is ``got`` close to ``expected`` (``|got - expected| <= atol + rtol * |expected|``)?"""
    arr = to_plain_array(got)
    if arr is None:
        return OutputVerdict(name, False, f"{name}: expected a numeric array, got {_describe(got)}")
    if arr.shape != expected.shape:
        return OutputVerdict(
            name, False, f"{name}: wrong shape: expected {expected.shape}, got {arr.shape}"
        )
    if arr.dtype.kind == "b" and expected.dtype.kind != "b":
        return OutputVerdict(name, False, f"{name}: expected numbers, got booleans")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        return OutputVerdict(name, False, f"{name}: contains {bad} NaN/inf value(s)")
    exp = expected.astype(np.float64)
    err = np.abs(arr - exp)
    max_err = float(err.max()) if err.size else 0.0
    ok = bool(np.all(err <= atol + rtol * np.abs(exp)))
    if ok:
        return OutputVerdict(name, True, f"{name}: ok (max abs error {max_err:.1e})", max_err)
    wrong = int(np.count_nonzero(err > atol + rtol * np.abs(exp)))
    return OutputVerdict(
        name, False,
        f"{name}: {wrong} of {err.size} value(s) outside tolerance; max abs error {max_err:.2e} "
        f"(allowed {atol:g} + {rtol:g}*|expected|)",
        max_err,
    )
