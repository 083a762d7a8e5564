"""rnncourse.bptt (chapter 2): full and truncated BPTT, Jacobians, information flow, the cliff."""
import numpy as np
import pytest
import torch

from rnncourse.bptt import (
    cliff_loss, cliff_rnn, gradient_descent, hidden_state_grads, information_flow, jacobian_norms,
    rnn_loss_and_grads, tbptt_epoch,
)
from rnncourse.data.memory import delayed_recall
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.layers import rnn_forward, temporal_affine_forward, temporal_softmax_loss
from rnncourse.longterm import scale_spectral_radius


def _params(rng, D, H, V, scale=0.5):
    return {"Wx": scale * rng.standard_normal((D, H)), "Wh": scale * rng.standard_normal((H, H)),
            "b": 0.1 * rng.standard_normal(H), "Wy": scale * rng.standard_normal((H, V)),
            "c": 0.1 * rng.standard_normal(V)}


def _data(rng, N, T, D, V):
    return rng.standard_normal((N, T, D)), rng.integers(0, V, size=(N, T))


@pytest.mark.parametrize("N,T,D,H,V", [(2, 5, 3, 4, 3), (1, 1, 2, 2, 2), (3, 7, 1, 3, 4)])
@pytest.mark.parametrize("use_mask", [False, True])
def test_loss_and_grads_match_centred_differences(rng, N, T, D, H, V, use_mask):
    p = _params(rng, D, H, V)
    x, y = _data(rng, N, T, D, V)
    h0 = rng.standard_normal((N, H))
    mask = (rng.random((N, T)) < 0.7) if use_mask else None
    loss, grads, h_last = rnn_loss_and_grads(x, y, h0, p, mask)
    h, _ = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
    assert np.allclose(h_last, h[:, -1])
    for k in p:
        num = numerical_gradient(lambda: rnn_loss_and_grads(x, y, h0, p, mask)[0], p[k])
        assert rel_error(num, grads[k]) < 1e-7, k


def test_loss_and_grads_validate_params(rng):
    x, y = _data(rng, 1, 2, 2, 2)
    with pytest.raises(ValueError, match="params: expected a dict with keys"):
        rnn_loss_and_grads(x, y, np.zeros((1, 2)), {"Wx": np.zeros((2, 2))})


