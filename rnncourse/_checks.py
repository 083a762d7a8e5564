"""Input validation shared by every public function.

Errors name the argument, the expected shape and the shape received, so a student sees
``ValueError: Wh: expected shape (H, H) = (4, 4), got (4, 5)`` instead of a traceback from
deep inside numpy.
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_array", "as_mask", "check_shape", "check_finite", "check_same_batch"]


def as_array(name: str, value, ndim: int | None = None, *, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a float ndarray, checking its rank and (optionally) finiteness."""
    if value is None:
        raise ValueError(f"{name}: expected an array, got None")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and other oddities
        raise ValueError(f"{name}: could not convert to an array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name}: expected a real array, got complex dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got {arr.ndim}-d with shape {arr.shape}")
    if finite:
        check_finite(name, arr)
    return arr


def as_mask(name: str, value, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a boolean mask; it must hold booleans or the numbers 0 and 1 only.

    A mask of 0.5 or -1 is not a mask but a weight, and would silently rescale (or flip the sign
    of) a loss or an attention row; it is refused instead.
    """
    arr = as_array(name, value, ndim)
    if arr.dtype != bool:
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            values = np.unique(arr[bad])[:5]
            raise ValueError(f"{name}: a mask holds booleans or 0/1 only, got {values.tolist()}"
                             f"{' ...' if np.unique(arr[bad]).size > 5 else ''}")
    return arr.astype(bool)


def check_finite(name: str, arr: np.ndarray) -> None:
    if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating):
        if not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(f"{name}: contains {bad} NaN/inf value(s)")


def check_shape(name: str, arr: np.ndarray, expected: tuple, symbols: str | None = None) -> None:
    """Check ``arr.shape == expected``; ``symbols`` (e.g. ``"(H, H)"``) makes the message readable."""
    if tuple(arr.shape) != tuple(expected):
        sym = f"{symbols} = " if symbols else ""
        raise ValueError(f"{name}: expected shape {sym}{tuple(expected)}, got {tuple(arr.shape)}")


def check_same_batch(**arrays: np.ndarray) -> None:
    """All arrays share their first dimension (the batch N)."""
    items = list(arrays.items())
    first_name, first = items[0]
    for name, arr in items[1:]:
        if arr.shape[0] != first.shape[0]:
            raise ValueError(
                f"{name}: batch size {arr.shape[0]} does not match {first_name}'s batch size "
                f"{first.shape[0]} (shapes {tuple(arr.shape)} and {tuple(first.shape)})"
            )
