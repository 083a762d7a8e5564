"""The VAE formulas of chapter 9: reparameterisation, the Gaussian KL (closed form, Monte Carlo,
gradient checks), the KL between two diagonal Gaussians, and clear errors."""
import numpy as np
import pytest

from rnncourse.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from rnncourse.vae import (
    gaussian_kl, gaussian_kl_backward, gaussian_kl_diag, reparameterize, reparameterize_backward,
)


@pytest.mark.parametrize("N,Z", [(3, 4), (1, 1), (5, 2)])
def test_reparameterize_gradients(rng, N, Z):
    mu, logvar, eps = rng.standard_normal((N, Z)), rng.uniform(-2, 2, (N, Z)), rng.standard_normal((N, Z))
    z = reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(z, mu + np.sqrt(np.exp(logvar)) * eps, rtol=1e-14)
    dz = rng.standard_normal((N, Z))
    dmu, dlogvar = reparameterize_backward(dz, mu, logvar, eps)
    f = lambda: reparameterize(mu, logvar, eps)
    assert rel_error(dmu, numerical_gradient_array(f, mu, dz)) < 1e-7
    assert rel_error(dlogvar, numerical_gradient_array(f, logvar, dz)) < 1e-7


def test_reparameterized_samples_have_the_right_moments(rng):
    mu, logvar = np.array([[1.5, -2.0]]), np.log(np.array([[0.25, 4.0]]))
    eps = rng.standard_normal((200_000, 2))
    z = reparameterize(np.repeat(mu, len(eps), 0), np.repeat(logvar, len(eps), 0), eps)
    np.testing.assert_allclose(z.mean(0), mu[0], atol=0.02)
    np.testing.assert_allclose(z.var(0), np.exp(logvar[0]), rtol=0.02)


@pytest.mark.parametrize("N,Z", [(3, 4), (1, 1), (4, 7)])
def test_gaussian_kl_and_gradients(rng, N, Z):
    mu, logvar = rng.standard_normal((N, Z)), rng.uniform(-3, 2, (N, Z))
    kl = gaussian_kl(mu, logvar)
    assert kl.shape == (N,) and np.all(kl >= 0)
    dkl = rng.standard_normal(N)
    dmu, dlogvar = gaussian_kl_backward(dkl, mu, logvar)
    f = lambda: gaussian_kl(mu, logvar)
    assert rel_error(dmu, numerical_gradient_array(f, mu, dkl)) < 1e-7
    assert rel_error(dlogvar, numerical_gradient_array(f, logvar, dkl)) < 1e-7


def test_kl_is_zero_only_at_the_prior():
    z = np.zeros((2, 3))
    np.testing.assert_array_equal(gaussian_kl(z, z), 0.0)
    dmu, dlogvar = gaussian_kl_backward(np.ones(2), z, z)
    np.testing.assert_array_equal(dmu, 0.0)
    np.testing.assert_array_equal(dlogvar, 0.0)
    # 1-d example by hand: mu = 1, sigma^2 = 1 -> 1/2 (1 + 1 - 0 - 1) = 1/2
    assert gaussian_kl(np.ones((1, 1)), np.zeros((1, 1)))[0] == pytest.approx(0.5)


def test_kl_matches_monte_carlo(rng):
    mu, logvar = np.array([[0.7, -1.2, 0.1]]), np.array([[-1.0, 0.5, 0.0]])
    sigma2 = np.exp(logvar)
    z = mu + np.sqrt(sigma2) * rng.standard_normal((400_000, 3))
    log_q = -0.5 * (np.log(2 * np.pi * sigma2) + (z - mu) ** 2 / sigma2).sum(1)
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2).sum(1)
    assert np.mean(log_q - log_p) == pytest.approx(gaussian_kl(mu, logvar)[0], abs=0.01)


def test_kl_diag(rng):
    mu_q, lv_q = rng.standard_normal((4, 3)), rng.uniform(-2, 1, (4, 3))
    # the standard normal prior gives gaussian_kl
    np.testing.assert_allclose(gaussian_kl_diag(mu_q, lv_q, np.zeros((4, 3)), np.zeros((4, 3))),
                               gaussian_kl(mu_q, lv_q), rtol=1e-13)
    mu_p, lv_p = rng.standard_normal((4, 3)), rng.uniform(-1, 1, (4, 3))
    np.testing.assert_allclose(gaussian_kl_diag(mu_q, lv_q, mu_q, lv_q), 0.0, atol=1e-14)
    # Monte Carlo for the first row
    z = mu_q[0] + np.exp(0.5 * lv_q[0]) * rng.standard_normal((400_000, 3))
    logn = lambda z, m, lv: -0.5 * (np.log(2 * np.pi) + lv + (z - m) ** 2 / np.exp(lv)).sum(1)
    mc = np.mean(logn(z, mu_q[0], lv_q[0]) - logn(z, mu_p[0], lv_p[0]))
    assert mc == pytest.approx(gaussian_kl_diag(mu_q, lv_q, mu_p, lv_p)[0], abs=0.02)


def test_gradcheck_catches_a_wrong_kl_gradient(rng):
    mu, logvar = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    num = numerical_gradient(lambda: gaussian_kl(mu, logvar).sum(), logvar)
    wrong = 0.5 * (1.0 - 1.0 / np.exp(logvar))       # d/dsigma^2 instead of d/dlogvar
    assert rel_error(gaussian_kl_backward(np.ones(2), mu, logvar)[1], num) < 1e-7
    assert rel_error(wrong, num) > 1e-2


@pytest.mark.parametrize("call, match", [
    (lambda: gaussian_kl(np.zeros((2, 3)), np.zeros((2, 4))), r"logvar: expected shape \(N, Z\)"),
    (lambda: gaussian_kl(np.zeros(3), np.zeros(3)), "mu: expected a 2-d array"),
    (lambda: reparameterize(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((3, 3))), "eps"),
    (lambda: gaussian_kl_backward(np.ones(3), np.zeros((2, 3)), np.zeros((2, 3))), "dkl"),
    (lambda: gaussian_kl(np.full((1, 1), np.nan), np.zeros((1, 1))), "NaN"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
