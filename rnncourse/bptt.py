"""Back-propagation through time in practice (book chapter 2), built on :mod:`rnncourse.layers`.

* :func:`rnn_loss_and_grads`: loss and every gradient of an RNN with a softmax output
  ({eq}`bptt-loss` to {eq}`bptt-grad-U`).
* :func:`tbptt_epoch`: one pass of truncated BPTT over long sequences with SGD and optional
  clipping ({eq}`tbptt`, {eq}`clip-norm`).
* :func:`hidden_state_grads`, :func:`jacobian_norms`, :func:`information_flow`: the quantities
  behind vanishing and exploding gradients ({eq}`bptt-h`, {eq}`bptt-jacobian`, {eq}`bptt-omega`).
* :func:`cliff_rnn` and :func:`gradient_descent`: the one-unit RNN of Pascanu et al. (2013) whose
  loss surface has a cliff, and plain or clipped gradient descent on it.

Parameters travel in a dict ``{"Wx": (D, H), "Wh": (H, H), "b": (H,), "Wy": (H, V), "c": (V,)}``
in the row layout of the layers (``Wx = U^T``, ``Wh = W^T``, ``Wy = V^T``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._checks import as_array, check_shape
from .layers import (
    rnn_backward, rnn_forward, sigmoid, tbptt_slices, temporal_affine_backward,
    temporal_affine_forward, temporal_softmax_loss,
)
from .optim import SGD, clip_grad_norm

__all__ = [
    "PARAM_NAMES", "rnn_loss_and_grads", "tbptt_epoch", "hidden_state_grads", "jacobian_norms",
    "information_flow", "cliff_loss", "cliff_rnn", "gradient_descent",
]

PARAM_NAMES = ("Wx", "Wh", "b", "Wy", "c")


def _check_params(params) -> dict:
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params: expected a dict with keys {list(PARAM_NAMES)}, got {got}")
    return params


def rnn_loss_and_grads(x, y, h0, params, mask=None):
    """Sequence loss of a tanh RNN with softmax outputs, and its gradients (full BPTT).

    Args:
        x: inputs (N, T, D); y: integer targets (N, T); h0: initial state (N, H).
        params: dict of ``Wx, Wh, b, Wy, c`` (see the module docstring).
        mask: optional (N, T); steps with mask 0 add nothing to the loss.

    Returns:
        loss: ``sum_t L(t)`` averaged over the batch (float);
        grads: dict with the keys of ``params``;
        h_last: the last hidden state (N, H), the ``h0`` of the next chunk in truncated BPTT.
    """
    p = _check_params(params)
    h, rnn_cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])       # (N, T, H)
    o, out_cache = temporal_affine_forward(h, p["Wy"], p["c"])         # o(t) = c + V h(t)
    loss, do = temporal_softmax_loss(o, y, mask)                       # do = y_hat - 1_y
    dh, dWy, dc = temporal_affine_backward(do, out_cache)              # V^T dL/do(t)
    _dx, _dh0, dWx, dWh, db = rnn_backward(dh, rnn_cache)              # eq. (bptt-h), summed over t
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "c": dc}
    return loss, grads, h[:, -1]


def tbptt_epoch(x, y, params, chunk: int, lr: float, h0=None, max_norm: float | None = None,
                mask=None):
    """One pass of truncated BPTT with plain SGD over sequences ``x (N, T, D)`` (eq. {eq}`tbptt`).

    The sequences are cut into chunks of ``chunk`` steps. Each chunk starts from the last hidden
    state of the previous chunk (the forward pass is exact) but its gradient stops at the chunk
    boundary. After each chunk: optionally clip the gradients by their global norm
    (eq. {eq}`clip-norm`, with :func:`rnncourse.optim.clip_grad_norm`), then ``p <- p - lr g``.

    Args:
        x: inputs (N, T, D); y: integer targets (N, T).
        params: dict of ``Wx, Wh, b, Wy, c``; not modified.
        chunk: truncation length k >= 1; lr: learning rate > 0.
        h0: initial state (N, H), zeros if None.
        max_norm: clipping threshold, or None for no clipping.
        mask: optional (N, T), as in :func:`rnn_loss_and_grads`.

    Returns:
        losses: list of the chunk losses, each computed *before* that chunk's update;
        params: a new dict with the updated parameters.
    """
    p = {k: np.array(v, dtype=np.float64) for k, v in _check_params(params).items()}
    x = as_array("x", x, 3)
    N, T, _ = x.shape
    H = p["Wh"].shape[0]
    h = np.zeros((N, H)) if h0 is None else as_array("h0", h0, 2)
    check_shape("h0", h, (N, H), "(N, H)")
    y = np.asarray(y)
    check_shape("y", y, (N, T), "(N, T)")
    opt = SGD(lr)
    losses = []
    for sl in tbptt_slices(T, chunk):
        m = None if mask is None else np.asarray(mask)[:, sl]
        loss, grads, h = rnn_loss_and_grads(x[:, sl], y[:, sl], h, p, m)   # h carried forward only
        if max_norm is not None:
            grads, _ = clip_grad_norm(grads, max_norm)
        opt.update(p, grads)
        losses.append(loss)
    return losses, p


def hidden_state_grads(dh, h, Wh):
    """The total gradient dL/dh(t) of every hidden state of a tanh RNN (eq. {eq}`bptt-h`).

    In the row layout, ``g(T) = dh(T)`` and ``g(t) = dh(t) + (g(t+1) * (1 - h(t+1)^2)) Wh^T``.

    Args:
        dh: the direct gradients dL/dh(t) from the outputs, (N, T, H) (``V^T dL/do(t)``).
        h: hidden states from :func:`rnncourse.layers.rnn_forward`, (N, T, H).
        Wh: recurrent weights W^T, (H, H).

    Returns:
        g: (N, T, H), the gradients through both the output and the future.
    """
    h = as_array("h", h, 3)
    dh = as_array("dh", dh, 3)
    check_shape("dh", dh, h.shape, "(N, T, H)")
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (h.shape[2], h.shape[2]), "(H, H)")
    g = dh.astype(np.float64, copy=True)
    for t in range(h.shape[1] - 2, -1, -1):
        g[:, t] += (g[:, t + 1] * (1.0 - h[:, t + 1] ** 2)) @ Wh.T    # W^T diag(1 - h(t+1)^2) g(t+1)
    return g


def jacobian_norms(h, Wh):
    """Spectral norms of dh(t)/dh(0) = prod_i diag(1 - h(i)^2) W for t = 1..T (eq. {eq}`bptt-jacobian`).

    Args:
        h: hidden states h(1..T) of ONE sequence, (T, H). Pass zeros for the linear recurrence
            ``h(t) = W h(t-1)`` (tanh linearised at 0).
        Wh: recurrent weights W^T, (H, H).

    Returns:
        norms: (T,), ``norms[t-1] = ||dh(t)/dh(0)||_2``.
    """
    h = as_array("h", h, 2)
    T, H = h.shape
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (H, H), "(H, H)")
    W = Wh.T                                        # column convention of the book
    J = np.eye(H)
    norms = np.empty(T)
    for t in range(T):
        J = (1.0 - h[t] ** 2)[:, None] * (W @ J)    # dh(t)/dh(t-1) = diag(1 - h(t)^2) W
        norms[t] = np.linalg.norm(J, 2)
    return norms


def information_flow(g, h, Wh):
    """Pascanu et al.'s information-flow ratios and regulariser Omega (eq. {eq}`bptt-omega`).

    ``ratio(t) = ||g(t) dh(t)/dh(t-1)|| / ||g(t)||`` for t = 2..T, with ``g(t) = dL/dh(t)`` a row
    vector; in the row layout ``g(t) dh(t)/dh(t-1) = (g(t) * (1 - h(t)^2)) Wh^T``.

    Args:
        g: total gradients dL/dh(t), (N, T, H) (from :func:`hidden_state_grads`).
        h: hidden states, (N, T, H); Wh: (H, H).

    Returns:
        ratios: (N, T - 1); omega: ``sum_t (ratio(t) - 1)^2`` averaged over the batch (float).
    """
    h = as_array("h", h, 3)
    g = as_array("g", g, 3)
    check_shape("g", g, h.shape, "(N, T, H)")
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (h.shape[2], h.shape[2]), "(H, H)")
    back = (g[:, 1:] * (1.0 - h[:, 1:] ** 2)) @ Wh.T              # (N, T-1, H): g(t) dh(t)/dh(t-1)
    norm_g = np.linalg.norm(g[:, 1:], axis=-1)
    ratios = np.linalg.norm(back, axis=-1) / np.maximum(norm_g, 1e-300)
    omega = float(np.mean(np.sum((ratios - 1.0) ** 2, axis=1)))
    return ratios, omega


def cliff_loss(w, b, T: int = 30, x0: float = 0.5, target: float = 0.7):
    """The loss of :func:`cliff_rnn` only, for arrays ``w`` and ``b`` of one shape (a grid)."""
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    x = np.full(w.shape, float(x0))
    for _ in range(T):
        x = w * sigmoid(x) + b                     # x(t) = w sigmoid(x(t-1)) + b
    return (x - target) ** 2


def cliff_rnn(w: float, b: float, T: int = 30, x0: float = 0.5, target: float = 0.7):
    """Loss and gradient of the one-unit RNN ``x(t) = w sigmoid(x(t-1)) + b`` (Pascanu et al. 2013).

    The loss ``(x(T) - target)^2`` has a cliff: near a bifurcation of the map a tiny change of
    ``(w, b)`` switches the attractor that ``x(T)`` ends on, and the gradient there is huge.

    Returns:
        loss (float) and grad, an array ``[dL/dw, dL/db]``.
    """
    xs = np.empty(T + 1)
    xs[0] = x0
    for t in range(1, T + 1):
        xs[t] = w * sigmoid(xs[t - 1]) + b
    loss = (xs[T] - target) ** 2
    g = 2.0 * (xs[T] - target)                      # dL/dx(T)
    dw = db = 0.0
    for t in range(T, 0, -1):                       # BPTT on a scalar: the same three lines
        s = sigmoid(xs[t - 1])
        dw += g * s
        db += g
        g *= w * s * (1.0 - s)                      # dx(t)/dx(t-1) = w s (1 - s)
    return float(loss), np.array([dw, db])


def gradient_descent(loss_grad: Callable, p0, lr: float, steps: int, max_norm: float | None = None):
    """Gradient descent ``p <- p - lr g`` from ``p0``, optionally clipping ``g`` by its norm.

    Args:
        loss_grad: ``loss_grad(p) -> (loss, grad)`` for a parameter vector ``p``.
        p0: start, (P,); lr: step size; steps: number of updates.
        max_norm: threshold v of {eq}`clip-norm` (``g <- g v / ||g||`` if ``||g|| > v``), or None.

    Returns:
        path (steps + 1, P), losses (steps,) and grad_norms (steps,) before clipping.
    """
    p = np.array(p0, dtype=np.float64)
    path, losses, norms = [p.copy()], [], []
    for _ in range(steps):
        loss, g = loss_grad(p)
        norms.append(float(np.linalg.norm(g)))
        if max_norm is not None:
            (g,), _ = clip_grad_norm([g], max_norm)
        p = p - lr * g
        path.append(p.copy())
        losses.append(loss)
    return np.array(path), np.array(losses), np.array(norms)
