"""Exercise 2 (chapter 2): BPTT for one step and a whole sequence, clipping, truncated BPTT.

The notebook gives the forward passes; each backward is also run alone, on the cache those given
forwards make (built here), so a forward the student changed by mistake costs nothing.
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.layers", "rnncourse.bptt", "rnncourse.optim", "torch", "scipy.special")


def _weights(rng, D, H, scale=0.5):
    return {"Wx": scale * rng.standard_normal((D, H)),
            "Wh": scale * rng.standard_normal((H, H)),
            "b": rng.standard_normal(H)}


def _step_cases(rng, hidden=False):
    out = []
    for N, D, H in sizes(rng, [(3, 4, 5), (1, 1, 1), (2, 6, 3), (4, 3, 8)], hidden):
        out.append({"x": rng.standard_normal((N, D)), "prev_h": rng.standard_normal((N, H)),
                    **_weights(rng, D, H), "dnext_h": rng.standard_normal((N, H))})
    return out


def _sequence_cases(rng, hidden=False):
    out = []
    for N, T, D, H in sizes(rng, [(2, 3, 4, 5), (1, 1, 2, 3), (3, 7, 2, 4), (2, 10, 5, 5)], hidden):
        out.append({"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
                    **_weights(rng, D, H), "dh": rng.standard_normal((N, T, H))})
    return out


def _step_cache(x, prev_h, Wx, Wh, b) -> tuple:
    """The given ``rnn_step_forward``'s cache ``(x, prev_h, Wx, Wh, next_h)``."""
    return (x, prev_h, Wx, Wh, np.tanh(x @ Wx + prev_h @ Wh + b))


def _step_backward_cases(rng, hidden=False):
    return [dict(c, correct_cache=_step_cache(*(c[k] for k in ("x", "prev_h", "Wx", "Wh", "b"))))
            for c in _step_cases(rng, hidden)]


def _sequence_backward_cases(rng, hidden=False):
    out = []
    for case in _sequence_cases(rng, hidden):
        caches, prev = [], case["h0"]
        for t in range(case["x"].shape[1]):      # the given rnn_forward: a list of step caches
            caches.append(_step_cache(np.ascontiguousarray(case["x"][:, t]), prev, case["Wx"],
                                      case["Wh"], case["b"]))
            prev = caches[-1][-1]
        out.append(dict(case, correct_cache=caches))
    return out


def _clip_cases(rng, hidden=False):
    out = []
    shapes = sizes(rng, [(3, 4), (4, 4), (4,)], hidden)
    for scale, max_norm in [(10.0, 1.0), (0.01, 5.0), (1.0, 0.5), (0.0, 1.0)]:
        gs = [scale * rng.standard_normal(s) for s in shapes]
        out.append({"g1": gs[0], "g2": gs[1], "g3": gs[2], "max_norm": max_norm})
    # the norm exactly at the threshold is left alone
    g = [rng.standard_normal(s) for s in shapes]
    norm = float(np.sqrt(sum(np.sum(a * a) for a in g)))
    out.append({"g1": g[0], "g2": g[1], "g3": g[2], "max_norm": norm})
    return out


def _tbptt_cases(rng, hidden=False):
    out = []
    # the chunk length stays: 1, and longer than the sequence, are the edge cases
    for N, T, D, H, V, chunk, max_norm in sizes(rng, [
            (2, 6, 3, 4, 3, 2, 100.0), (3, 7, 2, 5, 4, 3, 0.5), (1, 5, 3, 3, 2, 1, 1.0),
            (2, 4, 2, 3, 3, 10, 100.0), (2, 9, 4, 4, 5, 4, 0.2)], hidden, keep=(5,)):
        out.append({"x": rng.standard_normal((N, T, D)), "y": rng.integers(0, V, size=(N, T)),
                    "h0": 0.5 * rng.standard_normal((N, H)), **_weights(rng, D, H),
                    "Wy": 0.5 * rng.standard_normal((H, V)), "c": 0.1 * rng.standard_normal(V),
                    "chunk": chunk, "lr": 0.3, "max_norm": max_norm})
    return out


def _ref_step():
    from ....layers import rnn_step_backward, rnn_step_forward
    return {"rnn_step_forward": rnn_step_forward, "rnn_step_backward": rnn_step_backward}


def _ref_sequence():
    from ....layers import rnn_backward, rnn_forward
    return {"rnn_forward": rnn_forward, "rnn_backward": rnn_backward}


