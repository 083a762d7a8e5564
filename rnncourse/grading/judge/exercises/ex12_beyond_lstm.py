"""Exercise 12 (chapter 12): the multiplicative RNN and LSTM steps, zoneout, and the mLSTM backward.

The zoneout masks are explicit inputs, so every item is deterministic and gradable. The mLSTM
backward is judged on its own too: besides the cache of the student's own forward, it is given the
cache of a correct forward in the published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.layers", "rnncourse.models", "torch",
                 "scipy.special")

_SHAPES = [(3, 4, 5), (1, 1, 1), (2, 6, 3), (4, 3, 8)]      # N, D, H incl. the all-ones edge case


def _mult(rng, N, D, H, gates):
    return {
        "x": rng.standard_normal((N, D)),
        "prev_h": rng.standard_normal((N, H)),
        "Wmx": rng.standard_normal((D, H)),
        "Wmh": 0.5 * rng.standard_normal((H, H)),
        "Wx": 0.5 * rng.standard_normal((D, gates * H)),
        "Wm": 0.5 * rng.standard_normal((H, gates * H)),
        "b": rng.standard_normal(gates * H),
    }


def _mrnn_cases(rng, hidden=False):
    return [_mult(rng, N, D, H, 1) for N, D, H in sizes(rng, _SHAPES, hidden)]


def _mlstm_cases(rng, hidden=False):
    out = []
    for k, (N, D, H) in enumerate(sizes(rng, _SHAPES, hidden)):
        case = _mult(rng, N, D, H, 4)
        case["prev_c"] = rng.standard_normal((N, H)) * (10.0 if k == 3 else 1.0)  # saturating cell
        out.append(case)
    return out


def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


def _mlstm_cache(case: dict) -> tuple:
    """The published solution's cache
    ``(x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, u, v, m, i, f, g, o, tc)`` of a correct forward."""
    x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, b = (case[k] for k in _MLSTM_ARGS)
    H = prev_h.shape[1]
    u, v = x @ Wmx, prev_h @ Wmh
    m = u * v
    a = x @ Wx + m @ Wm + b                                         # (N, 4H)
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    tc = np.tanh(f * prev_c + i * g)
    return (x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, u, v, m, i, f, g, o, tc)


def _mlstm_backward_cases(rng, hidden=False):
    out = []
    for case in _mlstm_cases(rng, hidden):
        N, H = case["prev_h"].shape
        case["dnext_h"] = rng.standard_normal((N, H))
        case["dnext_c"] = rng.standard_normal((N, H))
        case["correct_cache"] = _mlstm_cache(case)
        out.append(case)
    return out


def _zoneout_cases(rng, hidden=False):
    out = []
    shapes = sizes(rng, [(3, 4), (3, 4), (2, 5), (2, 5), (1, 1), (4, 6)], hidden)
    settings = [(0.3, True), (0.3, False), (0.0, True), (1.0, False), (0.5, True), (0.7, False)]
    for (N, H), (z, train) in zip(shapes, settings):
        mask = (rng.random((N, H)) < z).astype(np.float64)
        out.append({"prev": rng.standard_normal((N, H)), "new": rng.standard_normal((N, H)),
                    "mask": mask, "z": z, "train": train})
    return out


def _zoneout_mlstm_cases(rng, hidden=False):
    out = []
    settings = [(0.5, 0.05, True), (0.5, 0.05, False), (1.0, 0.0, True), (0.3, 0.6, False)]
    for (N, D, H), (z_c, z_h, train) in zip(sizes(rng, _SHAPES, hidden), settings):
        case = _mult(rng, N, D, H, 4)
        case["prev_c"] = rng.standard_normal((N, H))
        case["mask_c"] = (rng.random((N, H)) < z_c).astype(np.float64)
        case["mask_h"] = (rng.random((N, H)) < z_h).astype(np.float64)
        case.update(z_c=z_c, z_h=z_h, train=train)
        out.append(case)
    return out


_MULT_ARGS = ["x", "prev_h", "Wmx", "Wmh", "Wx", "Wm", "b"]
_MLSTM_ARGS = ["x", "prev_h", "prev_c", "Wmx", "Wmh", "Wx", "Wm", "b"]


def _ref_mrnn():
    from ....layers.beyond import mrnn_step_forward
    return {"mrnn_step_forward": mrnn_step_forward}


def _ref_mlstm():
    from ....layers.beyond import mlstm_step_forward
    return {"mlstm_step_forward": mlstm_step_forward}


def _ref_mlstm_backward():
    from ....layers.beyond import mlstm_step_backward, mlstm_step_forward
    return {"mlstm_step_forward": mlstm_step_forward, "mlstm_step_backward": mlstm_step_backward}


def _ref_zoneout():
    from ....layers.beyond import zoneout_forward
    return {"zoneout": lambda prev, new, mask, z, train: zoneout_forward(prev, new, mask, z, train)[0]}


def _ref_zoneout_mlstm():
    from ....layers.beyond import zoneout_mlstm_step_forward

    def step(*args):
        return zoneout_mlstm_step_forward(*args)[:2]

    return {"zoneout_mlstm_step": step}


EXERCISE = Exercise(
    id="12_beyond_lstm",
    title="Beyond the LSTM: multiplicative cells and zoneout",
    chapter="book/12_beyond_lstm",
    items=(
        Item(
            name="mrnn_step_forward",
            title="One step of the multiplicative RNN: m = (x Wmx) * (h Wmh), h = tanh(x Wx + m Wm + b)",
            points=2,
            calls=(call("mrnn_step_forward", _MULT_ARGS, ["next_h", "cache"]),),
            outputs=("next_h",),
            cases=_mrnn_cases,
            reference=_ref_mrnn,
            forbidden=_NO_SHORTCUTS,
            hint="u = x @ Wmx; v = prev_h @ Wmh; m = u * v (elementwise); "
                 "next_h = np.tanh(x @ Wx + m @ Wm + b). Return (next_h, cache).",
        ),
        Item(
            name="mlstm_step_forward",
            title="One step of the multiplicative LSTM (gates i, f, g, o driven by m)",
            points=3,
            calls=(call("mlstm_step_forward", _MLSTM_ARGS, ["next_h", "next_c", "cache"]),),
            outputs=("next_h", "next_c"),
            cases=_mlstm_cases,
            reference=_ref_mlstm,
            forbidden=_NO_SHORTCUTS,
            hint="a = x @ Wx + m @ Wm + b has 4H columns: i, f, g, o in that order; sigmoid for "
                 "i, f, o and tanh for g; next_c = f * prev_c + i * g; next_h = o * tanh(next_c).",
        ),
        Item(
            name="zoneout",
            title="Zoneout: mask * prev + (1 - mask) * new in training, z * prev + (1 - z) * new at evaluation",
            points=2,
            calls=(call("zoneout", ["prev", "new", "mask", "z", "train"], ["out"]),),
            outputs=("out",),
            cases=_zoneout_cases,
            reference=_ref_zoneout,
            forbidden=_NO_SHORTCUTS,
            hint="mask is 1 where the unit KEEPS its previous value; at evaluation ignore the mask "
                 "and use the expectation z * prev + (1 - z) * new.",
        ),
        Item(
            name="zoneout_mlstm_step",
            title="An mLSTM step with zoneout on the cell and on the hidden state",
            points=2,
            calls=(call("zoneout_mlstm_step",
                        _MLSTM_ARGS + ["mask_c", "mask_h", "z_c", "z_h", "train"],
                        ["next_h", "next_c"]),),
            outputs=("next_h", "next_c"),
            cases=_zoneout_mlstm_cases,
            reference=_ref_zoneout_mlstm,
            forbidden=_NO_SHORTCUTS,
            hint="Run your mlstm_step_forward, then zone out c with (mask_c, z_c) and h with "
                 "(mask_h, z_h); the hidden candidate o * tanh(c_new) uses the NEW cell.",
        ),
        Item(
            name="mlstm_step_backward",
            title="Backward pass of one mLSTM step (all eight gradients)",
            points=3,
            calls=(
                call("mlstm_step_forward", _MLSTM_ARGS, ["next_h", "next_c", "cache"]),
                call("mlstm_step_backward", ["dnext_h", "dnext_c", "cache"],
                     ["dx", "dprev_h", "dprev_c", "dWmx", "dWmh", "dWx", "dWm", "db"]),
            ),
            outputs=("dx", "dprev_h", "dprev_c", "dWmx", "dWmh", "dWx", "dWm", "db"),
            cases=_mlstm_backward_cases,
            reference=_ref_mlstm_backward,
            alone=(call("mlstm_step_backward", ["dnext_h", "dnext_c", "correct_cache"],
                        ["dx", "dprev_h", "dprev_c", "dWmx", "dWmh", "dWx", "dWm", "db"]),),
            alone_input="the cache (x, prev_h, prev_c, Wmx, Wmh, Wx, Wm, u, v, m, i, f, g, o, tc) "
                        "of a correct forward",
            forbidden=_NO_SHORTCUTS,
            hint="dc = dnext_c + dnext_h * o * (1 - tanh(c)^2); back through the gates to da (N, 4H); "
                 "dm = da @ Wm.T; with m = u * v: du = dm * v, dv = dm * u; dx collects da @ Wx.T "
                 "and du @ Wmx.T; dprev_h = dv @ Wmh.T.",
        ),
    ),
)
