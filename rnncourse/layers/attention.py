"""Attention: dot-product, scaled dot-product, general (Luong) and additive (Bahdanau) scores.

Every variant scores each query against every key, normalises the scores over the keys with a
softmax (masked keys get weight exactly 0) and returns the weighted sum of the values:

    dot:      s(i, j) = q_i . k_j                                 {eq}`attn-dot`
    scaled:   s(i, j) = q_i . k_j / sqrt(H)                       {eq}`attn-scaled`
    general:  s(i, j) = q_i W k_j                                 {eq}`attn-general`
    additive: s(i, j) = va . tanh(q_i Wq + k_j Wk)                {eq}`attn-additive`
    a(i, :) = softmax(s(i, :))  over the keys that the mask allows  {eq}`attn-softmax`
    context_i = sum_j a(i, j) v_j                                 {eq}`attn-context`

Shapes: queries ``q (N, Tq, H)``, or ``(N, H)`` for one query per example (a decoder step; the
outputs then drop the Tq axis); keys ``k (N, Tk, H)`` (``(N, Tk, Hk)`` for general/additive);
values ``v (N, Tk, Hv)``; ``mask (N, Tk)`` or ``(N, Tq, Tk)`` of booleans (or 0/1), True where
the query may attend to the key, as ``attn_mask`` of ``torch.nn.functional.
scaled_dot_product_attention``. Every query must be allowed at least one key.

Forward functions return ``(context, weights, cache)``: ``context (N, Tq, Hv)``, ``weights
(N, Tq, Tk)`` (read-only, for plotting, e.g. with :func:`rnncourse.plot.plot_heatmap`).
Backward functions take ``dcontext`` and return ``dq, dk, dv`` and then the gradients of the
score's own parameters, in the order of the forward's arguments.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, as_mask, check_shape
from ._common import check_upstream

__all__ = [
    "dot_attention_forward", "dot_attention_backward",
    "scaled_dot_attention_forward", "scaled_dot_attention_backward",
    "general_attention_forward", "general_attention_backward",
    "additive_attention_forward", "additive_attention_backward",
]


def _check_qkv(q, k, v, mask, same_width: bool):
    q = as_array("q", q)
    if q.ndim not in (2, 3):
        raise ValueError(f"q: expected a 2-d (N, H) or 3-d (N, Tq, H) array, got shape {q.shape}")
    single = q.ndim == 2
    q3 = q[:, None, :] if single else q                  # (N, Tq, H)
    N, Tq, Hq = q3.shape
    k = as_array("k", k, 3)
    Tk = k.shape[1]
    check_shape("k", k, (N, Tk, Hq) if same_width else (N, Tk, k.shape[2]),
                "(N, Tk, H)" if same_width else "(N, Tk, Hk)")
    v = as_array("v", v, 3)
    check_shape("v", v, (N, Tk, v.shape[2]), "(N, Tk, Hv)")
    if mask is not None:
        mask = as_mask("mask", mask)
        if mask.ndim == 2:
            check_shape("mask", mask, (N, Tk), "(N, Tk)")
            mask = mask[:, None, :]
        else:
            check_shape("mask", mask, (N, Tq, Tk), "(N, Tq, Tk)")
        mask = mask.astype(bool)
        if not mask.any(axis=-1).all():
            raise ValueError("mask: every query needs at least one key it may attend to; "
                             "some rows of the mask are all False")
    return q3, k, v, mask, single


def _attend(s, v, mask):
    """Masked softmax over the keys and the weighted sum of the values, eqs. {eq}`attn-softmax`,
    {eq}`attn-context`. Returns ``a (N, Tq, Tk)`` and ``context (N, Tq, Hv)``."""
    if mask is not None:
        s = np.where(mask, s, -np.inf)                   # exp(-inf) = 0: masked keys get no weight
    s = s - s.max(axis=-1, keepdims=True)
    a = np.exp(s)
    a /= a.sum(axis=-1, keepdims=True)
    return a, a @ v


def _softmax_backward(dcontext, a, v):
    """dv and the gradient of the scores, ``ds = a * (da - sum_j a da)``, given ``dcontext``."""
    da = dcontext @ v.transpose(0, 2, 1)                 # (N, Tq, Tk)
    dv = a.transpose(0, 2, 1) @ dcontext                 # (N, Tk, Hv)
    ds = a * (da - np.sum(a * da, axis=-1, keepdims=True))
    return ds, dv


def _outputs(context, a, single, cache):
    weights = a.view()
    weights.flags.writeable = False                      # the cache holds the same array
    if single:
        return context[:, 0], weights[:, 0], cache
    return context, weights, cache


def _check_dcontext(dcontext, a, v, single):
    N, Tq, _ = a.shape
    Hv = v.shape[2]
    if single:
        return check_upstream("dcontext", dcontext, (N, Hv), "(N, Hv)")[:, None, :]
    return check_upstream("dcontext", dcontext, (N, Tq, Hv), "(N, Tq, Hv)")


def _squeeze(dq, single):
    return dq[:, 0] if single else dq


def dot_attention_forward(q, k, v, mask=None):
    """Dot-product attention, eqs. {eq}`attn-dot`, {eq}`attn-softmax`, {eq}`attn-context`.

    Args:
        q: queries, (N, Tq, H) or (N, H).
        k: keys, (N, Tk, H).
        v: values, (N, Tk, Hv).
        mask: optional, (N, Tk) or (N, Tq, Tk); True where attending is allowed.

    Returns:
        context (N, Tq, Hv), weights (N, Tq, Tk) (without the Tq axis for a 2-d ``q``), cache.
    """
    return _dot_forward(q, k, v, mask, scaled=False)


def scaled_dot_attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention (Vaswani et al. 2017), eq. {eq}`attn-scaled`: as
    :func:`dot_attention_forward` with the scores divided by sqrt(H)."""
    return _dot_forward(q, k, v, mask, scaled=True)


