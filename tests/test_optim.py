"""Optimisers (equal to torch.optim in float64) and gradient clipping."""
import numpy as np
import pytest

from rnncourse.gradcheck import rel_error
from rnncourse.layers import rnn_backward, rnn_forward, temporal_softmax_loss
from rnncourse.layers import temporal_affine_backward, temporal_affine_forward
from rnncourse.optim import SGD, Adam, Momentum, clip_grad_norm, clip_grad_value


def _problem(rng):
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(6)]
    return params, grads


def _torch_run(torch, params, grads, make):
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = make(list(ts.values()))
    for g in grads:
        for k, t in ts.items():
            t.grad = torch.tensor(g[k])
        opt.step()
    return {k: t.detach().numpy() for k, t in ts.items()}


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_optimisers_match_torch(rng, name):
    torch = pytest.importorskip("torch")
    params, grads = _problem(rng)
    ours = {
        "sgd": lambda: SGD(lr=0.1),
        "momentum": lambda: Momentum(lr=0.1, momentum=0.9),
        "nesterov": lambda: Momentum(lr=0.1, momentum=0.8, nesterov=True),
        "adam": lambda: Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-8),
    }[name]()
    theirs = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
        "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        "nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
        "adam": lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-8),
    }[name]
    expected = _torch_run(torch, params, grads, theirs)
    arrays = {k: v.copy() for k, v in params.items()}
    before = {k: id(v) for k, v in arrays.items()}
    for g in grads:
        g_copy = {k: v.copy() for k, v in g.items()}
        ours.update(arrays, g)
        for k in g:
            np.testing.assert_array_equal(g[k], g_copy[k])       # gradients are not touched
    assert {k: id(v) for k, v in arrays.items()} == before      # updated in place
    for k in params:
        assert rel_error(arrays[k], expected[k]) < 1e-12


def test_a_wrong_update_is_caught(rng):
    """The comparison must be able to fail: Adam without bias correction differs from torch."""
    torch = pytest.importorskip("torch")
    params, grads = _problem(rng)
    expected = _torch_run(torch, params, grads[:2], lambda p: torch.optim.Adam(p, lr=0.05))
    arrays = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    s = {k: np.zeros_like(v) for k, v in params.items()}
    for g in grads[:2]:
        for k in arrays:
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            s[k] = 0.999 * s[k] + 0.001 * g[k] ** 2
            arrays[k] -= 0.05 * m[k] / (np.sqrt(s[k]) + 1e-8)     # no bias correction
    assert max(rel_error(arrays[k], expected[k]) for k in params) > 1e-3


def test_clip_grad_norm(rng):
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    copies = {k: v.copy() for k, v in grads.items()}
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    clipped, total = clip_grad_norm(grads, max_norm=1.0)
    assert abs(total - norm) < 1e-12
    new_norm = np.sqrt(sum(np.sum(g ** 2) for g in clipped.values()))
    assert abs(new_norm - 1.0) < 1e-12                           # exactly max_norm
    for k in grads:
        np.testing.assert_allclose(clipped[k], grads[k] / norm, rtol=1e-14)
        np.testing.assert_array_equal(grads[k], copies[k])       # inputs untouched
    unclipped, total2 = clip_grad_norm(grads, max_norm=10 * norm)
    assert total2 == total
    for k in grads:
        np.testing.assert_array_equal(unclipped[k], grads[k])
        assert unclipped[k] is not grads[k]


def test_clip_grad_norm_matches_torch_norm(rng):
    torch = pytest.importorskip("torch")
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g)
    total_t = torch.nn.utils.clip_grad_norm_(ts, max_norm=0.5)
    clipped, total = clip_grad_norm(grads, 0.5)
    assert isinstance(clipped, list)
    assert abs(total - float(total_t)) < 1e-12
    # torch divides by (norm + 1e-6); we divide by the norm itself
    for c, g in zip(clipped, grads):
        np.testing.assert_allclose(c, g * 0.5 / total, rtol=1e-14)


def test_clip_grad_value(rng):
    grads = (rng.standard_normal(10) * 3, rng.standard_normal((2, 2)))
    clipped = clip_grad_value(grads, 1.0)
    assert isinstance(clipped, tuple)
    for c, g in zip(clipped, grads):
        np.testing.assert_array_equal(c, np.clip(g, -1.0, 1.0))


def test_training_an_rnn_with_adam_and_clipping(rng):
    """Adam + clipping drives the loss of a tiny RNN language model down (integration test)."""
    N, T, V, H = 4, 6, 5, 8
    y = rng.integers(0, V, size=(N, T + 1))
    x = np.eye(V)[y[:, :-1]]                                      # one-hot inputs
    params = {"Wx": 0.3 * rng.standard_normal((V, H)), "Wh": 0.3 * rng.standard_normal((H, H)),
              "b": np.zeros(H), "Wo": 0.3 * rng.standard_normal((H, V)), "c": np.zeros(V)}
    opt = Adam(lr=0.05)
    losses = []
    for _ in range(60):
        h, cache = rnn_forward(x, np.zeros((N, H)), params["Wx"], params["Wh"], params["b"])
        o, ocache = temporal_affine_forward(h, params["Wo"], params["c"])
        loss, do = temporal_softmax_loss(o, y[:, 1:])
        dh, dWo, dc = temporal_affine_backward(do, ocache)
        _, _, dWx, dWh, db = rnn_backward(dh, cache)
        grads, _ = clip_grad_norm({"Wx": dWx, "Wh": dWh, "b": db, "Wo": dWo, "c": dc}, 5.0)
        opt.update(params, grads)
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]


def test_clear_errors(rng):
    params = {"W": np.zeros((2, 3))}
    with pytest.raises(ValueError, match=r"grads: expected the keys of params \['W'\], got \['V'\]"):
        SGD().update(params, {"V": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"grads\['W'\]: expected shape \(2, 3\), got \(3, 2\)"):
        Adam().update(params, {"W": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"grads\['W'\]: contains 1 NaN"):
        Momentum().update(params, {"W": np.array([[0, 0, np.nan], [0, 0, 0]])})
    with pytest.raises(ValueError, match=r"params\['W'\]: expected a float ndarray"):
        SGD().update({"W": [[0.0]]}, {"W": np.zeros((1, 1))})
    with pytest.raises(ValueError, match="lr: expected a finite number > 0"):
        SGD(lr=-1.0)
    with pytest.raises(ValueError, match=r"beta2: expected a number in \[0, 1\)"):
        Adam(beta2=1.0)
    with pytest.raises(ValueError, match="max_norm: expected a finite number > 0"):
        clip_grad_norm({"W": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match=r"grads\['W'\]: contains 1 NaN"):
        clip_grad_norm({"W": np.array([np.inf, 1.0])}, 1.0)
    with pytest.raises(ValueError, match="grads: expected a dict or a list of arrays"):
        clip_grad_value(np.ones(3), 1.0)
