"""Vanilla RNN: step and whole-sequence forward/backward (book chapter 1, equations
{eq}`rnn-a` and {eq}`rnn-h`; backward derived in chapter 2).

The book writes the recurrence with column vectors, ``a(t) = b + W h(t-1) + U x(t)``,
``h(t) = tanh(a(t))``. The code works on a batch of row vectors, so ``Wx = U^T`` (D, H) and
``Wh = W^T`` (H, H): ``a = x Wx + h_prev Wh + b``. This is also the layout of CS231n and, transposed,
of ``torch.nn.RNN`` (``weight_ih_l0 = Wx^T``, ``weight_hh_l0 = Wh^T``, ``bias_ih + bias_hh = b``).
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_same_batch, check_shape
from ._common import float_dtype, time_major

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]

_NONLINEARITIES = ("tanh", "relu")


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity: expected one of {_NONLINEARITIES}, got {nonlinearity!r}")


def _check_params(Wx, Wh, b):
    Wx = as_array("Wx", Wx, 2)
    D, H = Wx.shape
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (H, H), "(H, H)")
    b = as_array("b", b, 1)
    check_shape("b", b, (H,), "(H,)")
    return Wx, Wh, b, D, H


def _act(a, nonlinearity):
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _act_(a, nonlinearity):
    """The activation in place (the sequence loop writes into its buffer)."""
    return np.tanh(a, out=a) if nonlinearity == "tanh" else np.maximum(a, 0.0, out=a)


def _act_grad(h, nonlinearity, out=None):
    """Derivative of the activation written in terms of its output: tanh' = 1 - tanh^2."""
    if out is None:
        out = np.empty_like(h)
    if nonlinearity == "tanh":
        np.multiply(h, h, out=out)
        return np.subtract(1.0, out, out=out)
    return np.greater(h, 0, out=out)


def rnn_step_forward(x, prev_h, Wx, Wh, b, nonlinearity: str = "tanh"):
    """One time step of a vanilla RNN, eqs. {eq}`rnn-a`, {eq}`rnn-h`.

    Args:
        x: input at this step, (N, D).
        prev_h: hidden state h(t-1), (N, H).
        Wx: input-to-hidden weights U^T, (D, H).
        Wh: hidden-to-hidden weights W^T, (H, H).
        b: bias, (H,).
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.

    Returns:
        next_h: h(t), (N, H); cache for :func:`rnn_step_backward`.
    """
    _check_nonlinearity(nonlinearity)
    Wx, Wh, b, D, H = _check_params(Wx, Wh, b)
    x = as_array("x", x, 2)
    check_shape("x", x, (x.shape[0], D), "(N, D)")
    prev_h = as_array("prev_h", prev_h, 2)
    check_shape("prev_h", prev_h, (prev_h.shape[0], H), "(N, H)")
    check_same_batch(x=x, prev_h=prev_h)
    a = x @ Wx + prev_h @ Wh + b          # a(t) = b + W h(t-1) + U x(t)
    next_h = _act(a, nonlinearity)        # h(t) = tanh(a(t))
    return next_h, (x, prev_h, Wx, Wh, next_h, nonlinearity)


def rnn_step_backward(dnext_h, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Args:
        dnext_h: gradient of the loss w.r.t. h(t), (N, H).
        cache: from :func:`rnn_step_forward`.

    Returns:
        dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, prev_h, Wx, Wh, next_h, nonlinearity = cache
    dnext_h = as_array("dnext_h", dnext_h, 2)
    check_shape("dnext_h", dnext_h, next_h.shape, "(N, H)")
    da = dnext_h * _act_grad(next_h, nonlinearity)   # diag(1 - h^2) dL/dh
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, nonlinearity: str = "tanh"):
    """Run a vanilla RNN over a whole sequence.

    The input projection ``x Wx + b`` of all T steps is one matmul; only ``h Wh`` stays in the loop.
    For truncated BPTT, pass the last hidden state of the previous chunk as ``h0`` and ignore
    ``dh0`` in the backward pass: gradients then stop at the chunk boundary.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx (D, H), Wh (H, H), b (H,): as in :func:`rnn_step_forward`.
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.

    Returns:
        h: hidden states h(1..T), (N, T, H); cache for :func:`rnn_backward`.
    """
    _check_nonlinearity(nonlinearity)
    Wx, Wh, b, D, H = _check_params(Wx, Wh, b)
    x = as_array("x", x, 3)
    N, T, _ = x.shape
    check_shape("x", x, (N, T, D), "(N, T, D)")
    h0 = as_array("h0", h0, 2)
    check_shape("h0", h0, (N, H), "(N, H)")
    dtype = float_dtype(x, h0, Wx, Wh, b)
    Wx, Wh, b = (np.asarray(w, dtype) for w in (Wx, Wh, b))
    xs = time_major(x, dtype)                                        # (T, N, D): time-major loop
    hs = np.empty((T + 1, N, H), dtype)                              # h(0..T), h(0) = h0
    hs[0] = h0
    np.matmul(xs.reshape(T * N, D), Wx, out=hs[1:].reshape(T * N, H))
    hs[1:] += b                                                      # U x(t) + b for every t at once
    wh = np.empty((N, H), dtype)
    for t in range(1, T + 1):
        np.matmul(hs[t - 1], Wh, out=wh)
        hs[t] += wh                                                  # a(t) = b + W h(t-1) + U x(t)
        _act_(hs[t], nonlinearity)                                   # h(t) = tanh(a(t))
    cache = (xs, hs, Wx, Wh, nonlinearity)
    return hs[1:].transpose(1, 0, 2), cache


def rnn_backward(dh, cache):
    """Backpropagation through time for :func:`rnn_forward` (chapter 2, eq. {eq}`bptt-h`).

    Args:
        dh: upstream gradients of the loss w.r.t. every hidden state, (N, T, H).
        cache: from :func:`rnn_forward`.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    xs, hs, Wx, Wh, nonlinearity = cache
    T, N, D = xs.shape
    H = hs.shape[2]
    dh = as_array("dh", dh, 3)
    check_shape("dh", dh, (N, T, H), "(N, T, H)")
    da = time_major(dh, hs.dtype, copy=True)                         # (T, N, H), becomes dL/da(t)
    carry = np.zeros((N, H), dtype=hs.dtype)                         # dL/dh(t) through h(t+1)
    grad = np.empty((N, H), dtype=hs.dtype)
    for t in range(T - 1, -1, -1):
        da[t] += carry
        da[t] *= _act_grad(hs[t + 1], nonlinearity, out=grad)       # diag(1 - h(t)^2) dL/dh(t)
        np.matmul(da[t], Wh.T, out=carry)
    # Weight gradients summed over time: one matmul each over the (T*N) rows.
    da2 = da.reshape(T * N, H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = xs.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2                          # h(0..T-1): one contiguous block
    db = da2.sum(axis=0)
    return dx, carry, dWx, dWh, db
