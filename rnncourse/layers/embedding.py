"""Word embedding: a lookup table, ``out[n, t] = W[idx[n, t]]`` ({eq}`embedding`).

The lookup is the product of a one-hot row with ``W`` without forming the one-hot matrix, so the
backward pass adds each upstream row into the row of ``W`` it came from; a word that occurs k times
receives the sum of k gradients. Same as ``torch.nn.Embedding`` (``weight = W``).
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array
from ._common import check_indices, check_upstream

__all__ = ["embedding_forward", "embedding_backward"]


def embedding_forward(idx, W):
    """Look up the rows of ``W``, eq. {eq}`embedding`.

    Args:
        idx: integer word ids in [0, V), any shape, typically (N, T) or (N,).
        W: embedding matrix, (V, D).

    Returns:
        out: ``W[idx]``, shape ``idx.shape + (D,)``, e.g. (N, T, D); cache for
        :func:`embedding_backward`.
    """
    W = as_array("W", W, 2)
    V, D = W.shape
    idx = check_indices("idx", idx, V)
    return W[idx], (idx, V, D)


def embedding_backward(dout, cache):
    """Backward pass of :func:`embedding_forward`.

    Args:
        dout: upstream gradients, ``idx.shape + (D,)``, e.g. (N, T, D).
        cache: from :func:`embedding_forward`.

    Returns:
        dW: (V, D); rows of words that did not occur are zero.
    """
    idx, V, D = cache
    shape = idx.shape + (D,)
    dout = check_upstream("dout", dout, shape, "idx.shape + (D,)")
    dW = np.zeros((V, D), dtype=np.result_type(dout, np.float32))
    np.add.at(dW, idx.reshape(-1), dout.reshape(-1, D))     # repeated ids accumulate
    return dW
