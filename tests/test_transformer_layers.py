"""Transformer layers in numpy (chapter 13): multi-head attention with masks, layer norm, Add & Norm,
positional encoding, feed-forward network, encoder and decoder blocks. Gradient checks in float64
on odd shapes, equality with torch.nn.MultiheadAttention / LayerNorm / TransformerEncoderLayer /
TransformerDecoderLayer to 1e-10 (outputs and every gradient), and the errors bad input gets."""
import numpy as np
import pytest
import torch

from rnncourse.gradcheck import gradcheck, numerical_gradient, rel_error
from rnncourse.layers import (
    add_norm_backward, add_norm_forward, causal_mask,
    decoder_block_backward, decoder_block_forward, decoder_block_from_torch,
    encoder_block_backward, encoder_block_forward, encoder_block_from_torch, ffn_backward,
    ffn_forward, init_decoder_block, init_encoder_block, layernorm_backward, layernorm_forward,
    mha_from_torch, mha_to_torch, multihead_attention_backward, multihead_attention_forward,
    padding_mask, positional_encoding_backward, positional_encoding_forward, sinusoidal_encoding,
)
from rnncourse.layers.transformer import DECODER_KEYS, ENCODER_KEYS

TOL = 1e-10
SHAPES = [(1, 1, 1, 1, 1), (2, 3, 5, 6, 3), (3, 4, 2, 4, 2), (2, 5, 5, 3, 1), (1, 3, 4, 6, 6)]
# N, Tq, Tk, E, h


def _mask(rng, kind, N, Tq, Tk):
    if kind == "none":
        return None
    if kind == "padding":
        return padding_mask(rng.integers(1, Tk + 1, size=N), Tk)
    if kind == "causal":
        m = np.tril(np.ones((Tq, Tk), dtype=bool), k=max(Tk - Tq, 0))[None]
        return m
    m = rng.random((N, Tq, Tk)) < 0.5                     # "full": any pattern with a key per row
    m[..., 0] = True
    return m


def _mha_params(rng, E, scale=1.0):
    s = scale / np.sqrt(E)
    return [s * rng.standard_normal((E, 3 * E)), 0.5 * rng.standard_normal(3 * E),
            s * rng.standard_normal((E, E)), 0.5 * rng.standard_normal(E)]


@pytest.mark.parametrize("masking", ["none", "padding", "causal", "full"])
@pytest.mark.parametrize("N,Tq,Tk,E,h", SHAPES)
def test_multihead_gradients(rng, masking, N, Tq, Tk, E, h):
    q, k, v = (rng.standard_normal((N, T, E)) for T in (Tq, Tk, Tk))
    params = _mha_params(rng, E)
    mask = _mask(rng, masking, N, Tq, Tk)

    def fwd(*args):
        out, _, cache = multihead_attention_forward(*args, num_heads=h, mask=mask)
        return out, cache

    out, cache = fwd(q, k, v, *params)
    dout = rng.standard_normal(out.shape)
    grads = multihead_attention_backward(dout, cache)
    inputs = [q, k, v, *params]
    for i, (x, g) in enumerate(zip(inputs, grads)):
        num = numerical_gradient(lambda: np.sum(fwd(*inputs)[0] * dout), x)
        if i == 4:
            # the key bias adds q . b_K to every score of a query: the softmax ignores it, so its
            # gradient is exactly 0 (numerically ~1e-12, which no relative error resolves)
            E_ = x.shape[0] // 3
            assert np.abs(g[E_:2 * E_]).max() < 1e-12 and np.abs(num[E_:2 * E_]).max() < 1e-8
            g, num = np.delete(g, np.s_[E_:2 * E_]), np.delete(num, np.s_[E_:2 * E_])
        assert g.shape == num.shape
        assert rel_error(num, g) < 1e-7, (i, rel_error(num, g))


def _torch_mha(E, h, params):
    m = torch.nn.MultiheadAttention(E, h, batch_first=True, dtype=torch.float64)
    mha_to_torch(m, *params)
    return m


