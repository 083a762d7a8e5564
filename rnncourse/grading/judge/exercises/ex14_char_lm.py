"""Capstone 1 (after Part I): a character-level LSTM language model trained on real text.

Two items are compared with the reference as usual (the loss and gradients of one chunk, and the
held-out NLL of a stream); the third, ``train_char_lm``, is **measured**: the sandbox trains the
student's model with the graded budget on a cut of *Botchan* (the case's inputs), and the judge
evaluates the returned weights on validation text the sandbox never receives. A run passes when the
held-out perplexity is at most ``THRESHOLD_PPL``, set from the reference's runs over seeds 0-4 and
every cut the judge draws from, with a margin (``benchmarks/capstones.py`` prints the table).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..measured import Measurement, check_arrays
from ..registry import DATA, TOOLS, Exercise, Item, call, sizes

__all__ = ["EXERCISE", "THRESHOLD_PPL", "graded_data"]

LANG = "en"
THRESHOLD_PPL = 12.0        # benchmarks/capstones.py: reference 10.54-11.21 over seeds 0-4 x 4 cuts;
                            # the add-one bigram model of a cut: 12.3, an untrained model: 77.9
N_OFFSETS = 4
_PARAMS = ["Wx", "Wh", "b", "Wy", "by"]
# The course's own model, or torch, inside the capstone's functions voids the item; the layers,
# clipping and Adam of Part I are the student's to use.
_NO_SHORTCUTS = ("rnncourse.char_lm", "torch", "scipy")


@functools.lru_cache(maxsize=1)
def graded_data() -> dict:
    """The training split's ids, the judge's validation ids, V and the cuts' start offsets."""
    from ....char_lm import GRADED_CUT, GRADED_VALID
    from ....data.texts import CharVocabulary, load_text, split_text

    train, valid, _ = split_text(load_text(LANG))
    vocab = CharVocabulary(train)
    ids = vocab.encode(train)
    offsets = np.linspace(0, len(ids) - GRADED_CUT, N_OFFSETS).astype(int).tolist()
    return {"lang": LANG, "V": len(vocab), "train": ids, "offsets": offsets,
            "valid": vocab.encode(valid)[:GRADED_VALID]}


def _weights(rng, V, H):
    return {"Wx": 0.5 * rng.standard_normal((V, 4 * H)), "Wh": 0.5 * rng.standard_normal((H, 4 * H)),
            "b": 0.3 * rng.standard_normal(4 * H), "Wy": 0.5 * rng.standard_normal((H, V)),
            "by": 0.3 * rng.standard_normal(V)}


def _loss_cases(rng, hidden=False):
    out = []
    for N, T, V, H in sizes(rng, [(2, 5, 6, 4), (1, 1, 3, 2), (3, 7, 5, 3), (2, 4, 8, 5)], hidden):
        out.append({"x": rng.integers(0, V, (N, T)), "y": rng.integers(0, V, (N, T)),
                    "h0": 0.5 * rng.standard_normal((N, H)), "c0": 0.5 * rng.standard_normal((N, H)),
                    **_weights(rng, V, H)})
    return out


def _nll_cases(rng, hidden=False):
    out = []
    for L, V, H in sizes(rng, [(12, 5, 4), (2, 3, 2), (450, 6, 3)], hidden):
        out.append({"ids": rng.integers(0, V, L), **_weights(rng, V, H)})
    return out


def _train_cases(rng, hidden=False):
    """Two graded runs (one visible-style run for ``check``): a cut of the training split and a
    seed in 0-4, the budget of ``GRADED_RUN``; ``valid`` stays in the grader (not a plan input)."""
    from ....char_lm import GRADED_CUT, GRADED_RUN

    data = graded_data()
    picks = rng.choice(N_OFFSETS, size=2, replace=False) if hidden else [0]
    out = []
    for k in picks:
        start = data["offsets"][int(k)]
        out.append({"ids": data["train"][start:start + GRADED_CUT].copy(), "V": data["V"],
                    "seed": int(rng.integers(0, 5)) if hidden else 0, **GRADED_RUN,
                    "valid": data["valid"]})
    return out


def _ref_loss():
    from ....char_lm import char_lm_loss

    def loss(x, y, h0, c0, Wx, Wh, b, Wy, by):
        value, g, (hT, cT) = char_lm_loss({"Wx": Wx, "Wh": Wh, "b": b, "Wy": Wy, "by": by},
                                          x, y, h0, c0)
        return value, g["Wx"], g["Wh"], g["b"], g["Wy"], g["by"], hT, cT
    return {"char_lm_loss": loss}


