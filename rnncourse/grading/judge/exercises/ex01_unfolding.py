"""Exercise 1 (chapter 1): softmax, the RNN step, the unrolled forward pass, the sequence loss."""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch) inside a numpy exercise voids the item (and in
# the sandbox none of them is importable: the kit is data, plotting and gradcheck only).
_NO_SHORTCUTS = ("rnncourse.layers", "torch", "scipy.special")


def _softmax_cases(rng, hidden=False):
    s = sizes(rng, [(3, 5), (2, 4, 7), (2, 6), (1, 1)], hidden)
    return [
        {"o": rng.standard_normal(s[0])},
        {"o": rng.standard_normal(s[1])},
        {"o": 800.0 + 50.0 * rng.standard_normal(s[2])},   # overflows a naive exp
        {"o": rng.standard_normal(s[3])},
    ]


def _step_cases(rng, hidden=False):
    out = []
    for N, D, H in sizes(rng, [(3, 4, 5), (1, 1, 1), (2, 6, 3), (4, 3, 8)], hidden):
        out.append({
            "x": rng.standard_normal((N, D)),
            "prev_h": rng.standard_normal((N, H)),
            "Wx": 0.5 * rng.standard_normal((D, H)),
            "Wh": 0.5 * rng.standard_normal((H, H)),
            "b": rng.standard_normal(H),
        })
    return out


def _forward_cases(rng, hidden=False):
    out = []
    for N, T, D, H in sizes(rng, [(2, 3, 4, 5), (1, 1, 2, 3), (3, 7, 2, 4), (2, 10, 5, 5)], hidden):
        out.append({
            "x": rng.standard_normal((N, T, D)),
            "h0": rng.standard_normal((N, H)),
            "Wx": 0.5 * rng.standard_normal((D, H)),
            "Wh": 0.5 * rng.standard_normal((H, H)),
            "b": rng.standard_normal(H),
        })
    return out


def _loss_cases(rng, hidden=False):
    out = []
    for N, T, V in sizes(rng, [(2, 3, 4), (1, 1, 5), (4, 6, 3), (3, 5, 10)], hidden):
        mask = rng.random((N, T)) < 0.7
        mask[:, 0] = True
        out.append({
            "o": 3.0 * rng.standard_normal((N, T, V)),
            "y": rng.integers(0, V, size=(N, T)),
            "mask": mask,
        })
    return out


def _ref_softmax():
    from ....layers import softmax
    return {"softmax": softmax}


def _ref_step():
    from ....layers import rnn_step_forward
    return {"rnn_step_forward": rnn_step_forward}


def _ref_forward():
    from ....layers import rnn_forward
    return {"rnn_forward": rnn_forward}


def _ref_loss():
    from ....layers import temporal_softmax_loss
    return {"sequence_loss": lambda o, y, mask: temporal_softmax_loss(o, y, mask)[0]}


EXERCISE = Exercise(
    id="01_unfolding",
    title="Unfolding a recurrent network",
    chapter="book/01_unfolding",
    items=(
        Item(
            name="softmax",
            title="Numerically stable softmax over the last axis",
            points=1,
            calls=(call("softmax", ["o"], ["p"]),),
            outputs=("p",),
            cases=_softmax_cases,
            reference=_ref_softmax,
            forbidden=_NO_SHORTCUTS,
            hint="Subtract the maximum along the last axis before exponentiating (keepdims=True).",
        ),
        Item(
            name="rnn_step_forward",
            title="One step of the vanilla RNN: a = b + W h + U x, h = tanh(a)",
            points=2,
            calls=(call("rnn_step_forward", ["x", "prev_h", "Wx", "Wh", "b"], ["next_h", "cache"]),),
            outputs=("next_h",),
            cases=_step_cases,
            reference=_ref_step,
            forbidden=_NO_SHORTCUTS,
            hint="Row layout: a = x @ Wx + prev_h @ Wh + b; next_h = np.tanh(a). Return (next_h, cache).",
        ),
        Item(
            name="rnn_forward",
            title="The unfolded forward pass over a whole sequence",
            points=3,
            calls=(call("rnn_forward", ["x", "h0", "Wx", "Wh", "b"], ["h", "cache"]),),
            outputs=("h",),
            cases=_forward_cases,
            reference=_ref_forward,
            forbidden=_NO_SHORTCUTS,
            hint="Loop t = 0..T-1 over x[:, t], feeding each step's output into the next; "
                 "h has shape (N, T, H).",
        ),
        Item(
            name="sequence_loss",
            title="Masked softmax cross-entropy summed over time, averaged over the batch",
            points=2,
            calls=(call("sequence_loss", ["o", "y", "mask"], ["loss"]),),
            outputs=("loss",),
            cases=_loss_cases,
            reference=_ref_loss,
            forbidden=_NO_SHORTCUTS,
            hint="L = -(1/N) sum_n sum_t mask[n, t] * log softmax(o[n, t])[y[n, t]]; use a stable "
                 "log-softmax (o - max - log sum exp).",
        ),
    ),
)
