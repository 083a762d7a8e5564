"""The capstone sequence-to-sequence model (after Part II): spelling -> pronunciation, in numpy.

Reference implementation of the second capstone (``solutions/15_g2p_attention.ipynb``), built
only from the numpy layers of the course: embeddings, a GRU encoder over the letters, a GRU decoder
started from the encoder's state at the last real letter and teacher-forced on ``<s> y``, and
global dot-product attention after Luong et al. (2015) (chapter 10): at every decoder step the
state ``h_t`` attends over the encoder outputs (padding masked), and
``h~_t = tanh([c_t; h_t] Wc + bc)``, ``logits = h~_t Wo + bo``. The loss is the cross-entropy
averaged over the real target symbols. Trained with clipping and Adam; evaluated by exact match of
the greedy decoding (every phoneme right).

Parameters: ``Es (Vs, D)``, ``Et (Vt, D)``, encoder ``Wxe (D, 3H)``, ``Whe (H, 3H)``, ``be (3H,)``,
decoder ``Wxd``, ``Whd``, ``bd`` (same shapes), ``Wc (2H, H)``, ``bc (H,)``, ``Wo (H, Vt)``,
``bo (Vt,)``; GRU gate order ``r, z, n`` as in chapter 5.
"""
from __future__ import annotations

import math

import numpy as np

from .data.g2p import BOS, EOS
from .layers import (dot_attention_backward, dot_attention_forward, embedding_backward,
                     embedding_forward, gru_backward, gru_forward, temporal_softmax_loss)
from .optim import Adam, clip_grad_norm

__all__ = ["G2P_PARAMS", "GRADED_G2P", "init_g2p", "g2p_loss", "greedy_g2p", "train_g2p"]

G2P_PARAMS = ("Es", "Et", "Wxe", "Whe", "be", "Wxd", "Whd", "bd", "Wc", "bc", "Wo", "bo")
# The graded run of capstone 2 (exercise 15): thresholds in benchmarks/capstones.py.
GRADED_G2P = {"D": 24, "H": 48, "steps": 150, "batch": 64, "lr": 0.02, "max_norm": 5.0}


def init_g2p(Vs: int, Vt: int, D: int, H: int, seed: int = 0) -> dict:
    """Uniform(-1/sqrt(H), 1/sqrt(H)) weights as torch's GRU, N(0, 1) * 0.1 embeddings."""
    rng = np.random.default_rng(seed)
    u = 1.0 / math.sqrt(H)

    def U(*shape):
        return rng.uniform(-u, u, shape)
    return {"Es": 0.1 * rng.standard_normal((Vs, D)), "Et": 0.1 * rng.standard_normal((Vt, D)),
            "Wxe": U(D, 3 * H), "Whe": U(H, 3 * H), "be": U(3 * H),
            "Wxd": U(D, 3 * H), "Whd": U(H, 3 * H), "bd": U(3 * H),
            "Wc": U(2 * H, H), "bc": U(H), "Wo": U(H, Vt), "bo": np.zeros(Vt)}


def _encode(p, src, src_len):
    N = src.shape[0]
    H = p["Whe"].shape[0]
    xe, ecache = embedding_forward(src, p["Es"])
    he, gcache = gru_forward(xe, np.zeros((N, H)), p["Wxe"], p["Whe"], p["be"])
    h0 = he[np.arange(N), src_len - 1]                   # the state after the last real letter
    return he, h0, (ecache, gcache)


def _output(p, hd, ctx):
    cat = np.concatenate([ctx, hd], axis=-1)             # (N, T, 2H)
    ht = np.tanh(cat @ p["Wc"] + p["bc"])                # h~ = tanh([c; h] Wc + bc)
    return ht @ p["Wo"] + p["bo"], (cat, ht)


