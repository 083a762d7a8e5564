"""Beyond the LSTM (chapter 12) in numpy: mRNN and mLSTM steps, zoneout, forward and backward.

The torch cells of the chapter are in :mod:`rnncourse.models.beyond`.
Row layout as in :mod:`rnncourse.layers` (batch first, ``x @ W``); LSTM gate order i, f, g, o as in
torch. The multiplicative unit of both cells is

    u = x Wmx,   v = h(t-1) Wmh,   m = u * v                          {eq}`mrnn-m`

mRNN:   h(t) = tanh(x Wx + m Wm + b)                                  {eq}`mrnn-h`
mLSTM:  a = x Wx + m Wm + b, split into i, f, g, o, then the LSTM's    {eq}`mlstm-a`
        c(t) = f * c(t-1) + i * g,  h(t) = o * tanh(c(t))             {eq}`mlstm-c`, {eq}`mlstm-h`

Zoneout keeps the previous value of a unit where ``mask`` is 1 (training) and uses the expectation
``z * prev + (1 - z) * new`` at evaluation, {eq}`zoneout`, {eq}`zoneout-eval`. The randomness is an
explicit input (the mask), so every function here is deterministic.

Backward functions return one gradient per array argument of the forward, in order.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_same_batch, check_shape
from ._common import sigmoid

__all__ = [
    "mrnn_step_forward", "mrnn_step_backward", "mlstm_step_forward", "mlstm_step_backward",
    "zoneout_forward", "zoneout_backward", "zoneout_mlstm_step_forward",
    "mrnn_param_count", "mlstm_param_count", "delta_rnn_param_count", "tlstm_param_count",
    "stacked_lstm_param_count", "tlstm_depth",
]



def _check_mult(x, prev_h, Wmx, Wmh, Wx, Wm, b, gates):
    """Shapes: x (N, D), prev_h (N, H), Wmx (D, H), Wmh (H, H), Wx (D, kH), Wm (H, kH), b (kH,)."""
    x, prev_h = as_array("x", x, 2), as_array("prev_h", prev_h, 2)
    check_same_batch(x=x, prev_h=prev_h)
    (N, D), H = x.shape, prev_h.shape[1]
    k = "" if gates == 1 else str(gates)
    arrays = []
    for name, arr, shape, sym in (
        ("Wmx", Wmx, (D, H), "(D, H)"), ("Wmh", Wmh, (H, H), "(H, H)"),
        ("Wx", Wx, (D, gates * H), f"(D, {k}H)"), ("Wm", Wm, (H, gates * H), f"(H, {k}H)"),
        ("b", b, (gates * H,), f"({k}H,)"),
    ):
        arr = as_array(name, arr, len(shape))
        check_shape(name, arr, shape, sym)
        arrays.append(arr)
    return (x, prev_h, *arrays)


def mrnn_param_count(D: int, H: int) -> int:
    """``2 D H + 2 H^2 + H``: Wmx (D, H), Wmh (H, H), Wx (D, H), Wm (H, H), b (H,), eq. {eq}`mrnn-params`."""
    return 2 * D * H + 2 * H * H + H


def mlstm_param_count(D: int, H: int) -> int:
    """``4H (D + H + 1) + D H + H^2``: the LSTM's count plus the multiplicative unit, eq. {eq}`mlstm-params`."""
    return 4 * H * (D + H + 1) + D * H + H * H


def delta_rnn_param_count(D: int, H: int) -> int:
    """``D H + H^2 + 5 H``: W (D, H), V (H, H) and alpha, beta1, beta2, b, b_r, eq. {eq}`delta-params`."""
    return D * H + H * H + 5 * H


def stacked_lstm_param_count(D: int, H: int, L: int) -> int:
    """``L`` LSTM layers of width ``H`` (one bias each): ``4H(D + H + 1) + (L - 1) 4H(2H + 1)``."""
    if L < 1:
        raise ValueError(f"L: expected >= 1 layers, got {L}")
    return 4 * H * (D + H + 1) + (L - 1) * 4 * H * (2 * H + 1)


