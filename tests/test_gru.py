"""GRU layers: centred-difference gradient checks (with and without torch's b_hn), equality with
torch.nn.GRU, truncated BPTT and clear errors."""
import numpy as np
import pytest

from rnncourse.gradcheck import gradcheck, rel_error
from rnncourse.layers import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from rnncourse.layers.convert import gru_from_torch, gru_to_torch

SHAPES = [(2, 3, 4, 5), (1, 1, 3, 2), (3, 4, 1, 1), (1, 5, 5, 3)]  # N, T, D, H incl. edge cases


def _params(rng, N, T, D, H, scale=0.5):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, 3 * H))
    Wh = scale * rng.standard_normal((H, 3 * H))
    b = rng.standard_normal(3 * H)
    bhn = rng.standard_normal(H)
    return x, h0, Wx, Wh, b, bhn


@pytest.mark.parametrize("with_bhn", [False, True])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_gru_step_gradients(rng, N, T, D, H, with_bhn):
    x, h0, Wx, Wh, b, bhn = _params(rng, N, T, D, H)
    inputs = [x[:, -1].copy(), h0, Wx, Wh, b] + ([bhn] if with_bhn else [])
    errors = gradcheck(gru_step_forward, gru_step_backward, inputs)
    assert len(errors) == len(inputs)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("with_bhn", [False, True])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_gru_sequence_gradients(rng, N, T, D, H, with_bhn):
    x, h0, Wx, Wh, b, bhn = _params(rng, N, T, D, H)
    inputs = [x, h0, Wx, Wh, b] + ([bhn] if with_bhn else [])
    errors = gradcheck(gru_forward, gru_backward, inputs)
    assert len(errors) == len(inputs)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("with_bhn", [False, True])
def test_sequence_equals_steps(rng, with_bhn):
    x, h0, Wx, Wh, b, bhn = _params(rng, 3, 5, 4, 6)
    bhn = bhn if with_bhn else None
    h, _ = gru_forward(x, h0, Wx, Wh, b, bhn)
    prev = h0
    for t in range(5):
        prev, _ = gru_step_forward(x[:, t], prev, Wx, Wh, b, bhn)
        np.testing.assert_allclose(h[:, t], prev, rtol=0, atol=1e-14)