def _dot_forward(q, k, v, mask, scaled):
    q3, k, v, mask, single = _check_qkv(q, k, v, mask, same_width=True)
    scale = 1.0 / np.sqrt(q3.shape[2]) if scaled else 1.0
    s = (q3 @ k.transpose(0, 2, 1)) * scale              # s(i, j) = q_i . k_j [/ sqrt(H)]
    a, context = _attend(s, v, mask)
    return _outputs(context, a, single, (q3, k, v, a, scale, single))


def dot_attention_backward(dcontext, cache):
    """Backward of :func:`dot_attention_forward` (and of the scaled variant).

    Args:
        dcontext: (N, Tq, Hv), or (N, Hv) for a 2-d ``q``.
        cache: from the forward.

    Returns:
        dq (shape of q), dk (N, Tk, H), dv (N, Tk, Hv).
    """
    q3, k, v, a, scale, single = cache
    dcontext = _check_dcontext(dcontext, a, v, single)
    ds, dv = _softmax_backward(dcontext, a, v)
    ds *= scale
    dq = ds @ k
    dk = ds.transpose(0, 2, 1) @ q3
    return _squeeze(dq, single), dk, dv


def scaled_dot_attention_backward(dcontext, cache):
    """Backward of :func:`scaled_dot_attention_forward`: dq, dk, dv (the scale is in the cache)."""
    return dot_attention_backward(dcontext, cache)


