"""Helpers shared by the gated layers: argument checks, dtype choice and in-place activations.

Private to :mod:`rnncourse.layers`; the public checks live in :mod:`rnncourse._checks`.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_same_batch, check_shape

__all__ = [
    "check_gate_params", "check_sequence", "check_step", "check_upstream", "float_dtype",
    "time_major", "sigmoid", "sigmoid_", "check_indices",
]


def check_gate_params(Wx, Wh, b, gates: int, letter: str):
    """Check ``Wx (D, kH)``, ``Wh (H, kH)``, ``b (kH,)`` for k = ``gates``; ``letter`` is e.g. "4H".

    H is read from ``Wh.shape[0]``. Returns ``Wx, Wh, b, D, H``.
    """
    Wh = as_array("Wh", Wh, 2)
    H = Wh.shape[0]
    check_shape("Wh", Wh, (H, gates * H), f"(H, {letter})")
    Wx = as_array("Wx", Wx, 2)
    D = Wx.shape[0]
    check_shape("Wx", Wx, (D, gates * H), f"(D, {letter})")
    b = as_array("b", b, 1)
    check_shape("b", b, (gates * H,), f"({letter},)")
    return Wx, Wh, b, D, H


def check_sequence(x, h0, D: int, H: int, c0=None):
    """Check ``x (N, T, D)``, ``h0 (N, H)`` and the optional ``c0 (N, H)``; return them and N, T."""
    x = as_array("x", x, 3)
    N, T, _ = x.shape
    check_shape("x", x, (N, T, D), "(N, T, D)")
    h0 = as_array("h0", h0, 2)
    check_shape("h0", h0, (N, H), "(N, H)")
    if c0 is not None:
        c0 = as_array("c0", c0, 2)
        check_shape("c0", c0, (N, H), "(N, H)")
    return x, h0, c0, N, T


def check_step(x, prev_h, D: int, H: int, prev_c=None):
    """Check ``x (N, D)``, ``prev_h (N, H)`` and the optional ``prev_c (N, H)`` of one time step."""
    x = as_array("x", x, 2)
    check_shape("x", x, (x.shape[0], D), "(N, D)")
    prev_h = as_array("prev_h", prev_h, 2)
    check_shape("prev_h", prev_h, (prev_h.shape[0], H), "(N, H)")
    check_same_batch(x=x, prev_h=prev_h)
    if prev_c is not None:
        prev_c = as_array("prev_c", prev_c, 2)
        check_shape("prev_c", prev_c, (x.shape[0], H), "(N, H)")
    return x, prev_h, prev_c


def check_upstream(name: str, d, shape: tuple, symbols: str) -> np.ndarray:
    """Check an upstream gradient such as ``dh (N, T, H)`` against the forward's output shape."""
    d = as_array(name, d, len(shape))
    check_shape(name, d, shape, symbols)
    return d


def check_indices(name: str, idx, V: int, symbols: str | None = None) -> np.ndarray:
    """Integer indices in ``[0, V)`` (e.g. word ids); any shape."""
    idx = np.asarray(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"{name}: expected integer indices{' ' + symbols if symbols else ''}, "
                         f"got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(f"{name}: indices must lie in [0, {V}), "
                         f"got range [{idx.min()}, {idx.max()}]")
    return idx


def float_dtype(*arrays) -> np.dtype:
    """The floating dtype to compute in: float32 stays float32, anything with float64 is float64."""
    return np.result_type(*arrays, np.float32)


def time_major(x: np.ndarray, dtype, copy: bool = False) -> np.ndarray:
    """``(N, T, D) -> (T, N, D)`` C-contiguous, so ``x[t]`` is one contiguous block.

    Without ``copy`` the result may be a view of ``x`` (when N = 1 the transpose already is
    contiguous); pass ``copy=True`` for a buffer that will be written to.
    """
    return x.transpose(1, 0, 2).astype(dtype, order="C", copy=copy)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, computed without overflow (a new array).

    The one sigmoid of the library; :func:`sigmoid_` is its in-place twin for the gate blocks of
    the LSTM and GRU layers.
    """
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """``a <- 1 / (1 + exp(-a))`` in place, without allocating.

    For ``a < -709`` ``exp(-a)`` overflows to inf and the result is the correct 0, so the overflow
    warning is silenced.
    """
    with np.errstate(over="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a
