"""Capstone 2 (exercise 15_g2p_attention): the CMUdict data, the numpy attention model, the
measured item, and the whole pipeline (release, check, grade in the sandbox, leaderboard)."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnncourse.attention_g2p import G2P_PARAMS, g2p_loss, greedy_g2p, init_g2p
from rnncourse.data.g2p import (BOS, EOS, SymbolVocab, encode_pairs, exact_match, letter_vocab,
                                load_g2p, parse_g2p, phoneme_vocab, split_g2p)
from rnncourse.grading.judge.exercises import ex15_g2p_attention as ex15
from rnncourse.grading.judge.registry import get_exercise

ROOT = Path(__file__).resolve().parents[1]
G2P = ROOT / "rnncourse" / "data" / "g2p"


# ------------------------------------------------------------------ the data

@pytest.mark.parametrize("path", ["rnncourse/data/g2p/cmudict_subset.txt",
                                  "rnncourse/grading/judge/exercises/g2p_heldout.txt"])
def test_shipped_pairs_are_the_ones_the_readme_names(path):
    digest = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    assert digest in (G2P / "README.md").read_text(encoding="utf-8")


def test_pairs_are_real_dictionary_entries_and_held_out_words_are_not_shipped():
    pairs = load_g2p()
    assert len(pairs) == 5400 and ("quietly", ("K", "W", "AY", "AH", "T", "L", "IY")) in pairs
    held = parse_g2p((ROOT / "rnncourse/grading/judge/exercises/g2p_heldout.txt").read_text())
    assert len(held) == 600 and not {w for w, _ in held} & {w for w, _ in pairs}
    assert all(4 <= len(w) <= 8 and w.isalpha() for w, _ in pairs + held)
    assert len({p for _, ph in pairs for p in ph}) == 39          # ARPAbet without stress
    assert "Carnegie Mellon University" in (G2P / "LICENSE.txt").read_text()


def test_encoding_and_exact_match():
    train, valid = split_g2p(load_g2p())
    assert len(valid) == 400
    sv, tv = letter_vocab(), phoneme_vocab(train)
    b = encode_pairs([("cat", ("K", "AE", "T")), ("to", ("T", "UW"))], sv, tv)
    assert b["src_len"].tolist() == [3, 2] and b["src"][1, 2] == 0
    assert b["tgt_in"][0, 0] == BOS and b["tgt_out"][0, 3] == EOS and b["tgt_out"][1, 3] == 0
    assert tv.decode(b["tgt_out"][0]) == ["K", "AE", "T"]
    assert exact_match(b["tgt_out"], b["tgt_out"]).tolist() == [1.0, 1.0]
    wrong = b["tgt_out"].copy()
    wrong[1, 0] = tv.stoi["K"]
    assert exact_match(wrong, b["tgt_out"]).tolist() == [1.0, 0.0]
    early = b["tgt_out"].copy()
    early[0, 2] = EOS                                             # stops one phoneme short
    assert exact_match(early, b["tgt_out"])[0] == 0.0
    assert SymbolVocab("ab").encode("az") == [4, 3]
    with pytest.raises(ValueError, match="line 1"):
        parse_g2p("no tab here")


# ------------------------------------------------------------------ the reference model

def _tiny():
    rng = np.random.default_rng(0)
    p = {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in init_g2p(6, 7, 3, 4, 0).items()}
    src = np.array([[4, 5, 1, 0], [2, 3, 4, 5], [5, 0, 0, 0]])
    src_len = np.array([3, 4, 1])
    tgt_in = np.array([[1, 3, 4, 0], [1, 5, 6, 3], [1, 4, 0, 0]])
    tgt_out = np.array([[3, 4, 2, 0], [5, 6, 3, 2], [4, 2, 0, 0]])
    return p, src, src_len, tgt_in, tgt_out


def test_g2p_loss_gradients_match_centred_differences():
    p, *batch = _tiny()
    _, grads = g2p_loss(p, *batch)
    assert list(grads) == list(G2P_PARAMS)
    eps = 1e-6
    for k in p:
        num = np.zeros_like(p[k])
        for i in np.ndindex(p[k].shape):
            old = p[k][i]
            p[k][i] = old + eps
            up = g2p_loss(p, *batch)[0]
            p[k][i] = old - eps
            down = g2p_loss(p, *batch)[0]
            p[k][i] = old
            num[i] = (up - down) / (2 * eps)
        assert np.allclose(grads[k], num, rtol=1e-4, atol=1e-8), k


def test_padding_changes_nothing():
    p, src, src_len, tgt_in, tgt_out = _tiny()
    loss, g = g2p_loss(p, src, src_len, tgt_in, tgt_out)
    pad = lambda a: np.pad(a, ((0, 0), (0, 2)))                    # noqa: E731
    loss2, g2 = g2p_loss(p, pad(src), src_len, pad(tgt_in), pad(tgt_out))
    assert loss2 == pytest.approx(loss, rel=1e-12)
    assert all(np.allclose(g[k], g2[k], rtol=1e-10, atol=1e-14) for k in g)
    ids = greedy_g2p(p, src, src_len, 6)
    assert np.array_equal(ids, greedy_g2p(p, pad(src), src_len, 6))
    for row in ids:                                                # 0 after the first </s>
        hits = np.flatnonzero(row == EOS)
        if hits.size:
            assert not row[hits[0] + 1:].any()


def test_measure_scores_exact_match_and_rejects_bad_output():
    data = ex15.graded_g2p_data()
    case = {"test_out": data["test"]["tgt_out"]}
    truth = data["test"]["tgt_out"]
    m = ex15._measure(case, {"pred": truth.copy()})
    assert m.ok and m.value == 1.0 and m.order == "desc"
    m = ex15._measure(case, {"pred": np.zeros_like(truth)})
    assert not m.ok and m.value == 0.0
    assert "expected integer ids" in ex15._measure(case, {"pred": truth[:5]}).message
    assert "expected integer ids" in ex15._measure(case, {"pred": truth * 1.0}).message
    assert not ex15._measure(case, {}).ok


def test_hidden_runs_hold_no_held_out_pronunciations_in_the_plan():
    item = get_exercise("15_g2p_attention").item("train_and_predict")
    from rnncourse.grading.sandbox.plan import plan_inputs
    assert "test_out" not in plan_inputs(item.calls)
    cases = item.draw(np.random.default_rng(3), hidden=True)
    assert len(cases) == 2 and all(0 <= c["seed"] < 5 for c in cases)


# ------------------------------------------------------------------ the whole pipeline

def _no_attention(path: Path) -> Path:
    """The solution with train_and_predict making no update: items 1-2 right, 3 not."""
    nb = nbformat.read(ROOT / "solutions" / "15_g2p_attention.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("def train_and_predict"))
    start, end = cell.source.index("    ### BEGIN SOLUTION"), cell.source.index("    ### END SOLUTION")
    cell.source = cell.source[:start] + cell.source[end + len("    ### END SOLUTION\n"):]
    nb.metadata["rnncourse"]["role"] = "exercise"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def test_grade_solution_stub_and_untrained_model(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, src in (("solution", ROOT / "solutions" / "15_g2p_attention.ipynb"),
                      ("stub", ROOT / "exercises" / "15_g2p_attention.ipynb")):
        (subs / f"{name}.ipynb").write_bytes(src.read_bytes())
    _no_attention(subs / "untrained.ipynb")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(out),
                           "--jobs", "1", "--seed", "15", "--quiet"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr

    def result(name):
        data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert data["extra_data"]["exercise"] == "15_g2p_attention"
        return data, {t["name"].split(":")[0]: t["score"] for t in data["tests"]}

    data, items = result("solution")
    assert data["score"] == 12.0, data["tests"]
    board = data["leaderboard"]
    assert [e["name"] for e in board] == ["train_and_predict: exact match"]
    assert board[0]["order"] == "desc" and board[0]["value"] >= ex15.THRESHOLD_EM
    data, items = result("stub")
    assert data["score"] == 0 and "leaderboard" not in data, data["tests"]
    data, items = result("untrained")
    assert items == {"g2p_loss": 5.0, "greedy_decode": 2.0, "train_and_predict": 0.0}, data["tests"]
