"""LSTM layers: centred-difference gradient checks (with and without c0 and peepholes), equality
with torch.nn.LSTM, truncated BPTT and clear errors."""
import numpy as np
import pytest

from rnncourse.gradcheck import gradcheck, numerical_gradient_array, rel_error
from rnncourse.layers import (
    lstm_backward, lstm_forward, lstm_last_state, lstm_step_backward, lstm_step_forward,
    tbptt_slices,
)
from rnncourse.layers.convert import lstm_from_torch, lstm_to_torch

SHAPES = [(2, 3, 4, 5), (1, 1, 3, 2), (3, 4, 1, 1), (1, 5, 5, 3)]  # N, T, D, H incl. edge cases


def _params(rng, N, T, D, H, scale=0.5):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, 4 * H))
    Wh = scale * rng.standard_normal((H, 4 * H))
    b = rng.standard_normal(4 * H)
    c0 = rng.standard_normal((N, H))
    p = rng.standard_normal((3, H))
    return x, h0, Wx, Wh, b, c0, p


def _step_forward(x, prev_h, prev_c, Wx, Wh, b, peephole=None):
    """Stack (next_h, next_c) so gradcheck sees one output."""
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, peephole)
    return np.stack([next_h, next_c]), cache


def _step_backward(dout, cache):
    return lstm_step_backward(dout[0], dout[1], cache)


@pytest.mark.parametrize("peephole", [False, True])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_lstm_step_gradients(rng, N, T, D, H, peephole):
    x, h0, Wx, Wh, b, c0, p = _params(rng, N, 1, D, H)
    inputs = [x[:, 0].copy(), h0, c0, Wx, Wh, b] + ([p] if peephole else [])
    errors = gradcheck(_step_forward, _step_backward, inputs)
    assert len(errors) == len(inputs)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("with_c0,peephole", [(False, False), (True, False), (False, True),
                                              (True, True)])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_lstm_sequence_gradients(rng, N, T, D, H, with_c0, peephole):
    x, h0, Wx, Wh, b, c0, p = _params(rng, N, T, D, H)
    inputs = [x, h0, Wx, Wh, b]
    if with_c0:
        inputs.append(c0)

    def fwd(*a):
        if peephole:
            *rest, pp = a
            return lstm_forward(*rest, peephole=pp)     # c0 is in rest when with_c0
        return lstm_forward(*a)

    errors = gradcheck(fwd, lstm_backward, inputs + ([p] if peephole else []))
    assert len(errors) == len(inputs) + peephole
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("peephole", [False, True])
def test_sequence_equals_steps(rng, peephole):
    x, h0, Wx, Wh, b, c0, p = _params(rng, 3, 5, 4, 6)
    p = p if peephole else None
    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0, p)
    prev_h, prev_c = h0, c0
    for t in range(5):
        prev_h, prev_c, _ = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, p)
        np.testing.assert_allclose(h[:, t], prev_h, rtol=0, atol=1e-14)
    hT, cT = lstm_last_state(cache)
    np.testing.assert_allclose(hT, prev_h, rtol=0, atol=1e-14)
    np.testing.assert_allclose(cT, prev_c, rtol=0, atol=1e-14)


