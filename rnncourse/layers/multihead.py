"""Multi-head attention (Vaswani et al. 2017) in numpy: forward, backward, masks, torch weights.

Each of the h heads runs the scaled dot-product attention of chapter 10 on its own learned
projections of the queries, keys and values; the heads' outputs are concatenated and projected:

    head_i = softmax(Q W_Q^(i) (K W_K^(i))^T / sqrt(d_k)) V W_V^(i)      {eq}`tf-head`
    MultiHead(Q, K, V) = [head_1, ..., head_h] W_O + b_O                  {eq}`tf-multihead`

Layout: the course's row convention (``x @ W``), with the weights packed exactly as in
``torch.nn.MultiheadAttention``, so that torch is a direct reference (see :func:`mha_from_torch`):

- ``Wqkv (E, 3E)`` is ``in_proj_weight.T``: columns ``[W_Q | W_K | W_V]``, and within each block
  head i owns the consecutive columns ``i d_k ... (i + 1) d_k - 1``, ``d_k = E / h``;
- ``bqkv (3E,)`` is ``in_proj_bias``; ``Wo (E, E)`` is ``out_proj.weight.T``; ``bo (E,)`` is
  ``out_proj.bias``.

Masks are True where a query may attend to a key (as in chapter 10 and ``attn_mask`` of
``torch.nn.functional.scaled_dot_product_attention``); ``torch.nn.MultiheadAttention`` uses the
opposite convention (True = hidden), so pass it ``key_padding_mask=~mask`` or ``attn_mask=~mask``.
Accepted mask shapes: ``(N, Tk)`` (padding of the keys, eq. {eq}`tf-mask-padding`), ``(N, Tq, Tk)``,
or ``(1, Tq, Tk)`` shared by the batch (e.g. :func:`causal_mask`, eq. {eq}`tf-mask-causal`).
Combine them with ``&``: ``padding_mask(lengths, T)[:, None, :] & causal_mask(T)``.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, as_mask, check_shape
from ._common import check_upstream
from .attention import scaled_dot_attention_backward, scaled_dot_attention_forward

__all__ = [
    "causal_mask", "padding_mask", "multihead_attention_forward", "multihead_attention_backward",
    "mha_from_torch", "mha_to_torch",
]


def causal_mask(T: int) -> np.ndarray:
    """``(1, T, T)`` booleans, True where key j may be seen by query i: ``j <= i``,
    eq. {eq}`tf-mask-causal` (a decoder must not look at the symbols it has yet to produce)."""
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected a positive int, got {T!r}")
    return np.tril(np.ones((T, T), dtype=bool))[None]


def padding_mask(lengths, T: int) -> np.ndarray:
    """``(N, T)`` booleans, True at the ``lengths[n]`` real positions of example n,
    eq. {eq}`tf-mask-padding`. ``lengths (N,)`` integers in ``[1, T]``."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths: expected a 1-d integer array (N,), got shape {lengths.shape}, "
                         f"dtype {lengths.dtype}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths: expected values in [1, T = {T}], "
                         f"got range [{lengths.min()}, {lengths.max()}]")
    return np.arange(T)[None, :] < lengths[:, None]


def _check_mask(mask, N, Tq, Tk):
    """A mask of shape (N, Tk), (N, Tq, Tk) or (1, Tq, Tk) -> (N, Tq, Tk) booleans."""
    if mask is None:
        return None
    mask = as_mask("mask", mask)
    if mask.ndim == 2:
        check_shape("mask", mask, (N, Tk), "(N, Tk)")
        mask = mask[:, None, :]
    elif mask.ndim == 3:
        if mask.shape != (N, Tq, Tk) and mask.shape != (1, Tq, Tk):
            raise ValueError(f"mask: expected shape (N, Tq, Tk) = {(N, Tq, Tk)} or (1, Tq, Tk) = "
                             f"{(1, Tq, Tk)}, got {mask.shape}")
    else:
        raise ValueError(f"mask: expected (N, Tk), (N, Tq, Tk) or (1, Tq, Tk), got shape {mask.shape}")
    mask = np.broadcast_to(mask, (N, Tq, Tk))
    if not mask.any(axis=-1).all():
        raise ValueError("mask: every query needs at least one key it may attend to; "
                         "some rows of the mask are all False")
    return mask


