"""Stacked (with and without residual connections) and bidirectional wrappers over rnn, lstm and
gru: gradient checks, equality with torch's num_layers / bidirectional=True, clear errors."""
import numpy as np
import pytest

from rnncourse.gradcheck import gradcheck, rel_error
from rnncourse.layers import (
    bidirectional_backward, bidirectional_forward, stacked_backward, stacked_forward,
)
from rnncourse.layers.convert import from_torch, to_torch

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELLS = ["rnn", "lstm", "gru"]


def _layer(rng, cell, D, H, extra=False, scale=0.5):
    G = GATES[cell]
    p = (scale * rng.standard_normal((D, G * H)), scale * rng.standard_normal((H, G * H)),
         rng.standard_normal(G * H))
    if extra:                                   # an LSTM's peephole or a GRU's bhn
        p += (rng.standard_normal((3, H)) if cell == "lstm" else rng.standard_normal(H),)
    return p


def _flat_check(forward, backward, x, h0, params, c0=None, **kw):
    """gradcheck over x, h0, every parameter array and c0, through flattening wrappers."""
    sizes = [len(p) for p in params]

    def unflatten(arrays):
        out, i = [], 0
        for n in sizes:
            out.append(tuple(arrays[i:i + n]))
            i += n
        return out

    def fwd(x, h0, *rest):
        c = rest[-1] if c0 is not None else None
        flat = rest[:-1] if c0 is not None else rest
        return forward(x, h0, unflatten(flat), c0=c, **kw)

    def bwd(d, cache):
        dx, dh0, dparams, *dc0 = backward(d, cache)
        assert [len(p) for p in dparams] == sizes
        return (dx, dh0, *[g for p in dparams for g in p], *dc0)

    inputs = [x, h0] + [a for p in params for a in p] + ([c0] if c0 is not None else [])
    return gradcheck(fwd, bwd, inputs)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("N,T,D,H,L", [(2, 3, 4, 3, 3), (1, 1, 2, 1, 2)])
def test_stacked_gradients(rng, cell, residual, N, T, D, H, L):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((L, N, H))
    params = [_layer(rng, cell, D if l == 0 else H, H, extra=(l == 1 and cell != "rnn"))
              for l in range(L)]
    c0 = rng.standard_normal((L, N, H)) if cell == "lstm" else None
    errors = _flat_check(stacked_forward, stacked_backward, x, h0, params, c0, cell=cell,
                         residual=residual)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("merge", ["concat", "sum"])
@pytest.mark.parametrize("N,T,D,H", [(2, 3, 4, 3), (1, 1, 1, 2)])
def test_bidirectional_gradients(rng, cell, merge, N, T, D, H):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((2, N, H))
    params = [_layer(rng, cell, D, H), _layer(rng, cell, D, H, extra=cell != "rnn")]
    c0 = rng.standard_normal((2, N, H)) if cell == "lstm" else None
    errors = _flat_check(bidirectional_forward, bidirectional_backward, x, h0, params, c0,
                         cell=cell, merge=merge)
    assert max(errors) < 1e-7, errors


def test_residual_is_a_skip_connection(rng):
    x = rng.standard_normal((2, 4, 3))
    params = [_layer(rng, "rnn", 3, 3), _layer(rng, "rnn", 3, 3)]
    h0 = np.zeros((2, 2, 3))
    plain, _ = stacked_forward(x, h0, params, cell="rnn")
    res, _ = stacked_forward(x, h0, params, cell="rnn", residual=True)
    first, _ = stacked_forward(x, h0[:1], params[:1], cell="rnn")
    np.testing.assert_allclose(res, plain + first, rtol=0, atol=1e-14)


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: a residual stack whose backward skips the skip path."""
    x = rng.standard_normal((2, 3, 3))
    h0 = rng.standard_normal((2, 2, 3))
    params = [_layer(rng, "gru", 3, 3), _layer(rng, "gru", 3, 3)]

    def wrong_backward(dh, cache):
        cell, _, caches, has_c0, dims = cache
        return stacked_backward(dh, (cell, False, caches, has_c0, dims))   # forgot dh + ...

    fwd = lambda *a, **kw: stacked_forward(*a, **kw)
    assert max(_flat_check(fwd, stacked_backward, x, h0, params, cell="gru", residual=True)) < 1e-7
    assert max(_flat_check(fwd, wrong_backward, x, h0, params, cell="gru", residual=True)) > 1e-3


def test_gradcheck_catches_a_wrong_bidirectional_backward(rng):
    """Forgetting to flip the backward direction's gradient back into input order is caught."""
    x = rng.standard_normal((2, 4, 3))
    h0 = rng.standard_normal((2, 2, 3))
    params = [_layer(rng, "lstm", 3, 3), _layer(rng, "lstm", 3, 3)]

    def wrong_backward(dh, cache):
        from rnncourse.layers._cells import layer_backward

        cell, merge, cf, cb, has_c0, (N, T, H) = cache
        dxf, dh0f, dpf, _ = layer_backward(cell, dh[:, :, :H], cf, has_c0)
        dxb, dh0b, dpb, _ = layer_backward(cell, dh[:, :, H:], cb, has_c0)   # not reversed
        return dxf + dxb, np.stack([dh0f, dh0b]), [dpf, dpb]

    assert max(_flat_check(bidirectional_forward, wrong_backward, x, h0, params,
                           cell="lstm")) > 1e-3


