"""Long short-term memory: step and whole-sequence forward/backward, with optional peepholes.

Gate order and formulas follow ``torch.nn.LSTM`` (gates i, f, g, o stacked along the last axis of
``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``), so torch is a direct reference; see
:mod:`rnncourse.layers.convert`. With ``a = x Wx + h(t-1) Wh + b`` split into four (N, H) blocks:

    i(t) = sigmoid(a_i [+ p_i * c(t-1)])        {eq}`lstm-i`
    f(t) = sigmoid(a_f [+ p_f * c(t-1)])        {eq}`lstm-f`
    g(t) = tanh(a_g)                            {eq}`lstm-g`
    c(t) = f(t) * c(t-1) + i(t) * g(t)          {eq}`lstm-c`
    o(t) = sigmoid(a_o [+ p_o * c(t)])          {eq}`lstm-o`
    h(t) = o(t) * tanh(c(t))                    {eq}`lstm-h`

The bracketed terms are the diagonal peephole connections of Gers & Schmidhuber (2000), switched
on by passing ``peephole = p (3, H)`` with rows ``p_i, p_f, p_o``; torch has none.

Backward functions return one gradient per array argument of the forward, in the order of the
arguments: ``dx, dh0, dWx, dWh, db``, then ``dc0`` if ``c0`` was passed, then ``dpeephole`` if
``peephole`` was passed. For truncated BPTT pass the last states of the previous chunk
(:func:`lstm_last_state`) as ``h0, c0`` and drop ``dh0, dc0``: gradients stop at the boundary.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._common import (
    check_gate_params, check_sequence, check_step, check_upstream, float_dtype, sigmoid_,
    time_major,
)

__all__ = [
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward", "lstm_last_state",
]


def _check_peephole(peephole, H):
    if peephole is None:
        return None
    p = as_array("peephole", peephole, 2)
    check_shape("peephole", p, (3, H), "(3, H)")
    return p


def _cell_forward(a, c_prev, p, c, tc, h):
    """One step in place: ``a (N, 4H)`` holds the pre-activations on entry and i, f, g, o on exit;
    writes ``c``, ``tc = tanh(c)`` and ``h`` (each (N, H))."""
    H = c.shape[1]
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    if p is not None:
        i += p[0] * c_prev                               # peepholes see c(t-1) ...
        f += p[1] * c_prev
    sigmoid_(a[:, :2 * H])                               # i, f = sigmoid(a_i), sigmoid(a_f)
    np.tanh(g, out=g)                                    # g = tanh(a_g)
    np.multiply(f, c_prev, out=c)                        # c = f * c(t-1) ...
    c += i * g                                           #     + i * g
    if p is not None:
        o += p[2] * c                                    # ... and the output gate sees c(t)
    sigmoid_(o)                                          # o = sigmoid(a_o)
    np.tanh(c, out=tc)
    np.multiply(o, tc, out=h)                            # h = o * tanh(c)


def _cell_backward(dh, dc, gates, c_prev, tc, p, da, tmp):
    """Backward of :func:`_cell_forward`. ``dh`` is dL/dh(t); ``dc`` holds dL/dc(t) from step t+1 on
    entry and dL/dc(t-1) on exit. Writes dL/da into ``da (N, 4H)``; ``tmp (N, 2H)`` is scratch."""
    H = dh.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    da_i, da_f, da_g, da_o = da[:, :H], da[:, H:2 * H], da[:, 2 * H:3 * H], da[:, 3 * H:]
    t1 = tmp[:, :H]
    np.multiply(dh, tc, out=da_o)                        # dL/do = dh * tanh(c)
    np.subtract(1.0, o, out=t1)
    t1 *= o
    da_o *= t1                                           # da_o = dL/do * o (1 - o)
    np.multiply(tc, tc, out=t1)
    np.subtract(1.0, t1, out=t1)
    t1 *= o
    t1 *= dh
    dc += t1                                             # dL/dc += dh * o * (1 - tanh^2 c)
    if p is not None:
        dc += p[2] * da_o                                # through the peephole into a_o
    np.multiply(dc, g, out=da_i)                         # dL/di = dc * g
    np.multiply(dc, c_prev, out=da_f)                    # dL/df = dc * c(t-1)
    np.subtract(1.0, gates[:, :2 * H], out=tmp)
    tmp *= gates[:, :2 * H]
    da[:, :2 * H] *= tmp                                 # da_i, da_f = dL/di i(1-i), dL/df f(1-f)
    np.multiply(g, g, out=t1)
    np.subtract(1.0, t1, out=t1)
    t1 *= i
    np.multiply(dc, t1, out=da_g)                        # da_g = dc * i * (1 - g^2)
    dc *= f                                              # dL/dc(t-1) = dc * f
    if p is not None:
        dc += p[0] * da_i
        dc += p[1] * da_f


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, peephole=None):
    """One LSTM time step, eqs. {eq}`lstm-i` to {eq}`lstm-h` (gate order i, f, g, o as in torch).

    Args:
        x: input at this step, (N, D).
        prev_h: hidden state h(t-1), (N, H).
        prev_c: cell state c(t-1), (N, H).
        Wx: input-to-gates weights, (D, 4H).
        Wh: hidden-to-gates weights, (H, 4H).
        b: gate biases (torch's ``bias_ih + bias_hh``), (4H,).
        peephole: optional diagonal peephole weights ``p_i, p_f, p_o``, (3, H).

    Returns:
        next_h (N, H), next_c (N, H), cache for :func:`lstm_step_backward`.
    """
    Wx, Wh, b, D, H = check_gate_params(Wx, Wh, b, 4, "4H")
    x, prev_h, prev_c = check_step(x, prev_h, D, H, as_array("prev_c", prev_c, 2))
    p = _check_peephole(peephole, H)
    a = x @ Wx + prev_h @ Wh + b                         # (N, 4H), becomes i, f, g, o
    next_c, tc, next_h = (np.empty(prev_h.shape, a.dtype) for _ in range(3))
    _cell_forward(a, prev_c, p, next_c, tc, next_h)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, a, next_c, tc, p)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Args:
        dnext_h: gradient w.r.t. h(t), (N, H).
        dnext_c: gradient w.r.t. c(t) from later steps, (N, H).
        cache: from :func:`lstm_step_forward`.

    Returns:
        dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,), and
        dpeephole (3, H) last if the forward had peepholes.
    """
    x, prev_h, prev_c, Wx, Wh, gates, next_c, tc, p = cache
    N, H = prev_h.shape
    dnext_h = check_upstream("dnext_h", dnext_h, (N, H), "(N, H)")
    dc = check_upstream("dnext_c", dnext_c, (N, H), "(N, H)").astype(gates.dtype, copy=True)
    da = np.empty_like(gates)
    _cell_backward(dnext_h, dc, gates, prev_c, tc, p, da, np.empty((N, 2 * H), gates.dtype))
    grads = (da @ Wx.T, da @ Wh.T, dc, x.T @ da, prev_h.T @ da, da.sum(axis=0))
    if p is None:
        return grads
    dp = np.stack([(da[:, :H] * prev_c).sum(0),          # a_i and a_f saw c(t-1) ...
                   (da[:, H:2 * H] * prev_c).sum(0),
                   (da[:, 3 * H:] * next_c).sum(0)])     # ... and a_o saw c(t)
    return grads + (dp,)


def lstm_forward(x, h0, Wx, Wh, b, c0=None, peephole=None):
    """Run an LSTM over a whole sequence (eqs. {eq}`lstm-i` to {eq}`lstm-h` at every step).

    The input projection ``x Wx + b`` of all T steps is one matmul; the loop runs time-major over
    preallocated buffers and only computes ``h(t-1) Wh`` and the elementwise gate math.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, 4H), Wh (H, 4H), b (4H,): as in :func:`lstm_step_forward`.
        c0: optional initial cell state, (N, H); zeros when omitted (as in torch).
        peephole: optional peephole weights, (3, H).

    Returns:
        h: hidden states h(1..T), (N, T, H); cache for :func:`lstm_backward`.
    """
    Wx, Wh, b, D, H = check_gate_params(Wx, Wh, b, 4, "4H")
    x, h0, c0, N, T = check_sequence(x, h0, D, H, c0)
    p = _check_peephole(peephole, H)
    dtype = float_dtype(*(v for v in (x, h0, Wx, Wh, b, c0, p) if v is not None))
    Wx, Wh, b = (np.asarray(w, dtype) for w in (Wx, Wh, b))
    p = None if p is None else np.asarray(p, dtype)
    xs = time_major(x, dtype)                                        # (T, N, D)
    gates = np.empty((T, N, 4 * H), dtype)
    np.matmul(xs.reshape(T * N, D), Wx, out=gates.reshape(T * N, 4 * H))
    gates += b                                           # x(t) Wx + b for every t at once
    hs = np.empty((T + 1, N, H), dtype)                              # h(0..T), h(0) = h0
    cs = np.zeros((T + 1, N, H), dtype)                              # c(0..T)
    tcs = np.empty((T, N, H), dtype)                                 # tanh(c(1..T))
    hs[0] = h0
    if c0 is not None:
        cs[0] = c0
    ah = np.empty((N, 4 * H), dtype)
    for t in range(T):
        np.matmul(hs[t], Wh, out=ah)
        gates[t] += ah                                               # a = x Wx + h(t-1) Wh + b
        _cell_forward(gates[t], cs[t], p, cs[t + 1], tcs[t], hs[t + 1])
    cache = (xs, hs, cs, tcs, gates, Wx, Wh, p, c0 is not None)
    return hs[1:].transpose(1, 0, 2), cache


def lstm_backward(dh, cache):
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: upstream gradients w.r.t. every hidden state, (N, T, H).
        cache: from :func:`lstm_forward`.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,); then dc0 (N, H) if the
        forward was given ``c0``, then dpeephole (3, H) if it was given ``peephole``.
    """
    xs, hs, cs, tcs, gates, Wx, Wh, p, has_c0 = cache
    T, N, D = xs.shape
    H = hs.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)")
    dhs = time_major(dh, gates.dtype, copy=True)       # (T, N, H), becomes the total dL/dh(t)
    da = np.empty_like(gates)                          # dL/da(t) for every t
    dc = np.zeros((N, H), gates.dtype)                 # dL/dc(t) through c(t+1)
    carry = np.zeros((N, H), gates.dtype)              # dL/dh(t) through h(t+1)
    tmp = np.empty((N, 2 * H), gates.dtype)
    for t in range(T - 1, -1, -1):
        dhs[t] += carry
        _cell_backward(dhs[t], dc, gates[t], cs[t], tcs[t], p, da[t], tmp)
        np.matmul(da[t], Wh.T, out=carry)
    # Weight gradients summed over time: one matmul each over the (T*N) rows.
    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = xs.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    db = da2.sum(axis=0)
    grads = (dx, carry, dWx, dWh, db)
    if has_c0:
        grads += (dc,)
    if p is not None:
        dp = np.stack([np.einsum("tnh,tnh->h", da[..., :H], cs[:-1]),
                       np.einsum("tnh,tnh->h", da[..., H:2 * H], cs[:-1]),
                       np.einsum("tnh,tnh->h", da[..., 3 * H:], cs[1:])])
        grads += (dp,)
    return grads


def lstm_last_state(cache):
    """``(h(T), c(T))``, each (N, H), of the forward that made ``cache``: the ``h0, c0`` of the next
    chunk in truncated BPTT (copies, so the cache stays untouched)."""
    _, hs, cs, *_ = cache
    return hs[-1].copy(), cs[-1].copy()
