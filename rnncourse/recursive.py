"""Recursive neural networks: one composition function shared by every node of a tree (chapter 7).

    leaf i:      h_i = E[token_i]                                   {eq}`recnn-leaf`
    internal i:  h_i = tanh(W [h_left(i); h_right(i)] + b)          {eq}`recnn-node`
    root r:      o = Wo h_r + bo,  p = softmax(o)                    {eq}`recnn-out`

The book writes column vectors; the code is in row layout, ``h_i = tanh([h_l, h_r] @ W + b)`` with
``W (2H, H)``: ``W[:H]`` acts on the left child, ``W[H:]`` on the right. Trees are plain arrays
(:mod:`rnncourse.data.trees`): ``children (n, 2)`` with ``-1`` for leaves, ``tokens (n,)`` with the
leaf token ids, nodes in topological order; a forest is many trees in one pair of arrays.

The forward pass runs level by level (all nodes of equal height across the forest in one matmul),
so a forest of balanced trees costs O(log n) sequential steps, a chain O(n). The backward pass is
backpropagation through structure {eq}`recnn-bpts`: the same levels in reverse order.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_shape
from .data.trees import Forest, check_forest, select_trees, tree_heights
from .layers.losses import temporal_softmax_loss
from .optim import Adam

__all__ = [
    "tree_forward", "tree_backward", "tree_classifier_loss", "init_tree_params",
    "train_tree_classifier", "predict_trees",
]


def _levels(children):
    """Internal nodes grouped by height 1, 2, ...: each group depends only on lower ones."""
    height = tree_heights(children)
    order = np.argsort(height, kind="stable")
    bounds = np.searchsorted(height[order], np.arange(1, height.max(initial=0) + 2))
    return [order[bounds[k]:bounds[k + 1]] for k in range(len(bounds) - 1)]


def tree_forward(children, tokens, E, W, b):
    """Forward pass of a recursive network over a forest, eqs. {eq}`recnn-leaf`, {eq}`recnn-node`.

    Args:
        children: (n, 2) int, children of each node, ``-1`` for leaves, children before parents.
        tokens: (n,) int, token id of each leaf in ``[0, V)``; ignored at internal nodes.
        E: leaf embeddings, (V, H).
        W: composition weights in row layout, (2H, H).
        b: composition bias, (H,).

    Returns:
        h: the state of every node, (n, H); cache for :func:`tree_backward`.
    """
    E = as_array("E", E, 2)
    V, H = E.shape
    W = as_array("W", W, 2)
    check_shape("W", W, (2 * H, H), "(2H, H)")
    b = as_array("b", b, 1)
    check_shape("b", b, (H,), "(H,)")
    children, tokens = check_forest(children, tokens, V)
    leaf = children[:, 0] < 0
    h = np.zeros((len(tokens), H), dtype=np.result_type(E, W, b, np.float32))
    h[leaf] = E[tokens[leaf]]                                      # h_i = E[token_i]
    levels = _levels(children)
    for idx in levels:
        hc = np.concatenate([h[children[idx, 0]], h[children[idx, 1]]], axis=1)   # [h_l, h_r] (m, 2H)
        h[idx] = np.tanh(hc @ W + b)                               # h_i = tanh(W [h_l; h_r] + b)
    return h, (children, tokens, leaf, levels, E.shape, W, h)


def tree_backward(dh, cache):
    """Backpropagation through structure for :func:`tree_forward`, eq. {eq}`recnn-bpts`.

    Args:
        dh: upstream gradient of the loss w.r.t. every node's state, (n, H) (zero where a node
            feeds no loss directly; a root classifier puts its gradient on the root rows).
        cache: from :func:`tree_forward`.

    Returns:
        dE (V, H), dW (2H, H), db (H,).
    """
    children, tokens, leaf, levels, (V, H), W, h = cache
    dh = as_array("dh", dh, 2)
    check_shape("dh", dh, h.shape, "(n, H)")
    delta = dh.astype(h.dtype, copy=True)           # total dL/dh_i, completed top-down
    dW = np.zeros_like(W)
    db = np.zeros(H, dtype=h.dtype)
    for idx in reversed(levels):                    # parents before children
        left, right = children[idx, 0], children[idx, 1]
        da = delta[idx] * (1.0 - h[idx] ** 2)       # dL/da_i = dL/dh_i * (1 - h_i^2)
        hc = np.concatenate([h[left], h[right]], axis=1)
        dW += hc.T @ da                             # dL/dW = sum_i [h_l; h_r] da_i^T
        db += da.sum(axis=0)
        dhc = da @ W.T                              # dL/d[h_l; h_r] = W^T da_i
        delta[left] += dhc[:, :H]                   # each node has one parent (check_forest),
        delta[right] += dhc[:, H:]                  # so the indices of a level are distinct
    dE = np.zeros((V, H), dtype=h.dtype)
    np.add.at(dE, tokens[leaf], delta[leaf])        # a token used twice gets both gradients
    return dE, dW, db


def init_tree_params(V: int, H: int, C: int, seed: int = 0, scale: float = 1.0) -> dict:
    """Parameters of a root classifier: ``E (V, H)``, ``W (2H, H)``, ``b``, ``Wo (H, C)``, ``bo``.

    ``W`` is drawn with variance ``scale / (2H)`` (Xavier-like for the 2H inputs), ``E`` with
    variance 1/H so that leaves live on the scale of tanh states.
    """
    rng = np.random.default_rng(seed)
    return {
        "E": rng.standard_normal((V, H)) / np.sqrt(H),
        "W": rng.standard_normal((2 * H, H)) * np.sqrt(scale / (2 * H)),
        "b": np.zeros(H),
        "Wo": rng.standard_normal((H, C)) / np.sqrt(H),
        "bo": np.zeros(C),
    }


def tree_classifier_loss(children, tokens, roots, labels, params: dict):
    """Mean softmax cross-entropy of a class per tree, read from its root, eq. {eq}`recnn-out`.

    Args:
        children (n, 2), tokens (n,): the forest.
        roots: (m,) int, the root node of each tree.
        labels: (m,) int in ``[0, C)``.
        params: dict with ``E (V, H)``, ``W (2H, H)``, ``b (H,)``, ``Wo (H, C)``, ``bo (C,)``.

    Returns:
        loss (float, averaged over the m trees) and grads, a dict with the keys of ``params``.
    """
    E, W, b, Wo, bo = (params[k] for k in ("E", "W", "b", "Wo", "bo"))
    h, cache = tree_forward(children, tokens, E, W, b)
    roots = np.asarray(roots, dtype=np.int64)
    labels = np.asarray(labels)
    m = roots.shape[0]
    hr = h[roots]                                           # (m, H)
    o = hr @ Wo + bo                                        # o = Wo h_root + bo, (m, C)
    loss, do = temporal_softmax_loss(o[:, None, :], labels.reshape(m, 1))   # one "time step" each
    do = do[:, 0, :]
    dh = np.zeros_like(h)
    np.add.at(dh, roots, do @ Wo.T)
    dE, dW, db = tree_backward(dh, cache)
    return loss, {"E": dE, "W": dW, "b": db, "Wo": hr.T @ do, "bo": do.sum(axis=0)}


def predict_trees(forest: Forest, params: dict) -> np.ndarray:
    """Predicted class of every tree of ``forest``, (n_trees,) int."""
    h, _ = tree_forward(forest.children, forest.tokens, params["E"], params["W"], params["b"])
    return (h[forest.roots] @ params["Wo"] + params["bo"]).argmax(axis=1)


def train_tree_classifier(forest: Forest, labels, params: dict, num_steps: int = 500,
                          lr: float = 0.01, batch_size: int = 64, seed: int = 0,
                          progress: bool = False) -> np.ndarray:
    """Train a root classifier with Adam on mini-batches of trees; ``params`` is updated in place.

    Returns the training loss of every step, (num_steps,).
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    rng = np.random.default_rng(seed)
    opt = Adam(lr=lr)
    steps = range(num_steps)
    if progress:
        from tqdm.auto import tqdm
        steps = tqdm(steps, desc="training")
    losses = np.zeros(num_steps)
    for s in steps:
        idx = rng.choice(n, size=min(batch_size, n), replace=False)
        batch = select_trees(forest, idx)
        losses[s], grads = tree_classifier_loss(batch.children, batch.tokens, batch.roots,
                                                labels[idx], params)
        opt.update(params, grads)
    return losses