def test_cell_state_starts_at_zero(rng):
    x, h0, Wx, Wh, b, c0, _ = _params(rng, 2, 3, 4, 5)
    h_default, _ = lstm_forward(x, h0, Wx, Wh, b)
    h_zero, _ = lstm_forward(x, h0, Wx, Wh, b, np.zeros_like(c0))
    np.testing.assert_array_equal(h_default, h_zero)


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: a BPTT that forgets to carry dL/dc back in time."""
    x, h0, Wx, Wh, b, c0, _ = _params(rng, 2, 3, 3, 4)

    def fwd(x, h0, Wx, Wh, b):
        caches, prev_h, prev_c, hs = [], h0, np.zeros_like(h0), []
        for t in range(x.shape[1]):
            prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
            caches.append(cache)
            hs.append(prev_h)
        return np.stack(hs, axis=1), caches

    def wrong_backward(dh, caches):
        dx = np.zeros_like(x)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        carry = np.zeros_like(h0)
        for t in range(len(caches) - 1, -1, -1):
            # bug: dnext_c should be the dprev_c of step t+1, not zero
            dx[:, t], carry, _, gWx, gWh, gb = lstm_step_backward(dh[:, t] + carry,
                                                                  np.zeros_like(carry), caches[t])
            dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
        return dx, carry, dWx, dWh, db

    assert max(gradcheck(fwd, lstm_backward_via_steps, [x, h0, Wx, Wh, b])) < 1e-7
    errors = gradcheck(fwd, wrong_backward, [x, h0, Wx, Wh, b])
    assert max(errors) > 1e-3


def lstm_backward_via_steps(dh, caches):
    """The correct step-by-step BPTT, the reference of the test above."""
    x0, h0 = caches[0][0], caches[0][1]
    N, H = h0.shape
    T = len(caches)
    dx = np.zeros((N, T, x0.shape[1]))
    dWx = dWh = db = 0.0
    dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t], dnext_h, dnext_c, gWx, gWh, gb = lstm_step_backward(dh[:, t] + dnext_h, dnext_c,
                                                                      caches[t])
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return dx, dnext_h, dWx, dWh, db


def test_gradcheck_catches_a_wrong_peephole_backward(rng):
    """Dropping the peepholes' paths into dc (but returning a dpeephole) is caught."""
    x, h0, Wx, Wh, b, c0, p = _params(rng, 2, 1, 3, 4)

    def wrong_backward(dout, cache):
        xx, ph, pc, Wxx, Whh, gates, next_c, tc, pp = cache
        grads = lstm_step_backward(dout[0], dout[1], cache)
        no_peep = lstm_step_backward(dout[0], dout[1], (xx, ph, pc, Wxx, Whh, gates, next_c, tc,
                                                        None))
        return no_peep + grads[-1:]

    inputs = [x[:, 0].copy(), h0, c0, Wx, Wh, b, p]
    assert max(gradcheck(_step_forward, _step_backward, inputs)) < 1e-7
    assert max(gradcheck(_step_forward, wrong_backward, inputs)) > 1e-3


def test_lstm_matches_torch(rng):
    torch = pytest.importorskip("torch")
    N, T, D, H = 3, 7, 5, 4
    x, h0, Wx, Wh, b, c0, _ = _params(rng, N, T, D, H)
    ref = lstm_to_torch(Wx, Wh, b)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out, (hn, cn) = ref(xt, (h0t, c0t))
    dh = rng.standard_normal((N, T, H))
    out.backward(torch.tensor(dh))

    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0)
    dx, dh0, dWx, dWh, db, dc0 = lstm_backward(dh, cache)
    assert rel_error(h, out.detach().numpy()) < 1e-10
    hT, cT = lstm_last_state(cache)
    assert rel_error(hT, hn.detach().numpy()[0]) < 1e-10
    assert rel_error(cT, cn.detach().numpy()[0]) < 1e-10
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()[0]) < 1e-10
    assert rel_error(dc0, c0t.grad.numpy()[0]) < 1e-10
    for mine, theirs in zip((dWx, dWh, db), lstm_from_torch(ref, grad=True)):
        assert rel_error(mine, theirs) < 1e-10
    for a, c in zip(lstm_from_torch(ref), (Wx, Wh, b)):
        np.testing.assert_array_equal(a, c)


