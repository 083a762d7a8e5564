"""Sequence tagging with a unidirectional or a bidirectional RNN (chapter 6).

One tag per position: ``o(t) = c + V h(t)`` for a forward RNN, ``o(t) = c + V h(t) + V' g(t)`` for a
bidirectional one (eq. {eq}`birnn-out`), written in row layout as ``o = [h, g] @ Wy + by`` with the
forward half first. The loss is the masked softmax cross-entropy summed over time and averaged over
the batch (:func:`rnncourse.layers.temporal_softmax_loss`).

Parameters are a dict: ``Wx_f (D, H), Wh_f (H, H), b_f (H,)`` for the forward RNN, the same with
suffix ``_b`` for the backward RNN (bidirectional only), and ``Wy (kH, C), by (C,)`` with k = 1 or 2.
A model is bidirectional if and only if ``"Wx_b"`` is among its keys.
"""
from __future__ import annotations

import numpy as np

from .layers.bidirectional import bidirectional_backward, bidirectional_forward
from .layers.losses import temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss
from .layers.rnn import rnn_backward, rnn_forward
from .optim import SGD, Adam

__all__ = ["init_tagger_params", "tagger_forward", "tagger_loss", "train_tagger", "predict_tags",
           "tag_accuracy"]

_FWD, _BWD = ("Wx_f", "Wh_f", "b_f"), ("Wx_b", "Wh_b", "b_b")


def init_tagger_params(D: int, H: int, C: int, bidirectional: bool = True, seed: int = 0) -> dict:
    """Small random weights (std 1/sqrt(fan in)), zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for Wx, Wh, b in ((_FWD, _BWD) if bidirectional else (_FWD,)):
        params[Wx] = rng.standard_normal((D, H)) / np.sqrt(D)
        params[Wh] = rng.standard_normal((H, H)) / np.sqrt(H)
        params[b] = np.zeros(H)
    k = 2 if bidirectional else 1
    params["Wy"] = rng.standard_normal((k * H, C)) / np.sqrt(k * H)
    params["by"] = np.zeros(C)
    return params


def _is_bi(params: dict) -> bool:
    return "Wx_b" in params


def tagger_forward(x, params: dict):
    """Logits of every position, (N, T, C), and a cache for the backward pass.

    Args:
        x: inputs, (N, T, D).
        params: see the module docstring.
    """
    N = np.shape(x)[0]
    H = params["Wh_f"].shape[0]
    if _is_bi(params):
        layers = [tuple(params[k] for k in _FWD), tuple(params[k] for k in _BWD)]
        states, cache_r = bidirectional_forward(x, np.zeros((2, N, H)), layers, cell="rnn")
    else:
        states, cache_r = rnn_forward(x, np.zeros((N, H)), *(params[k] for k in _FWD))
    o, cache_o = temporal_affine_forward(states, params["Wy"], params["by"])
    return o, (cache_r, cache_o, _is_bi(params))


def tagger_loss(x, y, mask, params: dict):
    """Loss (float) and gradients (dict with the keys of ``params``) of a tagger on one batch."""
    o, (cache_r, cache_o, bi) = tagger_forward(x, params)
    loss, do = temporal_softmax_loss(o, y, mask)
    dstates, dWy, dby = temporal_affine_backward(do, cache_o)
    grads = {"Wy": dWy, "by": dby}
    if bi:
        _, _, (dpf, dpb) = bidirectional_backward(dstates, cache_r)
        grads.update(zip(_FWD, dpf))
        grads.update(zip(_BWD, dpb))
    else:
        _, _, *dp = rnn_backward(dstates, cache_r)
        grads.update(zip(_FWD, dp))
    return loss, grads


def train_tagger(x, y, mask, params: dict, lr: float = 0.1, num_steps: int = 100,
                 optimizer: str = "sgd", progress: bool = False):
    """Full-batch training of a tagger; deterministic given its inputs.

    Every step computes the loss and gradients on the whole batch at the current parameters, then
    updates them: ``p <- p - lr * dp`` for ``optimizer="sgd"`` (the exercise's loop), or one Adam
    step for ``"adam"``. The input ``params`` are not modified.

    Returns:
        losses: the loss *before* each update, (num_steps,); params: the trained parameters (dict).
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer: expected 'sgd' or 'adam', got {optimizer!r}")
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    opt = SGD(lr) if optimizer == "sgd" else Adam(lr)
    steps = range(int(num_steps))
    if progress:
        from tqdm.auto import tqdm
        steps = tqdm(steps, desc="training", leave=False)
    losses = np.zeros(int(num_steps))
    for s in steps:
        losses[s], grads = tagger_loss(x, y, mask, params)
        opt.update(params, grads)
    return losses, params


def predict_tags(x, params: dict) -> np.ndarray:
    """The most probable tag at every position, (N, T) int."""
    return tagger_forward(x, params)[0].argmax(axis=-1)


def tag_accuracy(x, y, mask, params: dict) -> float:
    """Fraction of the unmasked positions tagged correctly."""
    mask = np.asarray(mask, dtype=bool)
    return float((predict_tags(x, params) == y)[mask].mean())