def _torch_run(torch, module, x, h0, c0, out_np):
    """Run the module with autograd on; its output must equal ours."""
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    state = h0t
    if c0 is not None:
        c0t = torch.tensor(c0, requires_grad=True)
        state = (h0t, c0t)
    out, _ = module(xt, state)
    assert rel_error(out_np, out.detach().numpy()) < 1e-10
    return xt, h0t, (c0t if c0 is not None else None), out


@pytest.mark.parametrize("cell", CELLS)
def test_stacked_matches_torch_num_layers(rng, cell):
    torch = pytest.importorskip("torch")
    N, T, D, H, L = 2, 5, 4, 3, 3
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((L, N, H))
    c0 = rng.standard_normal((L, N, H)) if cell == "lstm" else None
    params = [_layer(rng, cell, D if l == 0 else H, H, extra=cell == "gru") for l in range(L)]
    ref = to_torch(cell, params)
    assert ref.num_layers == L
    h, cache = stacked_forward(x, h0, params, cell=cell, c0=c0)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dparams, *dc0 = stacked_backward(dh, cache)
    xt, h0t, c0t, out = _torch_run(torch, ref, x, h0, c0, h)
    out.backward(torch.tensor(dh))
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()) < 1e-10
    if cell == "lstm":
        assert rel_error(dc0[0], c0t.grad.numpy()) < 1e-10
    for mine, theirs in zip(dparams, from_torch(ref, grad=True)):
        for a, c in zip(mine, theirs):
            assert rel_error(a, c) < 1e-10


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_matches_torch(rng, cell):
    torch = pytest.importorskip("torch")
    N, T, D, H = 3, 6, 4, 5
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((2, N, H))
    c0 = rng.standard_normal((2, N, H)) if cell == "lstm" else None
    params = [_layer(rng, cell, D, H, extra=cell == "gru") for _ in range(2)]
    ref = to_torch(cell, params, bidirectional=True)
    h, cache = bidirectional_forward(x, h0, params, cell=cell, c0=c0)
    assert h.shape == (N, T, 2 * H)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dparams, *dc0 = bidirectional_backward(dh, cache)
    xt, h0t, c0t, out = _torch_run(torch, ref, x, h0, c0, h)
    out.backward(torch.tensor(dh))
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()) < 1e-10
    if cell == "lstm":
        assert rel_error(dc0[0], c0t.grad.numpy()) < 1e-10
    for mine, theirs in zip(dparams, from_torch(ref, grad=True)):
        for a, c in zip(mine, theirs):
            assert rel_error(a, c) < 1e-10


def test_bidirectional_sum_is_sum_of_halves(rng):
    x = rng.standard_normal((2, 4, 3))
    h0 = rng.standard_normal((2, 2, 5))
    params = [_layer(rng, "gru", 3, 5), _layer(rng, "gru", 3, 5)]
    cat, _ = bidirectional_forward(x, h0, params, cell="gru")
    total, _ = bidirectional_forward(x, h0, params, cell="gru", merge="sum")
    np.testing.assert_allclose(total, cat[..., :5] + cat[..., 5:], rtol=0, atol=1e-15)


def test_clear_errors(rng):
    x = rng.standard_normal((2, 3, 4))
    p0, p1 = _layer(rng, "lstm", 4, 5), _layer(rng, "lstm", 5, 5)
    with pytest.raises(ValueError, match="cell: expected one of"):
        stacked_forward(x, np.zeros((2, 2, 5)), [p0, p1], cell="transformer")
    with pytest.raises(ValueError, match=r"h0: expected shape \(L, N, H\) = \(2, 2, 5\), got \(1, 2, 5\)"):
        stacked_forward(x, np.zeros((1, 2, 5)), [p0, p1], cell="lstm")
    with pytest.raises(ValueError, match=r"params\[1\] Wx: expected shape \(H, 4H\) = \(5, 20\), got \(4, 20\)"):
        stacked_forward(x, np.zeros((2, 2, 5)), [p0, p0], cell="lstm")
    with pytest.raises(ValueError, match="c0: only an LSTM has a cell state"):
        stacked_forward(x, np.zeros((1, 2, 5)), [_layer(rng, "gru", 4, 5)], cell="gru",
                        c0=np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match="params: expected a non-empty list"):
        stacked_forward(x, np.zeros((0, 2, 5)), [], cell="lstm")
    with pytest.raises(ValueError, match="merge: expected one of"):
        bidirectional_forward(x, np.zeros((2, 2, 5)), [p0, p0], cell="lstm", merge="mean")
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, N, H\) = \(2, 2, 5\), got \(2, 3, 5\)"):
        bidirectional_forward(x, np.zeros((2, 3, 5)), [p0, p0], cell="lstm")
    with pytest.raises(ValueError, match="params: expected two per-direction tuples"):
        bidirectional_forward(x, np.zeros((2, 2, 5)), [p0], cell="lstm")
    with pytest.raises(ValueError, match=r"params\[1\] Wh: expected hidden size H = 5"):
        bidirectional_forward(x, np.zeros((2, 2, 5)), [p0, _layer(rng, "lstm", 4, 3)], cell="lstm")
    h, cache = bidirectional_forward(x, np.zeros((2, 2, 5)), [p0, p0], cell="lstm")
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, 2H\) = \(2, 3, 10\)"):
        bidirectional_backward(np.zeros((2, 3, 5)), cache)
