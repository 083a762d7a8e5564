"""The capstone character-level language model (after Part I): a numpy LSTM on real text.

Reference implementation of the first capstone (``solutions/14_char_lm.ipynb``): characters as
one-hot vectors (so ``Wx`` doubles as the embedding table), one LSTM layer (chapter 4's
:func:`~rnncourse.layers.lstm_forward`), a softmax over the characters at every step; trained by
truncated BPTT (chapter 2) on ``N`` parallel streams of the text, with the global-norm clipping and
Adam of :mod:`rnncourse.optim`; evaluated by the held-out perplexity
``exp(mean negative log-likelihood per character)`` and bits per character ``mean NLL / ln 2``.

The parameters are a dict ``{"Wx": (V, 4H), "Wh": (H, 4H), "b": (4H,), "Wy": (H, V), "by": (V,)}``
(gate order ``i, f, g, o`` as everywhere in the course).
"""
from __future__ import annotations

import math

import numpy as np

from .layers import lstm_backward, lstm_forward, lstm_last_state
from .layers.losses import temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss
from .optim import Adam, clip_grad_norm

__all__ = ["PARAMS", "GRADED_RUN", "GRADED_CUT", "GRADED_VALID", "init_char_lm", "char_lm_loss",
           "train_char_lm", "evaluate_nll", "perplexity", "bits_per_char", "sample_chars"]

PARAMS = ("Wx", "Wh", "b", "Wy", "by")

# The graded run of the capstone (exercise 14): a budget that trains in a few seconds on one core,
# on GRADED_CUT characters of the training split; the judge evaluates on the first GRADED_VALID
# characters of the validation split. Thresholds: benchmarks/capstones.py.
GRADED_RUN = {"H": 32, "steps": 100, "N": 32, "T": 16, "lr": 0.02, "max_norm": 5.0}
GRADED_CUT = 40_000
GRADED_VALID = 4_000


def init_char_lm(V: int, H: int, seed: int = 0, forget_bias: float = 1.0) -> dict:
    """Small random weights (std ``1/sqrt(fan-in)`` for ``Wh`` and ``Wy``, 0.1 for the one-hot
    ``Wx``), forget-gate bias ``forget_bias`` (chapter 4), zero output bias."""
    if V < 2 or H < 1:
        raise ValueError(f"V and H: expected V >= 2 and H >= 1, got V={V}, H={H}")
    rng = np.random.default_rng(seed)
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return {"Wx": 0.1 * rng.standard_normal((V, 4 * H)),
            "Wh": rng.standard_normal((H, 4 * H)) / math.sqrt(H),
            "b": b,
            "Wy": rng.standard_normal((H, V)) / math.sqrt(H),
            "by": np.zeros(V)}


def _one_hot(ids, V):
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids: expected values in [0, {V}), got {ids.min()}..{ids.max()}")
    out = np.zeros(ids.shape + (V,))
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def char_lm_loss(params: dict, x, y, h0, c0):
    """Mean NLL per character of one chunk, its gradients and the last state.

    Args:
        params: see the module docstring.
        x, y: input and target ids, (N, T) (``y`` is ``x`` shifted by one character).
        h0, c0: the state carried from the previous chunk, (N, H) each.

    Returns:
        loss (float, mean over the N*T predictions), grads (dict like ``params``),
        (hT, cT) the state after the chunk (for the next chunk; no gradient flows into it).
    """
    x, y = np.asarray(x), np.asarray(y)
    N, T = x.shape
    V = params["Wx"].shape[0]
    h, cache = lstm_forward(_one_hot(x, V), h0, params["Wx"], params["Wh"], params["b"], c0=c0)
    o, acache = temporal_affine_forward(h, params["Wy"], params["by"])
    loss, do = temporal_softmax_loss(o, y)                  # summed over time, averaged over N
    loss, do = loss / T, do / T                             # -> mean over the N*T characters
    dh, dWy, dby = temporal_affine_backward(do, acache)
    _, _, dWx, dWh, db, _ = lstm_backward(dh, cache)        # dx, dh0 and dc0 are not needed
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}
    return loss, grads, lstm_last_state(cache)


