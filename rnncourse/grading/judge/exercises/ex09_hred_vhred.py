"""Exercise 9 (chapter 9): reparameterisation, the Gaussian KL and its gradient, the context RNN."""
from __future__ import annotations

import numpy as np

from ..registry import Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# The course's own implementations (or torch) inside a numpy exercise void the item.
_NO_SHORTCUTS = ("rnncourse.vae", "rnncourse.models", "rnncourse.layers", "torch", "scipy")

_SHAPES = [(3, 4), (1, 1), (5, 2), (2, 8)]


def _gauss_cases(rng, hidden=False, with_eps=False, with_dz=False, with_dkl=False):
    out = []
    for k, (N, Z) in enumerate(sizes(rng, _SHAPES, hidden)):
        case = {"mu": rng.standard_normal((N, Z)), "logvar": rng.uniform(-3.0, 2.0, (N, Z))}
        if k == 1:                                    # the prior itself: KL 0, gradients 0
            case["mu"], case["logvar"] = np.zeros((N, Z)), np.zeros((N, Z))
        if with_eps:
            case["eps"] = rng.standard_normal((N, Z))
        if with_dz:
            case["dz"] = rng.standard_normal((N, Z))
        if with_dkl:
            case["dkl"] = rng.standard_normal(N)
        out.append(case)
    return out


def _context_cases(rng, hidden=False):
    out = []
    for N, M, Du, H in sizes(rng, [(3, 4, 5, 6), (1, 1, 2, 3), (4, 6, 3, 4), (2, 5, 4, 4)], hidden):
        n_turns = rng.integers(1, M + 1, size=N)
        n_turns[0] = M                                 # one dialogue without padding
        out.append({
            "u": rng.standard_normal((N, M, Du)),
            "mask": np.arange(M)[None, :] < n_turns[:, None],
            "c0": rng.standard_normal((N, H)),
            "Wx": 0.5 * rng.standard_normal((Du, H)),
            "Wh": 0.5 * rng.standard_normal((H, H)),
            "b": rng.standard_normal(H),
        })
    return out


def _ref_vae(name):
    def ref():
        from .... import vae
        return {name: getattr(vae, name)}
    return ref


def _ref_context():
    from ....models.hred import context_rnn_forward
    return {"context_rnn_forward": context_rnn_forward}


EXERCISE = Exercise(
    id="09_hred_vhred",
    title="VAE formulas and the HRED context RNN",
    chapter="book/09_hred_vhred",
    items=(
        Item(
            name="reparameterize",
            title="Reparameterisation: z = mu + exp(logvar / 2) * eps",
            points=1,
            calls=(call("reparameterize", ["mu", "logvar", "eps"], ["z"]),),
            outputs=("z",),
            cases=lambda rng, hidden=False: _gauss_cases(rng, hidden, with_eps=True),
            reference=_ref_vae("reparameterize"),
            forbidden=_NO_SHORTCUTS,
            hint="sigma = np.exp(0.5 * logvar); z = mu + sigma * eps (element-wise).",
        ),
        Item(
            name="reparameterize_backward",
            title="Gradients of the reparameterised sample with respect to mu and logvar",
            points=2,
            calls=(call("reparameterize_backward", ["dz", "mu", "logvar", "eps"],
                        ["dmu", "dlogvar"]),),
            outputs=("dmu", "dlogvar"),
            cases=lambda rng, hidden=False: _gauss_cases(rng, hidden, with_eps=True, with_dz=True),
            reference=_ref_vae("reparameterize_backward"),
            forbidden=_NO_SHORTCUTS,
            hint="dz/dmu = 1 and dz/dlogvar = 0.5 * exp(0.5 * logvar) * eps; multiply by dz.",
        ),
        Item(
            name="gaussian_kl",
            title="KL(N(mu, sigma^2) || N(0, I)) per example",
            points=2,
            calls=(call("gaussian_kl", ["mu", "logvar"], ["kl"]),),
            outputs=("kl",),
            cases=_gauss_cases,
            reference=_ref_vae("gaussian_kl"),
            forbidden=_NO_SHORTCUTS,
            hint="kl = 0.5 * sum over the last axis of (mu**2 + exp(logvar) - logvar - 1); "
                 "shape (N,).",
        ),
        Item(
            name="gaussian_kl_backward",
            title="Gradient of the Gaussian KL with respect to mu and logvar",
            points=2,
            calls=(call("gaussian_kl_backward", ["dkl", "mu", "logvar"], ["dmu", "dlogvar"]),),
            outputs=("dmu", "dlogvar"),
            cases=lambda rng, hidden=False: _gauss_cases(rng, hidden, with_dkl=True),
            reference=_ref_vae("gaussian_kl_backward"),
            forbidden=_NO_SHORTCUTS,
            hint="dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2, each row times dkl[n] "
                 "(use dkl[:, None]).",
        ),
        Item(
            name="context_rnn_forward",
            title="The masked context-RNN update over the turns of a batch of dialogues",
            points=3,
            calls=(call("context_rnn_forward", ["u", "mask", "c0", "Wx", "Wh", "b"], ["c"]),),
            outputs=("c",),
            cases=_context_cases,
            reference=_ref_context,
            forbidden=_NO_SHORTCUTS,
            hint="Loop over turns m: new = tanh(u[:, m] @ Wx + prev @ Wh + b); keep prev where "
                 "mask[:, m] is False; c[:, m] = the state after turn m.",
        ),
    ),
)
