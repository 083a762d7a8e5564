"""Capstone 1 (exercise 14_char_lm): the shipped texts, the reference model, the measured item,
and the whole pipeline (release, check, grade in the sandbox, leaderboard)."""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnncourse.char_lm import (GRADED_CUT, GRADED_RUN, char_lm_loss, evaluate_nll, init_char_lm,
                               perplexity, train_char_lm)
from rnncourse.data.texts import UNK, CharVocabulary, load_text, split_text, stream_batches
from rnncourse.grading.judge.exercises import ex14_char_lm as ex14
from rnncourse.grading.judge.measured import judge_measured
from rnncourse.grading.judge.registry import get_exercise

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "rnncourse" / "data" / "texts"


# ------------------------------------------------------------------ the texts

@pytest.mark.parametrize("name", ["botchan_en.txt", "neko_ja.txt"])
def test_shipped_text_is_the_one_the_readme_names(name):
    digest = hashlib.sha256((TEXTS / name).read_bytes()).hexdigest()
    assert f"`{name}` `{digest}`" in (TEXTS / "README.md").read_text(encoding="utf-8")


def test_texts_are_real_novels_without_the_packagers_matter():
    en, ja = load_text("en"), load_text("ja")
    assert en.startswith("BOTCHAN (MASTER DARLING)") and en.rstrip().endswith("--(THE END)--")
    assert "gutenberg" not in en.lower()
    assert ja.startswith("\u4e00\n\u3000\u543e\u8f29\u306f\u732b\u3067\u3042\u308b\u3002")  # 吾輩は猫である。
    for mark in ("\u300a", "\uff5c", "\uff3b\uff03"):           # ruby, its start mark, notes
        assert mark not in ja
    assert 200_000 < len(en) < 300_000 and 40_000 < len(ja) < 60_000


def test_split_is_by_position_and_complete():
    text = load_text("en")
    train, valid, test = split_text(text)
    assert train + valid + test == text
    assert len(valid) == len(test) == round(0.05 * len(text))
    with pytest.raises(ValueError, match="valid"):
        split_text(text, valid=0.7)
    with pytest.raises(ValueError, match="text"):
        split_text("")


def test_vocabulary_unknown_symbol_and_round_trip():
    vocab = CharVocabulary("aab c", min_count=1)
    assert vocab.itos[0] == UNK and vocab.itos[1] == "a"
    assert vocab.encode("abz").tolist() == [1, vocab.stoi["b"], 0]
    assert vocab.decode(vocab.encode("ab c")) == "ab c"
    assert CharVocabulary("aab c", min_count=2).itos == [UNK, "a"]
    with pytest.raises(ValueError, match="min_count"):
        CharVocabulary("ab", min_count=0)
    with pytest.raises(ValueError, match="ids"):
        vocab.decode([99])
    train, valid, _ = split_text(load_text("ja"))
    assert CharVocabulary(train, min_count=3).unknown_rate(valid) > \
        CharVocabulary(train).unknown_rate(valid) > 0


def test_stream_batches_rows_are_contiguous():
    rows = stream_batches(np.arange(23), 4)
    assert rows.shape == (4, 5) and rows[1, 0] == rows[0, -1] + 1
    with pytest.raises(ValueError, match="N"):
        stream_batches(np.arange(3), 4)


# ------------------------------------------------------------------ the reference model

def test_char_lm_loss_gradients_match_centred_differences():
    rng = np.random.default_rng(0)
    V, H, N, T = 5, 3, 2, 4
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in init_char_lm(V, H, 1).items()}
    x, y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    _, grads, _ = char_lm_loss(p, x, y, h0, c0)
    eps = 1e-6
    for k in p:
        num = np.zeros_like(p[k])
        for i in np.ndindex(p[k].shape):
            old = p[k][i]
            p[k][i] = old + eps
            up = char_lm_loss(p, x, y, h0, c0)[0]
            p[k][i] = old - eps
            down = char_lm_loss(p, x, y, h0, c0)[0]
            p[k][i] = old
            num[i] = (up - down) / (2 * eps)
        assert np.allclose(grads[k], num, rtol=1e-5, atol=1e-8), k


