"""Exercise 5 (chapter 5): the GRU step and the whole-sequence layer, forward and backward.

The formulas are PyTorch's, with the hidden bias of the candidate inside the reset gate:
``n = tanh(x W_n + b_n + r * (h W_hn + b_hn))`` and ``h' = (1 - z) * n + z * h``.

Each backward is judged on its own too: besides the cache of the student's own forward, it is given
the cache of a correct forward in the published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.layers", "torch", "scipy.special")

# (N, T, D, H, weight scale): edge cases N = T = D = H = 1, and large weights that saturate the gates
_SHAPES = [(3, 4, 4, 5, 0.5), (1, 1, 1, 1, 0.5), (2, 6, 6, 3, 0.5), (4, 3, 3, 8, 0.5),
           (2, 5, 3, 4, 3.0)]

_STEP_GRADS = ["dx", "dprev_h", "dWx", "dWh", "db", "dbhn"]
_SEQ_GRADS = ["dx", "dh0", "dWx", "dWh", "db", "dbhn"]


def _params(rng, D, H, scale, k):
    bhn = rng.standard_normal(H) if k % 2 == 0 else np.zeros(H)      # every other case: b_hn = 0
    return {"Wx": scale * rng.standard_normal((D, 3 * H)),
            "Wh": scale * rng.standard_normal((H, 3 * H)),
            "b": rng.standard_normal(3 * H),
            "bhn": bhn}


def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


def _step_cache(x, prev_h, Wx, Wh, b, bhn) -> tuple:
    """The published solution's step cache ``(x, prev_h, Wx, Wh, r, z, n, un)``."""
    H = prev_h.shape[1]
    a, u = x @ Wx + b, prev_h @ Wh
    r = _sigmoid(a[:, :H] + u[:, :H])
    z = _sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
    un = u[:, 2 * H:] + bhn
    n = np.tanh(a[:, 2 * H:] + r * un)
    return (x, prev_h, Wx, Wh, r, z, n, un), (1 - z) * n + z * prev_h


def _seq_cache(x, h0, Wx, Wh, b, bhn) -> list:
    """The published solution's sequence cache: the list of the T step caches."""
    caches, prev = [], h0
    for t in range(x.shape[1]):
        step, prev = _step_cache(np.ascontiguousarray(x[:, t]), prev, Wx, Wh, b, bhn)
        caches.append(step)
    return caches


def _step_cases(rng, hidden=False, upstream: bool = False):
    out = []
    for k, (N, _, D, H, scale) in enumerate(sizes(rng, _SHAPES, hidden)):
        case = {"x": rng.standard_normal((N, D)), "prev_h": rng.standard_normal((N, H))}
        case.update(_params(rng, D, H, scale, k))
        if upstream:
            case["dnext_h"] = rng.standard_normal((N, H))
            case["correct_cache"] = _step_cache(*(case[k] for k in _STEP_ARGS))[0]
        out.append(case)
    return out


def _seq_cases(rng, hidden=False, upstream: bool = False):
    out = []
    for k, (N, T, D, H, scale) in enumerate(sizes(rng, _SHAPES, hidden)):
        case = {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H))}
        case.update(_params(rng, D, H, scale, k))
        if upstream:
            case["dh"] = rng.standard_normal((N, T, H))
            case["correct_cache"] = _seq_cache(*(case[k] for k in _SEQ_ARGS))
        out.append(case)
    return out


def _ref_step():
    from ....layers import gru_step_backward, gru_step_forward
    return {"gru_step_forward": gru_step_forward, "gru_step_backward": gru_step_backward}


def _ref_seq():
    from ....layers import gru_backward, gru_forward
    return {"gru_forward": gru_forward, "gru_backward": gru_backward}


def _only(names, ref):
    def reference():
        objects = ref()
        return {n: objects[n] for n in names}
    return reference


_STEP_ARGS = ["x", "prev_h", "Wx", "Wh", "b", "bhn"]
_SEQ_ARGS = ["x", "h0", "Wx", "Wh", "b", "bhn"]

EXERCISE = Exercise(
    id="05_gru",
    title="Gated recurrent units",
    chapter="book/05_gru",
    items=(
        Item(
            name="gru_step_forward",
            title="One GRU step (PyTorch's formulas, gates r, z, n)",
            points=2,
            calls=(call("gru_step_forward", _STEP_ARGS, ["next_h", "cache"]),),
            outputs=("next_h",),
            cases=_step_cases,
            reference=_only(["gru_step_forward"], _ref_step),
            forbidden=_NO_SHORTCUTS,
            hint="ax = x @ Wx + b and uh = prev_h @ Wh, each 3H wide (r, z, n); r, z = sigmoid of "
                 "ax + uh on the first 2H columns; n = tanh(ax_n + r * (uh_n + bhn)); "
                 "next_h = (1 - z) * n + z * prev_h.",
        ),
        Item(
            name="gru_step_backward",
            title="Backward pass of one GRU step, including dbhn (your forward makes the cache)",
            points=3,
            calls=(call("gru_step_forward", _STEP_ARGS, ["next_h", "cache"]),
                   call("gru_step_backward", ["dnext_h", "cache"], _STEP_GRADS)),
            outputs=tuple(_STEP_GRADS),
            cases=lambda rng, hidden=False: _step_cases(rng, hidden, upstream=True),
            reference=_ref_step,
            forbidden=_NO_SHORTCUTS,
            alone=(call("gru_step_backward", ["dnext_h", "correct_cache"], _STEP_GRADS),),
            alone_input="the cache (x, prev_h, Wx, Wh, r, z, n, un) of a correct forward, "
                        "un = prev_h @ Wh[:, 2H:] + bhn",
            hint="dn = dh*(1-z), dz = dh*(prev_h - n); da_n = dn*(1-n**2); dr = da_n*(uh_n + bhn); "
                 "the x side gets [da_r, da_z, da_n], the h side [da_r, da_z, da_n*r]; "
                 "dprev_h = dh*z + (h side) @ Wh.T; dbhn = (da_n*r).sum(0).",
        ),
        Item(
            name="gru_forward",
            title="The GRU over a whole sequence x (N, T, D) -> h (N, T, H)",
            points=2,
            calls=(call("gru_forward", _SEQ_ARGS, ["h", "cache"]),),
            outputs=("h",),
            cases=_seq_cases,
            reference=_only(["gru_forward"], _ref_seq),
            forbidden=_NO_SHORTCUTS,
            hint="Loop t = 0..T-1 calling your gru_step_forward on x[:, t] and the previous state; "
                 "h[:, t] is the state after reading x[:, t].",
        ),
        Item(
            name="gru_backward",
            title="Backpropagation through time for the GRU (your forward makes the cache)",
            points=3,
            calls=(call("gru_forward", _SEQ_ARGS, ["h", "cache"]),
                   call("gru_backward", ["dh", "cache"], _SEQ_GRADS)),
            outputs=tuple(_SEQ_GRADS),
            cases=lambda rng, hidden=False: _seq_cases(rng, hidden, upstream=True),
            reference=_ref_seq,
            forbidden=_NO_SHORTCUTS,
            alone=(call("gru_backward", ["dh", "correct_cache"], _SEQ_GRADS),),
            alone_input="the cache of a correct forward: the list of its T step caches "
                        "(x_t, prev_h, Wx, Wh, r, z, n, un)",
            hint="Go from t = T-1 down to 0; the step's upstream gradient is dh[:, t] plus the "
                 "dprev_h of step t+1; add up dWx, dWh, db, dbhn over the steps; dh0 is the last "
                 "dprev_h.",
        ),
    ),
)