def test_truncated_bptt_lstm(rng):
    """Chunks carry (h, c) forward exactly; their backward stops at the chunk boundary."""
    N, T, D, H, k = 2, 7, 3, 4, 3
    x, h0, Wx, Wh, b, c0, _ = _params(rng, N, T, D, H)
    dh = rng.standard_normal((N, T, H))
    full, _ = lstm_forward(x, h0, Wx, Wh, b, c0)
    slices = tbptt_slices(T, k)
    assert [(s.start, s.stop) for s in slices] == [(0, 3), (3, 6), (6, 7)]
    outs, starts, dWx = [], [], np.zeros_like(Wx)
    h, c = h0, c0
    for sl in slices:
        starts.append((h, c))
        out, cache = lstm_forward(x[:, sl], h, Wx, Wh, b, c)
        h, c = lstm_last_state(cache)
        outs.append(out)
        _, _, gWx, _, _, _ = lstm_backward(dh[:, sl], cache)
        dWx += gWx
    np.testing.assert_allclose(np.concatenate(outs, axis=1), full, rtol=0, atol=1e-14)

    def truncated_objective():
        # the carried states are constants: no gradient flows through them
        return sum(np.sum(lstm_forward(x[:, sl], hs, Wx, Wh, b, cs)[0] * dh[:, sl])
                   for sl, (hs, cs) in zip(slices, starts))

    num = numerical_gradient_array(lambda: np.array(truncated_objective()), Wx, np.array(1.0))
    assert rel_error(dWx, num) < 1e-7
    # and the truncation is real: full BPTT gives a different weight gradient
    _, _, full_dWx, _, _, _ = lstm_backward(dh, lstm_forward(x, h0, Wx, Wh, b, c0)[1])
    assert rel_error(dWx, full_dWx) > 1e-3


@pytest.mark.parametrize("N", [1, 2])
def test_inputs_are_not_mutated(rng, N):
    args = _params(rng, N, 3, 4, 5)
    copies = [a.copy() for a in args]
    h, cache = lstm_forward(*args[:5], c0=args[5], peephole=args[6])
    dh = rng.standard_normal(h.shape)
    dh_copy = dh.copy()
    lstm_backward(dh, cache)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(dh, dh_copy)


def test_float32_stays_float32(rng):
    x, h0, Wx, Wh, b, c0, p = _params(rng, 2, 3, 4, 5)
    f32 = [a.astype(np.float32) for a in (x, h0, Wx, Wh, b)]
    h32, cache = lstm_forward(*f32)
    assert h32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm_backward(np.ones_like(h32), cache))
    h64, _ = lstm_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h32, h64, atol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.zeros((2, 3))), "x: expected a 3-d array"),
    (dict(h0=np.zeros((3, 5))), r"h0: expected shape \(N, H\) = \(2, 5\), got \(3, 5\)"),
    (dict(c0=np.zeros((2, 4))), r"c0: expected shape \(N, H\) = \(2, 5\), got \(2, 4\)"),
    (dict(Wh=np.zeros((5, 15))), r"Wh: expected shape \(H, 4H\) = \(5, 20\), got \(5, 15\)"),
    (dict(Wx=np.zeros((4, 5))), r"Wx: expected shape \(D, 4H\) = \(4, 20\), got \(4, 5\)"),
    (dict(b=np.zeros(5)), r"b: expected shape \(4H,\) = \(20,\), got \(5,\)"),
    (dict(peephole=np.zeros((5,))), "peephole: expected a 2-d array"),
    (dict(peephole=np.zeros((4, 5))), r"peephole: expected shape \(3, H\) = \(3, 5\)"),
    (dict(x=np.full((2, 3, 4), np.inf)), "x: contains 24 NaN/inf"),
])
def test_clear_errors(rng, bad, match):
    args = dict(zip(["x", "h0", "Wx", "Wh", "b", "c0"], _params(rng, 2, 3, 4, 5)))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        lstm_forward(**args)


def test_clear_errors_backward_and_step(rng):
    x, h0, Wx, Wh, b, c0, _ = _params(rng, 2, 3, 4, 5)
    _, cache = lstm_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(2, 3, 5\)"):
        lstm_backward(np.zeros((2, 3, 4)), cache)
    with pytest.raises(ValueError, match="prev_h: batch size 3 does not match x's batch size 2"):
        lstm_step_forward(x[:, 0], np.zeros((3, 5)), c0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"prev_c: expected shape \(N, H\) = \(2, 5\)"):
        lstm_step_forward(x[:, 0], h0, np.zeros((2, 4)), Wx, Wh, b)
    _, _, scache = lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    with pytest.raises(ValueError, match="dnext_c: contains 1 NaN"):
        bad = np.zeros((2, 5))
        bad[0, 0] = np.nan
        lstm_step_backward(np.zeros((2, 5)), bad, scache)