def _check_params(Wqkv, bqkv, Wo, bo, E, num_heads):
    if not isinstance(num_heads, (int, np.integer)) or isinstance(num_heads, bool) or num_heads < 1:
        raise ValueError(f"num_heads: expected a positive int, got {num_heads!r}")
    if E % num_heads:
        raise ValueError(f"num_heads: the model width E = {E} must be divisible by num_heads = "
                         f"{num_heads} (each head gets d_k = E / h columns)")
    Wqkv = as_array("Wqkv", Wqkv, 2)
    check_shape("Wqkv", Wqkv, (E, 3 * E), "(E, 3E)")
    bqkv = as_array("bqkv", bqkv, 1)
    check_shape("bqkv", bqkv, (3 * E,), "(3E,)")
    Wo = as_array("Wo", Wo, 2)
    check_shape("Wo", Wo, (E, E), "(E, E)")
    bo = as_array("bo", bo, 1)
    check_shape("bo", bo, (E,), "(E,)")
    return Wqkv, bqkv, Wo, bo


def _split_heads(x, h):
    """(N, T, E) -> (N h, T, d_k): head i takes columns i d_k ... (i + 1) d_k - 1."""
    N, T, E = x.shape
    return x.reshape(N, T, h, E // h).transpose(0, 2, 1, 3).reshape(N * h, T, E // h)


def _merge_heads(x, N):
    """(N h, T, d_k) -> (N, T, E): the concatenation [head_1, ..., head_h] of eq. (tf-multihead)."""
    Nh, T, dk = x.shape
    h = Nh // N
    return x.reshape(N, h, T, dk).transpose(0, 2, 1, 3).reshape(N, T, h * dk)


def multihead_attention_forward(q, k, v, Wqkv, bqkv, Wo, bo, num_heads: int, mask=None):
    """Multi-head attention, eqs. {eq}`tf-head` and {eq}`tf-multihead`.

    For self-attention pass the same array as ``q``, ``k`` and ``v`` (and add up ``dq + dk + dv``
    in the backward pass).

    Args:
        q: queries, (N, Tq, E).
        k: keys, (N, Tk, E).
        v: values, (N, Tk, E).
        Wqkv: stacked input projections [W_Q | W_K | W_V], (E, 3E) (torch's ``in_proj_weight.T``).
        bqkv: their biases, (3E,) (torch's ``in_proj_bias``).
        Wo: output projection W_O, (E, E) (torch's ``out_proj.weight.T``).
        bo: its bias, (E,).
        num_heads: h, a divisor of E; each head has width d_k = E / h.
        mask: optional booleans, (N, Tk), (N, Tq, Tk) or (1, Tq, Tk); True where attending is
            allowed (eqs. {eq}`tf-mask-padding`, {eq}`tf-mask-causal`).

    Returns:
        out (N, Tq, E); weights (N, h, Tq, Tk), read-only, each row summing to 1; cache.
    """
    q = as_array("q", q, 3)
    N, Tq, E = q.shape
    k = as_array("k", k, 3)
    Tk = k.shape[1]
    check_shape("k", k, (N, Tk, E), "(N, Tk, E)")
    v = as_array("v", v, 3)
    check_shape("v", v, (N, Tk, E), "(N, Tk, E)")
    Wqkv, bqkv, Wo, bo = _check_params(Wqkv, bqkv, Wo, bo, E, num_heads)
    mask = _check_mask(mask, N, Tq, Tk)
    h = num_heads
    Qp = q @ Wqkv[:, :E] + bqkv[:E]                      # Q W_Q, all heads at once (N, Tq, E)
    Kp = k @ Wqkv[:, E:2 * E] + bqkv[E:2 * E]            # K W_K (N, Tk, E)
    Vp = v @ Wqkv[:, 2 * E:] + bqkv[2 * E:]              # V W_V (N, Tk, E)
    mask_h = None if mask is None else np.repeat(mask, h, axis=0)     # (N h, Tq, Tk)
    ctx, a, att_cache = scaled_dot_attention_forward(  # every head in one batched call: eq. (tf-head)
        _split_heads(Qp, h), _split_heads(Kp, h), _split_heads(Vp, h), mask_h)
    concat = _merge_heads(ctx, N)                        # [head_1, ..., head_h] (N, Tq, E)
    out = concat @ Wo + bo                               # eq. (tf-multihead)
    weights = a.reshape(N, h, Tq, Tk)                    # a view of the read-only weights
    cache = (q, k, v, Wqkv, Wo, concat, att_cache, h)
    return out, weights, cache


def multihead_attention_backward(dout, cache):
    """Backward of :func:`multihead_attention_forward`.

    Args:
        dout: upstream gradient, (N, Tq, E).
        cache: from the forward.

    Returns:
        dq (N, Tq, E), dk (N, Tk, E), dv (N, Tk, E), dWqkv (E, 3E), dbqkv (3E,), dWo (E, E),
        dbo (E,), in the order of the forward's arguments.
    """
    q, k, v, Wqkv, Wo, concat, att_cache, h = cache
    N, Tq, E = q.shape
    dout = check_upstream("dout", dout, (N, Tq, E), "(N, Tq, E)")
    flat = lambda x: x.reshape(-1, x.shape[-1])          # (N, T, E) -> (N T, E)
    dbo = dout.sum(axis=(0, 1))
    dWo = flat(concat).T @ flat(dout)
    dconcat = dout @ Wo.T                                # (N, Tq, E)
    dQh, dKh, dVh = scaled_dot_attention_backward(_split_heads(dconcat, h), att_cache)
    dQp, dKp, dVp = _merge_heads(dQh, N), _merge_heads(dKh, N), _merge_heads(dVh, N)
    dWqkv = np.concatenate([flat(q).T @ flat(dQp), flat(k).T @ flat(dKp), flat(v).T @ flat(dVp)],
                           axis=1)
    dbqkv = np.concatenate([dQp.sum(axis=(0, 1)), dKp.sum(axis=(0, 1)), dVp.sum(axis=(0, 1))])
    dq = dQp @ Wqkv[:, :E].T
    dk = dKp @ Wqkv[:, E:2 * E].T
    dv = dVp @ Wqkv[:, 2 * E:].T
    return dq, dk, dv, dWqkv, dbqkv, dWo, dbo


def mha_from_torch(module) -> dict:
    """The weights of a ``torch.nn.MultiheadAttention`` (with ``kdim = vdim = E`` and biases) as
    float64 arrays in this module's layout: ``{"Wqkv", "bqkv", "Wo", "bo"}``."""
    if getattr(module, "in_proj_weight", None) is None or module.in_proj_bias is None:
        raise ValueError("module: expected a torch.nn.MultiheadAttention with kdim = vdim = "
                         "embed_dim and bias=True")
    arr = lambda t: t.detach().cpu().double().numpy().copy()
    return {"Wqkv": arr(module.in_proj_weight).T.copy(), "bqkv": arr(module.in_proj_bias),
            "Wo": arr(module.out_proj.weight).T.copy(), "bo": arr(module.out_proj.bias)}


def mha_to_torch(module, Wqkv, bqkv, Wo, bo) -> None:
    """Copy numpy weights (this module's layout) into a ``torch.nn.MultiheadAttention``, in place,
    in the module's own dtype."""
    import torch

    E = module.embed_dim
    Wqkv, bqkv, Wo, bo = _check_params(Wqkv, bqkv, Wo, bo, E, module.num_heads)
    if getattr(module, "in_proj_weight", None) is None or module.in_proj_bias is None:
        raise ValueError("module: expected kdim = vdim = embed_dim and bias=True")
    with torch.no_grad():
        for param, value in ((module.in_proj_weight, Wqkv.T), (module.in_proj_bias, bqkv),
                             (module.out_proj.weight, Wo.T), (module.out_proj.bias, bo)):
            param.copy_(torch.as_tensor(np.ascontiguousarray(value), dtype=param.dtype))
