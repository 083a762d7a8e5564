"""Numerical gradient checking with centred differences.

The two-point centred difference ``(f(x + h) - f(x - h)) / (2 h)`` has truncation error O(h^2) and
round-off error O(eps |f| / h). The default is the four-point centred stencil
``(-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h)``, whose truncation error is O(h^4):
with ``h = 1e-3`` in float64 both errors are around 1e-12, so a correct backward pass reaches a
relative error far below 1e-7 even on small gradient entries, while a wrong one stays near 1.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "numerical_gradient_array", "gradcheck"]


def rel_error(x, y, eps: float = 1e-8) -> float:
    """Maximum elementwise relative error ``|x - y| / max(eps, |x| + |y|)``.

    ``eps`` keeps entries that are (numerically) zero in both from dividing by zero; CS231n uses
    the same definition.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ: {x.shape} vs {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(eps, np.abs(x) + np.abs(y))))


# Centred stencils as (weight, k) pairs of differences f(x + k h) - f(x - k h), over denominator * h.
# Differencing symmetric pairs first makes an input the output ignores get exactly 0.
_STENCILS = {
    2: (((1.0, 1),), 2.0),
    4: (((8.0, 1), (-1.0, 2)), 12.0),
}


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-3,
                       order: int = 4) -> np.ndarray:
    """Gradient of the scalar ``f()`` with respect to ``x`` (perturbed in place, then restored).

    ``order`` 2 or 4 picks the centred stencil; use ``h ~ 1e-5`` with ``order=2``.
    """
    if order not in _STENCILS:
        raise ValueError(f"order: expected 2 or 4, got {order!r}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError("x: expected a float64 ndarray (it is perturbed in place)")
    pairs, denom = _STENCILS[order]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)      # views: writes reach x
    for i in range(flat.size):
        old = flat[i]
        total = 0.0
        for w, k in pairs:
            flat[i] = old + k * h
            fp = float(f())
            flat[i] = old - k * h
            fm = float(f())
            total += w * (fp - fm)
        flat[i] = old
        gflat[i] = total / (denom * h)
    return grad


def numerical_gradient_array(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-3, order: int = 4) -> np.ndarray:
    """Gradient of ``sum(f() * dout)`` with respect to ``x`` (the vector-Jacobian product)."""
    return numerical_gradient(lambda: np.sum(f() * dout), x, h, order)


def gradcheck(forward: Callable, backward: Callable, inputs: Sequence[np.ndarray],
              seed: int = 0, h: float = 1e-3, order: int = 4) -> list[float]:
    """Compare ``backward`` with centred differences for every input of ``forward``.

    ``forward(*inputs) -> (out, cache)`` and ``backward(dout, cache) -> grads`` (a tuple in the
    order of ``inputs``). Returns the relative error of each input's gradient. Inputs must be float64.
    """
    for i, x in enumerate(inputs):
        if np.asarray(x).dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {np.asarray(x).dtype}; use float64")
    out, cache = forward(*inputs)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    errors = []
    for x, g in zip(inputs, grads):
        num = numerical_gradient_array(lambda: forward(*inputs)[0], x, dout, h, order)
        errors.append(rel_error(num, g))
    return errors
