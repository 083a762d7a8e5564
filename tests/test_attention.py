"""Attention (dot, scaled dot, general, additive): gradient checks with and without masks, 2-d and
3-d queries, equality with torch (scaled_dot_product_attention and autograd of the formulas)."""
import numpy as np
import pytest

from rnncourse.gradcheck import gradcheck, rel_error
from rnncourse.layers import (
    additive_attention_backward, additive_attention_forward, dot_attention_backward,
    dot_attention_forward, general_attention_backward, general_attention_forward,
    scaled_dot_attention_backward, scaled_dot_attention_forward,
)

SHAPES = [(2, 3, 4, 5, 3), (1, 1, 1, 1, 1), (3, 2, 5, 1, 2), (1, 4, 3, 2, 4)]  # N, Tq, Tk, H, Hv


def _mask(rng, N, Tq, Tk, full):
    m = rng.random((N, Tq, Tk) if full else (N, Tk)) < 0.6
    m[..., 0] = True                         # every query may attend to at least one key
    return m


def _inputs(rng, kind, N, Tq, Tk, H, Hv, single=False):
    """(args, backward) for one variant; ``single`` uses 2-d queries (N, H)."""
    q = rng.standard_normal((N, H) if single else (N, Tq, H))
    k = rng.standard_normal((N, Tk, H + (kind in ("general", "additive"))))
    v = rng.standard_normal((N, Tk, Hv))
    Hk = k.shape[2]
    # weights of scale 1/sqrt(fan-in) keep the scores O(1): a saturated softmax has gradients so
    # small that no finite difference resolves them
    if kind == "general":
        return [q, k, v, rng.standard_normal((H, Hk)) / np.sqrt(H * Hk)]
    if kind == "additive":
        A = 3
        return [q, k, v, rng.standard_normal((H, A)) / np.sqrt(H), rng.standard_normal((Hk, A)) /
                np.sqrt(Hk), rng.standard_normal(A)]
    return [q, k, v]


VARIANTS = {
    "dot": (dot_attention_forward, dot_attention_backward),
    "scaled": (scaled_dot_attention_forward, scaled_dot_attention_backward),
    "general": (general_attention_forward, general_attention_backward),
    "additive": (additive_attention_forward, additive_attention_backward),
}


def _as_gradcheck(kind, mask):
    forward, backward = VARIANTS[kind]

    def fwd(*args):
        context, _, cache = forward(*args, mask=mask)
        return context, cache

    return fwd, backward


