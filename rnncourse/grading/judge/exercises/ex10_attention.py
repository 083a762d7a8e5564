"""Exercise 10 (chapter 10): dot-product and additive attention, forward and backward, in numpy.

References: :mod:`rnncourse.layers.attention`. The backward items run the student's own forward
to get the cache, then the student's backward, on the same random upstream gradient; and, so that
each is judged on its own, the student's backward alone on the cache of a correct forward in the
published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

_NO_SHORTCUTS = ("rnncourse.layers", "rnncourse.models", "torch", "scipy.special")

_SHAPES = [(2, 3, 4, 5, 3), (1, 1, 1, 2, 1), (3, 2, 6, 3, 4), (2, 5, 3, 4, 2)]   # N, Tq, Tk, H, Hv


def _mask(rng, N, Tk):
    # Example 0 has no padding; the others have >= 2 real keys, so their scores get a nonzero
    # gradient (a per-example bug cannot hide behind a one-hot softmax); with N >= 3 the last
    # example has a single real key (all its weight on one key, zero gradient to its scores).
    lengths = rng.integers(min(2, Tk), Tk + 1, size=N)
    lengths[0] = Tk
    if N >= 3:
        lengths[-1] = 1
    return np.arange(Tk)[None, :] < lengths[:, None]      # (N, Tk): padding at the end


def _dot_cases(rng, hidden=False, backward=False):
    out = []
    for N, Tq, Tk, H, Hv in sizes(rng, _SHAPES, hidden):
        case = {"q": rng.standard_normal((N, Tq, H)), "k": rng.standard_normal((N, Tk, H)),
                "v": rng.standard_normal((N, Tk, Hv)), "mask": _mask(rng, N, Tk)}
        if backward:
            case["dcontext"] = rng.standard_normal((N, Tq, Hv))
        out.append(case)
    return out


def _additive_cases(rng, hidden=False, backward=False):
    out = []
    shapes = [s + (Hk, A) for s, Hk, A in zip(_SHAPES, [3, 2, 5, 4], [4, 1, 3, 5])]
    for N, Tq, Tk, H, Hv, Hk, A in sizes(rng, shapes, hidden):
        case = {"q": rng.standard_normal((N, Tq, H)), "k": rng.standard_normal((N, Tk, Hk)),
                "v": rng.standard_normal((N, Tk, Hv)),
                "Wq": rng.standard_normal((H, A)) / np.sqrt(H),
                "Wk": rng.standard_normal((Hk, A)) / np.sqrt(Hk),
                "va": rng.standard_normal(A), "mask": _mask(rng, N, Tk)}
        if backward:
            case["dcontext"] = rng.standard_normal((N, Tq, Hv))
        out.append(case)
    return out


def _softmax_masked(s, mask):
    s = np.where(mask[:, None, :], s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    w = np.exp(s)
    return w / w.sum(axis=-1, keepdims=True)


def _dot_cache(case: dict) -> tuple:
    """The published solution's cache ``(q, k, v, weights)`` of a correct forward."""
    q, k, v = case["q"], case["k"], case["v"]
    return (q, k, v, _softmax_masked(q @ k.transpose(0, 2, 1), case["mask"]))


def _additive_cache(case: dict) -> tuple:
    """The published solution's cache ``(q, k, v, Wq, Wk, va, e, weights)``."""
    q, k, v, Wq, Wk, va = (case[n] for n in ("q", "k", "v", "Wq", "Wk", "va"))
    e = np.tanh((q @ Wq)[:, :, None, :] + (k @ Wk)[:, None, :, :])      # (N, Tq, Tk, A)
    return (q, k, v, Wq, Wk, va, e, _softmax_masked(e @ va, case["mask"]))


def _with_cache(cases: list, cache) -> list:
    return [dict(case, correct_cache=cache(case)) for case in cases]


def _ref_dot():
    from ....layers.attention import dot_attention_backward, dot_attention_forward
    return {"dot_attention_forward": dot_attention_forward,
            "dot_attention_backward": dot_attention_backward}


