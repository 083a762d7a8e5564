"""Exercise 13 (the Transformer): the judge's references and hidden cases, and grading end to end.

The release, check() and tolerance tests cover exercise 13 with every other exercise (they are
parametrised over the registry); here what is particular to it: the cache layouts the backward items
are graded on, the pre-norm block reference against torch, the hidden shapes, and ``rnncourse grade``
on the solution (full marks), the released stub (0) and a notebook whose forwards are wrong but whose
backwards are right (it keeps the backward points).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rnncourse.grading.judge.cases import build_plan
from rnncourse.grading.judge.exercises import ex13_transformer as ex13
from rnncourse.grading.judge.registry import get_exercise
from rnncourse.grading.sandbox.plan import execute_plan
from rnncourse.layers import (
    layernorm_backward, layernorm_forward, multihead_attention_backward,
    multihead_attention_forward,
)

ROOT = Path(__file__).resolve().parents[1]
EX = get_exercise("13_transformer")


def _all_cases(item, seeds=range(4)):
    out = [c for c in item.draw(np.random.default_rng(0))]
    for s in seeds:
        out += item.draw(np.random.default_rng(100 + s), hidden=True)
    return out


# -- the judge's references and cases -------------------------------------------------------------
def test_items_and_points():
    assert [(i.name, i.points) for i in EX.items] == [
        ("attention_mask", 1), ("multihead_attention_forward", 3),
        ("multihead_attention_backward", 3), ("layernorm_forward", 1), ("layernorm_backward", 2),
        ("sinusoidal_encoding", 1), ("encoder_block_forward", 1)]
    assert EX.max_score == 12.0
    for item in EX.items:                          # the library's layers are off limits
        assert {"rnncourse.layers", "torch"} <= set(item.forbidden)


def test_mha_backward_on_the_notebook_cache_is_the_library_backward():
    """The cache the grader hands the student's backward, converted back for the library's
    backward, gives exactly the gradients of the library's own forward cache."""
    rng = np.random.default_rng(1)
    for case in _all_cases(EX.item("multihead_attention_forward")):
        args = [case[n] for n in ("q", "k", "v", "Wqkv", "bqkv", "Wo", "bo", "num_heads", "mask")]
        out, weights, lib_cache = multihead_attention_forward(*args)
        dout = rng.standard_normal(out.shape)
        cache = ex13._mha_cache(case)
        N, Tq, E = case["q"].shape
        h = case["num_heads"]
        assert cache[5].shape == (N, h, Tq, E // h) and cache[8].shape == weights.shape
        assert all(a.dtype == np.float64 for a in cache)
        ref = ex13._ref_mha_backward()["multihead_attention_backward"](dout, cache)
        for got, want in zip(ref, multihead_attention_backward(dout, lib_cache)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_layernorm_backward_cases_carry_a_correct_forward_cache():
    item = EX.item("layernorm_backward")
    cases = item.draw(np.random.default_rng(2), hidden=True)
    fwd = EX.item("layernorm_forward").draw(np.random.default_rng(2), hidden=True)
    assert len(cases) == len(fwd)
    for case in cases:
        xhat, inv_std, gamma = case["cache"]
        assert inv_std.shape == xhat.shape[:-1] + (1,) and gamma.shape == xhat.shape[-1:]
        np.testing.assert_allclose(xhat.mean(-1), 0, atol=1e-12)
    # the reference is the library's backward, on the library's own cache layout
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    g, b = np.ones(4), np.zeros(4)
    y, cache = layernorm_forward(x, g, b)
    dy = np.ones_like(y)
    for got, want in zip(ex13._ref_ln_backward()["layernorm_backward"](dy, cache),
                         layernorm_backward(dy, cache)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_reference_is_torch(norm_first):
    torch = pytest.importorskip("torch")
    from rnncourse.layers.multihead import mha_to_torch

    item = EX.item("encoder_block_forward")
    tried = 0
    for case in _all_cases(item):
        if case["norm_first"] != norm_first:
            continue
        x, h, mask = case["x"], case["num_heads"], case["mask"]
        N, T, E = x.shape
        F = case["ffn"][0].shape[1]
        layer = torch.nn.TransformerEncoderLayer(E, h, F, dropout=0.0, batch_first=True,
                                                 norm_first=norm_first, dtype=torch.float64)
        layer.train()                              # no fast path: the reference maths only
        mha_to_torch(layer.self_attn, *case["attn"])
        W1, b1, W2, b2 = case["ffn"]
        g1, be1, g2, be2 = case["norms"]
        with torch.no_grad():
            for param, value in ((layer.linear1.weight, W1.T), (layer.linear1.bias, b1),
                                 (layer.linear2.weight, W2.T), (layer.linear2.bias, b2),
                                 (layer.norm1.weight, g1), (layer.norm1.bias, be1),
                                 (layer.norm2.weight, g2), (layer.norm2.bias, be2)):
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
        src_mask = None
        if mask is not None:                       # torch: True = hidden, one mask per head
            src_mask = torch.from_numpy(np.repeat(~mask, h, axis=0))
        with torch.no_grad():
            want = layer(torch.from_numpy(x), src_mask=src_mask).numpy()
        got = ex13._encoder_block(x, case["attn"], case["ffn"], case["norms"], h, mask, norm_first)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        tried += 1
    assert tried >= 4


def test_mask_reference_by_definition():
    for case in _all_cases(EX.item("attention_mask")):
        lengths, T, causal = case["lengths"], case["T"], case["causal"]
        got = ex13._ref_mask()["attention_mask"](lengths, T, causal)
        want = np.zeros((len(lengths), T, T), dtype=bool)
        for n, length in enumerate(lengths):
            for i in range(T):
                for j in range(T):
                    want[n, i, j] = j < length and (j <= i or not causal)
        assert got.dtype == bool and np.array_equal(got, want)
        assert got.any(axis=-1).all()              # every query sees a key


def test_hidden_cases_draw_other_and_odd_shapes():
    visible = {i.name: i.draw(np.random.default_rng(0)) for i in EX.items}
    shapes = {"mha": set(), "pe": set(), "ln": set()}
    for seed in range(6):
        plan = build_plan(EX, seed)
        for item, cases in zip(EX.items, plan.cases):
            assert len(cases) == len(visible[item.name])
            for case in cases:
                if item.name in ("multihead_attention_forward", "encoder_block_forward"):
                    E = (case["q"] if "q" in case else case["x"]).shape[2]
                    assert E % case["num_heads"] == 0
                    if case["mask"] is not None:
                        assert case["mask"].dtype == bool and case["mask"].any(axis=-1).all()
                if item.name == "multihead_attention_forward":
                    shapes["mha"].add((case["q"].shape, case["k"].shape, case["num_heads"]))
                if item.name == "sinusoidal_encoding":
                    shapes["pe"].add((case["T"], case["D"]))
                if item.name == "layernorm_forward":
                    shapes["ln"].add(case["x"].shape)
    shown = {(c["q"].shape, c["k"].shape, c["num_heads"])
             for c in visible["multihead_attention_forward"]}
    assert len(shapes["mha"] - shown) > 10
    assert any(D % 2 and D > 1 for _, D in shapes["pe"]) and (1, 1) in shapes["pe"]
    assert any(T > 40 for T, _ in shapes["pe"])
    assert any(s[2] > 8 for s in shapes["ln"]) and (1, 1, 1) in shapes["ln"]
    # self-attention cases keep q = k = v; cross-attention ones have Tq != Tk somewhere
    assert any(q[1] != k[1] for q, k, _ in shapes["mha"])


def test_references_run_on_every_visible_and_hidden_case():
    for item in EX.items:
        for case in _all_cases(item, seeds=range(2)):
            out = execute_plan(item.reference(), item.calls, case, item.outputs)
            for value in out.values():
                assert np.all(np.isfinite(np.asarray(value, dtype=np.float64))), item.name


# -- grading end to end ---------------------------------------------------------------------------
WRONG_FORWARDS = [
    ("    out = concat @ Wo + bo\n", "    out = concat @ Wo                 # forgot the bias\n"),
    ("    out = gamma * xhat + beta\n", "    out = gamma * xhat                # forgot the shift\n"),
]


def _wrong_forwards(path: Path) -> Path:
    nb = nbformat.read(ROOT / "solutions" / "13_transformer.ipynb", as_version=4)
    for old, new in WRONG_FORWARDS:
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(hits) == 1, old
        hits[0].source = hits[0].source.replace(old, new)
    nb.cells = [c for c in nb.cells if "solution-only" not in c.metadata.get("tags", [])]
    nb.metadata["rnncourse"]["role"] = "exercise"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def test_grade_solution_stub_and_wrong_forwards(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, src in (("solution", ROOT / "solutions" / "13_transformer.ipynb"),
                      ("stub", ROOT / "exercises" / "13_transformer.ipynb")):
        (subs / f"{name}.ipynb").write_bytes(src.read_bytes())
    _wrong_forwards(subs / "wrong_forwards.ipynb")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(out),
                           "--jobs", "2", "--cell-timeout", "120", "--seed", "13", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

    def scores(name):
        data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert data["extra_data"]["exercise"] == "13_transformer"
        assert data["extra_data"]["max_score"] == 12.0
        return data["score"], {t["name"].split(":")[0]: t["score"] for t in data["tests"]}, data

    total, items, data = scores("solution")
    assert total == 12.0, data["tests"]
    total, items, data = scores("stub")
    assert total == 0 and set(items.values()) == {0}, data["tests"]
    total, items, data = scores("wrong_forwards")
    assert items["multihead_attention_forward"] == 0 and items["layernorm_forward"] == 0
    # the backward items are judged on the cache of a correct forward: full points
    assert items["multihead_attention_backward"] == 3 and items["layernorm_backward"] == 2
    assert items["attention_mask"] == 1 and items["sinusoidal_encoding"] == 1
    assert items["encoder_block_forward"] == 0   # it is built from the wrong forwards
    assert total == 7.0, data["tests"]
