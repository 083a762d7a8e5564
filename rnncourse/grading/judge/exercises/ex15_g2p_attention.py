"""Capstone 2 (after Part II): sequence-to-sequence with attention, spelling -> pronunciation.

Two items are compared with the reference (the teacher-forced loss and its gradients, greedy
decoding); the third, ``train_and_predict``, is **measured**: the sandbox trains the student's model
with the graded budget on the shipped CMUdict words and returns its greedy pronunciations of 600
held-out words (``g2p_heldout.txt`` beside this module, not in the student kit); the judge
counts the words whose every phoneme is right. A run passes when the exact match is at least
``THRESHOLD_EM``, set from the reference's runs over seeds 0-4 with a margin
(``benchmarks/capstones.py`` prints the table).
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from ..measured import Measurement, check_arrays
from ..registry import DATA, TOOLS, Exercise, Item, call, sizes

__all__ = ["EXERCISE", "THRESHOLD_EM", "MAX_LEN", "graded_g2p_data"]

THRESHOLD_EM = 0.06          # benchmarks/capstones.py: reference 0.120-0.213 over seeds 0-4 (median 0.185);
                             # an untrained model: 0
MAX_LEN = 12
_HELD_OUT = Path(__file__).resolve().parent / "g2p_heldout.txt"
_PARAMS = ["Es", "Et", "Wxe", "Whe", "be", "Wxd", "Whd", "bd", "Wc", "bc", "Wo", "bo"]
_NO_SHORTCUTS = ("rnncourse.attention_g2p", "rnncourse.models", "torch", "scipy")


@functools.lru_cache(maxsize=1)
def graded_g2p_data() -> dict:
    """Training arrays (the 5,000 training words), the held-out test arrays and the sizes."""
    from ....data.g2p import (encode_pairs, letter_vocab, load_g2p, parse_g2p, phoneme_vocab,
                              split_g2p)

    train, _ = split_g2p(load_g2p())
    sv, tv = letter_vocab(), phoneme_vocab(train)
    test = parse_g2p(_HELD_OUT.read_text(encoding="utf-8"))
    return {"train": encode_pairs(train, sv, tv), "test": encode_pairs(test, sv, tv),
            "Vs": len(sv), "Vt": len(tv)}


def _weights(rng, Vs, Vt, D, H):
    return {"Es": 0.5 * rng.standard_normal((Vs, D)), "Et": 0.5 * rng.standard_normal((Vt, D)),
            "Wxe": 0.4 * rng.standard_normal((D, 3 * H)), "Whe": 0.4 * rng.standard_normal((H, 3 * H)),
            "be": 0.2 * rng.standard_normal(3 * H),
            "Wxd": 0.4 * rng.standard_normal((D, 3 * H)), "Whd": 0.4 * rng.standard_normal((H, 3 * H)),
            "bd": 0.2 * rng.standard_normal(3 * H),
            "Wc": 0.4 * rng.standard_normal((2 * H, H)), "bc": 0.2 * rng.standard_normal(H),
            "Wo": 0.4 * rng.standard_normal((H, Vt)), "bo": 0.2 * rng.standard_normal(Vt)}


def _batch(rng, N, S, T, Vs, Vt):
    """Random padded batch: lengths in [1, S] and [1, T-1] (one row of each at full length)."""
    src_len = rng.integers(1, S + 1, N)
    src_len[0] = S
    tgt_len = rng.integers(1, T, N)
    tgt_len[-1] = T - 1
    src = np.zeros((N, S), dtype=np.int64)
    tgt_in = np.zeros((N, T), dtype=np.int64)
    tgt_out = np.zeros((N, T), dtype=np.int64)
    for n in range(N):
        src[n, :src_len[n]] = rng.integers(4, Vs, src_len[n])
        y = rng.integers(3, Vt, tgt_len[n])
        tgt_in[n, :tgt_len[n] + 1] = np.concatenate([[1], y])
        tgt_out[n, :tgt_len[n] + 1] = np.concatenate([y, [2]])
    return {"src": src, "src_len": src_len, "tgt_in": tgt_in, "tgt_out": tgt_out}


def _loss_cases(rng, hidden=False):
    out = []
    for N, S, T, Vs, Vt, D, H in sizes(rng, [(3, 4, 5, 7, 8, 3, 4), (1, 1, 2, 5, 4, 2, 2),
                                             (4, 6, 4, 9, 6, 4, 3)], hidden):
        Vs, Vt = max(Vs, 5), max(Vt, 4)
        out.append({**_batch(rng, N, S, T, Vs, Vt), **_weights(rng, Vs, Vt, D, H)})
    return out


def _greedy_cases(rng, hidden=False):
    out = []
    for N, S, Vs, Vt, D, H, max_len in sizes(rng, [(3, 4, 7, 8, 3, 4, 6), (1, 1, 5, 4, 2, 2, 1),
                                                   (5, 6, 9, 6, 4, 3, 8)], hidden, keep=(6,)):
        Vs, Vt = max(Vs, 5), max(Vt, 4)
        b = _batch(rng, N, S, 2, Vs, Vt)
        w = _weights(rng, Vs, Vt, D, H)
        w["bo"][2] += 1.5                  # </s> likely enough that some rows stop early
        out.append({"src": b["src"], "src_len": b["src_len"], **w, "max_len": max_len})
    return out


def _train_cases(rng, hidden=False):
    """Two graded runs (one for ``check``): the training words, the held-out words' spellings,
    a seed in 0-4; ``test_out`` (the pronunciations) stays in the grader."""
    from ....attention_g2p import GRADED_G2P

    data = graded_g2p_data()
    tr, te = data["train"], data["test"]
    out = []
    for _ in range(2 if hidden else 1):
        out.append({**{k: v.copy() for k, v in tr.items()}, "test_src": te["src"].copy(),
                    "test_len": te["src_len"].copy(), "Vs": data["Vs"], "Vt": data["Vt"],
                    "seed": int(rng.integers(0, 5)) if hidden else 0, "max_len": MAX_LEN,
                    **GRADED_G2P, "test_out": te["tgt_out"]})
    return out


def _ref_loss():
    from ....attention_g2p import g2p_loss

    def loss(src, src_len, tgt_in, tgt_out, *params):
        value, g = g2p_loss(dict(zip(_PARAMS, params)), src, src_len, tgt_in, tgt_out)
        return (value, *(g[k] for k in _PARAMS))
    return {"g2p_loss": loss}


def _ref_greedy():
    from ....attention_g2p import greedy_g2p

    def greedy(src, src_len, *params, max_len):
        return greedy_g2p(dict(zip(_PARAMS, params)), src, src_len, max_len)
    return {"greedy_decode": greedy}


def _ref_train():
    from ....attention_g2p import greedy_g2p, train_g2p

    def run(src, src_len, tgt_in, tgt_out, test_src, test_len, Vs, Vt, seed, D, H, steps, batch,
            lr, max_norm, max_len):
        data = {"src": src, "src_len": src_len, "tgt_in": tgt_in, "tgt_out": tgt_out}
        p, _ = train_g2p(data, Vs, Vt, D=D, H=H, steps=steps, batch=batch, lr=lr,
                         max_norm=max_norm, seed=seed)
        return greedy_g2p(p, test_src, test_len, max_len)
    return {"train_and_predict": run}


def _measure(case: dict, outputs: dict) -> Measurement:
    """Exact match of the returned pronunciations with the held-out ones, in the grader."""
    from ....data.g2p import exact_match

    N = len(case["test_out"])
    pred = outputs.get("pred")
    if pred is not None and (pred.ndim != 2 or pred.shape[0] != N or pred.dtype.kind not in "iu"):
        return Measurement(math.nan, False, f"pred: expected integer ids of shape ({N}, "
                           f"max_len), got {pred.dtype} of shape {pred.shape}", "exact match")
    wrong = check_arrays(outputs, {"pred": (N, pred.shape[1] if pred is not None else 0)})
    if wrong:
        return Measurement(math.nan, False, wrong, "exact match")
    em = float(exact_match(pred, case["test_out"]).mean())
    return Measurement(em, em >= THRESHOLD_EM, f"exact match {em:.3f} on {N} held-out words; "
                       f"the threshold is {THRESHOLD_EM:g}", "exact match")


_CALL_ARGS = ["src", "src_len", "tgt_in", "tgt_out"]

EXERCISE = Exercise(
    id="15_g2p_attention",
    title="Capstone 2: sequence-to-sequence with attention, spelling to pronunciation",
    chapter="book/10_attention",     # a capstone after Part II: no chapter of its own
    kit=TOOLS + DATA + ("rnncourse.data.g2p", "rnncourse._checks", "rnncourse.layers",
                        "rnncourse.layers._common", "rnncourse.layers.gru",
                        "rnncourse.layers.embedding", "rnncourse.layers.attention",
                        "rnncourse.layers.losses", "rnncourse.optim"),
    items=(
        Item(
            name="g2p_loss",
            title="Teacher-forced loss per real target symbol and the gradients of all 12 "
                  "parameters",
            points=5,
            calls=(call("g2p_loss", [*_CALL_ARGS, *_PARAMS],
                        ["loss", *(f"d{k}" for k in _PARAMS)]),),
            outputs=("loss", *(f"d{k}" for k in _PARAMS)),
            cases=_loss_cases,
            reference=_ref_loss,
            forbidden=_NO_SHORTCUTS,
            hint="Encoder GRU from zeros; decoder GRU from the encoder state at src_len - 1; "
                 "dot attention of the decoder states over the encoder outputs with mask src != 0; "
                 "tanh([c; h] Wc + bc) Wo + bo; temporal_softmax_loss with mask tgt_out != 0, "
                 "times N / (number of real symbols); keys and values are both the encoder outputs.",
        ),
        Item(
            name="greedy_decode",
            title="Greedy decoding: argmax step by step from <s>, 0 after </s>",
            points=2,
            calls=(call("greedy_decode", ["src", "src_len", *_PARAMS], ["ids"],
                        max_len="max_len"),),
            outputs=("ids",),
            cases=_greedy_cases,
            reference=_ref_greedy,
            forbidden=_NO_SHORTCUTS,
            hint="Same encoder; feed <s> (id 1), then your own argmax; a row that has produced "
                 "</s> (id 2) writes 0 afterwards; stop after max_len steps.",
        ),
        Item(
            name="train_and_predict",
            title=f"Train with the graded budget, pronounce 600 held-out words: exact match >= "
                  f"{THRESHOLD_EM:g}",
            points=5,
            calls=(call("train_and_predict", [*_CALL_ARGS, "test_src", "test_len", "Vs", "Vt",
                                              "seed"], ["pred"], D="D", H="H", steps="steps",
                        batch="batch", lr="lr", max_norm="max_norm", max_len="max_len"),),
            outputs=("pred",),
            cases=_train_cases,
            reference=_ref_train,
            measure=_measure,
            forbidden=_NO_SHORTCUTS,
            hint="Random minibatches of `batch` words, g2p_loss, clip_grad_norm, Adam(lr), "
                 "exactly `steps` updates from init_params(Vs, Vt, D, H, seed); then greedy_decode "
                 "the test words. Measure exact match on the validation words in the notebook.",
        ),
    ),
)