def _ref_clip():
    from ....optim import clip_grad_norm

    def clip(*grads, max_norm):
        return tuple(clip_grad_norm(list(grads), max_norm)[0])
    return {"clip_grad_norm": clip}


def _ref_tbptt():
    from ....bptt import tbptt_epoch

    def epoch(x, y, h0, Wx, Wh, b, Wy, c, chunk, lr, max_norm):
        params = {"Wx": Wx, "Wh": Wh, "b": b, "Wy": Wy, "c": c}
        losses, p = tbptt_epoch(x, y, params, chunk, lr, h0=h0, max_norm=max_norm)
        return np.array(losses), p["Wx"], p["Wh"], p["b"], p["Wy"], p["c"]
    return {"tbptt_epoch": epoch}


_PARAMS = ["Wx", "Wh", "b", "Wy", "c"]

EXERCISE = Exercise(
    id="02_bptt",
    title="Back-propagation through time",
    chapter="book/02_bptt",
    items=(
        Item(
            name="rnn_step_backward",
            title="Backward pass of one RNN step: diag(1 - h^2), then the five gradients",
            points=2,
            calls=(call("rnn_step_forward", ["x", "prev_h", "Wx", "Wh", "b"], ["next_h", "cache"]),
                   call("rnn_step_backward", ["dnext_h", "cache"],
                        ["dx", "dprev_h", "dWx", "dWh", "db"])),
            outputs=("dx", "dprev_h", "dWx", "dWh", "db"),
            cases=_step_backward_cases,
            reference=_ref_step,
            alone=(call("rnn_step_backward", ["dnext_h", "correct_cache"],
                        ["dx", "dprev_h", "dWx", "dWh", "db"]),),
            alone_input="the cache (x, prev_h, Wx, Wh, next_h) of the given rnn_step_forward",
            forbidden=_NO_SHORTCUTS,
            hint="da = dnext_h * (1 - next_h**2); dx = da @ Wx.T; dprev_h = da @ Wh.T; "
                 "dWx = x.T @ da; dWh = prev_h.T @ da; db = da.sum(axis=0).",
        ),
        Item(
            name="rnn_backward",
            title="BPTT over a whole sequence: gradients summed over time",
            points=3,
            calls=(call("rnn_forward", ["x", "h0", "Wx", "Wh", "b"], ["h", "cache"]),
                   call("rnn_backward", ["dh", "cache"], ["dx", "dh0", "dWx", "dWh", "db"])),
            outputs=("dx", "dh0", "dWx", "dWh", "db"),
            cases=_sequence_backward_cases,
            reference=_ref_sequence,
            alone=(call("rnn_backward", ["dh", "correct_cache"], ["dx", "dh0", "dWx", "dWh", "db"]),),
            alone_input="the cache of the given rnn_forward (its list of step caches)",
            forbidden=_NO_SHORTCUTS,
            hint="Loop t = T-1 down to 0: add the gradient coming back from step t+1 to dh[:, t], "
                 "call rnn_step_backward, keep dprev_h for step t-1 and add up dWx, dWh, db.",
        ),
        Item(
            name="clip_grad_norm",
            title="Gradient clipping by the global norm: g <- g v / ||g|| if ||g|| > v",
            points=1,
            calls=(call("clip_grad_norm", ["g1", "g2", "g3"], ["c1", "c2", "c3"],
                        max_norm="max_norm"),),
            outputs=("c1", "c2", "c3"),
            cases=_clip_cases,
            reference=_ref_clip,
            forbidden=_NO_SHORTCUTS,
            hint="One norm over every entry of every array: sqrt(sum of g**2 over all of them). "
                 "Scale all arrays by max_norm / norm only when norm > max_norm; return copies.",
        ),
        Item(
            name="tbptt_epoch",
            title="One epoch of truncated BPTT with clipped SGD",
            points=3,
            calls=(call("tbptt_epoch", ["x", "y", "h0", *_PARAMS, "chunk", "lr", "max_norm"],
                        ["losses", *(f"new_{k}" for k in _PARAMS)]),),
            outputs=("losses", *(f"new_{k}" for k in _PARAMS)),
            cases=_tbptt_cases,
            reference=_ref_tbptt,
            forbidden=_NO_SHORTCUTS,
            hint="For each chunk x[:, s:s+chunk]: forward from the carried h, record the loss, "
                 "backward (drop dh0), clip all five gradients together, p -= lr * g, then carry "
                 "h[:, -1] into the next chunk. Return np.array(losses) and new arrays.",
        ),
    ),
)
