"""The long-lag task of Hochreiter & Schmidhuber (1997), experiment 2 (chapters 4 and 5).

There are ``p + 1`` symbols: the two keys ``x``, ``y`` and the distractors ``a1 ... a(p-1)``. A
sequence is a key, ``p - 1`` distractors, and the same key again:

    (x, a_., a_., ..., a_., x)    or    (y, a_., a_., ..., a_., y)

A network reads the first ``p`` symbols and must predict the last one, so it has to carry the first
symbol across ``p - 1`` distractors (a lag of ``p`` steps). With ``random_distractors=False`` the
distractors are the fixed sequence ``a1, a2, ..., a(p-1)``, the paper's task 2a; with ``True`` (the
default) each is drawn uniformly from ``a1 ... a(p-1)``, which removes the local regularities a
network could otherwise exploit (the idea of the paper's task 2b). The last symbol is the target;
without memory of the first symbol it can only be guessed (50 %).

Symbol ids: ``x = 0``, ``y = 1``, ``a_k = k + 1``; the target is the key id, 0 or 1.
Everything is generated from a seed; nothing is downloaded.
"""
from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np

__all__ = ["LongLagBatch", "longlag_symbols", "longlag_batch"]


class LongLagBatch(NamedTuple):
    """A batch of long-lag sequences.

    Attributes:
        tokens: the whole sequences, key ... key, (N, p + 1) int64.
        x: one-hot inputs of the first p symbols, (N, p, p + 1).
        y: the symbol to predict after the last input (the key: 0 for x, 1 for y), (N,) int64.
    """

    tokens: np.ndarray
    x: np.ndarray
    y: np.ndarray


def _check_p(p) -> int:
    if not isinstance(p, Integral) or isinstance(p, bool) or p < 1:
        raise ValueError(f"p: expected an integer lag >= 1, got {p!r}")
    return int(p)


def longlag_symbols(p: int) -> list[str]:
    """Names of the ``p + 1`` symbols, indexed by id: ``["x", "y", "a1", ..., "a(p-1)"]``."""
    p = _check_p(p)
    return ["x", "y"] + [f"a{k}" for k in range(1, p)]


def longlag_batch(n: int, p: int, seed=0, random_distractors: bool = True,
                  dtype=np.float64) -> LongLagBatch:
    """``n`` sequences with lag ``p`` (see the module docstring).

    Args:
        n: number of sequences (N).
        p: the lag: inputs have p symbols, the key is the first and must be predicted after the last.
        seed: an int seed, or a ``numpy.random.Generator`` to draw successive batches from.
        random_distractors: draw distractors at random, or use ``a1 ... a(p-1)`` in order (task 2a).
        dtype: dtype of the one-hot inputs (float32 for torch training).

    Returns:
        A :class:`LongLagBatch`; each key is drawn with probability 1/2.
    """
    p = _check_p(p)
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive number of sequences, got {n!r}")
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2, size=n)                                   # x = 0, y = 1
    if random_distractors:
        distractors = rng.integers(2, p + 1, size=(n, p - 1))           # a1 ... a(p-1): ids 2 .. p
    else:
        distractors = np.broadcast_to(np.arange(2, p + 1), (n, p - 1))
    tokens = np.concatenate([keys[:, None], distractors, keys[:, None]], axis=1).astype(np.int64)
    x = np.eye(p + 1, dtype=dtype)[tokens[:, :p]]                      # (N, p, p + 1)
    return LongLagBatch(tokens, x, keys.astype(np.int64))
