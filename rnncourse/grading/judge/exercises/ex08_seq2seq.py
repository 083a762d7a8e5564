"""Exercise 8 (chapter 8): reversing padded sources, the masked sequence loss, greedy and beam search.

The decoder of the search items is plain data: three weight arrays of the tiny decoder
``h' = tanh(E[prev] + h Wh)``, ``logp = log_softmax(h' Wo)`` (:func:`rnncourse.decoding.rnn_decoder_step`),
so the grader can call the student's functions with arrays only.
"""
from __future__ import annotations

import numpy as np

from ..registry import DATA, TOOLS, Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

# The course's own implementations (or torch) inside a numpy exercise void the item.
_NO_SHORTCUTS = ("rnncourse.decoding", "rnncourse.data", "rnncourse.models", "rnncourse.layers",
                 "torch", "scipy.special")


def _reverse_cases(rng, hidden=False):
    out = []
    for N, T in sizes(rng, [(3, 6), (1, 1), (4, 5), (2, 8)], hidden):
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = T                                   # a row without padding
        ids = rng.integers(1, 14, size=(N, T))
        ids[np.arange(T)[None, :] >= lengths[:, None]] = 0
        out.append({"src": ids, "lengths": lengths})
    return out


def _loss_cases(rng, hidden=False):
    out = []
    for N, T, V in sizes(rng, [(2, 4, 5), (1, 1, 3), (3, 6, 8), (4, 3, 2)], hidden):
        targets = rng.integers(1, V, size=(N, T))
        lengths = rng.integers(1, T + 1, size=N)
        targets[np.arange(T)[None, :] >= lengths[:, None]] = 0    # padding at the end
        out.append({"logits": 3.0 * rng.standard_normal((N, T, V)), "targets": targets})
    return out


def _decoder(rng, V, H, eos, eos_bias=0.0):
    Wo = 1.5 * rng.standard_normal((H, V))
    Wo[:, eos] += eos_bias / np.sqrt(H)                  # make eos likelier (or rarer)
    return {"E": 1.5 * rng.standard_normal((V, H)), "Wh": 1.5 * rng.standard_normal((H, H)),
            "Wo": Wo}


def _greedy_cases(rng, hidden=False):
    out = []
    for N, V, H, max_len, eos_bias in sizes(rng, [(3, 5, 4, 6, 0.0), (1, 2, 1, 1, 0.0),
                                                  (4, 6, 3, 8, -30.0), (5, 4, 6, 7, 3.0)], hidden):
        case = {"h0": rng.standard_normal((N, H)), **_decoder(rng, V, H, 1, eos_bias)}
        case.update(bos=0, eos=1, max_len=max_len)
        out.append(case)
    return out


def _beam_cases(rng, hidden=False):
    out = []
    # the vocabulary (eos is id 2) and the beam width stay
    for V, H, max_len, B, eos_bias in sizes(rng, [(5, 4, 6, 3, 0.0), (4, 3, 5, 1, 0.0),
                                                  (3, 2, 1, 2, 0.0), (6, 5, 7, 4, 2.0),
                                                  (5, 3, 4, 5, -30.0)], hidden, keep=(0, 3)):
        case = {"h0": rng.standard_normal(H), **_decoder(rng, V, H, 2, eos_bias)}
        case.update(bos=0, eos=2, max_len=max_len, beam_width=B)
        out.append(case)
    return out


def _ref_reverse():
    from ....data.addition import reverse_padded
    return {"reverse_source": reverse_padded}


def _ref_loss():
    from ....decoding import masked_cross_entropy
    return {"masked_cross_entropy": masked_cross_entropy}


def _ref_greedy():
    from ....decoding import greedy_decode
    return {"greedy_decode": greedy_decode}


def _ref_beam():
    from ....decoding import beam_decode
    return {"beam_search": beam_decode}


EXERCISE = Exercise(
    id="08_seq2seq",
    # data.addition holds reverse_padded (and data.dates imports it)
    kit=TOOLS + tuple(m for m in DATA if m not in ("rnncourse.data.addition", "rnncourse.data.dates")),
    title="Encoder-decoder: padding, the masked loss, greedy and beam search",
    chapter="book/08_seq2seq",
    items=(
        Item(
            name="reverse_source",
            title="Reverse each source's real symbols, keeping the padding at the end",
            points=1,
            calls=(call("reverse_source", ["src", "lengths"], ["reversed"]),),
            outputs=("reversed",),
            cases=_reverse_cases,
            reference=_ref_reverse,
            forbidden=_NO_SHORTCUTS,
            hint="Row n: its first lengths[n] entries in reverse order, then the padding unchanged.",
        ),
        Item(
            name="masked_cross_entropy",
            title="Cross-entropy averaged over the real target symbols, and its gradient",
            points=2,
            calls=(call("masked_cross_entropy", ["logits", "targets"], ["loss", "dlogits"]),),
            outputs=("loss", "dlogits"),
            cases=_loss_cases,
            reference=_ref_loss,
            forbidden=_NO_SHORTCUTS,
            hint="mask = targets != 0; M = mask.sum(); loss = -sum(mask * log softmax[target]) / M; "
                 "dlogits = (softmax - onehot) * mask[..., None] / M.",
        ),
        Item(
            name="greedy_decode",
            title="Greedy decoding of a batch with the tiny decoder",
            points=2,
            calls=(call("greedy_decode", ["h0", "E", "Wh", "Wo", "bos", "eos", "max_len"],
                        ["ids", "scores"]),),
            outputs=("ids", "scores"),
            cases=_greedy_cases,
            reference=_ref_greedy,
            forbidden=_NO_SHORTCUTS,
            hint="Start every row from bos; at each step take the argmax, add its log-probability "
                 "to the row's score until the row has produced eos; write 0 after eos.",
        ),
        Item(
            name="beam_search",
            title="Beam search for one source with the tiny decoder",
            points=3,
            calls=(call("beam_search", ["h0", "E", "Wh", "Wo", "bos", "eos", "max_len", "beam_width"],
                        ["ids", "scores"]),),
            outputs=("ids", "scores"),
            cases=_beam_cases,
            reference=_ref_beam,
            forbidden=_NO_SHORTCUTS,
            hint="Candidates: every live hypothesis + every symbol (score + logp), and every finished "
                 "hypothesis unchanged; keep the beam_width best; stop when all kept ones have "
                 "produced eos or after max_len steps; return them best first.",
        ),
    ),
)
