"""Layer normalisation (Ba et al. 2016) and the Transformer's residual "Add & Norm", in numpy.

Layer normalisation standardises each position's feature vector on its own (over the last axis,
not over the batch as batch normalisation does), then rescales it:

    mu = mean_d x_d,  sigma^2 = mean_d (x_d - mu)^2                    {eq}`tf-layernorm`
    x^_d = (x_d - mu) / sqrt(sigma^2 + eps),  y_d = gamma_d x^_d + beta_d

with the biased variance and ``eps`` inside the square root, as ``torch.nn.LayerNorm`` (default
``eps = 1e-5``). Its backward pass, eq. {eq}`tf-layernorm-grad`, is

    dx = (g - mean_d g - x^ mean_d(g x^)) / sqrt(sigma^2 + eps),   g = gamma * dy.

Add & Norm (post-norm, as in the original Transformer) is ``LayerNorm(x + Sublayer(x))``,
eq. {eq}`tf-addnorm`. Shapes: any ``x (..., D)`` (e.g. ``(N, T, D)``); ``gamma, beta (D,)``.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._common import check_upstream

__all__ = ["layernorm_forward", "layernorm_backward", "add_norm_forward", "add_norm_backward"]


def _check_eps(eps):
    if not isinstance(eps, (int, float, np.floating)) or isinstance(eps, bool) or not eps > 0:
        raise ValueError(f"eps: expected a positive number, got {eps!r}")
    return float(eps)


def layernorm_forward(x, gamma, beta, eps: float = 1e-5):
    """Layer normalisation over the last axis, eq. {eq}`tf-layernorm`.

    Args:
        x: inputs, (..., D) with at least one leading axis, e.g. (N, T, D) or (N, D).
        gamma: gain, (D,).
        beta: shift, (D,).
        eps: added to the variance inside the square root (torch's default 1e-5).

    Returns:
        out (same shape as x), cache.
    """
    x = as_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x: expected at least a 2-d array (..., D), got shape {x.shape}")
    D = x.shape[-1]
    gamma = as_array("gamma", gamma, 1)
    check_shape("gamma", gamma, (D,), "(D,)")
    beta = as_array("beta", beta, 1)
    check_shape("beta", beta, (D,), "(D,)")
    eps = _check_eps(eps)
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)        # biased, as torch.nn.LayerNorm
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    out = gamma * xhat + beta
    return out, (xhat, inv_std, gamma)


def layernorm_backward(dout, cache):
    """Backward of :func:`layernorm_forward`, eq. {eq}`tf-layernorm-grad`.

    Args:
        dout: upstream gradient, the shape of x.
        cache: from the forward.

    Returns:
        dx (shape of x), dgamma (D,), dbeta (D,).
    """
    xhat, inv_std, gamma = cache
    dout = check_upstream("dout", dout, xhat.shape, "the shape of x")
    axes = tuple(range(xhat.ndim - 1))                   # every axis but the features
    dgamma = (dout * xhat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    g = dout * gamma                                     # gradient of x^
    dx = inv_std * (g - g.mean(axis=-1, keepdims=True)
                    - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return dx, dgamma, dbeta


def add_norm_forward(x, sub, gamma, beta, eps: float = 1e-5):
    """Add & Norm, ``LayerNorm(x + sub)``, eq. {eq}`tf-addnorm`: the residual connection around a
    sub-layer whose output is ``sub``, followed by layer normalisation (post-norm).

    Args:
        x: the sub-layer's input, (..., D).
        sub: the sub-layer's output, the shape of x.
        gamma, beta: the layer norm's gain and shift, (D,).
        eps: as in :func:`layernorm_forward`.

    Returns:
        out (shape of x), cache.
    """
    x = as_array("x", x)
    sub = as_array("sub", sub)
    check_shape("sub", sub, x.shape, "the shape of x")
    return layernorm_forward(x + sub, gamma, beta, eps)


def add_norm_backward(dout, cache):
    """Backward of :func:`add_norm_forward`: dx, dsub, dgamma, dbeta.

    The residual path copies the gradient: ``dx`` and ``dsub`` are equal (``dx`` is what flows
    back past the sub-layer untouched; ``dsub`` goes on into the sub-layer's backward)."""
    dz, dgamma, dbeta = layernorm_backward(dout, cache)
    return dz, dz.copy(), dgamma, dbeta
