"""Gated recurrent unit: step and whole-sequence forward/backward.

Gate order and formulas follow ``torch.nn.GRU`` (gates r, z, n stacked along the last axis of
``Wx (D, 3H)``, ``Wh (H, 3H)``, ``b (3H,)``). With ``a = x Wx + b`` and ``u = h(t-1) Wh`` split into
three (N, H) blocks:

    r(t) = sigmoid(a_r + u_r)                    {eq}`gru-r`
    z(t) = sigmoid(a_z + u_z)                    {eq}`gru-z`
    n(t) = tanh(a_n + r(t) * (u_n [+ bhn]))      {eq}`gru-n`
    h(t) = (1 - z(t)) * n(t) + z(t) * h(t-1)     {eq}`gru-h`

``b`` holds torch's ``b_ir + b_hr``, ``b_iz + b_hz`` and ``b_in``. Torch's ``b_hn`` sits inside the
reset gate and cannot be folded into ``b``: pass it as the optional ``bhn (H,)``; its gradient then
comes after ``db``. Backward functions return one gradient per array argument of the forward, in
the order of the arguments. For truncated BPTT pass ``h[:, -1]`` of the previous chunk as ``h0``
and drop ``dh0``.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._common import (
    check_gate_params, check_sequence, check_step, check_upstream, float_dtype, sigmoid_,
    time_major,
)

__all__ = ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"]


def _check_bhn(bhn, H):
    if bhn is None:
        return None
    bhn = as_array("bhn", bhn, 1)
    check_shape("bhn", bhn, (H,), "(H,)")
    return bhn


def _cell_forward(a, u, h_prev, h):
    """One step in place. ``a (N, 3H)`` holds ``x Wx + b`` on entry and r, z, n on exit;
    ``u (N, 3H)`` holds ``h(t-1) Wh`` (``bhn`` already added to ``u_n``); writes ``h (N, H)``."""
    H = h.shape[1]
    a[:, :2 * H] += u[:, :2 * H]
    sigmoid_(a[:, :2 * H])                               # r, z = sigmoid(a_r + u_r), ...(a_z + u_z)
    r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
    n += r * u[:, 2 * H:]
    np.tanh(n, out=n)                                    # n = tanh(a_n + r * u_n)
    np.subtract(h_prev, n, out=h)
    h *= z
    h += n                                               # h = (1 - z) n + z h(t-1)


def _cell_backward(dh, gates, un, h_prev, dax, dau, tmp):
    """Backward of :func:`_cell_forward` for ``dh = dL/dh(t) (N, H)``.

    Writes dL/da into ``dax (N, 3H)`` (the x side: rows of dx, dWx, db) and dL/du into
    ``dau (N, 3H)`` (the h side: dprev_h, dWh, dbhn); the two differ only in the n block.
    Returns the direct part of dL/dh(t-1), ``dh * z``, in ``tmp (N, H)``.
    """
    H = dh.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    da_rz, da_n = dax[:, :2 * H], dax[:, 2 * H:]
    np.multiply(n, n, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.subtract(1.0, z, out=da_n)
    da_n *= dh
    da_n *= tmp                                          # da_n = dh * (1 - z) * (1 - n^2)
    np.multiply(da_n, un, out=dax[:, :H])                # dL/dr = da_n * u_n
    np.subtract(h_prev, n, out=dax[:, H:2 * H])
    dax[:, H:2 * H] *= dh                                # dL/dz = dh * (h(t-1) - n)
    np.subtract(1.0, gates[:, :2 * H], out=dau[:, :2 * H])
    dau[:, :2 * H] *= gates[:, :2 * H]
    da_rz *= dau[:, :2 * H]                              # da_r, da_z = dL/dr r(1-r), dL/dz z(1-z)
    dau[:, :2 * H] = da_rz                               # du_r, du_z = da_r, da_z
    np.multiply(da_n, r, out=dau[:, 2 * H:])             # du_n = da_n * r
    np.multiply(dh, z, out=tmp)                          # direct path: dL/dh(t-1) += dh * z
    return tmp


def gru_step_forward(x, prev_h, Wx, Wh, b, bhn=None):
    """One GRU time step, eqs. {eq}`gru-r` to {eq}`gru-h` (gate order r, z, n as in torch).

    Args:
        x: input at this step, (N, D).
        prev_h: hidden state h(t-1), (N, H).
        Wx: input-to-gates weights, (D, 3H).
        Wh: hidden-to-gates weights, (H, 3H).
        b: biases ``[b_ir + b_hr, b_iz + b_hz, b_in]``, (3H,).
        bhn: optional hidden bias of the candidate, inside the reset gate (torch's ``b_hn``), (H,).

    Returns:
        next_h (N, H); cache for :func:`gru_step_backward`.
    """
    Wx, Wh, b, D, H = check_gate_params(Wx, Wh, b, 3, "3H")
    x, prev_h, _ = check_step(x, prev_h, D, H)
    bhn = _check_bhn(bhn, H)
    a = x @ Wx + b                                       # (N, 3H), becomes r, z, n
    u = prev_h @ Wh                                      # (N, 3H)
    if bhn is not None:
        u[:, 2 * H:] += bhn
    a = a.astype(np.result_type(a, u), copy=False)
    next_h = np.empty(prev_h.shape, a.dtype)
    _cell_forward(a, u, prev_h, next_h)
    return next_h, (x, prev_h, Wx, Wh, a, u[:, 2 * H:], bhn is not None)


def gru_step_backward(dnext_h, cache):
    """Backward pass of :func:`gru_step_forward`.

    Args:
        dnext_h: gradient w.r.t. h(t), (N, H).
        cache: from :func:`gru_step_forward`.

    Returns:
        dx (N, D), dprev_h (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), and dbhn (H,) last if the
        forward was given ``bhn``.
    """
    x, prev_h, Wx, Wh, gates, un, has_bhn = cache
    N, H = prev_h.shape
    dnext_h = check_upstream("dnext_h", dnext_h, (N, H), "(N, H)")
    dax, dau = np.empty_like(gates), np.empty_like(gates)
    direct = _cell_backward(dnext_h, gates, un, prev_h, dax, dau, np.empty((N, H), gates.dtype))
    grads = (dax @ Wx.T, direct + dau @ Wh.T, x.T @ dax, prev_h.T @ dau, dax.sum(axis=0))
    return grads + (dau[:, 2 * H:].sum(axis=0),) if has_bhn else grads


def gru_forward(x, h0, Wx, Wh, b, bhn=None):
    """Run a GRU over a whole sequence (eqs. {eq}`gru-r` to {eq}`gru-h` at every step).

    The input projection ``x Wx + b`` of all T steps is one matmul; the loop runs time-major over
    preallocated buffers.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, 3H), Wh (H, 3H), b (3H,), bhn (H,) or None: as in :func:`gru_step_forward`.

    Returns:
        h: hidden states h(1..T), (N, T, H); cache for :func:`gru_backward`.
    """
    Wx, Wh, b, D, H = check_gate_params(Wx, Wh, b, 3, "3H")
    x, h0, _, N, T = check_sequence(x, h0, D, H)
    bhn = _check_bhn(bhn, H)
    dtype = float_dtype(*(v for v in (x, h0, Wx, Wh, b, bhn) if v is not None))
    Wx, Wh, b = (np.asarray(w, dtype) for w in (Wx, Wh, b))
    xs = time_major(x, dtype)                                        # (T, N, D)
    gates = np.empty((T, N, 3 * H), dtype)
    np.matmul(xs.reshape(T * N, D), Wx, out=gates.reshape(T * N, 3 * H))
    gates += b                                           # x(t) Wx + b for every t at once
    us = np.empty((T, N, 3 * H), dtype)                              # h(t-1) Wh (+ bhn) for every t
    hs = np.empty((T + 1, N, H), dtype)                              # h(0..T), h(0) = h0
    hs[0] = h0
    for t in range(T):
        np.matmul(hs[t], Wh, out=us[t])
        if bhn is not None:
            us[t, :, 2 * H:] += bhn
        _cell_forward(gates[t], us[t], hs[t], hs[t + 1])
    cache = (xs, hs, gates, us, Wx, Wh, bhn is not None)
    return hs[1:].transpose(1, 0, 2), cache


def gru_backward(dh, cache):
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dh: upstream gradients w.r.t. every hidden state, (N, T, H).
        cache: from :func:`gru_forward`.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), and dbhn (H,) last if the
        forward was given ``bhn``.
    """
    xs, hs, gates, us, Wx, Wh, has_bhn = cache
    T, N, D = xs.shape
    H = hs.shape[2]
    dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)")
    dhs = time_major(dh, gates.dtype, copy=True)       # (T, N, H), becomes the total dL/dh(t)
    dax = np.empty_like(gates)                         # dL/da(t): the x side
    dau = np.empty_like(gates)                         # dL/du(t): the h side
    carry = np.zeros((N, H), gates.dtype)              # dL/dh(t) through h(t+1)
    tmp = np.empty((N, H), gates.dtype)
    for t in range(T - 1, -1, -1):
        dhs[t] += carry
        direct = _cell_backward(dhs[t], gates[t], us[t, :, 2 * H:], hs[t], dax[t], dau[t], tmp)
        np.matmul(dau[t], Wh.T, out=carry)
        carry += direct
    # Weight gradients summed over time: one matmul each over the (T*N) rows.
    dax2 = dax.reshape(T * N, 3 * H)
    dau2 = dau.reshape(T * N, 3 * H)
    dx = (dax2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = xs.reshape(T * N, D).T @ dax2
    dWh = hs[:-1].reshape(T * N, H).T @ dau2
    db = dax2.sum(axis=0)
    grads = (dx, carry, dWx, dWh, db)
    return grads + (dau2[:, 2 * H:].sum(axis=0),) if has_bhn else grads