def _ref_nll():
    from ....char_lm import evaluate_nll

    def nll(ids, Wx, Wh, b, Wy, by):
        return evaluate_nll({"Wx": Wx, "Wh": Wh, "b": b, "Wy": Wy, "by": by}, ids)
    return {"evaluate_nll": nll}


def _ref_train():
    from ....char_lm import train_char_lm

    def train(ids, V, seed, H, steps, N, T, lr, max_norm):
        p, _ = train_char_lm(ids, V, H=H, steps=steps, N=N, T=T, lr=lr, max_norm=max_norm,
                             seed=seed)
        return tuple(p[k] for k in _PARAMS)
    return {"train_char_lm": train}


def _measure(case: dict, outputs: dict) -> Measurement:
    """Held-out perplexity of the returned weights, in the grader, on ``case['valid']``."""
    from ....char_lm import evaluate_nll

    V, H = int(case["V"]), int(case["H"])
    shapes = {"Wx": (V, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,), "Wy": (H, V), "by": (V,)}
    wrong = check_arrays(outputs, shapes)
    if wrong:
        return Measurement(math.nan, False, wrong, "perplexity", "asc")
    nll = evaluate_nll({k: outputs[k].astype(np.float64) for k in _PARAMS}, case["valid"])
    ppl = math.exp(nll) if nll < 50 else math.inf
    ok = bool(ppl <= THRESHOLD_PPL)
    return Measurement(ppl, ok, f"held-out perplexity {ppl:.3f} "
                       f"({nll / math.log(2):.3f} bits/char); the threshold is {THRESHOLD_PPL:g}",
                       "perplexity", "asc")


EXERCISE = Exercise(
    id="14_char_lm",
    title="Capstone 1: a character-level LSTM language model on real text",
    chapter="book/04_lstm",          # a capstone after Part I: no chapter of its own
    # the layers, clipping and Adam of Part I, and the texts; not the reference model
    kit=TOOLS + DATA + ("rnncourse.data.texts", "rnncourse._checks", "rnncourse.layers",
                        "rnncourse.layers._common", "rnncourse.layers.lstm",
                        "rnncourse.layers.losses", "rnncourse.optim"),
    items=(
        Item(
            name="char_lm_loss",
            title="Loss of one chunk (mean NLL per character), its gradients and the last state",
            points=4,
            calls=(call("char_lm_loss", ["x", "y", "h0", "c0", *_PARAMS],
                        ["loss", *(f"d{k}" for k in _PARAMS), "hT", "cT"]),),
            outputs=("loss", *(f"d{k}" for k in _PARAMS), "hT", "cT"),
            cases=_loss_cases,
            reference=_ref_loss,
            forbidden=_NO_SHORTCUTS,
            hint="One-hot x (N, T, V) -> lstm_forward(..., c0=c0) -> temporal_affine_forward -> "
                 "temporal_softmax_loss, divided by T (it sums over time and averages over N); "
                 "backward in reverse order; (hT, cT) = lstm_last_state(cache).",
        ),
        Item(
            name="evaluate_nll",
            title="Mean NLL per character of a whole stream, the state carried through it",
            points=2,
            calls=(call("evaluate_nll", ["ids", *_PARAMS], ["nll"]),),
            outputs=("nll",),
            cases=_nll_cases,
            reference=_ref_nll,
            forbidden=_NO_SHORTCUTS,
            hint="One row (N = 1), zero initial state; predict ids[1:] from ids[:-1]; chunks must "
                 "carry (h, c) on; divide the summed NLL by len(ids) - 1.",
        ),
        Item(
            name="train_char_lm",
            title="Train on a cut of the text with the graded budget: held-out perplexity "
                  f"<= {THRESHOLD_PPL:g}",
            points=4,
            calls=(call("train_char_lm", ["ids", "V", "seed"], _PARAMS, H="H", steps="steps",
                        N="N", T="T", lr="lr", max_norm="max_norm"),),
            outputs=tuple(_PARAMS),
            cases=_train_cases,
            reference=_ref_train,
            measure=_measure,
            forbidden=_NO_SHORTCUTS,
            hint="N parallel rows of the text, T characters per chunk, the state carried from chunk "
                 "to chunk, clip_grad_norm then Adam(lr) for exactly `steps` updates; check it on "
                 "the validation text in the notebook first.",
        ),
    ),
)
