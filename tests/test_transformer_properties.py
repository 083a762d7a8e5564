"""Property tests (hypothesis, derandomized) for the Transformer layers of chapter 13: gradients on
drawn shapes, permutation equivariance of self-attention without positions, causality, the
invariances of layer normalisation, and the relative-position property of the sinusoidal encoding."""
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, configuration, given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.layers import (
    causal_mask, layernorm_backward, layernorm_forward, multihead_attention_backward,
    multihead_attention_forward, sinusoidal_encoding,
)

# keep hypothesis's cache out of the repository (see tests/test_layers_properties.py)
configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "rnncourse-hypothesis"))

PROPS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

# N, Tq, Tk, h, d_k, seed
mha_dims = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
                     st.integers(1, 3), st.integers(0, 2 ** 32 - 1))


def _params(rng, E):
    s = 1 / np.sqrt(E)
    return [s * rng.standard_normal((E, 3 * E)), 0.5 * rng.standard_normal(3 * E),
            s * rng.standard_normal((E, E)), 0.5 * rng.standard_normal(E)]


@PROPS
@given(dims=mha_dims)
def test_multihead_backward_matches_centred_differences(dims):
    N, Tq, Tk, h, dk, seed = dims
    E = h * dk
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((N, T, E)) for T in (Tq, Tk, Tk)] + _params(rng, E)
    mask = rng.random((N, Tq, Tk)) < 0.6
    mask[..., -1] = True
    f = lambda: multihead_attention_forward(*inputs, num_heads=h, mask=mask)
    out, _, cache = f()
    dout = rng.standard_normal(out.shape)
    grads = multihead_attention_backward(dout, cache)
    for i, (x, g) in enumerate(zip(inputs, grads)):
        num = numerical_gradient(lambda: np.sum(f()[0] * dout), x)
        if i == 4:                                      # the key bias: gradient exactly 0
            assert np.abs(g[E:2 * E]).max() < 1e-12
            num, g = np.delete(num, np.s_[E:2 * E]), np.delete(g, np.s_[E:2 * E])
        assert rel_error(num, g) < 1e-7, (i, rel_error(num, g))


@PROPS
@given(dims=mha_dims)
def test_self_attention_is_permutation_equivariant(dims):
    """Without positions or masks, permuting the positions permutes the outputs the same way."""
    N, T, _, h, dk, seed = dims
    E = h * dk
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, E))
    p = _params(rng, E)
    perm = rng.permutation(T)
    out, _, _ = multihead_attention_forward(x, x, x, *p, num_heads=h)
    xp = x[:, perm]
    out_p, _, _ = multihead_attention_forward(xp, xp, xp, *p, num_heads=h)
    np.testing.assert_allclose(out_p, out[:, perm], atol=1e-12)


@PROPS
@given(dims=mha_dims)
def test_causal_outputs_ignore_the_future(dims):
    N, T, _, h, dk, seed = dims
    E = h * dk
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, E))
    p = _params(rng, E)
    i = int(rng.integers(T))
    x2 = x.copy()
    x2[:, i + 1:] = rng.standard_normal(x2[:, i + 1:].shape)
    out, _, _ = multihead_attention_forward(x, x, x, *p, num_heads=h, mask=causal_mask(T))
    out2, _, _ = multihead_attention_forward(x2, x2, x2, *p, num_heads=h, mask=causal_mask(T))
    np.testing.assert_allclose(out2[:, :i + 1], out[:, :i + 1], atol=1e-12)


ln_dims = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(2, 6), st.integers(0, 2 ** 32 - 1))


@PROPS
@given(dims=ln_dims)
def test_layernorm_shift_invariance_and_gradient_sum(dims):
    """Adding a constant to a position's features changes nothing; so the gradient dx of every
    position sums to 0 over the features, and the backward pass is linear in dout."""
    N, T, D, seed = dims
    rng = np.random.default_rng(seed)
    x, gamma, beta = rng.standard_normal((N, T, D)), rng.standard_normal(D), rng.standard_normal(D)
    out, cache = layernorm_forward(x, gamma, beta)
    shifted, _ = layernorm_forward(x + rng.standard_normal((N, T, 1)), gamma, beta)
    np.testing.assert_allclose(shifted, out, atol=1e-9)
    d1, d2 = rng.standard_normal(out.shape), rng.standard_normal(out.shape)
    dx1, dg1, db1 = layernorm_backward(d1, cache)
    np.testing.assert_allclose(dx1.sum(-1), 0, atol=1e-10)
    dx2, dg2, db2 = layernorm_backward(d2, cache)
    dx12, dg12, db12 = layernorm_backward(2 * d1 - d2, cache)
    for a, b, c in ((dx1, dx2, dx12), (dg1, dg2, dg12), (db1, db2, db12)):
        np.testing.assert_allclose(c, 2 * a - b, atol=1e-10)


@PROPS
@given(T=st.integers(2, 60), D=st.integers(1, 12), k=st.integers(0, 10))
def test_sinusoidal_dot_products_depend_only_on_the_offset(T, D, k):
    """PE[p] . PE[p + k] is the same for every p: for each pair of columns it is cos(k w_i)."""
    pe = sinusoidal_encoding(T + k, D)
    assert np.abs(pe).max() <= 1 + 1e-15
    dots = np.sum(pe[:T] * pe[k:k + T], axis=1)
    if D % 2 == 0:                                      # a last sine-only column breaks the pairs
        np.testing.assert_allclose(dots, dots[0], atol=1e-9)
        w = 10000.0 ** (-np.arange(0, D, 2) / D)
        np.testing.assert_allclose(dots[0], np.cos(k * w).sum(), atol=1e-9)