@pytest.mark.parametrize("masking", ["none", "padding", "causal", "full", "padding+causal"])
@pytest.mark.parametrize("N,Tq,Tk,E,h", SHAPES)
def test_multihead_equals_torch(rng, masking, N, Tq, Tk, E, h):
    q, k, v = (rng.standard_normal((N, T, E)) for T in (Tq, Tk, Tk))
    params = _mha_params(rng, E, scale=2.0)
    kwargs = {}
    if masking == "padding+causal":
        Tk, k, v = Tq, k[:, :1].repeat(Tq, 1), v[:, :1].repeat(Tq, 1)   # self-attention shapes
        k = k + rng.standard_normal(k.shape)
        pad = padding_mask(rng.integers(1, Tq + 1, size=N), Tq)
        mask = pad[:, None, :] & causal_mask(Tq)
        mask[~mask.any(-1)] = True        # a padded query before every real key: let it see all
        kwargs["attn_mask"] = torch.tensor(np.repeat(~mask, h, axis=0))   # (N h, Tq, Tk)
    else:
        mask = _mask(rng, masking, N, Tq, Tk)
        if masking == "padding":
            kwargs["key_padding_mask"] = torch.tensor(~mask)
        elif masking == "causal":
            kwargs["attn_mask"] = torch.tensor(~mask[0])
        elif masking == "full":
            kwargs["attn_mask"] = torch.tensor(np.repeat(~mask, h, axis=0))
    out, weights, cache = multihead_attention_forward(q, k, v, *params, num_heads=h, mask=mask)
    m = _torch_mha(E, h, params)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    t_out, t_w = m(tq, tk, tv, average_attn_weights=False, **kwargs)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(weights, t_w.detach().numpy(), rtol=0, atol=TOL)
    dout = rng.standard_normal(out.shape)
    t_out.backward(torch.tensor(dout))
    dq, dk, dv, dWqkv, dbqkv, dWo, dbo = multihead_attention_backward(dout, cache)
    ref = mha_from_torch(m)
    assert set(ref) == {"Wqkv", "bqkv", "Wo", "bo"}
    for mine, theirs in [(dq, tq.grad), (dk, tk.grad), (dv, tv.grad),
                         (dWqkv, m.in_proj_weight.grad.T), (dbqkv, m.in_proj_bias.grad),
                         (dWo, m.out_proj.weight.grad.T), (dbo, m.out_proj.bias.grad)]:
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=0, atol=TOL)


def test_weights_and_masks(rng):
    N, T, E, h = 2, 5, 4, 2
    x = rng.standard_normal((N, T, E))
    params = _mha_params(rng, E)
    lengths = np.array([5, 3])
    mask = padding_mask(lengths, T)[:, None, :] & causal_mask(T)
    _, w, _ = multihead_attention_forward(x, x, x, *params, num_heads=h, mask=mask)
    assert w.shape == (N, h, T, T) and not w.flags.writeable
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-14)
    assert np.all(w[:, :, np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)   # no future
    assert np.all(w[1, :, :, 3:] == 0)                                                  # no padding
    # changing the future or the padding changes nothing before it
    x2 = x.copy()
    x2[:, 4] += 10.0
    x2[1, 3:] -= 7.0
    out, _, _ = multihead_attention_forward(x, x, x, *params, num_heads=h, mask=mask)
    out2, _, _ = multihead_attention_forward(x2, x2, x2, *params, num_heads=h, mask=mask)
    np.testing.assert_allclose(out2[0, :4], out[0, :4], atol=1e-13)
    np.testing.assert_allclose(out2[1, :3], out[1, :3], atol=1e-13)


def test_masks():
    assert causal_mask(3).tolist() == [[[True, False, False], [True, True, False], [True, True, True]]]
    assert padding_mask(np.array([1, 3]), 3).tolist() == [[True, False, False], [True, True, True]]
    with pytest.raises(ValueError, match="T: expected a positive int"):
        causal_mask(0)
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, T = 3\]"):
        padding_mask(np.array([0, 2]), 3)
    with pytest.raises(ValueError, match="lengths: expected a 1-d integer array"):
        padding_mask(np.array([1.0, 2.0]), 3)