def g2p_loss(p: dict, src, src_len, tgt_in, tgt_out):
    """Mean cross-entropy per real target symbol of a teacher-forced batch, and its gradients.

    Args:
        src (N, S), src_len (N,), tgt_in (N, T), tgt_out (N, T): see
        :func:`rnncourse.data.g2p.encode_pairs` (padding 0).

    Returns:
        loss (float), grads (dict like ``p``).
    """
    src, src_len = np.asarray(src), np.asarray(src_len)
    tgt_in, tgt_out = np.asarray(tgt_in), np.asarray(tgt_out)
    N, S = src.shape
    he, h0, (ecache, gcache) = _encode(p, src, src_len)
    xd, dcache = embedding_forward(tgt_in, p["Et"])
    hd, hcache = gru_forward(xd, h0, p["Wxd"], p["Whd"], p["bd"])
    ctx, _, acache = dot_attention_forward(hd, he, he, mask=src != 0)
    o, (cat, ht) = _output(p, hd, ctx)
    mask = tgt_out != 0
    M = mask.sum()
    loss, do = temporal_softmax_loss(o, tgt_out, mask)   # summed over real symbols, / N
    loss, do = loss * N / M, do * (N / M)                # -> mean over the M real symbols
    H = hd.shape[2]
    g = {"Wo": np.einsum("nth,ntv->hv", ht, do), "bo": do.sum(axis=(0, 1))}
    da = (do @ p["Wo"].T) * (1.0 - ht ** 2)              # through tanh
    g["Wc"] = np.einsum("ntk,nth->kh", cat, da)
    g["bc"] = da.sum(axis=(0, 1))
    dcat = da @ p["Wc"].T
    dctx, dhd = dcat[..., :H], dcat[..., H:].copy()
    dq, dk, dv = dot_attention_backward(dctx, acache)
    dhd += dq
    dhe = dk + dv                                        # keys and values are both he
    dxd, dh0, g["Wxd"], g["Whd"], g["bd"] = gru_backward(dhd, hcache)
    g["Et"] = embedding_backward(dxd, dcache)
    dhe[np.arange(N), src_len - 1] += dh0
    dxe, _, g["Wxe"], g["Whe"], g["be"] = gru_backward(dhe, gcache)
    g["Es"] = embedding_backward(dxe, ecache)
    return float(loss), {k: g[k] for k in G2P_PARAMS}


def greedy_g2p(p: dict, src, src_len, max_len: int = 12) -> np.ndarray:
    """Greedy decoding: ids (N, max_len), each row stopped at ``</s>`` and padded with 0 after."""
    src, src_len = np.asarray(src), np.asarray(src_len)
    N = src.shape[0]
    he, h, _ = _encode(p, src, src_len)
    prev = np.full((N, 1), BOS)
    out = np.zeros((N, max_len), dtype=np.int64)
    done = np.zeros(N, dtype=bool)
    for t in range(max_len):
        xd, _ = embedding_forward(prev, p["Et"])
        hd, _ = gru_forward(xd, h, p["Wxd"], p["Whd"], p["bd"])
        ctx, _, _ = dot_attention_forward(hd, he, he, mask=src != 0)
        o, _ = _output(p, hd, ctx)
        nxt = o[:, 0].argmax(axis=1)
        out[:, t] = np.where(done, 0, nxt)
        done |= nxt == EOS
        h, prev = hd[:, 0], nxt[:, None]
        if done.all():
            break
    return out


def train_g2p(data: dict, Vs: int, Vt: int, D: int = 24, H: int = 48, steps: int = 150,
              batch: int = 64, lr: float = 0.02, max_norm: float = 5.0, seed: int = 0,
              progress=None):
    """Adam on random minibatches of ``data`` (the dict of :func:`encode_pairs`); returns
    ``(params, losses)``."""
    rng = np.random.default_rng(seed)
    p = init_g2p(Vs, Vt, D, H, seed)
    opt = Adam(lr=lr)
    n, losses = len(data["src"]), []
    for _ in range(steps):
        idx = rng.choice(n, size=min(batch, n), replace=False)
        S = int(data["src_len"][idx].max())
        T = int((data["tgt_out"][idx] != 0).sum(axis=1).max())
        loss, g = g2p_loss(p, data["src"][idx, :S], data["src_len"][idx],
                           data["tgt_in"][idx, :T], data["tgt_out"][idx, :T])
        g, _ = clip_grad_norm(g, max_norm)
        opt.update(p, g)
        losses.append(loss)
        if progress is not None:
            progress(loss)
    return p, losses