def test_untrained_model_is_near_uniform_and_chunks_do_not_matter():
    rng = np.random.default_rng(0)
    V = 7
    p = init_char_lm(V, 4, 0)
    ids = rng.integers(0, V, 300)
    nll = evaluate_nll(p, ids, chunk=1000)
    assert evaluate_nll(p, ids, chunk=7) == pytest.approx(nll, rel=1e-12)
    assert abs(perplexity(nll) - V) < 1.0


def test_measure_passes_a_trained_model_and_fails_an_untrained_one():
    data = ex14.graded_data()
    case = {"V": data["V"], "valid": data["valid"], **GRADED_RUN}
    cut = data["train"][:GRADED_CUT]
    trained, _ = train_char_lm(cut, data["V"], seed=0, **GRADED_RUN)
    m = ex14._measure(case, dict(trained))
    assert m.ok and m.value < ex14.THRESHOLD_PPL and m.order == "asc"
    untrained = init_char_lm(data["V"], GRADED_RUN["H"], 0)
    m = ex14._measure(case, untrained)
    assert not m.ok and m.value > 50
    wrong = dict(trained, Wy=trained["Wy"][:, :-1])
    assert "wrong shape" in ex14._measure(case, wrong).message
    assert "NaN" in ex14._measure(case, dict(trained, by=np.full(data["V"], np.nan))).message


def test_hidden_runs_use_two_cuts_and_seeds_in_the_measured_range():
    item = get_exercise("14_char_lm").item("train_char_lm")
    for seed in range(10):
        cases = item.draw(np.random.default_rng(seed), hidden=True)
        assert len(cases) == 2 and all(0 <= c["seed"] < 5 for c in cases)
        assert all(len(c["ids"]) == GRADED_CUT for c in cases)
        assert not np.array_equal(cases[0]["ids"], cases[1]["ids"])


def test_judge_measured_reports_errors_without_crashing():
    item = get_exercise("14_char_lm").item("train_char_lm")
    cases = item.draw(np.random.default_rng(0), hidden=True)
    record = {"cases": [{"error": "NotImplementedError: train_char_lm"}, {"error": "timeout"}]}
    res = judge_measured(item, cases, record, None, [], "", 10.0)
    assert res.score == 0 and "not implemented" in res.output and "longer than 10 s" in res.output
    assert getattr(res, "leaderboard", None) is None
    res = judge_measured(item, cases, None, None, [], "the kernel died", 10.0)
    assert res.score == 0 and "the kernel died" in res.output


# ------------------------------------------------------------------ the whole pipeline

def _untrained(path: Path) -> Path:
    """The solution with train_char_lm returning its initial weights: items 1-2 right, 3 not."""
    nb = nbformat.read(ROOT / "solutions" / "14_char_lm.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("def train_char_lm"))
    start, end = cell.source.index("    ### BEGIN SOLUTION"), cell.source.index("    ### END SOLUTION")
    cell.source = cell.source[:start] + cell.source[end + len("    ### END SOLUTION\n"):]
    nb.metadata["rnncourse"]["role"] = "exercise"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def test_grade_solution_stub_and_untrained_model(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, src in (("solution", ROOT / "solutions" / "14_char_lm.ipynb"),
                      ("stub", ROOT / "exercises" / "14_char_lm.ipynb")):
        (subs / f"{name}.ipynb").write_bytes(src.read_bytes())
    _untrained(subs / "untrained.ipynb")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(out),
                           "--jobs", "1", "--seed", "14", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

    def result(name):
        data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert data["extra_data"]["exercise"] == "14_char_lm"
        return data, {t["name"].split(":")[0]: t["score"] for t in data["tests"]}

    data, items = result("solution")
    assert data["score"] == 10.0, data["tests"]
    board = data["leaderboard"]
    assert [e["name"] for e in board] == ["train_char_lm: perplexity"] and board[0]["order"] == "asc"
    assert board[0]["value"] <= ex14.THRESHOLD_PPL and math.isfinite(board[0]["value"])
    data, items = result("stub")
    assert data["score"] == 0 and "leaderboard" not in data, data["tests"]
    data, items = result("untrained")
    assert items == {"char_lm_loss": 4.0, "evaluate_nll": 2.0, "train_char_lm": 0.0}, data["tests"]
    assert data["leaderboard"][0]["value"] > 50
