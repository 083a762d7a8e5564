"""The variational autoencoder's two formulas, in numpy (chapter 9; Kingma & Welling 2014).

A diagonal Gaussian ``q(z) = N(mu, diag(sigma^2))`` is parameterised by ``mu`` and the log-variance
``logvar = log sigma^2`` (any real number, so no positivity constraint is needed).

* Reparameterisation, eq. {eq}`vae-reparam`: ``z = mu + sigma * eps`` with ``eps ~ N(0, I)``, so
  ``z`` is a differentiable function of ``(mu, logvar)`` and the noise is an input.
* The KL divergence to the standard normal prior, eq. {eq}`vae-kl`:
  ``KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)``,
  with gradients ``dKL/dmu = mu`` and ``dKL/dlogvar = (sigma^2 - 1) / 2``, eq. {eq}`vae-kl-grad`.
* The KL divergence between two diagonal Gaussians (VHRED's learned prior), eq. {eq}`vhred-kl`.

Shapes: ``mu, logvar, eps, z (N, Z)``; KL values ``(N,)`` (one per example, summed over the Z
latent dimensions).
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_shape

__all__ = ["reparameterize", "reparameterize_backward", "gaussian_kl", "gaussian_kl_backward",
           "gaussian_kl_diag"]


def _pair(mu, logvar, names=("mu", "logvar")):
    mu = as_array(names[0], mu, 2)
    logvar = as_array(names[1], logvar, 2)
    check_shape(names[1], logvar, mu.shape, "(N, Z)")
    return mu, logvar


def reparameterize(mu, logvar, eps):
    """A sample of ``N(mu, diag(exp(logvar)))`` from standard normal noise, eq. {eq}`vae-reparam`.

    Args:
        mu: means, (N, Z).
        logvar: log-variances ``log sigma^2``, (N, Z).
        eps: standard normal noise, (N, Z).

    Returns:
        z: ``mu + exp(logvar / 2) * eps``, (N, Z).
    """
    mu, logvar = _pair(mu, logvar)
    eps = as_array("eps", eps, 2)
    check_shape("eps", eps, mu.shape, "(N, Z)")
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps
    return z


def reparameterize_backward(dz, mu, logvar, eps):
    """Gradients of :func:`reparameterize`: ``dz/dmu = 1``, ``dz/dlogvar = sigma * eps / 2``.

    Args:
        dz: upstream gradient, (N, Z).
        mu, logvar, eps: the forward inputs, (N, Z) each.

    Returns:
        dmu (N, Z), dlogvar (N, Z).
    """
    mu, logvar = _pair(mu, logvar)
    dz = as_array("dz", dz, 2)
    check_shape("dz", dz, mu.shape, "(N, Z)")
    eps = as_array("eps", eps, 2)
    check_shape("eps", eps, mu.shape, "(N, Z)")
    sigma = np.exp(0.5 * logvar)
    dmu = dz.copy()
    dlogvar = dz * 0.5 * sigma * eps
    return dmu, dlogvar


def gaussian_kl(mu, logvar):
    """``KL(N(mu, sigma^2) || N(0, I))`` per example, eq. {eq}`vae-kl`.

    Args:
        mu: means, (N, Z).
        logvar: log-variances, (N, Z).

    Returns:
        kl: ``1/2 sum_j (mu^2 + exp(logvar) - logvar - 1)``, (N,).
    """
    mu, logvar = _pair(mu, logvar)
    kl = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - logvar - 1.0, axis=-1)
    return kl


def gaussian_kl_backward(dkl, mu, logvar):
    """Gradients of :func:`gaussian_kl`, eq. {eq}`vae-kl-grad`.

    Args:
        dkl: upstream gradient of each example's KL, (N,).
        mu, logvar: the forward inputs, (N, Z).

    Returns:
        dmu ``= dkl * mu`` (N, Z), dlogvar ``= dkl * (exp(logvar) - 1) / 2`` (N, Z).
    """
    mu, logvar = _pair(mu, logvar)
    dkl = as_array("dkl", dkl, 1)
    check_shape("dkl", dkl, (mu.shape[0],), "(N,)")
    dmu = dkl[:, None] * mu
    dlogvar = dkl[:, None] * 0.5 * (np.exp(logvar) - 1.0)
    return dmu, dlogvar


def gaussian_kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """``KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))`` of diagonal Gaussians, eq. {eq}`vhred-kl`.

    With ``mu_p = 0`` and ``logvar_p = 0`` this is :func:`gaussian_kl`.

    Args:
        mu_q, logvar_q: the posterior, (N, Z) each.
        mu_p, logvar_p: the prior, (N, Z) each.

    Returns:
        kl: ``1/2 sum_j (logvar_p - logvar_q + (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2 - 1)``, (N,).
    """
    mu_q, logvar_q = _pair(mu_q, logvar_q, ("mu_q", "logvar_q"))
    mu_p, logvar_p = _pair(mu_p, logvar_p, ("mu_p", "logvar_p"))
    check_shape("mu_p", mu_p, mu_q.shape, "(N, Z)")
    ratio = (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p)
    kl = 0.5 * np.sum(logvar_p - logvar_q + ratio - 1.0, axis=-1)
    return kl
