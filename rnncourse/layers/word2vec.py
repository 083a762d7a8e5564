"""word2vec (chapter 11) in numpy: the negative-sampling loss, a unigram^0.75 sampler, CBOW and
skip-gram layers, and their training and evaluation.

For a hidden vector ``h``, a positive word ``w`` and K negative words ``w_1..w_K`` drawn from the
noise distribution ``P(w) ~ count(w)^0.75`` (Mikolov et al. 2013), the loss of one example is

    L = -log sigmoid(h . W_out[w]) - sum_k log sigmoid(-h . W_out[w_k])      {eq}`neg-sampling`

averaged over the batch. CBOW predicts the centre word from the mean of the context embeddings,
``h = mean_j W_in[context_j]`` ({eq}`cbow`); skip-gram predicts every context word from the centre
word's embedding ``h = W_in[center]`` and sums their losses ({eq}`skipgram`).

Training and evaluation (chapter 11), built on the layers above:

* Data: context windows of a stream of word ids (:func:`cbow_windows`), subsampling of frequent
  words (:func:`keep_probability`, :func:`subsample`, eq. {eq}`w2v-subsample`), the noise
  distribution ``P(w) ~ count(w)^0.75`` (:func:`noise_distribution`, eq. {eq}`w2v-noise`).
* Training: one CBOW step with negative sampling and plain SGD (:func:`cbow_sgd_step`), and a
  whole training run for CBOW or skip-gram (:func:`train_word2vec`).
* Evaluation: cosine similarity, nearest neighbours, and the analogy test ``a : b :: c : ?``
  answered by ``argmax_d cos(v_d, v_b - v_a + v_c)`` over every word except a, b, c
  (eq. {eq}`w2v-analogy`); PCA to two dimensions for plots.
* Count-based baselines: the window co-occurrence matrix, its positive PMI (eq. {eq}`w2v-ppmi`) and
  a truncated SVD to ``D`` dimensions (:func:`cooccurrence_matrix`, :func:`ppmi`,
  :func:`svd_embeddings`).
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ..optim import SGD, Adam
from ._common import check_indices, sigmoid

__all__ = [
    "UnigramSampler", "negative_sampling_forward", "negative_sampling_backward",
    "cbow_forward", "cbow_backward", "skipgram_forward", "skipgram_backward",
    "noise_distribution", "keep_probability", "subsample", "cbow_windows", "cbow_sgd_step",
    "train_word2vec", "normalize_rows", "most_similar", "analogy_questions", "analogy_predict",
    "analogy_accuracy", "pca_2d", "neighbour_agreement", "cooccurrence_matrix", "ppmi",
    "svd_embeddings", "word2vec_param_count",
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


def word2vec_param_count(vocab_size: int, dim: int) -> int:
    """Parameters of CBOW or skip-gram: an input and an output embedding, ``2 V D`` (no biases)."""
    if vocab_size < 1 or dim < 1:
        raise ValueError(f"vocab_size, dim: expected positive integers, got {vocab_size}, {dim}")
    return 2 * int(vocab_size) * int(dim)


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """``P(w) = count(w)^power / sum_v count(v)^power``, eq. {eq}`w2v-noise`: (V,) -> (V,)."""
    counts = as_array("counts", counts, 1).astype(np.float64)
    if np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts: expected non-negative counts with a positive sum")
    weights = counts ** power
    return weights / weights.sum()


def keep_probability(counts, t: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word, ``min(1, sqrt(t / f(w)))`` with ``f(w)``
    the word's relative frequency (Mikolov et al. 2013b), eq. {eq}`w2v-subsample`: (V,) -> (V,)."""
    counts = as_array("counts", counts, 1).astype(np.float64)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        keep = np.sqrt(t / f)
    return np.minimum(1.0, keep)


def subsample(ids, t: float = 1e-3, seed: int = 0, vocab_size: int | None = None) -> np.ndarray:
    """Drop each occurrence of word ``w`` with probability ``1 - keep_probability(w)``."""
    ids = np.asarray(ids)
    V = int(ids.max()) + 1 if vocab_size is None else int(vocab_size)
    keep = keep_probability(np.bincount(ids, minlength=V), t)
    rng = np.random.default_rng(seed)
    return ids[rng.random(ids.shape[0]) < keep[ids]]


