"""Exercise 13 (chapter 13): the Transformer's parts in numpy: masks, multi-head attention forward
and backward, layer normalisation forward and backward, sinusoidal positional encoding, and an
encoder block (post-norm and pre-norm) composed from them.

References: :mod:`rnncourse.layers.multihead`, :mod:`rnncourse.layers.layernorm`,
:mod:`rnncourse.layers.positional` and :func:`rnncourse.layers.transformer.ffn_forward`. The kit
holds none of them (nor chapter 10's attention): the student writes every part.

The notebook fixes the layout of the caches of multi-head attention and of layer normalisation, so
each backward item is graded on its own, as in exercise 4: the grader computes the cache of a
correct forward on the hidden inputs and passes it to the student's backward. A mistake in a
forward then costs that forward's points only.
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

_NO_SHORTCUTS = ("rnncourse.layers", "rnncourse.models", "torch", "scipy.special")
_EPS = 1e-5


# -- masks ---------------------------------------------------------------------------------------
def _lengths(rng, N, T):
    """Key lengths in [1, T]: example 0 unpadded, with N >= 3 the last one a single real key, the
    others drawn (so a per-example bug cannot hide)."""
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T
    if N >= 3:
        lengths[-1] = 1
    return lengths.astype(np.int64)


def _mask(lengths, Tq, Tk, causal):
    """(N, Tq, Tk) booleans: key j < lengths[n], and j <= i if causal (then Tq == Tk)."""
    from ....layers.multihead import causal_mask, padding_mask

    pad = np.broadcast_to(padding_mask(lengths, Tk)[:, None, :], (len(lengths), Tq, Tk))
    return np.array(pad & causal_mask(Tk)) if causal else np.array(pad)


# (N, T, causal): edge case N = T = 1
_MASK_SHAPES = [(3, 5, True), (1, 1, True), (2, 4, False), (4, 6, True), (3, 3, False)]


def _mask_cases(rng, hidden=False):
    return [{"lengths": _lengths(rng, N, T), "T": T, "causal": causal}
            for N, T, causal in sizes(rng, _MASK_SHAPES, hidden)]


def _ref_mask():
    def attention_mask(lengths, T, causal):
        return _mask(np.asarray(lengths), int(T), int(T), bool(causal))
    return {"attention_mask": attention_mask}


# -- multi-head attention ------------------------------------------------------------------------
# (N, Tq, Tk, h, d_k, kind): self-attention with causal + padding mask (Tk = Tq), source-target
# attention with a padding mask (Tq != Tk), no mask; E = h d_k, edge case everything 1.
_MHA_SHAPES = [(2, 4, 4, 2, 3, "self"), (1, 1, 1, 1, 1, "none"), (3, 3, 5, 3, 2, "cross"),
               (2, 5, 5, 1, 4, "none"), (3, 5, 5, 2, 2, "self")]


def _mha_case(rng, N, Tq, Tk, h, dk, kind):
    E = h * dk
    if kind == "self":
        Tk = Tq
        x = rng.standard_normal((N, Tq, E))
        q, k, v = x, x.copy(), x.copy()
        mask = _mask(_lengths(rng, N, Tq), Tq, Tq, causal=True)
    else:
        q = rng.standard_normal((N, Tq, E))
        k = rng.standard_normal((N, Tk, E))
        v = rng.standard_normal((N, Tk, E))
        mask = _mask(_lengths(rng, N, Tk), Tq, Tk, causal=False) if kind == "cross" else None
    return {"q": q, "k": k, "v": v,
            "Wqkv": rng.standard_normal((E, 3 * E)) / np.sqrt(E),
            "bqkv": 0.5 * rng.standard_normal(3 * E),
            "Wo": rng.standard_normal((E, E)) / np.sqrt(E),
            "bo": 0.5 * rng.standard_normal(E),
            "num_heads": h, "mask": mask}


def _mha_cases(rng, hidden=False):
    return [_mha_case(rng, *shape) for shape in sizes(rng, _MHA_SHAPES, hidden)]


def _split(x, h):
    """(N, T, E) -> (N, h, T, d_k): head i takes columns i d_k ... (i + 1) d_k - 1."""
    N, T, E = x.shape
    return np.ascontiguousarray(x.reshape(N, T, h, E // h).transpose(0, 2, 1, 3))


def _mha_cache(case: dict) -> tuple:
    """The notebook's cache layout, from a correct forward on this case:
    ``(q, k, v, Wqkv, Wo, Q, K, V, weights, concat)`` with ``Q (N, h, Tq, d_k)``,
    ``K, V (N, h, Tk, d_k)`` (the projected, split inputs, biases included, not scaled),
    ``weights (N, h, Tq, Tk)`` and ``concat (N, Tq, E)`` (the heads' outputs side by side)."""
    from ....layers.multihead import multihead_attention_forward

    q, k, v, Wqkv, bqkv, Wo = (case[n] for n in ("q", "k", "v", "Wqkv", "bqkv", "Wo"))
    h, E = case["num_heads"], q.shape[2]
    _, weights, ref = multihead_attention_forward(q, k, v, Wqkv, bqkv, Wo, case["bo"], h,
                                                  case["mask"])
    concat = ref[5]
    Q = _split(q @ Wqkv[:, :E] + bqkv[:E], h)
    K = _split(k @ Wqkv[:, E:2 * E] + bqkv[E:2 * E], h)
    V = _split(v @ Wqkv[:, 2 * E:] + bqkv[2 * E:], h)
    return tuple(np.array(a, dtype=np.float64) for a in (q, k, v, Wqkv, Wo, Q, K, V, weights, concat))


def _mha_backward_cases(rng, hidden=False):
    out = []
    for case in _mha_cases(rng, hidden):
        N, Tq, E = case["q"].shape
        out.append({"dout": rng.standard_normal((N, Tq, E)), "cache": _mha_cache(case)})
    return out


def _library_mha_cache(cache: tuple) -> tuple:
    """The notebook's cache layout back to the library's, for its backward."""
    q, k, v, Wqkv, Wo, Q, K, V, weights, concat = cache
    N, h, Tq, dk = Q.shape
    Tk = K.shape[2]
    att = (Q.reshape(N * h, Tq, dk), K.reshape(N * h, Tk, dk), V.reshape(N * h, Tk, dk),
           weights.reshape(N * h, Tq, Tk), 1.0 / np.sqrt(dk), False)
    return (q, k, v, Wqkv, Wo, concat, att, h)


def _ref_mha_forward():
    from ....layers.multihead import multihead_attention_forward
    return {"multihead_attention_forward": multihead_attention_forward}


def _ref_mha_backward():
    from ....layers.multihead import multihead_attention_backward

    def backward(dout, cache):
        return multihead_attention_backward(dout, _library_mha_cache(cache))
    return {"multihead_attention_backward": backward}


# -- layer normalisation -------------------------------------------------------------------------
# (N, T, D, scale of x, eps): D = 1 (x^ = 0), and inputs so small that eps matters
_LN_SHAPES = [(2, 3, 5, 3.0, 1e-5), (1, 1, 1, 1.0, 1e-5), (3, 4, 2, 1.0, 1e-5),
              (2, 5, 6, 0.01, 1e-3), (1, 3, 8, 10.0, 1e-5)]


def _ln_cases(rng, hidden=False):
    out = []
    for N, T, D, scale, eps in sizes(rng, _LN_SHAPES, hidden):
        out.append({"x": 2.0 + scale * rng.standard_normal((N, T, D)),
                    "gamma": rng.standard_normal(D), "beta": rng.standard_normal(D), "eps": eps})
    return out


def _ln_backward_cases(rng, hidden=False):
    from ....layers.layernorm import layernorm_forward

    out = []
    for case in _ln_cases(rng, hidden):
        y, cache = layernorm_forward(case["x"], case["gamma"], case["beta"], case["eps"])
        xhat, inv_std, gamma = cache
        out.append({"dout": rng.standard_normal(y.shape),
                    "cache": (np.array(xhat), np.array(inv_std), np.array(gamma))})
    return out


def _ref_ln_forward():
    from ....layers.layernorm import layernorm_forward
    return {"layernorm_forward": layernorm_forward}


def _ref_ln_backward():
    from ....layers.layernorm import layernorm_backward
    return {"layernorm_backward": layernorm_backward}


# -- positional encoding -------------------------------------------------------------------------
# (T, D, odd D): D = 1, odd and even widths, a long sequence (low frequencies matter)
_PE_SHAPES = [(6, 4, False), (1, 1, True), (9, 7, True), (3, 10, False), (40, 16, False)]


def _pe_cases(rng, hidden=False):
    out = []
    for T, D, odd in sizes(rng, _PE_SHAPES, hidden):
        if D % 2 != odd:                     # hidden draws keep the parity of the visible width,
            D += -1 if odd else 1            # within [1, 2 x the visible width]
        out.append({"T": T, "D": D})
    return out


def _ref_pe():
    from ....layers.positional import sinusoidal_encoding

    def encoding(T, D):
        return sinusoidal_encoding(int(T), int(D))
    return {"sinusoidal_encoding": encoding}


# -- encoder block -------------------------------------------------------------------------------
# (N, T, h, d_k, F, norm_first, masked)
_BLOCK_SHAPES = [(2, 4, 2, 3, 5, False, True), (1, 1, 1, 1, 1, True, False),
                 (3, 5, 1, 4, 6, True, True), (2, 3, 3, 2, 4, False, False),
                 (2, 4, 2, 2, 3, True, False)]


def _block_cases(rng, hidden=False):
    out = []
    for N, T, h, dk, F, norm_first, masked in sizes(rng, _BLOCK_SHAPES, hidden):
        E = h * dk
        attn = (rng.standard_normal((E, 3 * E)) / np.sqrt(E), 0.3 * rng.standard_normal(3 * E),
                rng.standard_normal((E, E)) / np.sqrt(E), 0.3 * rng.standard_normal(E))
        ffn = (rng.standard_normal((E, F)) / np.sqrt(E), 0.3 * rng.standard_normal(F),
               rng.standard_normal((F, E)) / np.sqrt(F), 0.3 * rng.standard_normal(E))
        norms = (1.0 + 0.3 * rng.standard_normal(E), 0.3 * rng.standard_normal(E),
                 1.0 + 0.3 * rng.standard_normal(E), 0.3 * rng.standard_normal(E))
        mask = _mask(_lengths(rng, N, T), T, T, causal=True) if masked else None
        out.append({"x": rng.standard_normal((N, T, E)), "attn": attn, "ffn": ffn,
                    "norms": norms, "num_heads": h, "mask": mask, "norm_first": norm_first})
    return out


def _encoder_block(x, attn, ffn, norms, num_heads, mask, norm_first):
    """Post-norm (as ``torch.nn.TransformerEncoderLayer``, ``norm_first=False``) or pre-norm
    (``norm_first=True``) encoder block, from the library's parts."""
    from ....layers.layernorm import layernorm_forward
    from ....layers.multihead import multihead_attention_forward
    from ....layers.transformer import ffn_forward

    g1, b1, g2, b2 = norms

    def sublayer_attn(z):
        return multihead_attention_forward(z, z, z, *attn, num_heads, mask)[0]

    def sublayer_ffn(z):
        return ffn_forward(z, *ffn)[0]

    def norm(z, g, b):
        return layernorm_forward(z, g, b, _EPS)[0]

    if norm_first:
        h = x + sublayer_attn(norm(x, g1, b1))
        return h + sublayer_ffn(norm(h, g2, b2))
    h = norm(x + sublayer_attn(x), g1, b1)
    return norm(h + sublayer_ffn(h), g2, b2)


def _ref_block():
    return {"encoder_block_forward": _encoder_block}


_MHA_ARGS = ["q", "k", "v", "Wqkv", "bqkv", "Wo", "bo", "num_heads", "mask"]
_MHA_GRADS = ["dq", "dk", "dv", "dWqkv", "dbqkv", "dWo", "dbo"]

EXERCISE = Exercise(
    id="13_transformer",
    title="The Transformer's parts in numpy: masks, multi-head attention, layer norm, positions",
    chapter="book/13_transformer",
    items=(
        Item(
            name="attention_mask",
            title="Self-attention mask from key lengths, optionally causal: (N, T, T) booleans",
            points=1,
            calls=(call("attention_mask", ["lengths", "T", "causal"], ["mask"]),),
            outputs=("mask",),
            cases=_mask_cases,
            reference=_ref_mask,
            forbidden=_NO_SHORTCUTS,
            hint="padding: np.arange(T)[None, :] < lengths[:, None], shape (N, T), then [:, None, :] "
                 "and broadcast to (N, T, T); causal: & np.tril(np.ones((T, T), bool)).",
        ),
        Item(
            name="multihead_attention_forward",
            title="Multi-head attention forward: output (N, Tq, E) and weights (N, h, Tq, Tk)",
            points=3,
            calls=(call("multihead_attention_forward", _MHA_ARGS, ["out", "weights", "cache"]),),
            outputs=("out", "weights"),
            cases=_mha_cases,
            reference=_ref_mha_forward,
            forbidden=_NO_SHORTCUTS,
            hint="Q = q @ Wqkv[:, :E] + bqkv[:E] (K, V likewise); split heads with "
                 "reshape(N, T, h, d_k).transpose(0, 2, 1, 3); scores Q K^T / sqrt(d_k); masked "
                 "keys -inf (mask[:, None]); softmax; merge heads back; concat @ Wo + bo.",
        ),
        Item(
            name="multihead_attention_backward",
            title="Backward pass of multi-head attention (on the cache of a correct forward)",
            points=3,
            calls=(call("multihead_attention_backward", ["dout", "cache"], _MHA_GRADS),),
            outputs=tuple(_MHA_GRADS),
            cases=_mha_backward_cases,
            reference=_ref_mha_backward,
            forbidden=_NO_SHORTCUTS,
            hint="dbo, dWo from concat; dconcat = dout @ Wo.T, split into heads; per head the "
                 "softmax backward of chapter 10 with the 1/sqrt(d_k) scale; merge dQ, dK, dV; "
                 "dWqkv = [q^T dQ | k^T dK | v^T dV] summed over N and T; dq = dQ @ W_Q^T.",
        ),
        Item(
            name="layernorm_forward",
            title="Layer normalisation over the last axis (biased variance, eps inside the root)",
            points=1,
            calls=(call("layernorm_forward", ["x", "gamma", "beta", "eps"], ["out", "cache"]),),
            outputs=("out",),
            cases=_ln_cases,
            reference=_ref_ln_forward,
            forbidden=_NO_SHORTCUTS,
            hint="mu = x.mean(-1, keepdims=True); var = ((x - mu)**2).mean(-1, keepdims=True) "
                 "(biased); xhat = (x - mu) / sqrt(var + eps); out = gamma * xhat + beta.",
        ),
        Item(
            name="layernorm_backward",
            title="Backward pass of layer normalisation (on the cache of a correct forward)",
            points=2,
            calls=(call("layernorm_backward", ["dout", "cache"], ["dx", "dgamma", "dbeta"]),),
            outputs=("dx", "dgamma", "dbeta"),
            cases=_ln_backward_cases,
            reference=_ref_ln_backward,
            forbidden=_NO_SHORTCUTS,
            hint="dgamma, dbeta: sum over every axis but the last; g = dout * gamma; dx = inv_std "
                 "* (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True)).",
        ),
        Item(
            name="sinusoidal_encoding",
            title="Sinusoidal positional encoding PE (T, D), odd D included",
            points=1,
            calls=(call("sinusoidal_encoding", ["T", "D"], ["pe"]),),
            outputs=("pe",),
            cases=_pe_cases,
            reference=_ref_pe,
            forbidden=_NO_SHORTCUTS,
            hint="angle = p / 10000**(2i / D) for p in range(T), i in range(ceil(D / 2)); sines in "
                 "the even columns 0, 2, ...; cosines in the odd ones (for odd D one cosine fewer).",
        ),
        Item(
            name="encoder_block_forward",
            title="Encoder block forward, post-norm and pre-norm, from your parts",
            points=1,
            calls=(call("encoder_block_forward",
                        ["x", "attn", "ffn", "norms", "num_heads", "mask", "norm_first"], ["y"]),),
            outputs=("y",),
            cases=_block_cases,
            reference=_ref_block,
            forbidden=_NO_SHORTCUTS,
            hint="post-norm: h = LN1(x + MHA(x, x, x)); y = LN2(h + FFN(h)); pre-norm: "
                 "h = x + MHA(z, z, z) with z = LN1(x); y = h + FFN(LN2(h)); eps = 1e-5; "
                 "FFN(z) = max(0, z W1 + b1) W2 + b2.",
        ),
    ),
)