def test_one_head_is_chapter_10_attention(rng):
    """With h = 1 and identity projections, multi-head attention is scaled dot-product attention."""
    from rnncourse.layers import scaled_dot_attention_forward
    N, Tq, Tk, E = 2, 3, 4, 5
    q, k, v = (rng.standard_normal((N, T, E)) for T in (Tq, Tk, Tk))
    I = np.eye(E)
    out, w, _ = multihead_attention_forward(q, k, v, np.hstack([I, I, I]), np.zeros(3 * E), I,
                                            np.zeros(E), num_heads=1)
    ctx, a, _ = scaled_dot_attention_forward(q, k, v)
    np.testing.assert_allclose(out, ctx, atol=1e-14)
    np.testing.assert_allclose(w[:, 0], a, atol=1e-14)


def test_multihead_errors(rng):
    N, T, E = 2, 3, 4
    x = rng.standard_normal((N, T, E))
    p = _mha_params(rng, E)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        multihead_attention_forward(x, x, x, *p, num_heads=3)
    with pytest.raises(ValueError, match="num_heads: expected a positive int"):
        multihead_attention_forward(x, x, x, *p, num_heads=0)
    with pytest.raises(ValueError, match=r"Wqkv: expected shape \(E, 3E\) = \(4, 12\), got \(4, 8\)"):
        multihead_attention_forward(x, x, x, p[0][:, :8], *p[1:], num_heads=2)
    with pytest.raises(ValueError, match=r"k: expected shape \(N, Tk, E\)"):
        multihead_attention_forward(x, x[:, :, :3], x, *p, num_heads=2)
    with pytest.raises(ValueError, match=r"v: expected shape \(N, Tk, E\)"):
        multihead_attention_forward(x, x, x[:, :2], *p, num_heads=2)
    with pytest.raises(ValueError, match="all False"):
        multihead_attention_forward(x, x, x, *p, num_heads=2, mask=np.zeros((N, T), dtype=bool))
    with pytest.raises(ValueError, match="mask: a mask holds booleans or 0/1 only"):
        multihead_attention_forward(x, x, x, *p, num_heads=2, mask=np.full((N, T), 0.5))
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, Tq, Tk\)"):
        multihead_attention_forward(x, x, x, *p, num_heads=2, mask=np.ones((3, T, T), dtype=bool))
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, Tk\)"):
        multihead_attention_forward(x, x, x, *p, num_heads=2, mask=np.ones((N, T + 1), dtype=bool))
    _, _, cache = multihead_attention_forward(x, x, x, *p, num_heads=2)
    with pytest.raises(ValueError, match=r"dout: expected shape \(N, Tq, E\)"):
        multihead_attention_backward(np.ones((N, T, E + 1)), cache)
    with pytest.raises(ValueError, match="q: expected a 3-d array"):
        multihead_attention_forward(x[0], x, x, *p, num_heads=2)


# ---------------------------------------------------------------------------- layer norm


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (2, 3, 5), (2, 1, 3, 4)])
def test_layernorm_gradients(rng, shape):
    D = shape[-1]
    inputs = [rng.standard_normal(shape), 1 + 0.5 * rng.standard_normal(D), rng.standard_normal(D)]
    assert max(gradcheck(layernorm_forward, layernorm_backward, inputs)) < 1e-7


@pytest.mark.parametrize("shape", [(4, 1), (3, 7), (2, 3, 5)])
@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_layernorm_equals_torch(rng, shape, eps):
    D = shape[-1]
    x, gamma, beta = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(D), rng.standard_normal(D)
    out, cache = layernorm_forward(x, gamma, beta, eps)
    ln = torch.nn.LayerNorm(D, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(gamma))
        ln.bias.copy_(torch.tensor(beta))
    tx = torch.tensor(x, requires_grad=True)
    t_out = ln(tx)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=0, atol=TOL)
    dout = rng.standard_normal(shape)
    t_out.backward(torch.tensor(dout))
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    for mine, theirs in [(dx, tx.grad), (dgamma, ln.weight.grad), (dbeta, ln.bias.grad)]:
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=0, atol=TOL)


