"""Decoding a seq2seq model, and the masked sequence loss (chapter 8), in numpy.

A decoder is any ``step(prev, state) -> (logp, state)``: given the previous symbols ``prev (B,)``
of B hypotheses and their states, it returns the next-symbol log-probabilities ``logp (B, V)``
and the new states. A state is an array (or a tuple of arrays, e.g. an LSTM's ``(h, c)``) whose
first axis is the hypothesis; the searches reorder it by indexing with an integer array, which
works for numpy arrays and torch tensors alike.

* :func:`greedy_search` picks the most probable symbol at every step, eq. {eq}`s2s-greedy`.
* :func:`beam_search` keeps the ``beam_width`` best partial sequences, eq. {eq}`s2s-beam`.
  A hypothesis that has produced ``eos`` is *finished*: it keeps its score and competes with the
  longer hypotheses for a place in the beam. The search stops when every hypothesis in the beam
  is finished or after ``max_len`` symbols. Scores are sums of log-probabilities (no length
  normalisation); with ``beam_width=1`` it is greedy search.

Output arrays hold the generated symbols, ``eos`` included, then 0 (padding) after ``eos``.

:func:`rnn_decoder_step` is a tiny decoder defined by three weight arrays (the one the exercise
uses): ``h' = tanh(E[prev] + h Wh)``, ``logp = log_softmax(h' Wo)``. :func:`greedy_decode` and
:func:`beam_decode` run the searches with it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._checks import as_array, check_shape
from .layers._common import check_indices
from .layers.losses import temporal_softmax_loss

__all__ = ["log_softmax", "greedy_search", "beam_search", "rnn_decoder_step", "greedy_decode",
           "beam_decode", "masked_cross_entropy"]


def log_softmax(o, axis: int = -1) -> np.ndarray:
    """``o - max o - log sum exp(o - max o)`` over ``axis``: never overflows."""
    o = np.asarray(o, dtype=np.float64)
    z = o - o.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _take(state, idx: np.ndarray):
    """Reorder the hypotheses of a state (an array, or a tuple/list of them)."""
    if isinstance(state, (tuple, list)):
        return type(state)(_take(s, idx) for s in state)
    return state[idx]


def _check_search(bos, eos, max_len):
    for name, value in (("bos", bos), ("eos", eos), ("max_len", max_len)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{name}: expected an integer, got {value!r}")
    if max_len < 1:
        raise ValueError(f"max_len: expected >= 1, got {max_len}")


def greedy_search(step: Callable, state, n: int, bos: int, eos: int, max_len: int):
    """Greedy decoding of ``n`` sequences at once, eq. {eq}`s2s-greedy`.

    Args:
        step: ``step(prev (n,), state) -> (logp (n, V), state)``.
        state: the initial decoder state of the n sequences (first axis n).
        n: number of sequences.
        bos, eos: start and end symbols.
        max_len: most symbols generated per sequence (``eos`` included).

    Returns:
        ids (n, max_len) int64 (0 after ``eos``) and scores (n,): the summed log-probabilities
        of the generated symbols, ``eos`` included.
    """
    _check_search(bos, eos, max_len)
    ids = np.zeros((n, max_len), dtype=np.int64)
    scores = np.zeros(n)
    done = np.zeros(n, dtype=bool)
    prev = np.full(n, bos, dtype=np.int64)
    for t in range(max_len):
        logp, state = step(prev, state)
        logp = np.asarray(logp, dtype=np.float64)
        best = logp.argmax(axis=1)                                 # y_t = argmax p(y | y_<t, C)
        live = ~done
        ids[live, t] = best[live]
        scores[live] += logp[np.arange(n), best][live]
        done |= best == eos
        if done.all():
            break
        prev = best
    return ids, scores


def beam_search(step: Callable, state, bos: int, eos: int, max_len: int, beam_width: int):
    """Beam search for one source sequence, eq. {eq}`s2s-beam`.

    Args:
        step: ``step(prev (B,), state) -> (logp (B, V), state)``.
        state: the initial decoder state of one hypothesis (first axis of length 1).
        bos, eos: start and end symbols.
        max_len: most symbols per hypothesis (``eos`` included).
        beam_width: B, the number of hypotheses kept.

    Returns:
        ids (B, max_len) int64 and scores (B,), best first (fewer rows if fewer than B
        sequences exist, e.g. B > V at the first step). Finished hypotheses end with ``eos``
        followed by 0s.
    """
    _check_search(bos, eos, max_len)
    B = beam_width
    if not isinstance(B, (int, np.integer)) or isinstance(B, bool) or B < 1:
        raise ValueError(f"beam_width: expected a positive integer, got {beam_width!r}")
    seqs = np.zeros((1, max_len), dtype=np.int64)
    scores = np.zeros(1)
    done = np.zeros(1, dtype=bool)
    prev = np.array([bos], dtype=np.int64)
    for t in range(max_len):
        logp, state = step(prev, state)
        logp = np.asarray(logp, dtype=np.float64)
        V = logp.shape[1]
        cand = scores[:, None] + logp                              # log p(y_<t) + log p(y_t | ...)
        cand[done] = -np.inf                                       # finished: no extension ...
        cand[done, 0] = scores[done]                               # ... but it stays in the race
        flat = cand.reshape(-1)
        order = np.argsort(-flat, kind="stable")[:B]               # the B best of K * V
        order = order[np.isfinite(flat[order])]
        src, sym = order // V, order % V
        seqs, scores, was_done = seqs[src].copy(), flat[order], done[src]
        seqs[~was_done, t] = sym[~was_done]
        done = was_done | (sym == eos)
        state = _take(state, src)
        prev = np.where(was_done, eos, sym)
        if done.all():
            break
    return seqs, scores


def rnn_decoder_step(prev, h, E, Wh, Wo):
    """The exercise's tiny decoder: ``h' = tanh(E[prev] + h Wh)``, ``logp = log_softmax(h' Wo)``.

    Args:
        prev: previous symbols, (B,) int.
        h: states, (B, H).
        E: input embedding, (V, H).
        Wh: recurrence, (H, H).
        Wo: output projection, (H, V).

    Returns:
        logp (B, V) and the new states h' (B, H).
    """
    h_next = np.tanh(E[prev] + h @ Wh)
    return log_softmax(h_next @ Wo), h_next


def _check_decoder(h0, E, Wh, Wo, ndim):
    h0 = as_array("h0", h0, ndim)
    H = h0.shape[-1]
    E = as_array("E", E, 2)
    V = E.shape[0]
    check_shape("E", E, (V, H), "(V, H)")
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (H, H), "(H, H)")
    Wo = as_array("Wo", Wo, 2)
    check_shape("Wo", Wo, (H, V), "(H, V)")
    return h0, E, Wh, Wo


def greedy_decode(h0, E, Wh, Wo, bos, eos, max_len):
    """Greedy search with :func:`rnn_decoder_step` from the states ``h0 (N, H)``.

    Returns ids (N, max_len) and scores (N,) as :func:`greedy_search`.
    """
    h0, E, Wh, Wo = _check_decoder(h0, E, Wh, Wo, 2)
    step = lambda prev, h: rnn_decoder_step(prev, h, E, Wh, Wo)
    return greedy_search(step, h0, h0.shape[0], int(bos), int(eos), int(max_len))


def beam_decode(h0, E, Wh, Wo, bos, eos, max_len, beam_width):
    """Beam search with :func:`rnn_decoder_step` from the single state ``h0 (H,)``.

    Returns ids (B, max_len) and scores (B,), best first, as :func:`beam_search`.
    """
    h0, E, Wh, Wo = _check_decoder(h0, E, Wh, Wo, 1)
    step = lambda prev, h: rnn_decoder_step(prev, h, E, Wh, Wo)
    return beam_search(step, h0[None, :], int(bos), int(eos), int(max_len), int(beam_width))


def masked_cross_entropy(logits, targets, pad_id: int = 0):
    """Cross-entropy averaged over the real (non-padding) target symbols, eq. {eq}`s2s-masked-loss`.

    Args:
        logits: (N, T, V).
        targets: integer ids, (N, T); positions equal to ``pad_id`` are ignored.
        pad_id: the padding id.

    Returns:
        loss (float) and dlogits (N, T, V) = ``(softmax(logits) - onehot(targets)) * mask / M``,
        M the number of real symbols. Same as ``torch.nn.functional.cross_entropy`` with
        ``ignore_index=pad_id``.
    """
    logits = as_array("logits", logits, 3)
    N, T, V = logits.shape
    targets = check_indices("targets", targets, V, "(token ids)")
    check_shape("targets", targets, (N, T), "(N, T)")
    mask = targets != pad_id                                       # (N, T)
    M = int(mask.sum())
    if M == 0:
        raise ValueError("targets: every position is padding; the mean loss is undefined")
    # chapter 1's masked loss averages over the N sequences; here the mean is over the M real symbols
    loss, dlogits = temporal_softmax_loss(logits, targets, mask)
    return loss * N / M, dlogits * (N / M)