def train_char_lm(ids, V: int, H: int = 64, steps: int = 300, N: int = 16, T: int = 32,
                  lr: float = 0.01, max_norm: float = 5.0, seed: int = 0, params=None,
                  progress=None):
    """Truncated BPTT with clipping and Adam on ``N`` parallel streams of ``ids``.

    The text is cut into ``N`` rows (:func:`rnncourse.data.texts.stream_batches`); step k reads
    the next ``T`` characters of every row, starting from the state the previous chunk left (reset
    to zeros when a row wraps around). Returns ``(params, losses)``, losses per step (list).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < N * (T + 1) + 1:
        raise ValueError(f"ids: expected a 1-d stream of at least {N * (T + 1) + 1} ids, "
                         f"got shape {ids.shape}")
    L = (len(ids) - 1) // N
    xs = ids[:N * L].reshape(N, L)
    ys = ids[1:N * L + 1].reshape(N, L)
    p = init_char_lm(V, H, seed) if params is None else {k: params[k].copy() for k in PARAMS}
    opt = Adam(lr=lr)
    h = c = np.zeros((N, H))
    pos, losses = 0, []
    for _ in range(steps):
        if pos + T > L:                                     # wrap around, forget the state
            pos, h, c = 0, np.zeros((N, H)), np.zeros((N, H))
        loss, grads, (h, c) = char_lm_loss(p, xs[:, pos:pos + T], ys[:, pos:pos + T], h, c)
        grads, _ = clip_grad_norm(grads, max_norm)
        opt.update(p, grads)
        losses.append(loss)
        pos += T
        if progress is not None:
            progress(loss)
    return p, losses


def evaluate_nll(params: dict, ids, chunk: int = 200) -> float:
    """Mean NLL (nats) of every next character of the stream ``ids`` (one row, the state carried
    over the whole text, ``chunk`` steps per forward call to bound memory)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids: expected a 1-d stream of at least 2 ids, got shape {ids.shape}")
    V, H = params["Wx"].shape[0], params["Wh"].shape[0]
    h, c = np.zeros((1, H)), np.zeros((1, H))
    total = 0.0
    for s in range(0, len(ids) - 1, chunk):
        x, y = ids[None, s:min(s + chunk, len(ids) - 1)], ids[None, s + 1:s + chunk + 1]
        hs, cache = lstm_forward(_one_hot(x, V), h, params["Wx"], params["Wh"], params["b"], c0=c)
        h, c = lstm_last_state(cache)
        o, _ = temporal_affine_forward(hs, params["Wy"], params["by"])
        loss, _ = temporal_softmax_loss(o, y)               # sum over the chunk (N = 1)
        total += loss
    return total / (len(ids) - 1)


def perplexity(nll: float) -> float:
    """``exp(mean NLL per character)``: the number of equally likely characters it amounts to."""
    return float(math.exp(nll))


def bits_per_char(nll: float) -> float:
    """``mean NLL / ln 2``: the same loss in bits."""
    return float(nll / math.log(2.0))


def sample_chars(params: dict, start_ids, length: int, seed: int = 0, temperature: float = 1.0):
    """Ids of ``length`` characters sampled after reading ``start_ids`` (1-d, at least one id)."""
    rng = np.random.default_rng(seed)
    V, H = params["Wx"].shape[0], params["Wh"].shape[0]
    start_ids = np.asarray(start_ids).reshape(1, -1)
    hs, cache = lstm_forward(_one_hot(start_ids, V), np.zeros((1, H)), params["Wx"],
                             params["Wh"], params["b"], c0=np.zeros((1, H)))
    h, c = lstm_last_state(cache)
    last, out = hs[:, -1:], []
    for _ in range(length):
        o, _ = temporal_affine_forward(last, params["Wy"], params["by"])
        z = o[0, 0] / temperature
        prob = np.exp(z - z.max())
        nxt = int(rng.choice(V, p=prob / prob.sum()))
        out.append(nxt)
        hs, cache = lstm_forward(_one_hot(np.array([[nxt]]), V), h, params["Wx"], params["Wh"],
                                 params["b"], c0=c)
        h, c = lstm_last_state(cache)
        last = hs
    return np.array(out, dtype=np.int64)
