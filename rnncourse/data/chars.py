"""Character-level toy data (chapter 1): a vocabulary, a^n b^n strings, next-character batches."""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["CharVocab", "anbn_strings", "next_char_batch"]


class CharVocab:
    """Maps characters to ids and back. Id 0 is the padding symbol ``pad``.

    >>> v = CharVocab("ab$")
    >>> v.encode("ab$")
    [1, 2, 3]
    """

    def __init__(self, chars: str, pad: str = "_"):
        chars = "".join(dict.fromkeys(chars))  # unique, order kept
        if pad in chars:
            raise ValueError(f"chars: must not contain the padding symbol {pad!r}")
        self.pad = pad
        self.itos = [pad] + list(chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"text: characters {unknown} are not in the vocabulary {self.itos[1:]}")
        return [self.stoi[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.itos[int(i)] for i in ids if int(i) != 0)

    def one_hot(self, ids, dtype=np.float64) -> np.ndarray:
        """One-hot vectors, shape ``ids.shape + (V,)``."""
        ids = np.asarray(ids)
        return np.eye(len(self), dtype=dtype)[ids]


def anbn_strings(num: int, max_n: int = 6, seed: int = 0) -> list[str]:
    """``num`` strings ``a^n b^n $`` with n uniform in [1, max_n].

    Predicting the next character needs memory: after the first ``b`` the network must count down
    to know when ``$`` comes, which a fixed-size window cannot do for every n.
    """
    if num < 1 or max_n < 1:
        raise ValueError(f"num and max_n must be >= 1, got num={num}, max_n={max_n}")
    rng = np.random.default_rng(seed)
    ns = rng.integers(1, max_n + 1, size=num)
    return ["a" * n + "b" * n + "$" for n in ns]


def next_char_batch(texts: Sequence[str], vocab: CharVocab):
    """Inputs, targets and mask for next-character prediction, padded to the longest text.

    Returns:
        x: one-hot inputs ``text[:-1]``, (N, T, V) float64.
        y: target ids ``text[1:]``, (N, T) int.
        mask: 1 where a target exists, (N, T) bool.
    """
    if len(texts) == 0:
        raise ValueError("texts: expected at least one string")
    short = [t for t in texts if len(t) < 2]
    if short:
        raise ValueError(f"texts: every string needs at least 2 characters, got {short[0]!r}")
    T = max(len(t) for t in texts) - 1
    ids = np.zeros((len(texts), T + 1), dtype=np.int64)
    for n, t in enumerate(texts):
        ids[n, : len(t)] = vocab.encode(t)
    x = vocab.one_hot(ids[:, :-1])
    y = ids[:, 1:]
    mask = y != 0
    return x, y, mask
