"""Sequence tagging toy task (chapter 6): tag every position with the symbol ``offset`` steps away.

With ``offset = -2`` the tag of position t is the symbol read two steps *earlier*: a memory task any
forward RNN can learn. With ``offset = +2`` it is the symbol two steps *later*, which a forward RNN
has not read yet when it must answer: only a model that also reads the future (a bidirectional RNN)
can do better than chance. Symbols are i.i.d. uniform, so chance accuracy is exactly 1/V.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TaggingData", "offset_tagging", "one_hot"]


class TaggingData(NamedTuple):
    """A tagging data set of fixed length T.

    Attributes:
        ids: input symbols, (N, T) int64 in ``[0, V)``.
        x: the same as one-hot vectors, (N, T, V) float64.
        y: tags ``y[:, t] = ids[:, t + offset]``, (N, T) int64 (0 where undefined).
        mask: True where ``t + offset`` lies inside the sequence, (N, T) bool.
    """

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray


def one_hot(ids, V: int) -> np.ndarray:
    """One-hot float64 vectors, shape ``ids.shape + (V,)``."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids: expected integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids: must lie in [0, {V}), got range [{ids.min()}, {ids.max()}]")
    return np.eye(V)[ids]


def offset_tagging(num: int, T: int = 16, V: int = 6, offset: int = 2, seed: int = 0) -> TaggingData:
    """``num`` random sequences tagged with the symbol ``offset`` steps away (negative: the past).

    Positions whose partner ``t + offset`` falls outside ``[0, T)`` are masked out.
    """
    if num < 1 or V < 2 or not 0 <= abs(offset) < T:
        raise ValueError(f"num, V, offset: need num >= 1, V >= 2 and |offset| < T = {T}, got "
                         f"{num}, {V}, {offset}")
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, size=(num, T))
    y = np.zeros_like(ids)
    mask = np.zeros((num, T), dtype=bool)
    lo, hi = max(0, -offset), min(T, T - offset)            # t with 0 <= t + offset < T
    y[:, lo:hi] = ids[:, lo + offset:hi + offset]
    mask[:, lo:hi] = True
    return TaggingData(ids, one_hot(ids, V), y, mask)