def test_layernorm_standardises_each_position(rng):
    x = 5 + 3 * rng.standard_normal((4, 6, 16))
    out, _ = layernorm_forward(x, np.ones(16), np.zeros(16), eps=1e-12)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, atol=1e-10)
    # each position alone: changing one example or one position leaves the others untouched
    x2 = x.copy()
    x2[1, 2] *= -4
    out2, _ = layernorm_forward(x2, np.ones(16), np.zeros(16), eps=1e-12)
    changed = np.abs(out2 - out).max(-1) > 0
    assert changed[1, 2] and changed.sum() == 1


def test_layernorm_errors(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"gamma: expected shape \(D,\) = \(3,\), got \(2,\)"):
        layernorm_forward(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"beta: expected shape \(D,\)"):
        layernorm_forward(x, np.ones(3), np.zeros(4))
    with pytest.raises(ValueError, match="x: expected at least a 2-d array"):
        layernorm_forward(np.ones(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="eps: expected a positive number"):
        layernorm_forward(x, np.ones(3), np.zeros(3), eps=0)
    with pytest.raises(ValueError, match="x: contains 1 NaN"):
        layernorm_forward(np.array([[1.0, np.nan]]), np.ones(2), np.zeros(2))
    _, cache = layernorm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="dout: expected shape"):
        layernorm_backward(np.ones((3, 2)), cache)


def test_add_norm(rng):
    x, sub = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    assert max(gradcheck(add_norm_forward, add_norm_backward, [x, sub, gamma, beta])) < 1e-7
    out, cache = add_norm_forward(x, sub, gamma, beta)
    np.testing.assert_allclose(out, layernorm_forward(x + sub, gamma, beta)[0], atol=0)
    dx, dsub, _, _ = add_norm_backward(rng.standard_normal(out.shape), cache)
    np.testing.assert_array_equal(dx, dsub)
    with pytest.raises(ValueError, match="sub: expected shape"):
        add_norm_forward(x, sub[:, :2], gamma, beta)


# ---------------------------------------------------------------------------- positional encoding


def test_sinusoidal_encoding_values():
    pe = sinusoidal_encoding(50, 8)
    assert pe.shape == (50, 8)
    # the formula of Vaswani et al. written another way (as in the Annotated Transformer)
    pos = np.arange(50)[:, None]
    div = np.exp(np.arange(0, 8, 2) * -(np.log(10000.0) / 8))
    np.testing.assert_allclose(pe[:, 0::2], np.sin(pos * div), atol=1e-12)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(pos * div), atol=1e-12)
    np.testing.assert_array_equal(pe[0], [0, 1] * 4)
    assert np.abs(pe).max() <= 1
    # positions from `start` are rows of the longer table
    np.testing.assert_allclose(sinusoidal_encoding(5, 8, start=7), pe[7:12], atol=1e-12)
    odd = sinusoidal_encoding(10, 5)
    np.testing.assert_allclose(odd[:, :4], sinusoidal_encoding(10, 5)[:, :4])
    np.testing.assert_allclose(odd[:, 4], np.sin(np.arange(10) * 10000.0 ** (-4 / 5)), atol=1e-12)
    assert len({tuple(r) for r in np.round(pe, 8)}) == 50          # every position distinct


def test_sinusoidal_encoding_shift_is_linear():
    """PE[p + k] = PE[p] M_k for one matrix M_k (a rotation per pair of columns), every p."""
    D, k = 6, 3
    pe = sinusoidal_encoding(40, D)
    M, *_ = np.linalg.lstsq(pe[:-k], pe[k:], rcond=None)
    np.testing.assert_allclose(pe[:-k] @ M, pe[k:], atol=1e-10)
    np.testing.assert_allclose(M @ M.T, np.eye(D), atol=1e-8)       # orthogonal