def general_attention_forward(q, k, v, W, mask=None):
    """General (Luong et al. 2015) attention, eq. {eq}`attn-general`.

    Args:
        q: queries, (N, Tq, Hq) or (N, Hq).
        k: keys, (N, Tk, Hk).
        v: values, (N, Tk, Hv).
        W: bilinear weights, (Hq, Hk).
        mask: optional, (N, Tk) or (N, Tq, Tk).

    Returns:
        context, weights, cache (as :func:`dot_attention_forward`).
    """
    q3, k, v, mask, single = _check_qkv(q, k, v, mask, same_width=False)
    W = as_array("W", W, 2)
    check_shape("W", W, (q3.shape[2], k.shape[2]), "(Hq, Hk)")
    qW = q3 @ W                                          # (N, Tq, Hk)
    s = qW @ k.transpose(0, 2, 1)                        # s(i, j) = q_i W k_j
    a, context = _attend(s, v, mask)
    return _outputs(context, a, single, (q3, k, v, W, qW, a, single))


def general_attention_backward(dcontext, cache):
    """Backward of :func:`general_attention_forward`: dq, dk (N, Tk, Hk), dv, dW (Hq, Hk)."""
    q3, k, v, W, qW, a, single = cache
    dcontext = _check_dcontext(dcontext, a, v, single)
    ds, dv = _softmax_backward(dcontext, a, v)
    dqW = ds @ k                                         # (N, Tq, Hk)
    dk = ds.transpose(0, 2, 1) @ qW
    dq = dqW @ W.T
    N, Tq, Hq = q3.shape
    dW = q3.reshape(N * Tq, Hq).T @ dqW.reshape(N * Tq, -1)
    return _squeeze(dq, single), dk, dv, dW


def additive_attention_forward(q, k, v, Wq, Wk, va, mask=None):
    """Additive (Bahdanau et al. 2015) attention, eq. {eq}`attn-additive`.

    Args:
        q: queries, (N, Tq, Hq) or (N, Hq).
        k: keys, (N, Tk, Hk).
        v: values, (N, Tk, Hv).
        Wq: query projection, (Hq, A).
        Wk: key projection, (Hk, A).
        va: scoring vector, (A,).
        mask: optional, (N, Tk) or (N, Tq, Tk).

    Returns:
        context, weights, cache (as :func:`dot_attention_forward`).
    """
    q3, k, v, mask, single = _check_qkv(q, k, v, mask, same_width=False)
    Wq = as_array("Wq", Wq, 2)
    A = Wq.shape[1]
    check_shape("Wq", Wq, (q3.shape[2], A), "(Hq, A)")
    Wk = as_array("Wk", Wk, 2)
    check_shape("Wk", Wk, (k.shape[2], A), "(Hk, A)")
    va = as_array("va", va, 1)
    check_shape("va", va, (A,), "(A,)")
    e = np.tanh((q3 @ Wq)[:, :, None, :] + (k @ Wk)[:, None, :, :])   # (N, Tq, Tk, A)
    s = e @ va                                           # s(i, j) = va . tanh(q_i Wq + k_j Wk)
    a, context = _attend(s, v, mask)
    return _outputs(context, a, single, (q3, k, v, Wq, Wk, va, e, a, single))


def additive_attention_backward(dcontext, cache):
    """Backward of :func:`additive_attention_forward`: dq, dk, dv, dWq (Hq, A), dWk (Hk, A),
    dva (A,)."""
    q3, k, v, Wq, Wk, va, e, a, single = cache
    dcontext = _check_dcontext(dcontext, a, v, single)
    ds, dv = _softmax_backward(dcontext, a, v)
    dva = np.einsum("nij,nija->a", ds, e)
    de = ds[..., None] * va * (1.0 - e * e)              # through va . tanh(.)
    dqWq = de.sum(axis=2)                                # (N, Tq, A): each query meets every key
    dkWk = de.sum(axis=1)                                # (N, Tk, A)
    N, Tq, Hq = q3.shape
    _, Tk, Hk = k.shape
    dq = dqWq @ Wq.T
    dk = dkWk @ Wk.T
    dWq = q3.reshape(N * Tq, Hq).T @ dqWq.reshape(N * Tq, -1)
    dWk = k.reshape(N * Tk, Hk).T @ dkWk.reshape(N * Tk, -1)
    return _squeeze(dq, single), dk, dv, dWq, dWk, dva
