"""Memory tasks across time scales (chapters 2 and 3), deterministic given a seed.

* :func:`delayed_recall`: symbols in, the symbol of ``delay`` steps ago out (a classification task
  for a trained RNN; the dependency spans exactly ``delay`` steps).
* :func:`recall_series`: one long scalar signal and, per delay k, the target ``u(t - k)``
  (Jaeger's memory-capacity task for echo state networks).
* :func:`moving_average_series`: the same signal and, per window w, the mean of its last w values
  (a slow feature: it needs a long but blurred memory).

Import from this module (``from rnncourse.data.memory import delayed_recall``).
"""
from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["delayed_recall", "recall_series", "moving_average_series"]


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _lags(name: str, values, T: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name}: expected a non-empty 1-d sequence of integers, got {values!r}")
    if arr.min() < 1 or arr.max() >= T:
        raise ValueError(f"{name}: every value must lie in [1, T) = [1, {T}), got {arr.tolist()}")
    return arr


def delayed_recall(N: int, T: int, delay: int, n_symbols: int = 4, seed: int = 0):
    """Sequences of random symbols whose target at step t is the input symbol of step t - delay.

    Args:
        N: number of sequences; T: their length (> delay).
        delay: how many steps back the target lies, >= 1.
        n_symbols: size K of the alphabet (chance accuracy is 1 / K).
        seed: the seed of ``np.random.default_rng``.

    Returns:
        x: one-hot inputs, float64 (N, T, K);
        y: integer targets (N, T), ``y[:, t] = symbol[:, t - delay]`` (0 for t < delay);
        mask: booleans (N, T), False for the first ``delay`` steps, which have no target.
    """
    N = _positive_int("N", N)
    delay = _positive_int("delay", delay)
    T = _positive_int("T", T, delay + 1)
    K = _positive_int("n_symbols", n_symbols, 2)
    symbols = np.random.default_rng(seed).integers(0, K, size=(N, T))
    x = np.eye(K)[symbols]
    y = np.zeros((N, T), dtype=np.int64)
    y[:, delay:] = symbols[:, :-delay]
    mask = np.zeros((N, T), dtype=bool)
    mask[:, delay:] = True
    return x, y, mask


def _signal(T: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=T)


def recall_series(T: int, delays, seed: int = 0):
    """A white-noise signal ``u(t) ~ U(-1, 1)`` and the delayed copies ``u(t - k)`` for each delay k.

    Args:
        T: length of the signal.
        delays: the delays k, integers in [1, T).
        seed: the seed of ``np.random.default_rng``.

    Returns:
        u: (T,); Y: (T, len(delays)) with ``Y[t, j] = u[t - delays[j]]``, and 0 where
        ``t < delays[j]`` (discard at least ``max(delays)`` initial steps, the washout).
    """
    T = _positive_int("T", T, 2)
    delays = _lags("delays", delays, T)
    u = _signal(T, seed)
    Y = np.zeros((T, delays.size))
    for j, k in enumerate(delays):
        Y[k:, j] = u[:-k]
    return u, Y


def moving_average_series(T: int, windows, seed: int = 0):
    """The same signal as :func:`recall_series` and its moving averages over the last w steps.

    Args:
        T: length of the signal.
        windows: the window lengths w, integers in [1, T).
        seed: the seed of ``np.random.default_rng``.

    Returns:
        u: (T,); Y: (T, len(windows)) with ``Y[t, j] = mean(u[t - w + 1 .. t])`` for
        ``w = windows[j]`` (steps before 0 count as 0: discard a washout of ``max(windows)``).
    """
    T = _positive_int("T", T, 2)
    windows = _lags("windows", windows, T)
    u = _signal(T, seed)
    csum = np.concatenate([[0.0], np.cumsum(u)])          # csum[t + 1] = u[0] + ... + u[t]
    Y = np.zeros((T, windows.size))
    t = np.arange(T)
    for j, w in enumerate(windows):
        Y[:, j] = (csum[t + 1] - csum[np.maximum(t + 1 - w, 0)]) / w
    return u, Y