def test_positional_forward_backward(rng):
    x = rng.standard_normal((2, 7, 6))
    out, cache = positional_encoding_forward(x, start=2)
    np.testing.assert_allclose(out - x, np.broadcast_to(sinusoidal_encoding(7, 6, start=2), x.shape),
                               atol=1e-15)
    assert max(gradcheck(positional_encoding_forward, positional_encoding_backward, [x])) < 1e-9
    with pytest.raises(ValueError, match="x: expected a 3-d array"):
        positional_encoding_forward(x[0])
    with pytest.raises(ValueError, match="D: expected an int >= 1"):
        sinusoidal_encoding(3, 0)
    with pytest.raises(ValueError, match="base: expected a number > 1"):
        sinusoidal_encoding(3, 4, base=1.0)
    with pytest.raises(ValueError, match=r"dout: expected shape \(N, T, D\)"):
        positional_encoding_backward(np.ones((2, 7, 5)), cache)


# ---------------------------------------------------------------------------- feed-forward, blocks


@pytest.mark.parametrize("shape,F", [((1, 1, 1), 1), ((2, 3, 4), 5), ((3, 5), 2)])
def test_ffn_gradients_and_torch(rng, shape, F):
    E = shape[-1]
    inputs = [rng.standard_normal(shape), rng.standard_normal((E, F)), rng.standard_normal(F),
              rng.standard_normal((F, E)), rng.standard_normal(E)]
    assert max(gradcheck(ffn_forward, ffn_backward, inputs)) < 1e-7
    x, W1, b1, W2, b2 = (torch.tensor(a) for a in inputs)
    ref = torch.relu(x @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(ffn_forward(*inputs)[0], ref.numpy(), rtol=0, atol=TOL)
    with pytest.raises(ValueError, match=r"W2: expected shape \(F, E\)"):
        ffn_forward(inputs[0], inputs[1], inputs[2], np.ones((F + 1, E)), inputs[4])


def _randomise(params, rng):
    """Every parameter away from its initial value (zero biases, unit gains hide mistakes)."""
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}


def _torch_layer(kind, E, h, F):
    cls = torch.nn.TransformerEncoderLayer if kind == "encoder" else torch.nn.TransformerDecoderLayer
    layer = cls(E, h, dim_feedforward=F, dropout=0.0, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn(p.shape, dtype=torch.float64))
    return layer