def test_gru_formula(rng):
    """The step is literally h = (1 - z) * n + z * h_prev with n = tanh(a_n + r * (u_n + bhn))."""
    x, h0, Wx, Wh, b, bhn = _params(rng, 2, 1, 3, 4)
    x = x[:, 0]
    H = 4
    sig = lambda v: 1 / (1 + np.exp(-v))
    a, u = x @ Wx + b, h0 @ Wh
    r, z = sig(a[:, :H] + u[:, :H]), sig(a[:, H:2 * H] + u[:, H:2 * H])
    n = np.tanh(a[:, 2 * H:] + r * (u[:, 2 * H:] + bhn))
    h, _ = gru_step_forward(x, h0, Wx, Wh, b, bhn)
    np.testing.assert_allclose(h, (1 - z) * n + z * h0, rtol=1e-14, atol=1e-14)


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: forget the direct path dL/dh(t-1) += dh * z."""
    x, h0, Wx, Wh, b, _ = _params(rng, 2, 1, 3, 4)
    x = x[:, 0].copy()

    def wrong_backward(dnext, cache):
        dx, dprev_h, dWx, dWh, db = gru_step_backward(dnext, cache)
        z = cache[4][:, 4:8]                            # gates r, z, n
        return dx, dprev_h - dnext * z, dWx, dWh, db

    assert max(gradcheck(gru_step_forward, gru_step_backward, [x, h0, Wx, Wh, b])) < 1e-7
    errors = gradcheck(gru_step_forward, wrong_backward, [x, h0, Wx, Wh, b])
    assert max(errors) > 1e-3


@pytest.mark.parametrize("with_bhn", [False, True])
def test_gru_matches_torch(rng, with_bhn):
    torch = pytest.importorskip("torch")
    N, T, D, H = 3, 7, 5, 4
    x, h0, Wx, Wh, b, bhn = _params(rng, N, T, D, H)
    bhn = bhn if with_bhn else None
    ref = gru_to_torch(Wx, Wh, b, bhn=bhn)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, hn = ref(xt, h0t)
    dh = rng.standard_normal((N, T, H))
    out.backward(torch.tensor(dh))

    h, cache = gru_forward(x, h0, Wx, Wh, b, bhn)
    grads = gru_backward(dh, cache)
    assert len(grads) == 5 + with_bhn
    dx, dh0 = grads[:2]
    assert rel_error(h, out.detach().numpy()) < 1e-10
    assert rel_error(h[:, -1], hn.detach().numpy()[0]) < 1e-10
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()[0]) < 1e-10
    tWx, tWh, tb, tbhn = gru_from_torch(ref, grad=True)
    assert rel_error(grads[2], tWx) < 1e-10
    assert rel_error(grads[3], tWh) < 1e-10
    assert rel_error(grads[4], tb) < 1e-10
    if with_bhn:
        assert rel_error(grads[5], tbhn) < 1e-10
    Wx2, Wh2, b2, bhn2 = gru_from_torch(ref)
    for a, c in ((Wx2, Wx), (Wh2, Wh), (b2, b), (bhn2, bhn if with_bhn else np.zeros(H))):
        np.testing.assert_array_equal(a, c)


def test_truncated_bptt_gru(rng):
    x, h0, Wx, Wh, b, bhn = _params(rng, 2, 8, 3, 4)
    full, _ = gru_forward(x, h0, Wx, Wh, b, bhn)
    first, _ = gru_forward(x[:, :5], h0, Wx, Wh, b, bhn)
    second, cache = gru_forward(x[:, 5:], first[:, -1], Wx, Wh, b, bhn)
    np.testing.assert_allclose(np.concatenate([first, second], 1), full, rtol=0, atol=1e-14)
    dx, dh0, *_ = gru_backward(rng.standard_normal(second.shape), cache)
    assert dx.shape == (2, 3, 3) and dh0.shape == (2, 4)


@pytest.mark.parametrize("N", [1, 2])
def test_inputs_are_not_mutated(rng, N):
    args = _params(rng, N, 3, 4, 5)
    copies = [a.copy() for a in args]
    h, cache = gru_forward(*args)
    dh = rng.standard_normal(h.shape)
    dh_copy = dh.copy()
    gru_backward(dh, cache)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(dh, dh_copy)


def test_float32_stays_float32(rng):
    x, h0, Wx, Wh, b, _ = _params(rng, 2, 3, 4, 5)
    f32 = [a.astype(np.float32) for a in (x, h0, Wx, Wh, b)]
    h32, cache = gru_forward(*f32)
    assert h32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru_backward(np.ones_like(h32), cache))
    np.testing.assert_allclose(h32, gru_forward(x, h0, Wx, Wh, b)[0], atol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.zeros((2, 3, 4, 1))), "x: expected a 3-d array"),
    (dict(x=np.zeros((2, 3, 6))), r"x: expected shape \(N, T, D\) = \(2, 3, 4\), got \(2, 3, 6\)"),
    (dict(h0=np.zeros((2, 6))), r"h0: expected shape \(N, H\) = \(2, 5\), got \(2, 6\)"),
    (dict(Wh=np.zeros((5, 20))), r"Wh: expected shape \(H, 3H\) = \(5, 15\), got \(5, 20\)"),
    (dict(Wx=np.zeros((4, 20))), r"Wx: expected shape \(D, 3H\) = \(4, 15\), got \(4, 20\)"),
    (dict(b=np.zeros(5)), r"b: expected shape \(3H,\) = \(15,\), got \(5,\)"),
    (dict(bhn=np.zeros(15)), r"bhn: expected shape \(H,\) = \(5,\), got \(15,\)"),
    (dict(b=np.full(15, np.nan)), "b: contains 15 NaN/inf"),
])
def test_clear_errors(rng, bad, match):
    args = dict(zip(["x", "h0", "Wx", "Wh", "b"], _params(rng, 2, 3, 4, 5)))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        gru_forward(**args)


def test_clear_errors_backward_and_step(rng):
    x, h0, Wx, Wh, b, _ = _params(rng, 2, 3, 4, 5)
    _, cache = gru_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(2, 3, 5\)"):
        gru_backward(np.zeros((2, 4, 5)), cache)
    with pytest.raises(ValueError, match="prev_h: batch size 1 does not match x's batch size 2"):
        gru_step_forward(x[:, 0], np.zeros((1, 5)), Wx, Wh, b)
    _, scache = gru_step_forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dnext_h: expected shape \(N, H\) = \(2, 5\)"):
        gru_step_backward(np.zeros((2, 4)), scache)
