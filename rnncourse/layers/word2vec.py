"""word2vec with negative sampling: the loss, a unigram^0.75 sampler, CBOW and skip-gram.

For a hidden vector ``h``, a positive word ``w`` and K negative words ``w_1..w_K`` drawn from the
noise distribution ``P(w) ~ count(w)^0.75`` (Mikolov et al. 2013), the loss of one example is

    L = -log sigmoid(h . W_out[w]) - sum_k log sigmoid(-h . W_out[w_k])      {eq}`neg-sampling`

averaged over the batch. CBOW predicts the centre word from the mean of the context embeddings,
``h = mean_j W_in[context_j]`` ({eq}`cbow`); skip-gram predicts every context word from the centre
word's embedding ``h = W_in[center]`` and sums their losses ({eq}`skipgram`).
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._common import check_indices
from .losses import sigmoid

__all__ = [
    "UnigramSampler", "negative_sampling_forward", "negative_sampling_backward",
    "cbow_forward", "cbow_backward", "skipgram_forward", "skipgram_backward",
]


class UnigramSampler:
    """Draws negative words from ``P(w) ~ count(w)^power`` over the word ids of ``corpus``.

    Args:
        corpus: integer word ids, any shape (counted over all entries).
        power: exponent of the counts; 0.75 flattens the distribution so rare words are drawn
            more often than their frequency (Mikolov et al. 2013).
        sample_size: K, negatives per example.
        seed: seed of the sampler's own ``numpy.random.Generator`` (same seed, same draws).
        vocab_size: V; defaults to ``max(corpus) + 1``.

    Attributes:
        probs: the noise distribution, (V,).
    """

    def __init__(self, corpus, power: float = 0.75, sample_size: int = 5, seed: int = 0,
                 vocab_size: int | None = None):
        corpus = np.asarray(corpus)
        if corpus.size == 0:
            raise ValueError("corpus: expected at least one word id, got an empty array")
        V = int(corpus.max()) + 1 if vocab_size is None else int(vocab_size)
        corpus = check_indices("corpus", corpus, V)
        if sample_size < 1:
            raise ValueError(f"sample_size: expected a positive integer, got {sample_size}")
        counts = np.bincount(corpus.reshape(-1), minlength=V).astype(np.float64)
        weights = counts ** power
        self.probs = weights / weights.sum()
        self.sample_size = int(sample_size)
        self.vocab_size = V
        self.rng = np.random.default_rng(seed)

    def get_negative_sample(self, target):
        """K negative ids for each target id, never equal to that target.

        Args:
            target: positive word ids, (N,).

        Returns:
            negatives: (N, K) integer ids.
        """
        target = check_indices("target", target, self.vocab_size)
        if target.ndim != 1:
            raise ValueError(f"target: expected a 1-d array (N,), got shape {target.shape}")
        if np.any(self.probs[target] >= 1.0):
            raise ValueError("target: a target is the only word of the corpus; nothing to sample")
        K = self.sample_size
        neg = self.rng.choice(self.vocab_size, size=(target.size, K), p=self.probs)
        bad = neg == target[:, None]
        while bad.any():                                  # redraw the hits of the target itself
            neg[bad] = self.rng.choice(self.vocab_size, size=int(bad.sum()), p=self.probs)
            bad = neg == target[:, None]
        return neg


def _check_scalar(name, value) -> float:
    arr = as_array(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name}: expected a scalar (shape ()), got shape {arr.shape}")
    return float(arr)


def _check_words(name, ids, N, K, V):
    ids = check_indices(name, ids, V)
    check_shape(name, ids, (N,) if K is None else (N, K), "(N,)" if K is None else "(N, K)")
    return ids


def negative_sampling_forward(h, W_out, target, negatives):
    """Negative-sampling loss averaged over the batch, eq. {eq}`neg-sampling`.

    Args:
        h: hidden vectors, (N, D).
        W_out: output embeddings, (V, D).
        target: positive word ids, (N,).
        negatives: negative word ids, (N, K).

    Returns:
        loss (float); cache for :func:`negative_sampling_backward`.
    """
    h = as_array("h", h, 2)
    W_out = as_array("W_out", W_out, 2)
    N, D = h.shape
    V = W_out.shape[0]
    check_shape("W_out", W_out, (V, D), "(V, D)")
    target = _check_words("target", target, N, None, V)
    negatives = as_array("negatives", negatives, 2)
    negatives = _check_words("negatives", negatives, N, negatives.shape[1], V)
    w_pos = W_out[target]                                  # (N, D)
    w_neg = W_out[negatives]                               # (N, K, D)
    s_pos = np.einsum("nd,nd->n", h, w_pos)                # h . W_out[w]
    s_neg = np.einsum("nd,nkd->nk", h, w_neg)              # h . W_out[w_k]
    # -log sigmoid(s) = log(1 + exp(-s)) in the stable form logaddexp(0, -s)
    loss = (np.logaddexp(0.0, -s_pos).sum() + np.logaddexp(0.0, s_neg).sum()) / N
    return float(loss), (h, target, negatives, w_pos, w_neg, s_pos, s_neg, V)


def negative_sampling_backward(dloss, cache):
    """Backward pass of :func:`negative_sampling_forward`.

    Args:
        dloss: upstream gradient of the (scalar) loss, usually 1.0.
        cache: from :func:`negative_sampling_forward`.

    Returns:
        dh (N, D), dW_out (V, D).
    """
    h, target, negatives, w_pos, w_neg, s_pos, s_neg, V = cache
    dloss = _check_scalar("dloss", dloss)
    N, D = h.shape
    ds_pos = (sigmoid(s_pos) - 1.0) * (dloss / N)          # dL/ds = sigmoid(s) - 1 for the positive
    ds_neg = sigmoid(s_neg) * (dloss / N)                  # dL/ds = sigmoid(s) for a negative
    dh = ds_pos[:, None] * w_pos + np.einsum("nk,nkd->nd", ds_neg, w_neg)
    dW_out = np.zeros((V, D), dtype=np.result_type(h, np.float32))
    np.add.at(dW_out, target, ds_pos[:, None] * h)
    np.add.at(dW_out, negatives.reshape(-1), (ds_neg[:, :, None] * h[:, None, :]).reshape(-1, D))
    return dh, dW_out


def cbow_forward(contexts, target, W_in, W_out, negatives):
    """CBOW with negative sampling, eq. {eq}`cbow`.

    Args:
        contexts: ids of the context words around each centre, (N, C).
        target: ids of the centre words, (N,).
        W_in: input embeddings, (V, D).
        W_out: output embeddings, (V, D).
        negatives: negative ids, (N, K).

    Returns:
        loss (float); cache for :func:`cbow_backward`.
    """
    W_in = as_array("W_in", W_in, 2)
    V, D = W_in.shape
    contexts = check_indices("contexts", contexts, V)
    if contexts.ndim != 2:
        raise ValueError(f"contexts: expected a 2-d array (N, C), got shape {contexts.shape}")
    h = W_in[contexts].mean(axis=1)                        # h = mean_j W_in[context_j], (N, D)
    loss, ns_cache = negative_sampling_forward(h, W_out, target, negatives)
    return loss, (contexts, V, D, ns_cache)


def cbow_backward(dloss, cache):
    """Backward pass of :func:`cbow_forward`: returns dW_in (V, D), dW_out (V, D)."""
    contexts, V, D, ns_cache = cache
    dh, dW_out = negative_sampling_backward(dloss, ns_cache)
    N, C = contexts.shape
    dW_in = np.zeros((V, D), dtype=dh.dtype)
    np.add.at(dW_in, contexts.reshape(-1), np.repeat(dh / C, C, axis=0))  # dh / C to each word
    return dW_in, dW_out


def skipgram_forward(center, contexts, W_in, W_out, negatives):
    """Skip-gram with negative sampling, eq. {eq}`skipgram`: the losses of the C context words
    of each centre word are summed, then averaged over the batch.

    Args:
        center: ids of the centre words, (N,).
        contexts: ids of the context words to predict, (N, C).
        W_in: input embeddings, (V, D).
        W_out: output embeddings, (V, D).
        negatives: negative ids for every context word, (N, C, K).

    Returns:
        loss (float); cache for :func:`skipgram_backward`.
    """
    W_in = as_array("W_in", W_in, 2)
    V, D = W_in.shape
    center = check_indices("center", center, V)
    if center.ndim != 1:
        raise ValueError(f"center: expected a 1-d array (N,), got shape {center.shape}")
    N = center.shape[0]
    contexts = check_indices("contexts", contexts, V)
    if contexts.ndim != 2 or contexts.shape[0] != N:
        raise ValueError(f"contexts: expected shape (N, C) with N = {N}, got {contexts.shape}")
    C = contexts.shape[1]
    negatives = np.asarray(negatives)
    if negatives.ndim != 3 or negatives.shape[:2] != (N, C):
        raise ValueError(f"negatives: expected shape (N, C, K) with (N, C) = {(N, C)}, "
                         f"got {negatives.shape}")
    h = np.repeat(W_in[center], C, axis=0)                 # (N*C, D): one row per (centre, context)
    loss, ns_cache = negative_sampling_forward(h, W_out, contexts.reshape(-1),
                                               negatives.reshape(N * C, -1))
    return loss * C, (center, C, V, D, ns_cache)           # mean over N*C rows times C = sum over C


def skipgram_backward(dloss, cache):
    """Backward pass of :func:`skipgram_forward`: returns dW_in (V, D), dW_out (V, D)."""
    center, C, V, D, ns_cache = cache
    dh, dW_out = negative_sampling_backward(_check_scalar("dloss", dloss) * C, ns_cache)
    dW_in = np.zeros((V, D), dtype=dh.dtype)
    np.add.at(dW_in, center, dh.reshape(-1, C, D).sum(axis=1))
    return dW_in, dW_out
