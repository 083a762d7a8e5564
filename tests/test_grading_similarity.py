"""similarity.csv: copies are flagged (renamed or lightly edited), independent work is not."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from rnncourse.grading.judge.grade import Graded
from rnncourse.grading.judge.registry import get_exercise
from rnncourse.grading.judge.similarity import (FLOOR, MIN_TOKENS, function_tokens, similarity,
                                                write_similarity)

ROOT = Path(__file__).resolve().parents[1]
EX = get_exercise("04_lstm")
SOLUTION = [("".join(c["source"])) for c in json.loads(
    (ROOT / "solutions" / "04_lstm.ipynb").read_text())["cells"] if c["cell_type"] == "code"]

RENAMED = '''import numpy as np

def lstm_step_backward(gh, gc, stuff):
    """All my own work."""
    # unpack
    a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = stuff
    z1 = gh * a10
    z2 = gc + gh * a9 * (1 - a10 ** 2)
    z3, z4, z5 = z2 * a3, z2 * a8, z2 * a6
    z6 = z2 * a7
    z7 = np.concatenate([z4 * a6 * (1 - a6), z3 * a7 * (1 - a7), z5 * (1 - a8 ** 2),
                         z1 * a9 * (1 - a9)], axis=1)
    z8 = z7 @ a4.T
    z9 = z7 @ a5.T
    z10 = a1.T @ z7
    z11 = a2.T @ z7
    z12 = z7.sum(axis=0)
    return z8, z9, z6, z10, z11, z12
'''

# Two students who wrote it independently, structured differently from each other and from the
# published solution.
ALICE = '''import numpy

def lstm_step_backward(dnext_h, dnext_c, cache):
    x, h_prev, c_prev, W_x, W_h, gi, gf, gg, go, tanh_c = cache
    N, H = h_prev.shape
    grad_c = dnext_c.copy()
    grad_c += dnext_h * go * (1.0 - tanh_c * tanh_c)
    grad_o = dnext_h * tanh_c
    grads = numpy.empty((N, 4 * H))
    grads[:, 0:H] = grad_c * gg * gi * (1.0 - gi)
    grads[:, H:2 * H] = grad_c * c_prev * gf * (1.0 - gf)
    grads[:, 2 * H:3 * H] = grad_c * gi * (1.0 - gg * gg)
    grads[:, 3 * H:] = grad_o * go * (1.0 - go)
    dW_h = numpy.dot(h_prev.T, grads)
    dW_x = numpy.dot(x.T, grads)
    d_bias = numpy.sum(grads, axis=0)
    d_x = numpy.dot(grads, W_x.T)
    d_hprev = numpy.dot(grads, W_h.T)
    return d_x, d_hprev, grad_c * gf, dW_x, dW_h, d_bias
'''
BOB = '''import numpy as np

def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, tc = cache
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    local = {
        "i": dc * g * i * (1 - i),
        "f": dc * prev_c * f * (1 - f),
        "g": dc * i * (1 - g ** 2),
        "o": dnext_h * tc * o * (1 - o),
    }
    da = np.hstack([local[k] for k in "ifgo"])
    grads = []
    for inp, W in ((x, Wx), (prev_h, Wh)):
        grads.append(da @ W.T)
    dWs = [x.T @ da, prev_h.T @ da]
    return grads[0], grads[1], dc * f, dWs[0], dWs[1], da.sum(0)
'''
# Carol copied Bob, renamed everything and changed two lines.
CAROL = '''import numpy as np

def lstm_step_backward(gh, gc, c):
    a, b, pc, W1, W2, ii, ff, gg, oo, t = c
    d = gc + gh * oo * (1 - t ** 2)
    parts = {
        "i": d * gg * ii * (1 - ii),
        "f": d * pc * ff * (1 - ff),
        "g": d * ii * (1 - gg ** 2),
        "o": gh * t * oo * (1 - oo),
    }
    da = np.hstack([parts[k] for k in "ifgo"])
    out = []
    for inp, W in ((a, W1), (b, W2)):
        out.append(np.dot(da, W.T))     # changed
    dWs = [a.T @ da, b.T @ da]
    return out[0], out[1], d * ff, dWs[0], dWs[1], np.sum(da, axis=0)
'''
SHORT = "import numpy as np\n\ndef lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):\n    return x, x, None\n"


def _graded(name, source):
    return Graded(Path(f"/subs/{name}.ipynb"), graded=True, exercise=EX, cells=[(1, source)])


def _rows(tmp_path, graded):
    flagged = write_similarity(graded, tmp_path / "similarity.csv", solutions=ROOT / "solutions")
    with open(tmp_path / "similarity.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["function"] == "lstm_step_backward"]
    return flagged, {(Path(r["submission"]).stem, Path(r["compared_with"]).stem
                      if r["compared_with"] != "published solution" else "solution"): r
                     for r in rows}


def test_renamed_copies_and_shared_code_are_flagged_independent_work_is_not(tmp_path):
    graded = [_graded(n, s) for n, s in
              [("renamed", RENAMED), ("alice", ALICE), ("bob", BOB), ("carol", CAROL),
               ("short", SHORT + RENAMED.replace("lstm_step_backward", "other"))]]
    flagged, rows = _rows(tmp_path, graded)
    assert rows[("renamed", "solution")]["flagged"] == "yes"
    assert float(rows[("renamed", "solution")]["similarity"]) == 1.0
    assert rows[("bob", "carol")]["flagged"] == "yes"
    assert float(rows[("bob", "carol")]["similarity"]) >= FLOOR
    for a, b in [("alice", "bob"), ("alice", "solution"), ("bob", "solution"),
                 ("alice", "carol"), ("carol", "solution")]:
        row = rows.get((a, b))
        assert row is None or row["flagged"] == "", (a, b, row)   # not flagged (or not listed)
    assert rows[("short", "")]["note"] == "not defined"
    assert flagged >= 2
    assert (tmp_path / "similarity.csv").stat().st_mode & 0o077 == 0   # instructors only


def test_short_functions_are_not_judged():
    tokens = function_tokens([SHORT], "lstm_step_forward")
    assert tokens is not None and len(tokens) < MIN_TOKENS
    softmax_a = "def softmax(o):\n    e = np.exp(o - o.max(-1, keepdims=True))\n    return e / e.sum(-1, keepdims=True)\n"
    softmax_b = "def softmax(z):\n    z = z - np.max(z, axis=-1, keepdims=True)\n    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)\n"
    assert len(function_tokens([softmax_a], "softmax")) < MIN_TOKENS
    assert len(function_tokens([softmax_b], "softmax")) < MIN_TOKENS


def test_normalisation_ignores_names_comments_docstrings_and_aliases():
    a = function_tokens([BOB], "lstm_step_backward")
    b = function_tokens([BOB.replace("import numpy as np", "import numpy as xp").replace("np.", "xp.")
                         .replace("    dc = ", "    # a comment\n    dc = ")], "lstm_step_backward")
    assert a == b and similarity(a, b) == 1.0
    assert similarity(a, function_tokens([ALICE], "lstm_step_backward")) < FLOOR


def test_a_batch_where_everybody_writes_alike_raises_the_threshold(tmp_path):
    # ten submissions of the same canonical code: the batch's own distribution decides
    graded = [_graded(f"s{k}", BOB.replace("local", f"loc{k}")) for k in range(10)]
    graded.append(_graded("alice", ALICE))
    write_similarity(graded, tmp_path / "s.csv", solutions=ROOT / "solutions")
    with open(tmp_path / "s.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["function"] == "lstm_step_backward" and r["similarity"]]
    assert all(float(r["threshold"]) > FLOOR for r in rows)
