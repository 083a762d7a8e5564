"""Vanilla RNN layers: centred-difference gradient checks and equality with torch.nn.RNN."""
import numpy as np
import pytest

from rnncourse.gradcheck import gradcheck, numerical_gradient_array, rel_error
from rnncourse.layers import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnncourse.layers.convert import rnn_from_torch, rnn_to_torch

SHAPES = [(2, 3, 4, 5), (1, 1, 3, 2), (3, 4, 1, 1), (1, 6, 5, 3)]  # N, T, D, H incl. edge cases


def _params(rng, N, T, D, H, scale=0.5):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, H))
    Wh = scale * rng.standard_normal((H, H))
    b = rng.standard_normal(H)
    return x, h0, Wx, Wh, b


def _relu_safe_params(rng, N, T, D, H):
    """ReLU is not differentiable at 0: draw until no pre-activation lies within the stencil's reach."""
    while True:
        x, h0, Wx, Wh, b = params = _params(rng, N, T, D, H)
        prev, smallest = h0, np.inf
        for t in range(T):
            a = x[:, t] @ Wx + prev @ Wh + b
            smallest = min(smallest, np.abs(a).min())
            prev = np.maximum(a, 0)
        if smallest > 0.05:
            return params


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_rnn_step_gradients(rng, N, T, D, H, nonlinearity):
    make = _params if nonlinearity == "tanh" else _relu_safe_params
    x, h0, Wx, Wh, b = make(rng, N, 1, D, H)
    x = x[:, 0]
    fwd = lambda *a: rnn_step_forward(*a, nonlinearity=nonlinearity)
    errors = gradcheck(fwd, rnn_step_backward, [x, h0, Wx, Wh, b])
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_rnn_sequence_gradients(rng, N, T, D, H, nonlinearity):
    make = _params if nonlinearity == "tanh" else _relu_safe_params
    params = make(rng, N, T, D, H)
    fwd = lambda *a: rnn_forward(*a, nonlinearity=nonlinearity)
    errors = gradcheck(fwd, rnn_backward, list(params))
    assert max(errors) < 1e-7, errors


def test_sequence_equals_steps(rng):
    x, h0, Wx, Wh, b = _params(rng, 3, 5, 4, 6)
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    prev = h0
    for t in range(5):
        prev, _ = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], prev, rtol=0, atol=1e-14)


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: drop the tanh' factor and it does."""
    x, h0, Wx, Wh, b = _params(rng, 2, 1, 3, 4)
    x = x[:, 0]

    def wrong_backward(dnext, cache):
        xx, prev_h, Wxx, Whh, next_h, _ = cache
        da = dnext  # forgot diag(1 - h^2)
        return da @ Wxx.T, da @ Whh.T, xx.T @ da, prev_h.T @ da, da.sum(0)

    errors = gradcheck(rnn_step_forward, wrong_backward, [x, h0, Wx, Wh, b])
    assert max(errors) > 1e-3


def test_truncated_bptt_chunks_match_full_forward(rng):
    x, h0, Wx, Wh, b = _params(rng, 2, 8, 3, 4)
    full, _ = rnn_forward(x, h0, Wx, Wh, b)
    first, _ = rnn_forward(x[:, :4], h0, Wx, Wh, b)
    second, cache = rnn_forward(x[:, 4:], first[:, -1], Wx, Wh, b)
    np.testing.assert_allclose(np.concatenate([first, second], 1), full, rtol=0, atol=1e-14)
    # backward of the second chunk only reaches its own inputs and its h0 (the chunk boundary)
    dh = rng.standard_normal(second.shape)
    dx, dh0, *_ = rnn_backward(dh, cache)
    assert dx.shape == (2, 4, 3) and dh0.shape == (2, 4)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(rng, nonlinearity):
    torch = pytest.importorskip("torch")
    N, T, D, H = 3, 7, 5, 4
    x, h0, Wx, Wh, b = _params(rng, N, T, D, H)
    ref = rnn_to_torch(Wx, Wh, b, nonlinearity=nonlinearity)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, _ = ref(xt, h0t)
    dh = rng.standard_normal((N, T, H))
    out.backward(torch.tensor(dh))

    h, cache = rnn_forward(x, h0, Wx, Wh, b, nonlinearity=nonlinearity)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    assert rel_error(h, out.detach().numpy()) < 1e-10
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()[0]) < 1e-10
    gWx, gWh, gb = rnn_from_torch(ref, grad=True)
    assert rel_error(dWx, gWx) < 1e-10
    assert rel_error(dWh, gWh) < 1e-10
    assert rel_error(db, gb) < 1e-10
    # and the round trip of the weights is exact
    for a, c in zip(rnn_from_torch(ref), (Wx, Wh, b)):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.zeros((2, 3))), "x: expected a 3-d array"),
    (dict(h0=np.zeros((3, 4))), r"h0: expected shape \(N, H\) = \(2, 4\), got \(3, 4\)"),
    (dict(Wh=np.zeros((4, 5))), r"Wh: expected shape \(H, H\) = \(4, 4\), got \(4, 5\)"),
    (dict(b=np.zeros(3)), r"b: expected shape \(H,\)"),
    (dict(x=np.full((2, 3, 5), np.nan)), "x: contains 30 NaN"),
])
def test_clear_errors(rng, bad, match):
    args = dict(zip(["x", "h0", "Wx", "Wh", "b"], _params(rng, 2, 3, 5, 4)))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        rnn_forward(**args)


def test_numerical_gradient_array_is_centred(rng):
    x = rng.standard_normal(4)
    g = numerical_gradient_array(lambda: x ** 3, x, np.ones(4))
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-9)
