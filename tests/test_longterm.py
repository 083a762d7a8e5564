"""rnncourse.longterm (chapter 3): ESN, ridge readout, leaky units, skip connections, memory."""
import numpy as np
import pytest

from rnncourse.data.memory import moving_average_series, recall_series
from rnncourse.gradcheck import numerical_gradient, numerical_gradient_array
from rnncourse.layers import rnn_forward
from rnncourse.longterm import (
    content_read, esn_reservoir, memory_write, esn_states, leaky_rnn_backward, leaky_rnn_forward, ridge_readout,
    scale_spectral_radius, skip_jacobian_norms, skip_rnn_forward, squared_correlation,
)


def _radius(W):
    return np.abs(np.linalg.eigvals(W)).max()


def test_scale_spectral_radius(rng):
    W = rng.standard_normal((7, 7))                 # complex eigenvalues in general
    for rho in [0.0, 0.5, 1.0, 1.7]:
        assert np.isclose(_radius(scale_spectral_radius(W, rho)), rho, atol=1e-12)
    assert np.allclose(scale_spectral_radius(np.array([[2.0]]), 0.5), [[0.5]])
    with pytest.raises(ValueError, match="spectral radius is 0"):
        scale_spectral_radius(np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0)
    with pytest.raises(ValueError, match=r"W: expected shape \(H, H\)"):
        scale_spectral_radius(np.zeros((2, 3)), 1.0)


def test_esn_reservoir(rng):
    Win, W = esn_reservoir(3, 50, rho=0.8, input_scale=0.2, density=0.1, seed=5)
    assert Win.shape == (3, 50) and W.shape == (50, 50)
    assert np.isclose(_radius(W), 0.8) and np.abs(Win).max() <= 0.2
    assert 0.05 < np.mean(W != 0) < 0.15
    assert np.array_equal(esn_reservoir(3, 50, 0.8, 0.2, 0.1, seed=5)[1], W)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_ridge_readout_is_least_squares_on_augmented_data(rng, lam):
    S, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 2))
    A = np.vstack([S, np.sqrt(lam) * np.eye(6)])
    B = np.vstack([Y, np.zeros((6, 2))])
    expected = np.linalg.lstsq(A, B, rcond=None)[0]
    assert np.allclose(ridge_readout(S, Y, lam), expected, atol=1e-12)
    assert np.allclose(ridge_readout(S, Y[:, 0], lam), expected[:, 0], atol=1e-12)
    with pytest.raises(ValueError, match="Y: expected shape"):
        ridge_readout(S, Y[:5], lam)


def test_squared_correlation(rng):
    y = rng.standard_normal((100, 2))
    assert np.allclose(squared_correlation(3 * y + 1, y), 1.0)
    r = squared_correlation(y[:, 0], y[:, 1])
    assert np.isclose(r, np.corrcoef(y[:, 0], y[:, 1])[0, 1] ** 2)


def _leaky_inputs(rng, N, T, D, H, alpha_shape):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = 0.5 * rng.standard_normal((D, H))
    Wh = 0.5 * rng.standard_normal((H, H))
    b = rng.standard_normal(H)
    alpha = rng.uniform(0.1, 0.9, size=alpha_shape)
    return x, h0, Wx, Wh, b, alpha


@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 5), (1, 1, 1, 1), (3, 6, 2, 3)])
@pytest.mark.parametrize("alpha_shape", [(), "H"])
def test_leaky_gradients(rng, N, T, D, H, alpha_shape):
    inputs = _leaky_inputs(rng, N, T, D, H, (H,) if alpha_shape == "H" else ())
    inputs = [np.asarray(v, dtype=np.float64) for v in inputs]
    out, cache = leaky_rnn_forward(*inputs)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    grads = leaky_rnn_backward(dout, cache)
    for name, v, g in zip(["x", "h0", "Wx", "Wh", "b", "alpha"], inputs, grads):
        num = numerical_gradient_array(lambda: leaky_rnn_forward(*inputs)[0], v, dout)
        assert g.shape == v.shape, name
        # error relative to the gradient's largest entry: an entry near 0 cannot fail on round-off
        assert np.abs(num - g).max() <= 1e-9 * max(np.abs(num).max(), 1e-3), name


def test_leaky_limits(rng):
    x, h0, Wx, Wh, b, _ = _leaky_inputs(rng, 2, 5, 3, 4, ())
    h_rnn, _ = rnn_forward(x, h0, Wx, Wh, b)
    assert np.allclose(leaky_rnn_forward(x, h0, Wx, Wh, b, 0.0)[0], h_rnn)        # alpha 0: vanilla
    assert np.allclose(leaky_rnn_forward(x, h0, Wx, Wh, b, 1.0)[0], h0[:, None])  # alpha 1: frozen
    alpha = np.array([0.0, 0.0, 1.0, 1.0])                                          # per unit
    h, cache = leaky_rnn_forward(x, h0, Wx, Wh, b, alpha)
    assert np.allclose(h[:, :, 2:], h0[:, None, 2:])
    assert leaky_rnn_backward(np.ones_like(h), cache)[5].shape == (4,)
    with pytest.raises(ValueError, match="alpha: every leak rate"):
        leaky_rnn_forward(x, h0, Wx, Wh, b, 1.5)
    with pytest.raises(ValueError, match="alpha: expected shape"):
        leaky_rnn_forward(x, h0, Wx, Wh, b, np.zeros(3))


