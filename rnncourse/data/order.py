"""An order-dependent classification task (chapter 13): does symbol 1 come before symbol 2?

Each sequence holds distinct symbols drawn from ``1 .. alphabet``, always including 1 and 2, in a
random order; the label is 1 when symbol 1 comes before symbol 2. The examples come in **pairs**:
example ``2i + 1`` is example ``2i`` with the positions of 1 and 2 swapped, so it holds the same
symbols and has the opposite label. A model that only sees *which* symbols occur, not where (a
Transformer without positional encoding, mean-pooled), gives both members of a pair the same
output, so it is right on exactly one of them: accuracy 1/2 on any set of pairs, whatever it learns.

>>> x, y, lengths = order_pairs(2, seed=0)
>>> x.shape, y.tolist()
((4, 10), [1, 0, 1, 0])
"""
from __future__ import annotations

import numpy as np

__all__ = ["order_pairs"]


def order_pairs(num: int, alphabet: int = 10, min_len: int = 4, max_len: int = 10, seed: int = 0):
    """``num`` pairs of sequences (``2 num`` rows) for the task above, padded with 0.

    Args:
        num: number of pairs (>= 1).
        alphabet: symbols are ``1 .. alphabet`` (>= 3).
        min_len, max_len: lengths are uniform in ``[min_len, max_len]``; ``2 <= min_len <= max_len
            <= alphabet`` (the symbols of a sequence are distinct).
        seed: seed of ``np.random.default_rng``.

    Returns:
        x (2 num, max_len) int64, y (2 num,) int64 (1: symbol 1 before symbol 2), lengths (2 num,).
    """
    if num < 1:
        raise ValueError(f"num: expected >= 1, got {num}")
    if alphabet < 3:
        raise ValueError(f"alphabet: expected >= 3, got {alphabet}")
    if not 2 <= min_len <= max_len <= alphabet:
        raise ValueError(f"min_len, max_len: need 2 <= min_len <= max_len <= alphabet = {alphabet}, "
                         f"got {min_len}, {max_len}")
    rng = np.random.default_rng(seed)
    x = np.zeros((2 * num, max_len), dtype=np.int64)
    y = np.zeros(2 * num, dtype=np.int64)
    lengths = np.zeros(2 * num, dtype=np.int64)
    for i in range(num):
        L = int(rng.integers(min_len, max_len + 1))
        others = rng.permutation(np.arange(3, alphabet + 1))[:L - 2]
        s = rng.permutation(np.concatenate([[1, 2], others]))
        a, b = int(np.flatnonzero(s == 1)[0]), int(np.flatnonzero(s == 2)[0])
        t = s.copy()
        t[a], t[b] = 2, 1                                  # the same symbols, the order of 1 and 2 swapped
        x[2 * i, :L], x[2 * i + 1, :L] = s, t
        y[2 * i], y[2 * i + 1] = int(a < b), int(b < a)
        lengths[2 * i] = lengths[2 * i + 1] = L
    return x, y, lengths