@pytest.mark.parametrize("N,Ts,Tt,E,h,F", [(2, 5, 4, 6, 3, 7), (1, 1, 1, 2, 1, 1), (3, 3, 6, 4, 2, 5)])
def test_blocks_equal_torch(rng, N, Ts, Tt, E, h, F):
    torch.manual_seed(int(rng.integers(2 ** 31)))
    src_pad = padding_mask(rng.integers(1, Ts + 1, size=N), Ts)
    x, xt = rng.standard_normal((N, Ts, E)), rng.standard_normal((N, Tt, E))
    enc = _torch_layer("encoder", E, h, F)
    dec = _torch_layer("decoder", E, h, F)
    pe, pd = encoder_block_from_torch(enc), decoder_block_from_torch(dec)
    assert tuple(pe) == ENCODER_KEYS and set(pd) == set(DECODER_KEYS)
    mem, c_enc = encoder_block_forward(x, pe, h, mask=src_pad)
    y, c_dec = decoder_block_forward(xt, mem, pd, h, self_mask=causal_mask(Tt), memory_mask=src_pad)
    assert c_dec["cross_weights"].shape == (N, h, Tt, Ts)

    tx, txt = torch.tensor(x, requires_grad=True), torch.tensor(xt, requires_grad=True)
    t_mem = enc(tx, src_key_padding_mask=torch.tensor(~src_pad))
    t_y = dec(txt, t_mem, tgt_mask=torch.tensor(~causal_mask(Tt)[0]),
              memory_key_padding_mask=torch.tensor(~src_pad))
    np.testing.assert_allclose(mem, t_mem.detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(y, t_y.detach().numpy(), rtol=0, atol=TOL)

    dy = rng.standard_normal(y.shape)
    t_y.backward(torch.tensor(dy))
    dxt, dmem, g_dec = decoder_block_backward(dy, c_dec)
    dx, g_enc = encoder_block_backward(dmem, c_enc)
    np.testing.assert_allclose(dxt, txt.grad.numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=0, atol=TOL)
    for layer, grads, from_torch in ((enc, g_enc, encoder_block_from_torch),
                                     (dec, g_dec, decoder_block_from_torch)):
        for p in layer.parameters():      # read torch's gradients in our layout: swap them in
            p.data = p.grad.clone()
        ref = from_torch(layer)
        assert set(ref) == set(grads)
        for key in ref:
            np.testing.assert_allclose(grads[key], ref[key], rtol=0, atol=TOL, err_msg=key)


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_block_gradients(rng, kind):
    N, Ts, Tt, E, h, F = 2, 3, 4, 4, 2, 3
    mask = padding_mask(np.array([3, 2]), Ts)
    memory = rng.standard_normal((N, Ts, E))
    if kind == "encoder":
        params = _randomise(init_encoder_block(E, F, rng), rng)
        x = rng.standard_normal((N, Ts, E))
        fwd = lambda: encoder_block_forward(x, params, h, mask=mask)
    else:
        params = _randomise(init_decoder_block(E, F, rng), rng)
        x = rng.standard_normal((N, Tt, E))
        fwd = lambda: decoder_block_forward(x, memory, params, h, self_mask=causal_mask(Tt),
                                            memory_mask=mask)
    y, cache = fwd()
    dy = rng.standard_normal(y.shape)
    out = (encoder_block_backward if kind == "encoder" else decoder_block_backward)(dy, cache)
    grads = out[-1]
    loss = lambda: np.sum(fwd()[0] * dy)
    checks = [("x", x, out[0])] + ([("memory", memory, out[1])] if kind == "decoder" else [])
    checks += [(key, params[key], grads[key]) for key in params]
    for name, value, grad in checks:
        num = numerical_gradient(loss, value)
        if name.endswith("bqkv"):                       # the key bias has gradient 0 (see above)
            E3 = value.shape[0] // 3
            assert np.abs(grad[E3:2 * E3]).max() < 1e-12
            num, grad = np.delete(num, np.s_[E3:2 * E3]), np.delete(grad, np.s_[E3:2 * E3])
        assert rel_error(num, grad) < 1e-7, (name, rel_error(num, grad))


def test_block_errors(rng):
    E, F = 4, 3
    p = init_encoder_block(E, F, rng)
    x = rng.standard_normal((2, 3, E))
    with pytest.raises(ValueError, match=r"params: missing keys \['W1'\]"):
        encoder_block_forward(x, {k: v for k, v in p.items() if k != "W1"}, 2)
    with pytest.raises(ValueError, match="params: expected a dict"):
        encoder_block_forward(x, list(p.values()), 2)
    pd = init_decoder_block(E, F, rng)
    with pytest.raises(ValueError, match=r"memory: expected shape \(N, Ts, E\)"):
        decoder_block_forward(x, rng.standard_normal((2, 3, E + 1)), pd, 2)
    with pytest.raises(ValueError, match="unexpected keys"):
        decoder_block_forward(x, x, {**pd, "W3": np.ones(2)}, 2)
    _, cache = encoder_block_forward(x, p, 2)
    with pytest.raises(ValueError, match=r"dy: expected shape \(N, T, E\)"):
        encoder_block_backward(np.ones((2, 3, E + 1)), cache)
    prenorm = torch.nn.TransformerEncoderLayer(E, 2, 8, dropout=0.0, norm_first=True)
    with pytest.raises(ValueError, match="post-norm"):
        encoder_block_from_torch(prenorm)
    gelu = torch.nn.TransformerEncoderLayer(E, 2, 8, dropout=0.0, activation="gelu")
    with pytest.raises(ValueError, match="relu"):
        encoder_block_from_torch(gelu)