def _torch_tbptt(x, y, p, chunk, lr, max_norm):
    """Independent reference: torch autograd, with the state detached at each chunk boundary."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    X, Y = torch.tensor(x), torch.tensor(y)
    N, T, _ = x.shape
    h = torch.zeros(N, p["Wh"].shape[0], dtype=torch.float64)
    losses = []
    for s in range(0, T, chunk):
        h = h.detach()
        loss = 0.0
        for t in range(s, min(s + chunk, T)):
            h = torch.tanh(X[:, t] @ P["Wx"] + h @ P["Wh"] + P["b"])
            o = h @ P["Wy"] + P["c"]
            loss = loss + torch.nn.functional.cross_entropy(o, Y[:, t], reduction="sum") / N
        grads = torch.autograd.grad(loss, list(P.values()))
        if max_norm is not None:
            norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            scale = min(1.0, max_norm / norm.item())
            grads = [g * scale for g in grads]
        with torch.no_grad():
            for v, g in zip(P.values(), grads):
                v -= lr * g
        losses.append(loss.item())
    return losses, {k: v.detach().numpy() for k, v in P.items()}


@pytest.mark.parametrize("chunk", [1, 3, 4, 10])
@pytest.mark.parametrize("max_norm", [None, 0.5])
def test_tbptt_epoch_agrees_with_torch(rng, chunk, max_norm):
    p = _params(rng, 3, 4, 3)
    x, y = _data(rng, 2, 10, 3, 3)
    before = {k: v.copy() for k, v in p.items()}
    losses, new = tbptt_epoch(x, y, p, chunk, lr=0.3, max_norm=max_norm)
    ref_losses, ref = _torch_tbptt(x, y, p, chunk, 0.3, max_norm)
    assert len(losses) == -(-10 // chunk)
    assert np.allclose(losses, ref_losses, rtol=1e-10, atol=1e-12)
    for k in p:
        assert np.allclose(new[k], ref[k], rtol=1e-10, atol=1e-12), k
        assert np.array_equal(p[k], before[k])                      # input params untouched


def test_tbptt_forward_is_exact(rng):
    """With a negligible step, the chunk losses add up to the loss of the whole sequence."""
    p = _params(rng, 2, 3, 2)
    x, y = _data(rng, 2, 9, 2, 2)
    losses, _ = tbptt_epoch(x, y, p, chunk=4, lr=1e-300)
    full, _, _ = rnn_loss_and_grads(x, y, np.zeros((2, 3)), p)
    assert abs(sum(losses) - full) < 1e-12


def test_tbptt_with_mask_and_h0(rng):
    p = _params(rng, 2, 3, 2)
    x, y = _data(rng, 2, 6, 2, 2)
    mask = np.ones((2, 6), bool)
    mask[:, :2] = False
    h0 = rng.standard_normal((2, 3))
    losses, _ = tbptt_epoch(x, y, p, chunk=2, lr=0.1, h0=h0, mask=mask)
    assert losses[0] == 0.0 and losses[1] > 0
    with pytest.raises(ValueError, match="chunk|k: expected"):
        tbptt_epoch(x, y, p, chunk=0, lr=0.1)


def test_hidden_state_grads_are_dL_dh(rng):
    """g(t) is the derivative of the loss w.r.t. an offset added to h(t) after its tanh."""
    N, T, D, H, V = 2, 5, 3, 4, 3
    p = _params(rng, D, H, V)
    x, y = _data(rng, N, T, D, V)
    eps = np.zeros((N, T, H))

    def loss_of_offsets():
        prev, hs = np.zeros((N, H)), []
        for t in range(T):
            prev = np.tanh(x[:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"]) + eps[:, t]
            hs.append(prev)
        o, _ = temporal_affine_forward(np.stack(hs, 1), p["Wy"], p["c"])
        return temporal_softmax_loss(o, y)[0]

    h, _ = rnn_forward(x, np.zeros((N, H)), p["Wx"], p["Wh"], p["b"])
    o, cache = temporal_affine_forward(h, p["Wy"], p["c"])
    _, do = temporal_softmax_loss(o, y)
    direct = do @ p["Wy"].T                                       # V^T dL/do(t)
    g = hidden_state_grads(direct, h, p["Wh"])
    assert rel_error(numerical_gradient(loss_of_offsets, eps), g) < 1e-7


def test_jacobian_norms_linear_symmetric_is_rho_to_the_t(rng):
    A = rng.standard_normal((6, 6))
    for rho in [0.5, 1.0, 1.3]:
        Wh = scale_spectral_radius(A + A.T, rho)
        norms = jacobian_norms(np.zeros((20, 6)), Wh)
        assert np.allclose(norms, rho ** np.arange(1, 21), rtol=1e-10)


def test_jacobian_norms_match_finite_differences(rng):
    H, T = 3, 6
    Wx, Wh, b = rng.standard_normal((2, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    x = rng.standard_normal((1, T, 2))
    h0 = rng.standard_normal((1, H))
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    J = np.zeros((H, H))
    for i in range(H):
        hh = h0.copy()
        J[i] = numerical_gradient(lambda: rnn_forward(x, hh, Wx, Wh, b)[0][0, -1, i], hh)[0]
    assert np.isclose(jacobian_norms(h[0], Wh)[-1], np.linalg.norm(J, 2), rtol=1e-7)


def test_information_flow(rng):
    N, T, H = 2, 4, 3
    h = np.tanh(rng.standard_normal((N, T, H)))
    g = rng.standard_normal((N, T, H))
    Wh = rng.standard_normal((H, H))
    ratios, omega = information_flow(g, h, Wh)
    assert ratios.shape == (N, T - 1)
    n, t = 1, 2                                 # ratios[:, t - 1] is step t + 1 of the book
    J = (1 - h[n, t] ** 2)[:, None] * Wh.T      # dh(t)/dh(t-1), column convention
    assert np.isclose(ratios[n, t - 1], np.linalg.norm(g[n, t] @ J) / np.linalg.norm(g[n, t]))
    assert np.isclose(omega, np.mean(np.sum((ratios - 1) ** 2, axis=1)))
    # an orthogonal W with linear units preserves every norm: Omega = 0
    Q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    assert information_flow(g, np.zeros_like(h), Q)[1] < 1e-20


def test_cliff_rnn_gradient_and_clipping():
    for w, b in [(4.5, -4.5), (1.0, 0.3), (6.0, -3.0)]:
        p = np.array([w, b])
        _, g = cliff_rnn(w, b)
        num = numerical_gradient(lambda: cliff_rnn(*p)[0], p, h=1e-5, order=2)
        assert rel_error(num, g) < 1e-5
        assert np.isclose(cliff_loss(np.array([w, 0.0]), np.array([b, 0.0]))[0], cliff_rnn(w, b)[0])
    path, losses, norms = gradient_descent(lambda p: cliff_rnn(*p), [4.5, -4.5], 0.2, 30, max_norm=2.0)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert path.shape == (31, 2) and losses.shape == norms.shape == (30,)
    assert steps.max() <= 0.2 * 2.0 + 1e-12 and norms.max() > 2.0


def test_delayed_recall():
    x, y, mask = delayed_recall(3, 8, delay=2, n_symbols=5, seed=4)
    assert x.shape == (3, 8, 5) and y.shape == mask.shape == (3, 8)
    assert np.array_equal(y[:, 2:], x.argmax(-1)[:, :-2]) and not mask[:, :2].any()
    assert np.array_equal(delayed_recall(3, 8, 2, 5, seed=4)[0], x)
    with pytest.raises(ValueError, match="T: expected an integer >= 3"):
        delayed_recall(1, 2, delay=2)
