"""Sinusoidal positional encoding (Vaswani et al. 2017), in numpy.

Self-attention is permutation equivariant: without information about positions, a Transformer
cannot tell ``x_1 x_2`` from ``x_2 x_1``. The original Transformer adds to the embedding of the
symbol at position ``p`` (counted from 0) a fixed vector, eq. {eq}`tf-pe`:

    PE[p, 2i]     = sin(p / base^(2i / D))
    PE[p, 2i + 1] = cos(p / base^(2i / D)),     base = 10000,  i = 0, 1, ..., ceil(D / 2) - 1

Each pair of columns is a rotation at its own frequency, from one turn every 2 pi positions down to
one every ``2 pi base`` positions, so ``PE[p + k]`` is a fixed linear map (a rotation per pair) of
``PE[p]`` for every offset k (eq. {eq}`tf-pe-shift`). For odd D the last column is a sine only.

The encoding has no parameters and is added, so its backward pass hands the upstream gradient on
unchanged: :func:`positional_encoding_backward` returns ``dx = dout``.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array
from ._common import check_upstream

__all__ = ["sinusoidal_encoding", "positional_encoding_forward", "positional_encoding_backward"]


def _positive_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def sinusoidal_encoding(T: int, D: int, base: float = 10000.0, start: int = 0) -> np.ndarray:
    """The table PE of eq. {eq}`tf-pe` for positions ``start ... start + T - 1``: (T, D) float64.

    Args:
        T: number of positions.
        D: model width (any D >= 1; for odd D the last column is a sine).
        base: the wavelength scale (10000 in the original Transformer).
        start: first position (0 for a whole sequence; a decoder step at position p uses p).
    """
    T = _positive_int("T", T)
    D = _positive_int("D", D)
    start = _positive_int("start", start, minimum=0)
    if not (isinstance(base, (int, float, np.floating)) and not isinstance(base, bool) and base > 1):
        raise ValueError(f"base: expected a number > 1, got {base!r}")
    pos = np.arange(start, start + T, dtype=np.float64)[:, None]        # (T, 1)
    freq = float(base) ** (-np.arange(0, D, 2, dtype=np.float64) / D)   # 1 / base^(2i/D), (ceil(D/2),)
    angle = pos * freq                                                   # (T, ceil(D/2))
    pe = np.empty((T, D))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : D // 2])
    return pe


def positional_encoding_forward(x, base: float = 10000.0, start: int = 0):
    """Add the sinusoidal encoding to a batch of embedded sequences, eq. {eq}`tf-pe-add`.

    Args:
        x: embeddings, (N, T, D) (often already multiplied by sqrt(D), as in the original paper).
        base: as in :func:`sinusoidal_encoding`.
        start: position of ``x[:, 0]``.

    Returns:
        out (N, T, D) = x + PE[start:start + T], cache.
    """
    x = as_array("x", x, 3)
    N, T, D = x.shape
    pe = sinusoidal_encoding(T, D, base, start)
    return x + pe, (N, T, D)


def positional_encoding_backward(dout, cache):
    """Backward of :func:`positional_encoding_forward`: ``dx = dout`` (a copy), (N, T, D).

    The encoding is a constant added to x, so d(x + PE)/dx is the identity."""
    N, T, D = cache
    dout = check_upstream("dout", dout, (N, T, D), "(N, T, D)")
    return dout.copy()