def cbow_windows(ids, window: int = 2):
    """Every position of the stream with ``window`` words on each side.

    Returns:
        contexts (N, 2 window): the surrounding words; target (N,): the centre words.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.shape[0] < 2 * window + 1:
        raise ValueError(f"ids: expected a 1-d stream of at least {2 * window + 1} ids, "
                         f"got shape {ids.shape}")
    N = ids.shape[0] - 2 * window
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    centre = np.arange(window, window + N)
    return ids[centre[:, None] + offsets], ids[centre]


def cbow_sgd_step(W_in, W_out, contexts, target, negatives, lr: float):
    """One CBOW step with negative sampling and plain SGD, eqs. {eq}`cbow`, {eq}`neg-sampling`.

    Args:
        W_in, W_out: input and output embeddings, (V, D) each (not modified).
        contexts: (N, C) context ids; target: (N,) centre ids; negatives: (N, K) noise ids.
        lr: learning rate.

    Returns:
        The updated ``W_in``, ``W_out`` (new arrays) and the loss *before* the step.
    """
    loss, cache = cbow_forward(contexts, target, W_in, W_out, negatives)
    dW_in, dW_out = cbow_backward(1.0, cache)
    return W_in - lr * dW_in, W_out - lr * dW_out, loss


def train_word2vec(ids, vocab_size: int, dim: int = 16, window: int = 2, model: str = "cbow",
                   negatives: int = 5, epochs: int = 3, batch_size: int = 256,
                   lr: float = 0.01, optimizer: str = "adam", seed: int = 0,
                   progress: bool = True, desc: str = "word2vec"):
    """Train CBOW or skip-gram with negative sampling on a stream of word ids.

    Weights start as ``W_in ~ U(-0.5/D, 0.5/D)`` and ``W_out = 0`` (as in word2vec). Noise words
    come from :class:`~rnncourse.layers.word2vec.UnigramSampler` (``count^0.75``).

    Args:
        ids: the corpus, (num_words,) int.
        vocab_size: V.
        dim: D, the embedding size.
        window: context words on each side.
        model: ``"cbow"`` or ``"skipgram"``.
        negatives: K, noise words per positive word.
        epochs, batch_size: passes over the windows, windows per update.
        lr, optimizer: ``"adam"`` or ``"sgd"`` from :mod:`rnncourse.optim`.
        seed: seeds the initialisation, the minibatch order and the sampler.

    Returns:
        W_in (V, D), W_out (V, D), losses (one per update).
    """
    if model not in ("cbow", "skipgram"):
        raise ValueError(f"model: expected 'cbow' or 'skipgram', got {model!r}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {optimizer!r}")
    rng = np.random.default_rng(seed)
    V, D = int(vocab_size), int(dim)
    params = {"W_in": rng.uniform(-0.5 / D, 0.5 / D, size=(V, D)), "W_out": np.zeros((V, D))}
    opt = Adam(lr) if optimizer == "adam" else SGD(lr)
    sampler = UnigramSampler(ids, sample_size=negatives, seed=seed, vocab_size=V)
    contexts, target = cbow_windows(ids, window)
    N = target.shape[0]
    per_epoch = (N + batch_size - 1) // batch_size
    losses = []
    from tqdm.auto import tqdm      # imported here: its notebook warning goes to the training cell
    with tqdm(total=epochs * per_epoch, desc=desc, disable=not progress) as bar:
        for _ in range(epochs):
            order = rng.permutation(N)
            for i in range(per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                ctx, tgt = contexts[idx], target[idx]
                if model == "cbow":
                    neg = sampler.get_negative_sample(tgt)
                    loss, cache = cbow_forward(ctx, tgt, params["W_in"], params["W_out"], neg)
                    dW_in, dW_out = cbow_backward(1.0, cache)
                else:                       # the centre word predicts each context word
                    n, C = ctx.shape
                    neg = sampler.get_negative_sample(ctx.reshape(-1)).reshape(n, C, -1)
                    loss, cache = skipgram_forward(tgt, ctx, params["W_in"], params["W_out"], neg)
                    dW_in, dW_out = skipgram_backward(1.0, cache)
                opt.update(params, {"W_in": dW_in, "W_out": dW_out})
                losses.append(loss)
                bar.update()
    return params["W_in"], params["W_out"], np.array(losses)


def normalize_rows(E) -> np.ndarray:
    """Each row divided by its Euclidean norm (zero rows stay zero)."""
    E = as_array("E", E, 2).astype(np.float64)
    norm = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(norm > 0, norm, 1.0)


def most_similar(E, query: int, k: int = 5, exclude=()) -> np.ndarray:
    """Ids of the ``k`` words of highest cosine similarity to word ``query`` (itself excluded)."""
    En = normalize_rows(E)
    sims = En @ En[query]
    sims[[query, *exclude]] = -np.inf
    return np.argsort(-sims, kind="stable")[:k]


def analogy_questions(pairs, vocab) -> np.ndarray:
    """All questions ``a : b :: c : d`` from a list of pairs of one relation: every ordered pair of
    distinct pairs ``(a, b), (c, d)``. Returns ids (Q, 4)."""
    ids = [(vocab.stoi[a], vocab.stoi[b]) for a, b in pairs]
    return np.array([(a, b, c, d) for i, (a, b) in enumerate(ids)
                     for j, (c, d) in enumerate(ids) if i != j], dtype=np.int64)


def analogy_predict(E, questions) -> np.ndarray:
    """``argmax_d cos(v_d, v_b - v_a + v_c)`` over every word but a, b, c, eq. {eq}`w2v-analogy`
    (3CosAdd, Mikolov et al. 2013c). ``questions`` (Q, 3 or 4) ids -> predicted ids (Q,)."""
    En = normalize_rows(E)
    q = np.asarray(questions)
    target = En[q[:, 1]] - En[q[:, 0]] + En[q[:, 2]]           # (Q, D)
    sims = target @ En.T                                        # (Q, V); |target| is the same per row
    rows = np.arange(q.shape[0])
    for col in range(3):
        sims[rows, q[:, col]] = -np.inf                         # the question words are excluded
    return sims.argmax(axis=1)


def analogy_accuracy(E, questions) -> float:
    """Fraction of questions (Q, 4) whose prediction is ``d``."""
    q = np.asarray(questions)
    return float(np.mean(analogy_predict(E, q) == q[:, 3]))


def pca_2d(E) -> np.ndarray:
    """Projection of the centred rows of ``E`` (V, D) on their two principal axes: (V, 2)."""
    X = as_array("E", E, 2).astype(np.float64)
    X = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    return X @ Vt[:2].T


def neighbour_agreement(E, labels) -> float:
    """Fraction of the labelled words whose nearest neighbour (cosine, over *all* words) has the
    same label. ``labels`` (V,) int, ``-1`` for words without a label (they are never scored, and
    an unlabelled neighbour counts as a mismatch)."""
    En = normalize_rows(E)
    labels = np.asarray(labels)
    if labels.shape != (En.shape[0],):
        raise ValueError(f"labels: expected shape (V,) = ({En.shape[0]},), got {labels.shape}")
    scored = np.flatnonzero(labels >= 0)
    if scored.size == 0:
        raise ValueError("labels: expected at least one labelled word (label >= 0)")
    sims = En[scored] @ En.T                                    # (S, V)
    sims[np.arange(scored.size), scored] = -np.inf              # a word is not its own neighbour
    return float(np.mean(labels[sims.argmax(axis=1)] == labels[scored]))


def cooccurrence_matrix(ids, vocab_size: int, window: int = 2) -> np.ndarray:
    """``C[w, c]``: how often word ``c`` occurs within ``window`` positions of word ``w`` in the
    stream (the same windows as :func:`cbow_windows`). Returns (V, V) float64."""
    contexts, target = cbow_windows(ids, window)
    V = int(vocab_size)
    C = np.zeros((V, V))
    np.add.at(C, (np.repeat(target, contexts.shape[1]), contexts.reshape(-1)), 1.0)
    return C


def ppmi(C) -> np.ndarray:
    """Positive pointwise mutual information ``max(0, log P(w, c) / (P(w) P(c)))`` of a count
    matrix, eq. {eq}`w2v-ppmi`; cells with a zero count are 0. (V, V) -> (V, V)."""
    C = as_array("C", C, 2).astype(np.float64)
    if np.any(C < 0) or C.sum() <= 0:
        raise ValueError("C: expected non-negative counts with a positive sum")
    total = C.sum()
    row, col = C.sum(axis=1, keepdims=True), C.sum(axis=0, keepdims=True)
    out = np.zeros_like(C)
    nz = C > 0
    out[nz] = np.log(C[nz] * total / (row * col)[nz])          # row * col: (V, V')
    return np.maximum(out, 0.0)


def svd_embeddings(M, dim: int) -> np.ndarray:
    """Rows of ``M`` (V, V') projected on its top ``dim`` right singular vectors, ``U_D S_D``
    (the best rank-``dim`` approximation of ``M`` in its own coordinates): (V, dim)."""
    M = as_array("M", M, 2).astype(np.float64)
    if not 1 <= dim <= min(M.shape):
        raise ValueError(f"dim: expected 1 <= dim <= {min(M.shape)}, got {dim}")
    U, S, _ = np.linalg.svd(M, full_matrices=False)
    return U[:, :dim] * S[:dim]