def tlstm_param_count(D: int, M: int, K: int = 3, memory_conv: bool = True) -> int:
    """Tensorized LSTM with M channels per location and kernel size K, eq. {eq}`tlstm-params`:
    ``D M + M`` (input projection) ``+ K M (4M + k) + 4M + k`` (shared convolution) with ``k = K``
    memory-kernel logits when ``memory_conv`` else 0. Independent of the number of locations P."""
    if K < 3 or K % 2 == 0:
        raise ValueError(f"K: expected an odd kernel size >= 3, got {K}")
    k = K if memory_conv else 0
    return D * M + M + K * M * (4 * M + k) + 4 * M + k


def tlstm_depth(P: int, K: int = 3) -> int:
    """Depth ``L = ceil(P / r)`` with ``r = (K - 1) / 2`` of a tLSTM with P locations, eq.
    {eq}`tlstm-delay`; the output is delayed by ``L - 1`` steps."""
    if K < 3 or K % 2 == 0:
        raise ValueError(f"K: expected an odd kernel size >= 3, got {K}")
    if P < 1:
        raise ValueError(f"P: expected >= 1 locations, got {P}")
    r = (K - 1) // 2
    return -(-P // r)


def mrnn_step_forward(x, prev_h, Wmx, Wmh, Wx, Wm, b):
    """One step of the multiplicative RNN, eqs. {eq}`mrnn-m` and {eq}`mrnn-h`.

    Args:
        x: input, (N, D).
        prev_h: hidden state h(t-1), (N, H).
        Wmx: input to multiplicative unit, (D, H).
        Wmh: hidden to multiplicative unit, (H, H).
        Wx: input to hidden, (D, H).
        Wm: multiplicative unit to hidden, (H, H).
        b: bias, (H,).

    Returns:
        next_h (N, H) and a cache for :func:`mrnn_step_backward`.
    """
    x, prev_h, Wmx, Wmh, Wx, Wm, b = _check_mult(x, prev_h, Wmx, Wmh, Wx, Wm, b, 1)
    u = x @ Wmx                                          # input-dependent diagonal
    v = prev_h @ Wmh
    m = u * v                                            # eq. mrnn-m
    next_h = np.tanh(x @ Wx + m @ Wm + b)                # eq. mrnn-h
    return next_h, (x, prev_h, Wmx, Wmh, Wx, Wm, u, v, m, next_h)


def mrnn_step_backward(dnext_h, cache):
    """Backward of :func:`mrnn_step_forward`, eqs. {eq}`mrnn-back`.

    Returns:
        dx (N, D), dprev_h (N, H), dWmx (D, H), dWmh (H, H), dWx (D, H), dWm (H, H), db (H,).
    """
    x, prev_h, Wmx, Wmh, Wx, Wm, u, v, m, next_h = cache
    dnext_h = as_array("dnext_h", dnext_h, 2)
    check_shape("dnext_h", dnext_h, next_h.shape, "(N, H)")
    da = dnext_h * (1.0 - next_h ** 2)                   # through tanh
    dm = da @ Wm.T
    du, dv = dm * v, dm * u                              # product rule on m = u * v
    dx = da @ Wx.T + du @ Wmx.T
    dprev_h = dv @ Wmh.T
    return dx, dprev_h, x.T @ du, prev_h.T @ dv, x.T @ da, m.T @ da, da.sum(axis=0)


def mlstm_step_forward(x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, b):
    """One step of the multiplicative LSTM, eqs. {eq}`mlstm-m` to {eq}`mlstm-h` (gates i, f, g, o).

    Args:
        x: input, (N, D).
        prev_h: hidden state h(t-1), (N, H).
        prev_c: cell state c(t-1), (N, H).
        Wmx: input to multiplicative unit, (D, H).
        Wmh: hidden to multiplicative unit, (H, H).
        Wx: input to gates, (D, 4H).
        Wm: multiplicative unit to gates, (H, 4H).
        b: gate biases, (4H,).

    Returns:
        next_h (N, H), next_c (N, H), cache for :func:`mlstm_step_backward`.
    """
    x, prev_h, Wmx, Wmh, Wx, Wm, b = _check_mult(x, prev_h, Wmx, Wmh, Wx, Wm, b, 4)
    prev_c = as_array("prev_c", prev_c, 2)
    check_shape("prev_c", prev_c, prev_h.shape, "(N, H)")
    H = prev_h.shape[1]
    u = x @ Wmx
    v = prev_h @ Wmh
    m = u * v                                            # eq. mlstm-m
    a = x @ Wx + m @ Wm + b                              # eq. mlstm-a, (N, 4H)
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    next_c = f * prev_c + i * g                          # eq. mlstm-c
    tc = np.tanh(next_c)
    next_h = o * tc                                      # eq. mlstm-h
    cache = (x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, u, v, m, i, f, g, o, tc)
    return next_h, next_c, cache


def mlstm_step_backward(dnext_h, dnext_c, cache):
    """Backward of :func:`mlstm_step_forward`, eqs. {eq}`mlstm-back-c` to {eq}`mlstm-back-m`.

    Args:
        dnext_h: gradient w.r.t. h(t), (N, H).
        dnext_c: gradient w.r.t. c(t) from later steps, (N, H).
        cache: from :func:`mlstm_step_forward`.

    Returns:
        dx (N, D), dprev_h (N, H), dprev_c (N, H), dWmx (D, H), dWmh (H, H), dWx (D, 4H),
        dWm (H, 4H), db (4H,).
    """
    x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, u, v, m, i, f, g, o, tc = cache
    for name, d in (("dnext_h", dnext_h), ("dnext_c", dnext_c)):
        check_shape(name, as_array(name, d, 2), prev_h.shape, "(N, H)")
    dc = dnext_c + dnext_h * o * (1.0 - tc ** 2)         # both paths into c(t)
    do = dnext_h * tc
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f
    da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f),
                         dg * (1.0 - g ** 2), do * o * (1.0 - o)], axis=1)   # (N, 4H)
    dm = da @ Wm.T
    du, dv = dm * v, dm * u
    dx = da @ Wx.T + du @ Wmx.T
    dprev_h = dv @ Wmh.T
    return dx, dprev_h, dprev_c, x.T @ du, prev_h.T @ dv, x.T @ da, m.T @ da, da.sum(axis=0)