@pytest.mark.parametrize("kind", list(VARIANTS))
@pytest.mark.parametrize("masking", ["none", "keys", "full"])
@pytest.mark.parametrize("N,Tq,Tk,H,Hv", SHAPES)
def test_attention_gradients(rng, kind, masking, N, Tq, Tk, H, Hv):
    args = _inputs(rng, kind, N, Tq, Tk, H, Hv)
    mask = None if masking == "none" else _mask(rng, N, Tq, Tk, masking == "full")
    fwd, bwd = _as_gradcheck(kind, mask)
    errors = gradcheck(fwd, bwd, args)
    assert len(errors) == len(args)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_single_query(rng, kind):
    """A 2-d query (N, H) is one query per example; outputs drop the Tq axis."""
    N, Tk, H, Hv = 3, 5, 4, 2
    args = _inputs(rng, kind, N, 1, Tk, H, Hv, single=True)
    mask = _mask(rng, N, 1, Tk, full=False)
    forward, _ = VARIANTS[kind]
    context, weights, _ = forward(*args, mask=mask)
    assert context.shape == (N, Hv) and weights.shape == (N, Tk)
    ctx3, w3, _ = forward(args[0][:, None], *args[1:], mask=mask)
    np.testing.assert_allclose(context, ctx3[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(weights, w3[:, 0], rtol=0, atol=1e-15)
    fwd, bwd = _as_gradcheck(kind, mask)
    assert max(gradcheck(fwd, bwd, args)) < 1e-7


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_weights_are_a_masked_distribution(rng, kind):
    args = _inputs(rng, kind, 2, 3, 6, 4, 2)
    mask = _mask(rng, 2, 3, 6, full=True)
    context, weights, _ = VARIANTS[kind][0](*args, mask=mask)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=0, atol=1e-14)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(context, weights @ args[2], rtol=0, atol=1e-14)
    with pytest.raises(ValueError):
        weights[0, 0, 0] = 1.0                  # read-only: the cache holds the same array


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: a softmax backward without the - sum(a da) term."""
    q, k, v = _inputs(rng, "dot", 2, 3, 4, 5, 3)

    def wrong_backward(dcontext, cache):
        q3, kk, vv, a, scale, _ = cache
        ds = a * (dcontext @ vv.transpose(0, 2, 1))       # should subtract sum_j a da
        return ds @ kk, ds.transpose(0, 2, 1) @ q3, a.transpose(0, 2, 1) @ dcontext

    fwd, bwd = _as_gradcheck("dot", None)
    assert max(gradcheck(fwd, bwd, [q, k, v])) < 1e-7
    assert max(gradcheck(fwd, wrong_backward, [q, k, v])) > 1e-3


def _torch_scores(torch, kind, q, k, extra):
    if kind == "dot":
        return q @ k.transpose(1, 2)
    if kind == "scaled":
        return q @ k.transpose(1, 2) / np.sqrt(q.shape[-1])
    if kind == "general":
        return q @ extra[0] @ k.transpose(1, 2)
    Wq, Wk, va = extra
    return torch.tanh((q @ Wq)[:, :, None, :] + (k @ Wk)[:, None, :, :]) @ va


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_attention_matches_torch(rng, kind):
    torch = pytest.importorskip("torch")
    N, Tq, Tk, H, Hv = 3, 4, 6, 5, 2
    args = _inputs(rng, kind, N, Tq, Tk, H, Hv)
    mask = _mask(rng, N, Tq, Tk, full=True)
    context, weights, cache = VARIANTS[kind][0](*args, mask=mask)
    dcontext = rng.standard_normal(context.shape)
    grads = VARIANTS[kind][1](dcontext, cache)

    ts = [torch.tensor(a, requires_grad=True) for a in args]
    q, k, v, *extra = ts
    tmask = torch.tensor(mask)
    if kind == "scaled":
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=tmask)
    else:
        s = _torch_scores(torch, kind, q, k, extra).masked_fill(~tmask, float("-inf"))
        out = torch.softmax(s, dim=-1) @ v
        assert rel_error(weights, torch.softmax(s, dim=-1).detach().numpy()) < 1e-10
    out.backward(torch.tensor(dcontext))
    assert rel_error(context, out.detach().numpy()) < 1e-10
    for mine, t in zip(grads, ts):
        assert rel_error(mine, t.grad.numpy()) < 1e-10


@pytest.mark.parametrize("call, match", [
    (lambda q, k, v: dot_attention_forward(q, k[:, :, :3], v),
     r"k: expected shape \(N, Tk, H\) = \(2, 4, 5\), got \(2, 4, 3\)"),
    (lambda q, k, v: dot_attention_forward(q[:1], k, v),
     r"k: expected shape \(N, Tk, H\) = \(1, 4, 5\), got \(2, 4, 5\)"),
    (lambda q, k, v: dot_attention_forward(q, k, v[:, :2]),
     r"v: expected shape \(N, Tk, Hv\) = \(2, 4, 3\), got \(2, 2, 3\)"),
    (lambda q, k, v: dot_attention_forward(q[..., None], k, v), "q: expected a 2-d"),
    (lambda q, k, v: dot_attention_forward(q, k, v, mask=np.ones((2, 5), bool)),
     r"mask: expected shape \(N, Tk\) = \(2, 4\), got \(2, 5\)"),
    (lambda q, k, v: dot_attention_forward(q, k, v, mask=np.ones((2, 2, 4), bool)),
     r"mask: expected shape \(N, Tq, Tk\) = \(2, 3, 4\), got \(2, 2, 4\)"),
    (lambda q, k, v: dot_attention_forward(q, k, v, mask=np.zeros((2, 4), bool)),
     "mask: every query needs at least one key"),
    (lambda q, k, v: general_attention_forward(q, k, v, np.eye(4)),
     r"W: expected shape \(Hq, Hk\) = \(5, 5\), got \(4, 4\)"),
    (lambda q, k, v: additive_attention_forward(q, k, v, np.ones((5, 3)), np.ones((5, 2)),
                                                np.ones(3)),
     r"Wk: expected shape \(Hk, A\) = \(5, 3\), got \(5, 2\)"),
    (lambda q, k, v: dot_attention_forward(q * np.nan, k, v), "q: contains 30 NaN"),
])
def test_clear_errors(rng, call, match):
    q, k, v = _inputs(rng, "dot", 2, 3, 4, 5, 3)
    with pytest.raises(ValueError, match=match):
        call(q, k, v)


def test_clear_errors_backward(rng):
    q, k, v = _inputs(rng, "dot", 2, 3, 4, 5, 3)
    _, _, cache = dot_attention_forward(q, k, v)
    with pytest.raises(ValueError, match=r"dcontext: expected shape \(N, Tq, Hv\) = \(2, 3, 3\)"):
        dot_attention_backward(np.zeros((2, 3, 5)), cache)
