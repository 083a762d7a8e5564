"""Exercise 6 (chapter 6): a bidirectional RNN built on rnn_forward/rnn_backward, and a tagger's
training loop.

The backward is judged on its own too: besides the cache of the student's own forward, it is given
the cache of a correct forward in the published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import STANDARD_KIT, Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# rnn_forward / rnn_backward (and the losses) of rnncourse.layers are the building blocks here;
# the library's own bidirectional layer, its tagger, and torch would be the answer itself.
_NO_SHORTCUTS = ("rnncourse.layers.bidirectional", "rnncourse.layers.bidirectional_forward",
                 "rnncourse.layers.bidirectional_backward", "rnncourse.layers._cells",
                 "rnncourse.tagging", "torch")
_DIRS = ["Wx_f", "Wh_f", "b_f", "Wx_b", "Wh_b", "b_b"]


def _directions(rng, D, H, scale=0.5):
    return {"Wx_f": scale * rng.standard_normal((D, H)), "Wh_f": scale * rng.standard_normal((H, H)),
            "b_f": 0.5 * rng.standard_normal(H),
            "Wx_b": scale * rng.standard_normal((D, H)), "Wh_b": scale * rng.standard_normal((H, H)),
            "b_b": 0.5 * rng.standard_normal(H)}


def _birnn_cases(rng, hidden=False):
    out = []
    # T = 1 (both directions read the same single step), N = 1, H = 1, and a longer sequence
    for N, T, D, H in sizes(rng, [(2, 4, 3, 5), (1, 1, 2, 3), (3, 6, 1, 1), (2, 9, 4, 4)], hidden):
        out.append({"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((2, N, H)),
                    **_directions(rng, D, H), "dh": rng.standard_normal((N, T, 2 * H))})
    return out


def _correct_cache(case: dict) -> tuple:
    """The published solution's cache ``(cache_f, cache_b, H)``: the caches of the kit's
    ``rnn_forward`` on ``x`` and on ``x[:, ::-1]``, and the hidden size."""
    from ....layers import rnn_forward

    x, h0 = case["x"], case["h0"]
    h, cache_f = rnn_forward(x, h0[0], case["Wx_f"], case["Wh_f"], case["b_f"])
    _, cache_b = rnn_forward(x[:, ::-1], h0[1], case["Wx_b"], case["Wh_b"], case["b_b"])
    return (cache_f, cache_b, int(h.shape[2]))


def _birnn_backward_cases(rng, hidden=False):
    return [dict(case, correct_cache=_correct_cache(case)) for case in _birnn_cases(rng, hidden)]


def _train_cases(rng, hidden=False):
    out = []
    for N, T, D, H, C, steps, lr in sizes(rng, [(3, 5, 4, 3, 3, 5, 0.3), (1, 1, 2, 2, 2, 1, 0.5),
                                                (4, 6, 3, 4, 5, 12, 0.2), (2, 8, 2, 3, 4, 20, 0.1)],
                                          hidden, keep=(5,)):
        mask = rng.random((N, T)) < 0.75
        mask[:, 0] = True
        out.append({"x": rng.standard_normal((N, T, D)), "y": rng.integers(0, C, size=(N, T)),
                    "mask": mask, **_directions(rng, D, H),
                    "Wy": 0.5 * rng.standard_normal((2 * H, C)), "by": 0.1 * rng.standard_normal(C),
                    "lr": lr, "num_steps": steps})
    return out


def _ref_birnn():
    from ....layers.bidirectional import bidirectional_backward, bidirectional_forward

    def forward(x, h0, Wx_f, Wh_f, b_f, Wx_b, Wh_b, b_b):
        return bidirectional_forward(x, h0, [(Wx_f, Wh_f, b_f), (Wx_b, Wh_b, b_b)], cell="rnn")

    def backward(dh, cache):
        dx, dh0, (dpf, dpb) = bidirectional_backward(dh, cache)
        return (dx, dh0, *dpf, *dpb)
    return {"birnn_forward": forward, "birnn_backward": backward}


def _ref_train():
    from ....tagging import train_tagger as library_train

    def train(x, y, mask, Wx_f, Wh_f, b_f, Wx_b, Wh_b, b_b, Wy, by, lr, num_steps):
        params = dict(zip(_DIRS + ["Wy", "by"], (Wx_f, Wh_f, b_f, Wx_b, Wh_b, b_b, Wy, by)))
        losses, p = library_train(x, y, mask, params, lr=lr, num_steps=num_steps)
        return (losses, *(p[k] for k in _DIRS + ["Wy", "by"]))
    return {"train_tagger": train}


_GRADS = ["dx", "dh0", *(f"d{k}" for k in _DIRS)]
_NEW = [f"new_{k}" for k in _DIRS + ["Wy", "by"]]

EXERCISE = Exercise(
    id="06_deep_bidirectional",
    title="Deep and bidirectional RNNs",
    chapter="book/06_deep_bidirectional",
    # the building blocks the notebook imports; not the library's bidirectional layer or tagger
    kit=STANDARD_KIT + ("rnncourse._checks", "rnncourse.layers", "rnncourse.layers._common",
                        "rnncourse.layers.rnn", "rnncourse.layers.losses"),
    items=(
        Item(
            name="birnn_forward",
            title="Bidirectional RNN forward: h(t) reads x(1..t), g(t) reads x(t..T), output [h, g]",
            points=2,
            calls=(call("birnn_forward", ["x", "h0", *_DIRS], ["out", "cache"]),),
            outputs=("out",),
            cases=_birnn_cases,
            reference=_ref_birnn,
            forbidden=_NO_SHORTCUTS,
            hint="h = rnn_forward(x, h0[0], Wx_f, Wh_f, b_f); for g run rnn_forward on x[:, ::-1] "
                 "from h0[1] and flip its output back with [:, ::-1]; concatenate on the last axis.",
        ),
        Item(
            name="birnn_backward",
            title="Bidirectional RNN backward: two BPTTs, the backward one on reversed time",
            points=3,
            calls=(call("birnn_forward", ["x", "h0", *_DIRS], ["out", "cache"]),
                   call("birnn_backward", ["dh", "cache"], _GRADS)),
            outputs=tuple(_GRADS),
            cases=_birnn_backward_cases,
            alone=(call("birnn_backward", ["dh", "correct_cache"], _GRADS),),
            alone_input="the cache (cache_f, cache_b, H) of a correct forward, cache_f and "
                        "cache_b from rnn_forward on x and on x[:, ::-1]",
            reference=_ref_birnn,
            forbidden=_NO_SHORTCUTS,
            hint="Split dh into its forward half dh[..., :H] and backward half dh[..., H:]; the "
                 "backward half must be reversed in time before rnn_backward, and the dx it returns "
                 "reversed again; dx is the sum of both; dh0 stacks the two dh0 (shape (2, N, H)).",
        ),
        Item(
            name="train_tagger",
            title="Full-batch SGD training loop of a bidirectional tagger",
            points=3,
            calls=(call("train_tagger", ["x", "y", "mask", *_DIRS, "Wy", "by", "lr", "num_steps"],
                        ["losses", *_NEW]),),
            outputs=("losses", *_NEW),
            cases=_train_cases,
            reference=_ref_train,
            forbidden=_NO_SHORTCUTS,
            hint="Each step: out = birnn_forward(x, zeros (2, N, H), ...); "
                 "o = temporal_affine_forward(out, Wy, by); loss, do = temporal_softmax_loss(o, y, "
                 "mask); backward through both; record the loss, then p = p - lr * dp for all 8 "
                 "arrays. Return np.array(losses) of shape (num_steps,) and the 8 new arrays.",
        ),
    ),
)
