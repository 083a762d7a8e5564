"""Addition as a sequence-to-sequence task (chapter 8): ``"57+38"`` -> ``"95"``.

Also the padding helper shared by every character-level seq2seq task of the course (the dates of
chapter 10 use it too): a list of ``(source, target)`` strings becomes padded integer arrays, the
decoder's teacher-forcing input ``^ y`` and target ``y $``, and the mask of real target positions.
Everything is generated from a seed; nothing is downloaded.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .chars import CharVocab

__all__ = ["BOS", "EOS", "ADDITION_CHARS", "Seq2SeqBatch", "addition_vocab", "addition_pairs",
           "seq2seq_batch", "reverse_padded", "copy_pairs"]

BOS = "^"   # start-of-sequence: the decoder's first input
EOS = "$"   # end-of-sequence: the decoder's last target; generation stops when it is produced
ADDITION_CHARS = "0123456789+"


class Seq2SeqBatch(NamedTuple):
    """Padded arrays of a seq2seq data set (padding id 0 everywhere).

    Attributes:
        src: source ids, (N, Ts) int64, padded at the end.
        src_len: number of real source symbols, (N,) int64.
        tgt_in: decoder inputs ``^ y_1 ... y_m``, (N, Tt) int64.
        tgt_out: decoder targets ``y_1 ... y_m $``, (N, Tt) int64.
        tgt_mask: True where ``tgt_out`` is a real symbol, (N, Tt) bool.
    """

    src: np.ndarray
    src_len: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    tgt_mask: np.ndarray


def addition_vocab() -> CharVocab:
    """Digits, ``+``, :data:`BOS` and :data:`EOS`; id 0 is the padding symbol ``_``."""
    return CharVocab(ADDITION_CHARS + BOS + EOS)


def _operand(rng: np.random.Generator, digits: int) -> int:
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return int(rng.integers(low, 10 ** digits))


def addition_pairs(num: int, max_digits: int = 3, seed: int = 0,
                   min_digits: int = 1) -> list[tuple[str, str]]:
    """``num`` distinct problems ``("a+b", "a+b evaluated")`` in random order.

    Each operand first draws its number of digits uniformly from ``[min_digits, max_digits]`` and
    then a value with that many digits, so every input length from ``2 min_digits + 1`` to
    ``2 max_digits + 1`` is common. The pairs are distinct, so ``pairs[:n]`` and ``pairs[n:]`` are
    disjoint training and test sets.
    """
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"min_digits, max_digits: need 1 <= min_digits <= max_digits, "
                         f"got {min_digits}, {max_digits}")
    counts = [10 if d == 1 else 9 * 10 ** (d - 1) for d in range(min_digits, max_digits + 1)]
    possible = sum(counts) ** 2
    if not 1 <= num <= possible // 2:
        raise ValueError(f"num: expected 1 <= num <= {possible // 2} (half of the {possible} "
                         f"possible problems), got {num}")
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, int]] = set()
    pairs: list[tuple[str, str]] = []
    while len(pairs) < num:
        a = _operand(rng, int(rng.integers(min_digits, max_digits + 1)))
        b = _operand(rng, int(rng.integers(min_digits, max_digits + 1)))
        if (a, b) in seen:
            continue
        seen.add((a, b))
        pairs.append((f"{a}+{b}", str(a + b)))
    return pairs


def reverse_padded(ids, lengths) -> np.ndarray:
    """Reverse the first ``lengths[n]`` entries of each row of ``ids (N, T)``; padding stays at
    the end. ``"57+38__"`` becomes ``"83+75__"``."""
    ids = np.asarray(ids)
    lengths = np.asarray(lengths)
    if ids.ndim != 2:
        raise ValueError(f"ids: expected a 2-d (N, T) array, got shape {ids.shape}")
    N, T = ids.shape
    if lengths.shape != (N,) or (lengths.size and (lengths.min() < 0 or lengths.max() > T)):
        raise ValueError(f"lengths: expected shape ({N},) with values in [0, {T}], got "
                         f"shape {lengths.shape}")
    t = np.arange(T)
    src_pos = np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)   # (N, T)
    return np.take_along_axis(ids, src_pos, axis=1)


def seq2seq_batch(pairs: Sequence[tuple[str, str]], vocab: CharVocab,
                  reverse_source: bool = False) -> Seq2SeqBatch:
    """Pad ``(source, target)`` strings into a :class:`Seq2SeqBatch`.

    ``reverse_source=True`` reverses each source (Sutskever et al. 2014), keeping its padding at
    the end. The vocabulary must contain :data:`BOS` and :data:`EOS`.
    """
    if len(pairs) == 0:
        raise ValueError("pairs: expected at least one (source, target) pair")
    for sym in (BOS, EOS):
        if sym not in vocab.stoi:
            raise ValueError(f"vocab: must contain {sym!r}")
    N = len(pairs)
    Ts = max(len(s) for s, _ in pairs)
    Tt = max(len(t) for _, t in pairs) + 1
    src = np.zeros((N, Ts), dtype=np.int64)
    tgt_in = np.zeros((N, Tt), dtype=np.int64)
    tgt_out = np.zeros((N, Tt), dtype=np.int64)
    src_len = np.zeros(N, dtype=np.int64)
    for n, (s, t) in enumerate(pairs):
        if len(s) == 0:
            raise ValueError(f"pairs: source {n} is empty")
        src[n, : len(s)] = vocab.encode(s)
        src_len[n] = len(s)
        y = vocab.encode(t)
        tgt_in[n, : len(y) + 1] = [vocab.stoi[BOS]] + y
        tgt_out[n, : len(y) + 1] = y + [vocab.stoi[EOS]]
    if reverse_source:
        src = reverse_padded(src, src_len)
    return Seq2SeqBatch(src, src_len, tgt_in, tgt_out, tgt_out != 0)


def copy_pairs(num: int, max_len: int = 12, seed: int = 0,
               min_len: int = 1) -> list[tuple[str, str]]:
    """``num`` pairs ``(s, s)`` of random digit strings, length uniform in ``[min_len, max_len]``.

    To copy its input the decoder needs *every* symbol, and all of them must pass through the
    fixed-size context C: the longer the input, the more C has to hold (chapter 8).
    """
    if not 1 <= min_len <= max_len:
        raise ValueError(f"min_len, max_len: need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    if num < 1:
        raise ValueError(f"num: expected >= 1, got {num}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=num)
    out = []
    for L in lengths:
        s = "".join(str(d) for d in rng.integers(0, 10, size=L))
        out.append((s, s))
    return out