def test_esn_states_are_leaky_states(rng):
    Win, W = esn_reservoir(2, 6, rho=0.9, seed=1)
    x = rng.standard_normal((1, 10, 2))
    s = esn_states(x, Win, W, alpha=0.3)
    assert np.allclose(s, leaky_rnn_forward(x, np.zeros((1, 6)), Win, W, np.zeros(6), 0.3)[0])


def test_skip_rnn(rng):
    N, T, D, H = 2, 9, 3, 4
    x = rng.standard_normal((N, T, D))
    Wx, W1, Wd = (0.5 * rng.standard_normal(s) for s in [(D, H), (H, H), (H, H)])
    b = rng.standard_normal(H)
    # delay 1 without length-one connections is a vanilla RNN with Wh = Wskip
    assert np.allclose(skip_rnn_forward(x, Wx, None, Wd, b, 1), rnn_forward(x, np.zeros((N, H)), Wx, Wd, b)[0])
    h = skip_rnn_forward(x, Wx, W1, Wd, b, 3)
    # Jacobian dh(T)/dh(1) by centred differences: rerun from a perturbed h(1)
    def tail(h1):
        hs = [None, h1]
        for t in range(1, T):
            a = x[0, t] @ Wx + b + hs[t] @ W1 + (hs[t + 1 - 3] if t + 1 - 3 >= 1 else np.zeros(H)) @ Wd
            hs.append(np.tanh(a))
        return hs[-1]
    h1 = h[0, 0].copy()
    assert np.allclose(tail(h1), h[0, -1])
    J = np.stack([numerical_gradient(lambda: tail(h1)[i], h1) for i in range(H)])
    norms = skip_jacobian_norms(h[0], W1, Wd, 3)
    assert norms[0] == 1.0 and np.isclose(norms[-1], np.linalg.norm(J, 2), rtol=1e-7)
    with pytest.raises(ValueError, match="delay"):
        skip_rnn_forward(x, Wx, W1, Wd, b, 0)


def test_content_read(rng):
    M = rng.standard_normal((6, 4))
    r, w = content_read(M, M[2], beta=0.0)
    assert np.allclose(w, 1 / 6) and np.allclose(r, M.mean(0))
    r, w = content_read(M, 3.0 * M[2], beta=200.0)              # cosine: the scale does not matter
    assert w.argmax() == 2 and w[2] > 0.99 and np.allclose(r, M[2], atol=0.05)
    r, w = content_read(M, M[:3], beta=1.0)
    assert r.shape == (3, 4) and w.shape == (3, 6) and np.allclose(w.sum(1), 1)


def test_memory_write(rng):
    M = rng.standard_normal((6, 4))
    a, e = rng.standard_normal(4), np.ones(4)
    one_hot = np.eye(6)[2]
    M2 = memory_write(M, one_hot, e, a)              # full erase of slot 2, then add: slot 2 becomes a
    assert np.allclose(M2[2], a) and np.array_equal(np.delete(M2, 2, 0), np.delete(M, 2, 0))
    assert np.array_equal(memory_write(M, np.zeros(6), e, a), M)          # zero weights: unchanged
    assert np.allclose(memory_write(M, one_hot, np.zeros(4), a)[2], M[2] + a)   # no erase: accumulate
    w = np.array([0.1, 0.2, 0.3, 0.4, 0.0, 0.0])
    e2 = rng.uniform(0, 1, 4)
    expected = np.stack([M[i] * (1 - w[i] * e2) + w[i] * a for i in range(6)])
    assert np.allclose(memory_write(M, w, e2, a), expected)
    # write by content, then read by content with the same key: the read returns the new vector
    _, w_key = content_read(M, M[4], beta=200.0)
    r, _ = content_read(memory_write(M, w_key, e, M[4] + a), M[4] + a, beta=200.0)
    assert np.allclose(r, M[4] + a, atol=1e-3)
    with pytest.raises(ValueError, match="erase"):
        memory_write(M, one_hot, 2 * e, a)
    with pytest.raises(ValueError, match="w"):
        memory_write(M, np.ones(5), e, a)
    with pytest.raises(ValueError, match="add"):
        memory_write(M, one_hot, e, np.ones(3))


def test_memory_series():
    u, Y = recall_series(50, [1, 4], seed=3)
    assert np.array_equal(Y[4:, 1], u[:-4]) and np.array_equal(Y[1:, 0], u[:-1])
    assert np.all(Y[:4, 1] == 0)
    u2, A = moving_average_series(50, [1, 5], seed=3)
    assert np.array_equal(u, u2) and np.allclose(A[:, 0], u)
    assert np.allclose(A[:, 1], np.convolve(u, np.ones(5) / 5)[:50])
    with pytest.raises(ValueError, match="delays: every value"):
        recall_series(10, [10])