def _ref_additive():
    from ....layers.attention import additive_attention_backward, additive_attention_forward
    return {"additive_attention_forward": additive_attention_forward,
            "additive_attention_backward": additive_attention_backward}


_DOT_FWD = call("dot_attention_forward", ["q", "k", "v", "mask"], ["context", "weights", "cache"])
_ADD_FWD = call("additive_attention_forward", ["q", "k", "v", "Wq", "Wk", "va", "mask"],
                ["context", "weights", "cache"])

EXERCISE = Exercise(
    id="10_attention",
    title="Attention: forward and backward passes in numpy",
    chapter="book/10_attention",
    items=(
        Item(
            name="dot_attention_forward",
            title="Dot-product attention with a mask: weights and context vectors",
            points=2,
            calls=(_DOT_FWD,),
            outputs=("context", "weights"),
            cases=_dot_cases,
            reference=_ref_dot,
            forbidden=_NO_SHORTCUTS,
            hint="s = q @ k.transpose(0, 2, 1); set masked scores to -inf (mask[:, None, :]); "
                 "stable softmax over the last axis; context = weights @ v.",
        ),
        Item(
            name="dot_attention_backward",
            title="Backward pass of dot-product attention (softmax Jacobian)",
            points=3,
            calls=(_DOT_FWD, call("dot_attention_backward", ["dcontext", "cache"],
                                  ["dq", "dk", "dv"])),
            outputs=("dq", "dk", "dv"),
            cases=lambda rng, hidden=False: _with_cache(_dot_cases(rng, hidden, backward=True),
                                                        _dot_cache),
            reference=_ref_dot,
            alone=(call("dot_attention_backward", ["dcontext", "correct_cache"],
                        ["dq", "dk", "dv"]),),
            alone_input="the cache (q, k, v, weights) of a correct forward",
            rtol=1e-6, atol=1e-9,
            forbidden=_NO_SHORTCUTS,
            hint="dv = a^T dcontext; da = dcontext v^T; ds = a * (da - sum(a * da, -1)); "
                 "dq = ds k; dk = ds^T q.",
        ),
        Item(
            name="additive_attention_forward",
            title="Additive (Bahdanau) attention with a mask: weights and context vectors",
            points=2,
            calls=(_ADD_FWD,),
            outputs=("context", "weights"),
            cases=_additive_cases,
            reference=_ref_additive,
            forbidden=_NO_SHORTCUTS,
            hint="e = tanh((q @ Wq)[:, :, None, :] + (k @ Wk)[:, None, :, :]) has shape "
                 "(N, Tq, Tk, A); s = e @ va; then the masked softmax and weights @ v.",
        ),
        Item(
            name="additive_attention_backward",
            title="Backward pass of additive attention",
            points=3,
            calls=(_ADD_FWD, call("additive_attention_backward", ["dcontext", "cache"],
                                  ["dq", "dk", "dv", "dWq", "dWk", "dva"])),
            outputs=("dq", "dk", "dv", "dWq", "dWk", "dva"),
            cases=lambda rng, hidden=False: _with_cache(
                _additive_cases(rng, hidden, backward=True), _additive_cache),
            reference=_ref_additive,
            alone=(call("additive_attention_backward", ["dcontext", "correct_cache"],
                        ["dq", "dk", "dv", "dWq", "dWk", "dva"]),),
            alone_input="the cache (q, k, v, Wq, Wk, va, e, weights) of a correct forward, "
                        "e = tanh of the (N, Tq, Tk, A) sum",
            rtol=1e-6, atol=1e-9,
            forbidden=_NO_SHORTCUTS,
            hint="After ds (as for dot attention): dva = sum ds * e; de = ds[..., None] * va * "
                 "(1 - e**2); sum de over the keys for q @ Wq, over the queries for k @ Wk.",
        ),
    ),
)
