"""The Transformer's blocks in numpy (Vaswani et al. 2017): position-wise feed-forward network,
encoder block and decoder block with source-target attention, forward and backward.

Post-norm blocks, exactly as ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` with
``norm_first=False``, ``activation="relu"`` and no dropout (see :func:`encoder_block_from_torch`):

    encoder:  h = AddNorm(x, MultiHead(x, x, x))                           {eq}`tf-encoder`
              y = AddNorm(h, FFN(h))
    decoder:  h1 = AddNorm(x, MultiHead(x, x, x; causal mask))             {eq}`tf-decoder`
              h2 = AddNorm(h1, MultiHead(h1, m, m; source padding mask))     (source-target attention)
              y  = AddNorm(h2, FFN(h2))
    FFN(x) = max(0, x W1 + b1) W2 + b2, applied to every position alone      {eq}`tf-ffn`

with ``m`` the encoder's output (the "memory"). Parameters travel as one dict per block; the
backward functions return the gradients in a dict with the same keys. Keys, shapes (E the model
width, F the feed-forward width):

- attention ``self_Wqkv (E, 3E)``, ``self_bqkv (3E,)``, ``self_Wo (E, E)``, ``self_bo (E,)``; the
  decoder also has ``cross_Wqkv``, ``cross_bqkv``, ``cross_Wo``, ``cross_bo`` (the layout of
  :mod:`rnncourse.layers.multihead`);
- feed-forward ``W1 (E, F)``, ``b1 (F,)``, ``W2 (F, E)``, ``b2 (E,)``;
- layer norms ``gamma1, beta1, gamma2, beta2`` (and ``gamma3, beta3`` in the decoder), ``(E,)``.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._common import check_upstream
from .layernorm import add_norm_backward, add_norm_forward
from .multihead import (
    mha_from_torch, multihead_attention_backward, multihead_attention_forward,
)

__all__ = [
    "ffn_forward", "ffn_backward", "ENCODER_KEYS", "DECODER_KEYS", "init_encoder_block",
    "init_decoder_block", "encoder_block_forward", "encoder_block_backward",
    "decoder_block_forward", "decoder_block_backward", "encoder_block_from_torch",
    "decoder_block_from_torch",
]

_ATTN = ("Wqkv", "bqkv", "Wo", "bo")
ENCODER_KEYS = tuple(f"self_{n}" for n in _ATTN) + ("W1", "b1", "W2", "b2", "gamma1", "beta1",
                                                     "gamma2", "beta2")
DECODER_KEYS = (tuple(f"self_{n}" for n in _ATTN) + tuple(f"cross_{n}" for n in _ATTN)
                + ("W1", "b1", "W2", "b2", "gamma1", "beta1", "gamma2", "beta2", "gamma3", "beta3"))


def ffn_forward(x, W1, b1, W2, b2):
    """Position-wise feed-forward network, eq. {eq}`tf-ffn`: ``max(0, x W1 + b1) W2 + b2``.

    Args:
        x: inputs, (..., E), e.g. (N, T, E): every position is transformed alone, with the same
            weights.
        W1: (E, F). b1: (F,). W2: (F, E). b2: (E,).

    Returns:
        out (..., E), cache.
    """
    x = as_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x: expected at least a 2-d array (..., E), got shape {x.shape}")
    E = x.shape[-1]
    W1 = as_array("W1", W1, 2)
    F = W1.shape[1]
    check_shape("W1", W1, (E, F), "(E, F)")
    b1 = as_array("b1", b1, 1)
    check_shape("b1", b1, (F,), "(F,)")
    W2 = as_array("W2", W2, 2)
    check_shape("W2", W2, (F, E), "(F, E)")
    b2 = as_array("b2", b2, 1)
    check_shape("b2", b2, (E,), "(E,)")
    r = np.maximum(x @ W1 + b1, 0.0)                     # (..., F)
    out = r @ W2 + b2
    return out, (x, W1, W2, r)


def ffn_backward(dout, cache):
    """Backward of :func:`ffn_forward`: dx (..., E), dW1 (E, F), db1 (F,), dW2 (F, E), db2 (E,)."""
    x, W1, W2, r = cache
    dout = check_upstream("dout", dout, x.shape, "the shape of x")
    E, F = W1.shape
    db2 = dout.reshape(-1, E).sum(axis=0)
    dW2 = r.reshape(-1, F).T @ dout.reshape(-1, E)
    dr = (dout @ W2.T) * (r > 0)                         # ReLU passes the gradient where it was active
    db1 = dr.reshape(-1, F).sum(axis=0)
    dW1 = x.reshape(-1, E).T @ dr.reshape(-1, F)
    dx = dr @ W1.T
    return dx, dW1, db1, dW2, db2


def _init_attention(prefix, E, rng):
    lim = np.sqrt(6.0 / (E + E))                         # Xavier-uniform, as torch's in_proj
    return {f"{prefix}_Wqkv": rng.uniform(-lim, lim, (E, 3 * E)), f"{prefix}_bqkv": np.zeros(3 * E),
            f"{prefix}_Wo": rng.uniform(-lim, lim, (E, E)), f"{prefix}_bo": np.zeros(E)}


def _init_common(p, E, F, rng, norms):
    p.update(W1=rng.uniform(-1, 1, (E, F)) / np.sqrt(E), b1=np.zeros(F),
             W2=rng.uniform(-1, 1, (F, E)) / np.sqrt(F), b2=np.zeros(E))
    for i in range(1, norms + 1):
        p[f"gamma{i}"], p[f"beta{i}"] = np.ones(E), np.zeros(E)
    return p


def init_encoder_block(E: int, F: int, rng: np.random.Generator) -> dict:
    """Parameters of an encoder block (keys :data:`ENCODER_KEYS`), float64: Xavier-uniform
    attention weights, uniform(+-1/sqrt(fan-in)) feed-forward weights, zero biases, gamma = 1,
    beta = 0."""
    return _init_common(_init_attention("self", E, rng), E, F, rng, norms=2)


def init_decoder_block(E: int, F: int, rng: np.random.Generator) -> dict:
    """Parameters of a decoder block (keys :data:`DECODER_KEYS`), initialised as
    :func:`init_encoder_block`."""
    p = _init_attention("self", E, rng)
    p.update(_init_attention("cross", E, rng))
    return _init_common(p, E, F, rng, norms=3)


def _check_params(params, keys):
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict with the keys {keys}, got {type(params).__name__}")
    missing = [k for k in keys if k not in params]
    extra = [k for k in params if k not in keys]
    if missing or extra:
        raise ValueError(f"params: missing keys {missing}, unexpected keys {extra}")
    return {k: as_array(f"params[{k!r}]", params[k]) for k in keys}


def _attn(p, prefix):
    return [p[f"{prefix}_{n}"] for n in _ATTN]


def encoder_block_forward(x, params, num_heads: int, mask=None, eps: float = 1e-5):
    """One Transformer encoder block, eq. {eq}`tf-encoder`.

    Args:
        x: inputs, (N, T, E).
        params: dict with the keys :data:`ENCODER_KEYS` (shapes in the module docstring).
        num_heads: h, a divisor of E.
        mask: optional self-attention mask, (N, T) (padding) or (N, T, T) / (1, T, T); True where
            attending is allowed.
        eps: of the layer norms.

    Returns:
        y (N, T, E), cache (a dict; ``cache["self_weights"]`` is (N, h, T, T)).
    """
    x = as_array("x", x, 3)
    p = _check_params(params, ENCODER_KEYS)
    a, w, c_att = multihead_attention_forward(x, x, x, *_attn(p, "self"), num_heads, mask)
    h, c_n1 = add_norm_forward(x, a, p["gamma1"], p["beta1"], eps)
    f, c_ff = ffn_forward(h, p["W1"], p["b1"], p["W2"], p["b2"])
    y, c_n2 = add_norm_forward(h, f, p["gamma2"], p["beta2"], eps)
    return y, {"self_weights": w, "steps": (c_att, c_n1, c_ff, c_n2), "shape": x.shape}


def _attn_grads(prefix, grads):
    return {f"{prefix}_{n}": g for n, g in zip(_ATTN, grads)}


def encoder_block_backward(dy, cache):
    """Backward of :func:`encoder_block_forward`: ``dx (N, T, E)`` and a dict of gradients with
    the keys :data:`ENCODER_KEYS`."""
    c_att, c_n1, c_ff, c_n2 = cache["steps"]
    dy = check_upstream("dy", dy, cache["shape"], "(N, T, E)")
    dh, df, dgamma2, dbeta2 = add_norm_backward(dy, c_n2)
    dh_ff, dW1, db1, dW2, db2 = ffn_backward(df, c_ff)
    dh = dh + dh_ff                                      # h feeds the FFN and the residual path
    dx, da, dgamma1, dbeta1 = add_norm_backward(dh, c_n1)
    dq, dk, dv, *dattn = multihead_attention_backward(da, c_att)
    dx = dx + dq + dk + dv                               # self-attention: x is query, key and value
    grads = _attn_grads("self", dattn)
    grads.update(W1=dW1, b1=db1, W2=dW2, b2=db2, gamma1=dgamma1, beta1=dbeta1, gamma2=dgamma2,
                 beta2=dbeta2)
    return dx, grads


def decoder_block_forward(x, memory, params, num_heads: int, self_mask=None, memory_mask=None,
                          eps: float = 1e-5):
    """One Transformer decoder block with masked self-attention and source-target attention,
    eq. {eq}`tf-decoder`.

    Args:
        x: the decoder's inputs, (N, Tt, E).
        memory: the encoder's outputs, (N, Ts, E).
        params: dict with the keys :data:`DECODER_KEYS`.
        num_heads: h, a divisor of E.
        self_mask: mask of the self-attention, (N, Tt), (N, Tt, Tt) or (1, Tt, Tt); normally
            :func:`rnncourse.layers.multihead.causal_mask` (combined with the target padding).
        memory_mask: mask of the source-target attention, (N, Ts) (the source padding) or
            (N, Tt, Ts) / (1, Tt, Ts).
        eps: of the layer norms.

    Returns:
        y (N, Tt, E), cache (a dict; ``cache["self_weights"]`` (N, h, Tt, Tt) and
        ``cache["cross_weights"]`` (N, h, Tt, Ts)).
    """
    x = as_array("x", x, 3)
    memory = as_array("memory", memory, 3)
    N, Tt, E = x.shape
    check_shape("memory", memory, (N, memory.shape[1], E), "(N, Ts, E)")
    p = _check_params(params, DECODER_KEYS)
    a, w_self, c_self = multihead_attention_forward(x, x, x, *_attn(p, "self"), num_heads, self_mask)
    h1, c_n1 = add_norm_forward(x, a, p["gamma1"], p["beta1"], eps)
    c, w_cross, c_cross = multihead_attention_forward(h1, memory, memory, *_attn(p, "cross"),
                                                      num_heads, memory_mask)
    h2, c_n2 = add_norm_forward(h1, c, p["gamma2"], p["beta2"], eps)
    f, c_ff = ffn_forward(h2, p["W1"], p["b1"], p["W2"], p["b2"])
    y, c_n3 = add_norm_forward(h2, f, p["gamma3"], p["beta3"], eps)
    return y, {"self_weights": w_self, "cross_weights": w_cross,
               "steps": (c_self, c_n1, c_cross, c_n2, c_ff, c_n3), "shape": x.shape}


def decoder_block_backward(dy, cache):
    """Backward of :func:`decoder_block_forward`: ``dx (N, Tt, E)``, ``dmemory (N, Ts, E)`` and a
    dict of gradients with the keys :data:`DECODER_KEYS`."""
    c_self, c_n1, c_cross, c_n2, c_ff, c_n3 = cache["steps"]
    dy = check_upstream("dy", dy, cache["shape"], "(N, Tt, E)")
    dh2, df, dgamma3, dbeta3 = add_norm_backward(dy, c_n3)
    dh2_ff, dW1, db1, dW2, db2 = ffn_backward(df, c_ff)
    dh2 = dh2 + dh2_ff
    dh1, dc, dgamma2, dbeta2 = add_norm_backward(dh2, c_n2)
    dh1_q, dmem_k, dmem_v, *dcross = multihead_attention_backward(dc, c_cross)
    dh1 = dh1 + dh1_q                                    # h1 is the query of the cross-attention
    dmemory = dmem_k + dmem_v                            # the memory is its key and its value
    dx, da, dgamma1, dbeta1 = add_norm_backward(dh1, c_n1)
    dq, dk, dv, *dself = multihead_attention_backward(da, c_self)
    dx = dx + dq + dk + dv
    grads = _attn_grads("self", dself)
    grads.update(_attn_grads("cross", dcross))
    grads.update(W1=dW1, b1=db1, W2=dW2, b2=db2, gamma1=dgamma1, beta1=dbeta1, gamma2=dgamma2,
                 beta2=dbeta2, gamma3=dgamma3, beta3=dbeta3)
    return dx, dmemory, grads


def _common_from_torch(layer, norms):
    if getattr(layer, "norm_first", False):
        raise ValueError("layer: expected a post-norm layer (norm_first=False)")
    if getattr(layer, "activation_relu_or_gelu", 1) != 1:
        raise ValueError("layer: expected activation='relu'")
    arr = lambda t: t.detach().cpu().double().numpy().copy()
    p = {"W1": arr(layer.linear1.weight).T.copy(), "b1": arr(layer.linear1.bias),
         "W2": arr(layer.linear2.weight).T.copy(), "b2": arr(layer.linear2.bias)}
    for i in range(1, norms + 1):
        norm = getattr(layer, f"norm{i}")
        p[f"gamma{i}"], p[f"beta{i}"] = arr(norm.weight), arr(norm.bias)
    return p


def encoder_block_from_torch(layer) -> dict:
    """The parameters of a ``torch.nn.TransformerEncoderLayer`` (post-norm, ReLU) as a float64
    dict with the keys :data:`ENCODER_KEYS`. Its ``layer.norm1.eps`` is the ``eps`` to use."""
    p = {f"self_{k}": v for k, v in mha_from_torch(layer.self_attn).items()}
    p.update(_common_from_torch(layer, norms=2))
    return p


def decoder_block_from_torch(layer) -> dict:
    """The parameters of a ``torch.nn.TransformerDecoderLayer`` (post-norm, ReLU) as a float64
    dict with the keys :data:`DECODER_KEYS`."""
    p = {f"self_{k}": v for k, v in mha_from_torch(layer.self_attn).items()}
    p.update({f"cross_{k}": v for k, v in mha_from_torch(layer.multihead_attn).items()})
    p.update(_common_from_torch(layer, norms=3))
    return p