def zoneout_forward(prev, new, mask, z, train):
    """Zoneout of one state, eqs. {eq}`zoneout` (train) and {eq}`zoneout-eval` (evaluation).

    Args:
        prev: previous value, e.g. h(t-1) or c(t-1), (N, H).
        new: candidate value the cell computed, (N, H).
        mask: 1 where the unit keeps its previous value, 0 where it updates, (N, H); drawn by the
            caller as Bernoulli(z); ignored at evaluation.
        z: zoneout probability in [0, 1].
        train: True for the stochastic training rule, False for the expectation.

    Returns:
        out (N, H) and a cache for :func:`zoneout_backward`.
    """
    prev, new = as_array("prev", prev), as_array("new", new)
    check_shape("new", new, prev.shape)
    if not 0.0 <= float(z) <= 1.0:
        raise ValueError(f"z: expected a probability in [0, 1], got {z}")
    if train:
        mask = as_array("mask", mask).astype(prev.dtype)
        check_shape("mask", mask, prev.shape)
        keep = mask
    else:
        keep = np.full(prev.shape, float(z), dtype=np.result_type(prev, new, np.float32))
    return keep * prev + (1.0 - keep) * new, keep


def zoneout_backward(dout, cache):
    """Backward of :func:`zoneout_forward`: ``dprev = keep * dout``, ``dnew = (1 - keep) * dout``.

    Returns:
        dprev (N, H), dnew (N, H).
    """
    keep = cache
    dout = as_array("dout", dout)
    check_shape("dout", dout, keep.shape)
    return keep * dout, (1.0 - keep) * dout


def zoneout_mlstm_step_forward(x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, b, mask_c, mask_h, z_c, z_h,
                               train):
    """An mLSTM step with zoneout on the cell and on the hidden state, eq. {eq}`zoneout-lstm`.

    The hidden candidate ``o * tanh(c_new)`` uses the *new* cell, before the cell is zoned out
    (Krueger et al. 2017). Masks are (N, H), 1 = keep the previous value.

    Returns:
        next_h (N, H), next_c (N, H), cache (the mLSTM step's cache and both zoneout caches).
    """
    h_new, c_new, step_cache = mlstm_step_forward(x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, b)
    next_c, cache_c = zoneout_forward(prev_c, c_new, mask_c, z_c, train)
    next_h, cache_h = zoneout_forward(prev_h, h_new, mask_h, z_h, train)
    return next_h, next_c, (step_cache, cache_c, cache_h)
