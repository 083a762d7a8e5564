"""Exercise 4 (chapter 4): one LSTM step forward and backward, with and without peepholes.

The notebook fixes the layout of the caches, so each backward item is graded on its own: the
grader computes the cache of a correct forward on the hidden inputs and passes it to the student's
backward. A mistake in the forward then costs the forward's points only.
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.layers", "torch", "scipy.special")

# (N, D, H, weight scale): edge cases N = D = H = 1, and large weights that saturate the gates
_SHAPES = [(3, 4, 5, 0.5), (1, 1, 1, 0.5), (2, 6, 3, 0.5), (4, 3, 8, 0.5), (2, 3, 4, 3.0)]

_STEP_ARGS = ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
_STEP_GRADS = ["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"]


def _cases(rng, hidden=False, peephole: bool = False, upstream: bool = False):
    out = []
    for N, D, H, scale in sizes(rng, _SHAPES, hidden):
        case = {
            "x": rng.standard_normal((N, D)),
            "prev_h": rng.standard_normal((N, H)),
            "prev_c": 2.0 * rng.standard_normal((N, H)),
            "Wx": scale * rng.standard_normal((D, 4 * H)),
            "Wh": scale * rng.standard_normal((H, 4 * H)),
            "b": rng.standard_normal(4 * H),
        }
        if peephole:
            case["p"] = rng.standard_normal((3, H))
        if upstream:
            case["dnext_h"] = rng.standard_normal((N, H))
            case["dnext_c"] = rng.standard_normal((N, H))
        out.append(case)
    return out


def _cache(case: dict, peephole: bool) -> tuple:
    """The notebook's cache layout, from a correct forward on this case:
    ``(x, prev_h, prev_c, Wx, Wh, i, f, g, o, tc)``, with peepholes
    ``(x, prev_h, prev_c, Wx, Wh, p, i, f, g, o, next_c, tc)``."""
    from ....layers import lstm_step_forward

    p = case["p"] if peephole else None
    _, next_c, ref = lstm_step_forward(case["x"], case["prev_h"], case["prev_c"], case["Wx"],
                                       case["Wh"], case["b"], peephole=p)
    x, prev_h, prev_c, Wx, Wh, gates, _, tc, _ = ref
    i, f, g, o = (np.ascontiguousarray(a) for a in np.split(gates, 4, axis=1))
    head = (x, prev_h, prev_c, Wx, Wh) + ((p,) if peephole else ())
    return tuple(np.array(a) for a in head + (i, f, g, o) + ((next_c,) if peephole else ()) + (tc,))


def _backward_cases(rng, hidden=False, peephole: bool = False):
    out = []
    for case in _cases(rng, hidden, peephole=peephole, upstream=True):
        out.append({"dnext_h": case["dnext_h"], "dnext_c": case["dnext_c"],
                    "cache": _cache(case, peephole)})
    return out


def _ref_forward():
    from ....layers import lstm_step_forward
    return {"lstm_step_forward": lstm_step_forward}


def _library_cache(cache: tuple, peephole: bool) -> tuple:
    """The notebook's cache layout back to the library's, for its backward."""
    if peephole:
        x, prev_h, prev_c, Wx, Wh, p, i, f, g, o, next_c, tc = cache
    else:
        (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tc), p, next_c = cache, None, None
    return (x, prev_h, prev_c, Wx, Wh, np.concatenate([i, f, g, o], axis=1), next_c, tc, p)


def _ref_backward():
    from ....layers import lstm_step_backward

    def backward(dnext_h, dnext_c, cache):
        return lstm_step_backward(dnext_h, dnext_c, _library_cache(cache, False))
    return {"lstm_step_backward": backward}


def _peephole_forward(x, prev_h, prev_c, Wx, Wh, b, p):
    from ....layers import lstm_step_forward
    return lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, peephole=p)


def _ref_peephole_forward():
    return {"lstm_peephole_step_forward": _peephole_forward}


def _ref_peephole_backward():
    from ....layers import lstm_step_backward

    def backward(dnext_h, dnext_c, cache):
        return lstm_step_backward(dnext_h, dnext_c, _library_cache(cache, True))
    return {"lstm_peephole_step_backward": backward}


EXERCISE = Exercise(
    id="04_lstm",
    title="Long short-term memory",
    chapter="book/04_lstm",
    items=(
        Item(
            name="lstm_step_forward",
            title="One LSTM step: gates i, f, g, o, then c = f*c_prev + i*g and h = o*tanh(c)",
            points=2,
            calls=(call("lstm_step_forward", _STEP_ARGS, ["next_h", "next_c", "cache"]),),
            outputs=("next_h", "next_c"),
            cases=_cases,
            reference=_ref_forward,
            forbidden=_NO_SHORTCUTS,
            hint="a = x @ Wx + prev_h @ Wh + b has 4H columns in the order i, f, g, o; sigmoid for "
                 "i, f, o and tanh for g; next_c = f * prev_c + i * g; next_h = o * tanh(next_c).",
        ),
        Item(
            name="lstm_step_backward",
            title="Backward pass of one LSTM step (on the cache of a correct forward)",
            points=3,
            calls=(call("lstm_step_backward", ["dnext_h", "dnext_c", "cache"], _STEP_GRADS),),
            outputs=tuple(_STEP_GRADS),
            cases=_backward_cases,
            reference=_ref_backward,
            forbidden=_NO_SHORTCUTS,
            hint="do = dh*tanh(c); dc = dnext_c + dh*o*(1 - tanh(c)**2); df = dc*prev_c, di = dc*g, "
                 "dg = dc*i, dprev_c = dc*f; then sigma' = s(1-s), tanh' = 1 - g**2 into da "
                 "(order i, f, g, o); dWx = x.T @ da, dWh = prev_h.T @ da, db = da.sum(0), "
                 "dx = da @ Wx.T, dprev_h = da @ Wh.T.",
        ),
        Item(
            name="lstm_peephole_step_forward",
            title="One LSTM step with peepholes: i, f see c_prev, o sees the new c",
            points=2,
            calls=(call("lstm_peephole_step_forward", _STEP_ARGS + ["p"],
                        ["next_h", "next_c", "cache"]),),
            outputs=("next_h", "next_c"),
            cases=lambda rng, hidden=False: _cases(rng, hidden, peephole=True),
            reference=_ref_peephole_forward,
            forbidden=_NO_SHORTCUTS,
            hint="Add p[0]*prev_c to a_i and p[1]*prev_c to a_f; compute next_c first, then "
                 "o = sigmoid(a_o + p[2]*next_c).",
        ),
        Item(
            name="lstm_peephole_step_backward",
            title="Backward pass of one peephole LSTM step, including dp (3, H)",
            points=2,
            calls=(call("lstm_peephole_step_backward", ["dnext_h", "dnext_c", "cache"],
                        _STEP_GRADS + ["dp"]),),
            outputs=tuple(_STEP_GRADS + ["dp"]),
            cases=lambda rng, hidden=False: _backward_cases(rng, hidden, peephole=True),
            reference=_ref_peephole_backward,
            forbidden=_NO_SHORTCUTS,
            hint="Compute da_o first and add p[2]*da_o to dc; dprev_c = dc*f + p[0]*da_i + p[1]*da_f; "
                 "dp rows: sum over the batch of da_i*prev_c, da_f*prev_c, da_o*next_c.",
        ),
    ),
)
