"""Exercise 11 (chapter 11): the noise distribution, the negative-sampling loss and its gradient,
one CBOW training step."""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# The course's own word2vec (or torch) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.layers", "torch", "scipy")


def _counts_cases(rng, hidden=False):
    (n1,), (n2,) = sizes(rng, [(10,), (6,)], hidden)
    return [
        {"counts": rng.integers(1, 100, size=n1), "power": 0.75},
        {"counts": np.array([5]), "power": 0.75},                       # a single word
        {"counts": np.array([0, 3, 0, 12, 1]), "power": 0.75},          # words never seen
        {"counts": rng.integers(1, 1000, size=n2), "power": 1.0},       # plain unigram
    ]


def _ns_cases(rng, hidden=False):
    out = []
    for N, V, D, K in sizes(rng, [(4, 10, 3, 2), (1, 2, 1, 1), (6, 5, 4, 3), (3, 20, 8, 5)], hidden):
        target = rng.integers(0, V, size=N)
        negatives = rng.integers(0, V, size=(N, K))
        if N > 1:
            negatives[1, :] = target[0]                # repeated ids: gradients must accumulate
        out.append({
            "h": rng.standard_normal((N, D)),
            "W_out": rng.standard_normal((V, D)),
            "target": target,
            "negatives": negatives,
        })
    out[-1]["h"] *= 4.0                                # large scores: log sigmoid must be stable
    return out


def _cbow_cases(rng, hidden=False):
    out = []
    for N, V, D, C, K in sizes(rng, [(4, 10, 3, 4, 2), (1, 3, 2, 2, 1), (5, 6, 4, 2, 3),
                                     (3, 15, 5, 6, 4)], hidden):
        contexts = rng.integers(0, V, size=(N, C))
        contexts[0, 1] = contexts[0, 0]                # a word twice in one window
        out.append({
            "W_in": rng.standard_normal((V, D)),
            "W_out": rng.standard_normal((V, D)),
            "contexts": contexts,
            "target": rng.integers(0, V, size=N),
            "negatives": rng.integers(0, V, size=(N, K)),
            "lr": 0.5,
        })
    return out


def _ref_noise():
    from ....layers.word2vec import noise_distribution
    return {"noise_distribution": noise_distribution}


def _ref_ns_loss():
    from ....layers.word2vec import negative_sampling_forward
    return {"negative_sampling_loss": lambda h, W_out, target, negatives:
            negative_sampling_forward(h, W_out, target, negatives)[0]}


def _ref_ns_grad():
    from ....layers.word2vec import negative_sampling_backward, negative_sampling_forward

    def grad(h, W_out, target, negatives):
        _, cache = negative_sampling_forward(h, W_out, target, negatives)
        return negative_sampling_backward(1.0, cache)
    return {"negative_sampling_grad": grad}


def _ref_cbow():
    from ....layers.word2vec import cbow_sgd_step
    return {"cbow_step": cbow_sgd_step}


EXERCISE = Exercise(
    id="11_word2vec",
    title="word2vec with negative sampling",
    chapter="book/11_word2vec",
    items=(
        Item(
            name="noise_distribution",
            title="The noise distribution P(w) ~ count(w)^power",
            points=1,
            calls=(call("noise_distribution", ["counts", "power"], ["p"]),),
            outputs=("p",),
            cases=_counts_cases,
            reference=_ref_noise,
            forbidden=_NO_SHORTCUTS,
            hint="p = counts ** power / (counts ** power).sum(), as floats.",
        ),
        Item(
            name="negative_sampling_loss",
            title="Negative-sampling loss averaged over the batch",
            points=2,
            calls=(call("negative_sampling_loss", ["h", "W_out", "target", "negatives"],
                        ["loss"]),),
            outputs=("loss",),
            cases=_ns_cases,
            reference=_ref_ns_loss,
            forbidden=_NO_SHORTCUTS,
            hint="s_pos = sum(h * W_out[target], -1); s_neg = einsum('nd,nkd->nk', h, "
                 "W_out[negatives]); -log sigmoid(s) = np.logaddexp(0, -s); sum, divide by N.",
        ),
        Item(
            name="negative_sampling_grad",
            title="Gradients of the negative-sampling loss with respect to h and W_out",
            points=3,
            calls=(call("negative_sampling_grad", ["h", "W_out", "target", "negatives"],
                        ["dh", "dW_out"]),),
            outputs=("dh", "dW_out"),
            cases=_ns_cases,
            reference=_ref_ns_grad,
            forbidden=_NO_SHORTCUTS,
            hint="dL/ds_pos = (sigmoid(s_pos) - 1) / N, dL/ds_neg = sigmoid(s_neg) / N; "
                 "dh = ds_pos[:, None] * W_out[target] + einsum('nk,nkd->nd', ds_neg, "
                 "W_out[negatives]); accumulate dW_out rows with np.add.at (ids repeat).",
        ),
        Item(
            name="cbow_step",
            title="One CBOW training step: forward, backward, SGD update",
            points=3,
            calls=(call("cbow_step", ["W_in", "W_out", "contexts", "target", "negatives", "lr"],
                        ["W_in_new", "W_out_new", "loss"]),),
            outputs=("W_in_new", "W_out_new", "loss"),
            cases=_cbow_cases,
            reference=_ref_cbow,
            forbidden=_NO_SHORTCUTS,
            hint="h = W_in[contexts].mean(1); loss and (dh, dW_out) from your functions above; "
                 "each context row gets dh / C (np.add.at); return new arrays "
                 "W_in - lr * dW_in, W_out - lr * dW_out and the loss before the step.",
        ),
    ),
)
