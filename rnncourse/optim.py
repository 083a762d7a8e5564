"""Optimisers and gradient clipping for the numpy layers.

Optimisers are small classes with one method, ``update(params, grads)``: ``params`` and ``grads``
are dicts with the same keys (e.g. ``{"Wx": ..., "Wh": ..., "b": ...}``); the parameter arrays are
updated **in place** (that is the point of an optimiser, and it keeps references held elsewhere
valid), the gradients are never modified. State (velocities, moments) is kept per key inside the
optimiser. Update rules follow ``torch.optim`` (float64 results agree to rounding):

    SGD:       p <- p - lr g                                                   {eq}`sgd`
    Momentum:  v <- mu v + g;  p <- p - lr v   (Nesterov: p <- p - lr (g + mu v))   {eq}`momentum`
    Adam:      m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2                {eq}`adam`
               p <- p - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)

Clipping returns new arrays. ``clip_grad_norm`` rescales all gradients together,
``g <- g max_norm / ||g||`` when the global norm ``||g||`` over every array exceeds ``max_norm``
(Pascanu et al. 2013); unlike ``torch.nn.utils.clip_grad_norm_`` it adds no 1e-6 to the norm, so
the clipped norm is exactly ``max_norm``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._checks import as_array, check_shape

__all__ = ["SGD", "Momentum", "Adam", "clip_grad_norm", "clip_grad_value"]


def _check_positive(name, value, allow_zero=False):
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def _check_update(params, grads):
    """Same keys; every parameter a writable float ndarray; every gradient finite, of its shape."""
    if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
        raise ValueError(f"params, grads: expected two dicts, got {type(params).__name__} and "
                         f"{type(grads).__name__}")
    if set(params) != set(grads):
        raise ValueError(f"grads: expected the keys of params {sorted(params)}, "
                         f"got {sorted(grads)}")
    checked = {}
    for key, p in params.items():
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise ValueError(f"params[{key!r}]: expected a float ndarray (updated in place), "
                             f"got {type(p).__name__}")
        g = as_array(f"grads[{key!r}]", grads[key])
        check_shape(f"grads[{key!r}]", g, p.shape)
        checked[key] = g
    return checked


class SGD:
    """Plain gradient descent, eq. {eq}`sgd`: ``p <- p - lr * g``."""

    def __init__(self, lr: float = 0.01):
        self.lr = _check_positive("lr", lr)

    def update(self, params: dict, grads: dict) -> None:
        """Update every ``params[key]`` in place with ``grads[key]`` (same shapes)."""
        for key, g in _check_update(params, grads).items():
            params[key] -= self.lr * g


class Momentum:
    """SGD with momentum as in ``torch.optim.SGD(momentum=mu)``, eq. {eq}`momentum`."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False):
        self.lr = _check_positive("lr", lr)
        self.momentum = _check_positive("momentum", momentum, allow_zero=True)
        self.nesterov = bool(nesterov)
        self.v: dict = {}

    def update(self, params: dict, grads: dict) -> None:
        """Update every ``params[key]`` in place; the velocity of a new key starts at zero."""
        for key, g in _check_update(params, grads).items():
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v += g                                                   # v <- mu v + g
            step = g + self.momentum * v if self.nesterov else v
            params[key] -= self.lr * step


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``, eq. {eq}`adam`."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr = _check_positive("lr", lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1), got {beta!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = _check_positive("eps", eps, allow_zero=True)
        self.m: dict = {}
        self.s: dict = {}
        self.t: dict = {}

    def update(self, params: dict, grads: dict) -> None:
        """Update every ``params[key]`` in place; each key counts its own steps t."""
        b1, b2 = self.beta1, self.beta2
        for key, g in _check_update(params, grads).items():
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            s = self.s.setdefault(key, np.zeros_like(params[key]))
            t = self.t[key] = self.t.get(key, 0) + 1
            m *= b1
            m += (1.0 - b1) * g                                      # m <- b1 m + (1 - b1) g
            s *= b2
            s += (1.0 - b2) * g * g                                  # s <- b2 s + (1 - b2) g^2
            step = self.lr / (1.0 - b1 ** t)                         # lr / bias correction of m
            denom = np.sqrt(s) / np.sqrt(1.0 - b2 ** t) + self.eps
            params[key] -= step * (m / denom)


def _as_list(grads):
    """``(keys or None, list of arrays)`` for a dict or a sequence of gradients."""
    if isinstance(grads, Mapping):
        keys = list(grads)
        return keys, [as_array(f"grads[{k!r}]", grads[k]) for k in keys]
    if isinstance(grads, (list, tuple)):
        return None, [as_array(f"grads[{i}]", g) for i, g in enumerate(grads)]
    raise ValueError(f"grads: expected a dict or a list of arrays, got {type(grads).__name__}")


def _like(grads, keys, arrays):
    if keys is not None:
        return dict(zip(keys, arrays))
    return type(grads)(arrays)


def clip_grad_norm(grads, max_norm: float):
    """Rescale gradients so their global L2 norm is at most ``max_norm`` (eq. {eq}`clip-norm`).

    Args:
        grads: dict of arrays or list/tuple of arrays (any shapes).
        max_norm: the largest allowed norm, > 0.

    Returns:
        clipped: new arrays in a container of the same kind, ``g * max_norm / total_norm`` if
        ``total_norm > max_norm``, else copies of ``g``;
        total_norm: ``sqrt(sum of g^2 over every entry of every array)`` before clipping (float).
    """
    max_norm = _check_positive("max_norm", max_norm)
    keys, arrays = _as_list(grads)
    total_norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in arrays)))
    scale = max_norm / total_norm if total_norm > max_norm else 1.0
    return _like(grads, keys, [g * scale for g in arrays]), total_norm


def clip_grad_value(grads, clip_value: float):
    """Clip every gradient entry to ``[-clip_value, clip_value]`` (new arrays, same container)."""
    clip_value = _check_positive("clip_value", clip_value)
    keys, arrays = _as_list(grads)
    return _like(grads, keys, [np.clip(g, -clip_value, clip_value) for g in arrays])
