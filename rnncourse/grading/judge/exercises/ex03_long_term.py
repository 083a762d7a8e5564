"""Exercise 3 (chapter 3): echo state network pieces and a layer of leaky units.

The leaky backward is judged on its own too: besides the cache of the student's own forward, it is
given the cache of a correct forward in the published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# Using the course's own implementation (or torch, scipy) inside a numpy exercise voids the item.
_NO_SHORTCUTS = ("rnncourse.longterm", "rnncourse.layers", "torch", "scipy")


def _radius_cases(rng, hidden=False):
    (n1,), (n2,), (n3,) = sizes(rng, [(6,), (5,), (20,)], hidden)
    A = rng.standard_normal((n2, n2))
    neg = np.diag([-3.0, 1.0, 0.5])                        # the largest |eigenvalue| is negative
    return [
        {"W": rng.standard_normal((n1, n1)), "rho": 0.9},  # complex eigenvalues
        {"W": A + A.T, "rho": 1.2},                        # symmetric: real eigenvalues
        {"W": np.array([[2.5]]), "rho": 0.5},
        {"W": neg, "rho": 0.99},
        {"W": 0.01 * rng.standard_normal((n3, n3)), "rho": 0.0},
    ]


def _ridge_cases(rng, hidden=False):
    out = []
    # n stays: with lam = 0 the first case needs n >= H, and the third is the n < H case
    for n, H, M, lam in sizes(rng, [(50, 6, 2, 0.0), (30, 5, 1, 0.1), (8, 12, 3, 1.0),
                                    (100, 10, 4, 10.0)], hidden, keep=(0,)):
        out.append({"S": rng.standard_normal((n, H)), "Y": rng.standard_normal((n, M)), "lam": lam})
    return out


def _leaky_cases(rng, hidden=False):
    out = []
    for N, T, D, H in sizes(rng, [(2, 4, 3, 5), (1, 1, 1, 1), (3, 6, 2, 4), (2, 8, 4, 3)], hidden):
        alpha = rng.uniform(0.0, 1.0, size=H)
        alpha[0] = 0.0                                     # a vanilla unit ...
        if H > 1:
            alpha[-1] = 1.0                                # ... and a frozen one
        out.append({"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
                    "Wx": 0.5 * rng.standard_normal((D, H)), "Wh": 0.5 * rng.standard_normal((H, H)),
                    "b": rng.standard_normal(H), "alpha": alpha,
                    "dh": rng.standard_normal((N, T, H))})
    return out


def _correct_cache(case: dict) -> tuple:
    """The published solution's cache ``(x, h0, Wx, Wh, alpha, s, h)`` of a correct forward."""
    x, h0, Wx, Wh, b, alpha = (case[k] for k in ("x", "h0", "Wx", "Wh", "b", "alpha"))
    N, T, _ = x.shape
    s = np.zeros((N, T, h0.shape[1]))
    h = np.zeros_like(s)
    prev = h0
    for t in range(T):
        s[:, t] = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        prev = h[:, t] = alpha * prev + (1 - alpha) * s[:, t]
    return (x, h0, Wx, Wh, alpha, s, h)


def _leaky_backward_cases(rng, hidden=False):
    return [dict(case, correct_cache=_correct_cache(case)) for case in _leaky_cases(rng, hidden)]


def _ref(*names):
    def reference():
        from .... import longterm
        return {name: getattr(longterm, name) for name in names}
    return reference


_FORWARD = call("leaky_rnn_forward", ["x", "h0", "Wx", "Wh", "b", "alpha"], ["h", "cache"])

EXERCISE = Exercise(
    id="03_long_term",
    title="Echo state networks and leaky units",
    chapter="book/03_long_term",
    items=(
        Item(
            name="scale_spectral_radius",
            title="Rescale a reservoir matrix to a given spectral radius",
            points=1,
            calls=(call("scale_spectral_radius", ["W", "rho"], ["W_scaled"]),),
            outputs=("W_scaled",),
            cases=_radius_cases,
            reference=_ref("scale_spectral_radius"),
            forbidden=_NO_SHORTCUTS,
            hint="The spectral radius is max |eigenvalue| (np.linalg.eigvals, complex in general: "
                 "take np.abs). Multiply W by rho / radius.",
        ),
        Item(
            name="ridge_readout",
            title="ESN readout by ridge regression: W = (S^T S + lam I)^-1 S^T Y",
            points=2,
            calls=(call("ridge_readout", ["S", "Y", "lam"], ["W_out"]),),
            outputs=("W_out",),
            cases=_ridge_cases,
            reference=_ref("ridge_readout"),
            forbidden=_NO_SHORTCUTS,
            hint="Solve (S.T @ S + lam * I) W = S.T @ Y with np.linalg.solve; I is H x H.",
        ),
        Item(
            name="leaky_rnn_forward",
            title="Leaky units: h(t) = alpha h(t-1) + (1 - alpha) tanh(x Wx + h(t-1) Wh + b)",
            points=2,
            calls=(_FORWARD,),
            outputs=("h",),
            cases=_leaky_cases,
            reference=_ref("leaky_rnn_forward"),
            forbidden=_NO_SHORTCUTS,
            hint="alpha has one leak rate per unit (H,) and broadcasts over the batch; h[:, t] is "
                 "the state after reading x[:, t].",
        ),
        Item(
            name="leaky_rnn_backward",
            title="Backward pass of the leaky layer, including the gradient of the leak rates",
            points=3,
            calls=(_FORWARD,
                   call("leaky_rnn_backward", ["dh", "cache"],
                        ["dx", "dh0", "dWx", "dWh", "db", "dalpha"])),
            outputs=("dx", "dh0", "dWx", "dWh", "db", "dalpha"),
            cases=_leaky_backward_cases,
            reference=_ref("leaky_rnn_forward", "leaky_rnn_backward"),
            alone=(call("leaky_rnn_backward", ["dh", "correct_cache"],
                        ["dx", "dh0", "dWx", "dWh", "db", "dalpha"]),),
            alone_input="the cache (x, h0, Wx, Wh, alpha, s, h) of a correct forward",
            forbidden=_NO_SHORTCUTS,
            hint="Backwards in time with g = dh[:, t] + carry: da = g * (1 - alpha) * (1 - s**2); "
                 "dalpha += sum over the batch of g * (h(t-1) - s); carry = g * alpha + da @ Wh.T.",
        ),
    ),
)
