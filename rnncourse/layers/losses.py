"""Output layers and losses over sequences (book chapter 1, eqs. {eq}`rnn-o` to {eq}`rnn-loss`).

The sequence loss is ``L = sum_t L(t) = -sum_t log p(y(t) | x(1..t))`` for each sequence, averaged
over the batch; a mask drops padded steps from the sum.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, as_mask, check_shape
from ._common import check_indices, sigmoid

__all__ = [
    "temporal_affine_forward", "temporal_affine_backward",
    "softmax", "temporal_softmax_loss", "sigmoid_cross_entropy",
]


def temporal_affine_forward(h, V, c):
    """Output logits at every step, ``o(t) = c + V h(t)`` (eq. {eq}`rnn-o`).

    Args:
        h: hidden states, (N, T, H).
        V: output weights V^T in row layout, (H, M).
        c: output bias, (M,).

    Returns:
        o: logits, (N, T, M); cache.
    """
    h = as_array("h", h, 3)
    V = as_array("V", V, 2)
    N, T, H = h.shape
    check_shape("V", V, (H, V.shape[1]), "(H, M)")
    M = V.shape[1]
    c = as_array("c", c, 1)
    check_shape("c", c, (M,), "(M,)")
    o = (h.reshape(N * T, H) @ V + c).reshape(N, T, M)
    return o, (h, V)


def temporal_affine_backward(do, cache):
    """Backward of :func:`temporal_affine_forward`: returns dh (N, T, H), dV (H, M), dc (M,)."""
    h, V = cache
    N, T, H = h.shape
    M = V.shape[1]
    do = as_array("do", do, 3)
    check_shape("do", do, (N, T, M), "(N, T, M)")
    do2 = do.reshape(N * T, M)
    dh = (do2 @ V.T).reshape(N, T, H)
    dV = h.reshape(N * T, H).T @ do2
    dc = do2.sum(axis=0)
    return dh, dV, dc


def softmax(o, axis: int = -1):
    """Numerically stable softmax, ``exp(o - max o) / sum exp(o - max o)`` (eq. {eq}`rnn-softmax`)."""
    o = np.asarray(o)
    z = o - o.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def temporal_softmax_loss(o, y, mask=None):
    """Softmax cross-entropy summed over time, averaged over the batch (eq. {eq}`rnn-loss`).

    Args:
        o: logits, (N, T, V).
        y: integer targets in [0, V), (N, T).
        mask: optional booleans or 0/1, (N, T); steps with mask 0 contribute nothing.

    Returns:
        loss (float) and do (N, T, V): ``(softmax(o) - onehot(y)) * mask / N``.
    """
    o = as_array("o", o, 3)
    N, T, V = o.shape
    y = check_indices("y", y, V, "(class ids)")
    check_shape("y", y, (N, T), "(N, T)")
    if mask is None:
        mask = np.ones((N, T), dtype=o.dtype)
    else:
        mask = as_mask("mask", mask, 2)
        check_shape("mask", mask, (N, T), "(N, T)")
        mask = mask.astype(o.dtype)
    flat = o.reshape(N * T, V)
    z = flat - flat.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    yf, mf = y.reshape(-1), mask.reshape(-1)
    loss = -np.sum(mf * log_probs[rows, yf]) / N
    dflat = np.exp(log_probs)
    dflat[rows, yf] -= 1.0                              # dL(t)/do(t) = y_hat(t) - 1_y(t)
    dflat *= mf[:, None] / N
    return float(loss), dflat.reshape(N, T, V)




def sigmoid_cross_entropy(s, t, mask=None):
    """Binary cross-entropy on logits ``s`` with targets ``t`` in {0, 1}, averaged over the first axis.

    Returns loss (float) and ds: ``(sigmoid(s) - t) * mask / N``.
    """
    s = as_array("s", s)
    t = as_array("t", t)
    check_shape("t", t, s.shape)
    N = s.shape[0] if s.ndim else 1
    m = np.ones_like(s) if mask is None else as_mask("mask", mask).astype(s.dtype)
    check_shape("mask", m, s.shape)
    # log(1 + exp(-|s|)) + max(s, 0) - s t  is the stable form of the cross-entropy
    per = np.logaddexp(0.0, s) - s * t
    loss = float(np.sum(m * per) / N)
    ds = (sigmoid(s) - t) * m / N
    return loss, ds
