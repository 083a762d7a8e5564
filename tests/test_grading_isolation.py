"""Every item is judged on its own: a wrong forward costs the forward's points only.

Exercises 3, 5, 6, 7, 10 and 12 let the student choose the cache layout, so a backward item runs
the student's forward first. It also has an ``alone`` plan: the student's backward on the cache of
a *correct* forward, built in the grader in the published solution's layout. A case passes when
either plan is right. These tests pin that layout to the solution notebooks, check the judge and
``check()`` on hand-made data, and grade real notebooks (built from the solution notebooks, with one
function broken) in the sandbox, one batch through the command line.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rnncourse.cli import main
from rnncourse.grading import check
from rnncourse.grading.judge.cases import build_plan
from rnncourse.grading.judge.judge import judge_item
from rnncourse.grading.judge.registry import all_exercises, get_exercise
from rnncourse.grading.sandbox import wire
from rnncourse.grading.sandbox.plan import execute_plan

ROOT = Path(__file__).resolve().parents[1]
SEED = 424242

# exercise -> [(forward, backward, index of a float input of the forward to perturb)]
PAIRS = {
    "03_long_term": [("leaky_rnn_forward", "leaky_rnn_backward", 0)],
    "05_gru": [("gru_step_forward", "gru_step_backward", 0), ("gru_forward", "gru_backward", 0)],
    "06_deep_bidirectional": [("birnn_forward", "birnn_backward", 0)],
    "07_recursive": [("tree_forward", "tree_backward", 2)],
    "10_attention": [("dot_attention_forward", "dot_attention_backward", 2),
                     ("additive_attention_forward", "additive_attention_backward", 2)],
    "12_beyond_lstm": [("mlstm_step_forward", "mlstm_step_backward", 0)],
}
ALONE = [(ex.id, it.name) for ex in all_exercises() for it in ex.items if it.alone]


def test_every_backward_graded_on_its_own_forward_has_an_alone_plan():
    expected = {(ex, bwd) for ex, pairs in PAIRS.items() for _, bwd, _ in pairs}
    assert expected <= set(ALONE)
    for ex_id, name in ALONE:
        item = get_exercise(ex_id).item(name)
        assert [c["fn"] for c in item.alone] == [name] and item.alone_input


# -- the layout is the published solution's --------------------------------------------------------
def _solution(ex_id: str) -> dict:
    """The solution notebook's imports and function definitions, executed."""
    nb = json.loads((ROOT / "solutions" / f"{ex_id}.ipynb").read_text(encoding="utf-8"))
    ns: dict = {}
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        body = ast.parse(src).body if src else []
        if body and all(isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef)) for n in body):
            exec(compile(src, f"solutions/{ex_id}", "exec"), ns)  # noqa: S102 - our own notebook
    return ns


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-12, atol=1e-12)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("ex_id, name", ALONE)
def test_the_correct_cache_is_the_solution_notebooks_cache(ex_id, name):
    ns, item = _solution(ex_id), get_exercise(ex_id).item(name)
    for hidden in (False, True):
        for case in item.draw(np.random.default_rng(5), hidden):
            cache = execute_plan(ns, item.calls[:1], case, ["cache"])["cache"]
            assert _same(cache, case["correct_cache"])
            got = execute_plan(ns, item.alone, case, list(item.outputs))
            want = execute_plan(item.reference(), item.calls, case, list(item.outputs))
            for n in item.outputs:
                np.testing.assert_allclose(got[n], want[n], rtol=1e-9, atol=1e-12)
            # and it crosses the sandbox boundary intact (nested tuples, lists, ints, strings)
            specs, arrays = wire.pack_cases([{"c": case["correct_cache"]}], "i0_")
            back = wire.unpack_case(specs[0], wire.read_npz(wire.npz_bytes(arrays)), 0, "i0_")
            assert _same(back["c"], case["correct_cache"])


def test_the_alone_plan_runs_after_every_item_and_gets_only_its_inputs():
    ex = get_exercise("05_gru")
    hp = build_plan(ex, 1)
    assert hp.alone == {1: 4, 3: 5} and len(hp.manifest) == 6
    own, alone = hp.manifest[1], hp.manifest[4]
    assert all("correct_cache" not in spec["trees"] for spec in own["cases"])
    assert alone["objects"] == ["gru_step_backward"] and alone["name"] == "gru_step_backward (alone)"
    assert all(set(spec["arrays"]) == {"dnext_h"} and set(spec["trees"]) == {"correct_cache"}
               for spec in alone["cases"])


# -- the judge: either plan --------------------------------------------------------------------------
def _record(n, **fields):
    case = {"error": None, "where": "", "outputs": {}, "seconds": 0.0, **fields}
    return {"item": "x", "objects": {}, "cases": [dict(case) for _ in range(n)], "aborted": False}


def _arrays(item, cases, names, shift=0.0):
    out = {}
    for k, case in enumerate(cases):
        for n, v in execute_plan(item.reference(), item.calls, case, names).items():
            out[f"c{k}_{n}"] = np.asarray(v, dtype=np.float64) + shift
    return wire.npz_bytes(out)


@pytest.mark.parametrize("ex_id, name", ALONE)
def test_judge_awards_a_correct_backward_whatever_the_forward(ex_id, name):
    ex = get_exercise(ex_id)
    item = ex.item(name)
    i = ex.items.index(item)
    cases = build_plan(ex, 9).cases[i]
    n = len(cases)
    deps = [x for _, ns in ex.dependencies(item) for x in ns]
    own_wrong = _arrays(item, cases, list(item.outputs) + deps, shift=0.5)   # forward wrong too
    own_right = _arrays(item, cases, list(item.outputs) + deps)
    alone_right = _arrays(item, cases, list(item.outputs))
    alone_wrong = _arrays(item, cases, list(item.outputs), shift=0.5)

    def judge(own, alone):
        return judge_item(ex, item, cases, own[0], own[1], [], "", 2.0, alone)

    # wrong forward, correct backward: full points through the correct cache
    assert judge((_record(n), own_wrong), (_record(n), alone_right)).score == item.points
    fwd = item.calls[0]["fn"]   # (exercise 2 gives its forwards: no forward item to blame)
    raised = _record(n, error="NotImplementedError: stub", failed_call=fwd)
    assert judge((raised, b""), (_record(n), alone_right)).score == item.points
    # a backward written for a cache layout of its own passes through its own (correct) forward
    unpacked = _record(n, error="ValueError: too many values to unpack")
    assert judge((_record(n), own_right), (unpacked, b"")).score == item.points
    # wrong on both: nothing, and the words say both
    result = judge((_record(n), own_wrong), (_record(n), alone_wrong))
    assert result.score == 0 and "outside tolerance" in result.output
    if deps:
        assert f"fix {fwd} first" in result.output
        assert f"and given {item.alone_input}" in result.output
    # correct forward, wrong backward: nothing, and no blame on the forward
    result = judge((_record(n), _arrays(item, cases, list(item.outputs), 0.5)
                    if not deps else _shift_only(item, cases, deps)), (_record(n), alone_wrong))
    assert result.score == 0 and f"fix {fwd} first" not in result.output
    # no alone record at all (the kernel died before it ran): judged on the own plan only
    assert judge((_record(n), own_wrong), (None, None)).score == 0
    assert judge((_record(n), own_right), (None, None)).score == item.points


def _shift_only(item, cases, deps):
    """The forward's outputs right, the backward's wrong."""
    out = {}
    for k, case in enumerate(cases):
        got = execute_plan(item.reference(), item.calls, case, list(item.outputs) + deps)
        for n, v in got.items():
            out[f"c{k}_{n}"] = np.asarray(v, dtype=np.float64) + (0.5 if n in item.outputs else 0)
    return wire.npz_bytes(out)


# -- check() in the student's kernel says the same ----------------------------------------------------
@pytest.mark.parametrize("ex_id, fwd, bwd, arg", [
    (ex, f, b, a) for ex, pairs in PAIRS.items() for f, b, a in pairs])
def test_check_passes_a_correct_backward_on_a_wrong_forward(ex_id, fwd, bwd, arg):
    ns = _solution(ex_id)
    right_fwd, right_bwd = ns[fwd], ns[bwd]

    def wrong_fwd(*args, **kw):
        args = list(args)
        args[arg] = 1.5 * args[arg] + 0.1
        return right_fwd(*args, **kw)

    def stub_fwd(*args, **kw):
        raise NotImplementedError(f"{fwd}: your code goes here")

    def wrong_bwd(*args, **kw):
        return tuple(2.0 * g for g in right_bwd(*args, **kw))

    item_id = f"{ex_id}.{bwd}"
    for forward in (wrong_fwd, stub_fwd):
        res = check(item_id, forward, right_bwd, verbose=False)
        assert res.ok, res.messages
        assert "of a correct forward" in "\n".join(res.messages)
    res = check(item_id, right_fwd, wrong_bwd, verbose=False)
    assert res.passed == 0 and f"fix {fwd} first" not in "\n".join(res.messages)
    res = check(item_id, wrong_fwd, wrong_bwd, verbose=False)
    assert res.passed == 0 and f"fix {fwd} first" in "\n".join(res.messages)


# -- real notebooks, graded in the sandbox -----------------------------------------------------------
def _cells(ex_id: str) -> list[str]:
    nb = json.loads((ROOT / "solutions" / f"{ex_id}.ipynb").read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        body = ast.parse(src).body if src else []
        if body and all(isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef)) for n in body):
            out.append(src)
    return out


def _wrong_forward(fwd, arg):
    return (f"_right_{fwd} = {fwd}\n"
            f"def {fwd}(*args, **kw):\n"
            "    args = list(args)\n"
            f"    args[{arg}] = 1.5 * args[{arg}] + 0.1\n"
            f"    return _right_{fwd}(*args, **kw)\n")


def _stub_forward(fwd, arg):
    return f"def {fwd}(*args, **kw):\n    raise NotImplementedError('{fwd}: your code goes here')\n"


def _wrong_backward(bwd):
    return (f"_right_{bwd} = {bwd}\n"
            f"def {bwd}(*args, **kw):\n"
            f"    return tuple(2.0 * g for g in _right_{bwd}(*args, **kw))\n")


def _own_layout(fwd, bwd):
    """Same maths, a cache layout of the student's own (a dict): the correct cache cannot fit."""
    return (f"_right_{fwd}, _right_{bwd} = {fwd}, {bwd}\n"
            f"def {fwd}(*args, **kw):\n"
            f"    *out, cache = _right_{fwd}(*args, **kw)\n"
            "    return (*out, {'mine': cache})\n"
            f"def {bwd}(d, *rest):\n"
            "    *ups, cache = rest\n"
            f"    return _right_{bwd}(d, *ups, cache['mine'])\n")


def _replay(fwd, bwd):
    """A backward that records every cache it is given, a forward that replays them: the correct
    caches come after every item has run, so the forward has nothing to replay."""
    return (f"_seen, _right_{bwd} = {{}}, {bwd}\n"
            f"def {bwd}(d, *rest):\n"
            "    for part in rest[-1] if isinstance(rest[-1], (tuple, list)) else ():\n"
            "        if isinstance(part, np.ndarray):\n"
            "            _seen[part.shape] = rest[-1]\n"
            f"    return _right_{bwd}(d, *rest)\n"
            f"def {fwd}(*args, **kw):\n"
            "    raise NotImplementedError('replay: nothing seen yet' + str(len(_seen)))\n")


def _variants():
    out = {}
    for ex_id, pairs in PAIRS.items():
        fwds = [(f, a) for f, _, a in pairs if not (ex_id == "05_gru" and f == "gru_forward")]
        out[f"{ex_id}-wrong-forward"] = (ex_id, [_wrong_forward(f, a) for f, a in fwds])
        out[f"{ex_id}-wrong-backward"] = (ex_id, [_wrong_backward(b) for _, b, _ in pairs])
        own = pairs[-1:] if ex_id == "05_gru" else pairs   # gru_backward indexes its step caches
        out[f"{ex_id}-own-layout"] = (ex_id, [_own_layout(f, b) for f, b, _ in own])
    for ex_id in ("05_gru", "10_attention"):
        out[f"{ex_id}-stub-forward"] = (ex_id, [_stub_forward(f, a) for f, _, a in PAIRS[ex_id]])
    out["12_beyond_lstm-replay"] = ("12_beyond_lstm", [_replay("mlstm_step_forward",
                                                               "mlstm_step_backward")])
    # exercise 2 gives its forwards (no forward item): a student who broke one keeps the backward
    out["02_bptt-wrong-forward"] = ("02_bptt", [_wrong_forward("rnn_step_forward", 0)])
    out["02_bptt-wrong-backward"] = ("02_bptt", [_wrong_backward("rnn_step_backward")])
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("isolation")
    subs = root / "subs"
    subs.mkdir()
    for name, (ex_id, extra) in _variants().items():
        nb = new_notebook()
        nb.cells = [new_code_cell(c) for c in _cells(ex_id) + extra]
        nb.metadata["rnncourse"] = {"exercise": ex_id, "role": "exercise"}
        (subs / f"{name}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    out = root / "out"
    code = main(["grade", str(subs), "--out", str(out), "--jobs", "2", "--seed", str(SEED),
                 "--cell-timeout", "20", "--case-timeout", "5", "--timeout", "120", "--quiet"])
    assert code == 0
    results = {}
    for path in out.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "tests" in data:
            results[path.stem] = {
                t["name"].split(":")[0]: (t["score"], t["max_score"], t["output"])
                for t in data["tests"]}
    return results


def _scores(graded, name):
    assert name in graded, sorted(graded)
    return graded[name]


@pytest.mark.parametrize("ex_id", sorted(PAIRS))
def test_wrong_forward_correct_backward_gets_the_backward_points(graded, ex_id):
    tests = _scores(graded, f"{ex_id}-wrong-forward")
    for fwd, bwd, _ in PAIRS[ex_id]:
        score, top, _ = tests[fwd]
        assert score == 0 and top > 0, (fwd, tests[fwd])
        score, top, output = tests[bwd]
        assert score == top > 0, (bwd, output)


@pytest.mark.parametrize("ex_id", sorted(PAIRS))
def test_correct_forward_wrong_backward_gets_no_backward_points(graded, ex_id):
    tests = _scores(graded, f"{ex_id}-wrong-backward")
    for fwd, bwd, _ in PAIRS[ex_id]:
        score, top, _ = tests[fwd]
        assert score == top > 0, (fwd, tests[fwd])
        score, top, output = tests[bwd]
        assert score == 0 and top > 0, (bwd, output)
        assert f"fix {fwd} first" not in output


@pytest.mark.parametrize("ex_id", sorted(PAIRS))
def test_a_cache_layout_of_ones_own_still_gets_full_points(graded, ex_id):
    tests = _scores(graded, f"{ex_id}-own-layout")
    pairs = PAIRS[ex_id][-1:] if ex_id == "05_gru" else PAIRS[ex_id]
    for fwd, bwd, _ in pairs:
        assert tests[fwd][0] == tests[fwd][1] > 0, tests[fwd]
        assert tests[bwd][0] == tests[bwd][1] > 0, tests[bwd]


@pytest.mark.parametrize("ex_id", ["05_gru", "10_attention"])
def test_a_stub_forward_costs_only_the_forward(graded, ex_id):
    tests = _scores(graded, f"{ex_id}-stub-forward")
    for fwd, bwd, _ in PAIRS[ex_id]:
        assert tests[fwd][0] == 0 and "not implemented yet" in tests[fwd][2]
        assert tests[bwd][0] == tests[bwd][1] > 0, tests[bwd]


def test_correct_caches_cannot_be_replayed_into_a_forward(graded):
    tests = _scores(graded, "12_beyond_lstm-replay")
    assert tests["mlstm_step_forward"][0] == 0
    assert "nothing seen yet0" in tests["mlstm_step_forward"][2]
    assert tests["mlstm_step_backward"][0] == tests["mlstm_step_backward"][1]


# -- edge cases earn nothing on their own ---------------------------------------------------------
def _trivial_answers(item, cases, strategy):
    """What a function without working code returns: per output zeros, ones or an input."""
    out = {}
    for k, case in enumerate(cases):
        exp = execute_plan(item.reference(), item.calls, case, list(item.outputs))
        for name, how in zip(item.outputs, strategy):
            shape = np.shape(exp[name])
            out[f"c{k}_{name}"] = (np.zeros(shape) if how == "zeros" else np.ones(shape)
                                   if how == "ones" else np.asarray(case[how], dtype=np.float64))
    return wire.npz_bytes(out)


# found by trying zeros, ones and every input as each output on the hidden cases: these earned
# 0.2 to 0.75 points each (about 1.75 of exercise 10's 10 points) for code that computes nothing
TRIVIAL = [
    ("01_unfolding", "softmax", ["ones"]),
    ("02_bptt", "clip_grad_norm", ["g1", "g2", "g3"]),
    ("03_long_term", "scale_spectral_radius", ["zeros"]),
    ("07_recursive", "node_heights", ["zeros"]),
    ("08_seq2seq", "reverse_source", ["src"]),
    ("09_hred_vhred", "reparameterize", ["eps"]),
    ("09_hred_vhred", "gaussian_kl", ["zeros"]),
    ("09_hred_vhred", "gaussian_kl_backward", ["zeros", "zeros"]),
    ("10_attention", "dot_attention_forward", ["v", "ones"]),
    ("10_attention", "dot_attention_backward", ["zeros", "zeros", "dcontext"]),
    ("10_attention", "additive_attention_forward", ["v", "ones"]),
    ("11_word2vec", "noise_distribution", ["ones"]),
    ("12_beyond_lstm", "zoneout", ["new"]),
]


@pytest.mark.parametrize("ex_id, name, strategy", TRIVIAL)
def test_trivial_code_earns_nothing_from_edge_cases(ex_id, name, strategy):
    ex = get_exercise(ex_id)
    item = ex.item(name)
    for seed in (1, 2):
        cases = build_plan(ex, seed).cases[ex.items.index(item)]
        arrays = _trivial_answers(item, cases, strategy)
        kw = {"alone": (_record(len(cases)), arrays)} if item.alone else {}
        result = judge_item(ex, item, cases, _record(len(cases)), arrays, [], "", 2.0, **kw)
        assert result.score == 0, (seed, result.output)
        assert "so would zeros, ones or an input returned unchanged" in result.output or \
            result.passed_cases == 0


@pytest.mark.parametrize("ex_id, name, strategy", TRIVIAL)
def test_edge_cases_count_beside_a_case_that_needs_working_code(ex_id, name, strategy):
    """A submission right on one real case keeps its edge cases: partial credit stays."""
    ex = get_exercise(ex_id)
    item = ex.item(name)
    cases = build_plan(ex, 1).cases[ex.items.index(item)]
    from rnncourse.grading.judge.judge import trivially_passed
    exps = [execute_plan(item.reference(), item.calls, c, list(item.outputs)) for c in cases]
    real = [k for k, (c, e) in enumerate(zip(cases, exps)) if not trivially_passed(item, c, e)]
    edge = [k for k, (c, e) in enumerate(zip(cases, exps)) if trivially_passed(item, c, e)]
    assert real and edge
    out = {}
    for k, e in enumerate(exps):
        for n, v in e.items():   # right on the edge cases and on the first real case only
            right = k in edge or k == real[0]
            out[f"c{k}_{n}"] = np.asarray(v, dtype=np.float64) + (0.0 if right else 0.5)
    arrays = wire.npz_bytes(out)
    kw = {"alone": (_record(len(cases)), arrays)} if item.alone else {}
    result = judge_item(ex, item, cases, _record(len(cases)), arrays, [], "", 2.0, **kw)
    assert result.passed_cases == len(edge) + 1


# (the capstones from exercise 14 on train models in their references: a minute an item)
@pytest.mark.parametrize("ex_id, name", [(ex.id, it.name) for ex in all_exercises()
                                         for it in ex.items if ex.id[:2] <= "13"])
def test_every_item_has_hidden_cases_that_need_working_code(ex_id, name):
    ex = get_exercise(ex_id)
    item = ex.item(name)
    from rnncourse.grading.judge.judge import trivially_passed
    cases = build_plan(ex, 1).cases[ex.items.index(item)]
    exps = [execute_plan(item.reference(), item.calls, c, list(item.outputs)) for c in cases]
    assert any(not trivially_passed(item, c, e) for c, e in zip(cases, exps))


def test_exercise_2_a_broken_given_forward_costs_no_backward_points(graded):
    broken = _scores(graded, "02_bptt-wrong-forward")
    for name in ("rnn_step_backward", "rnn_backward"):
        assert broken[name][0] == broken[name][1] > 0, broken[name]
    wrong = _scores(graded, "02_bptt-wrong-backward")   # rnn_backward calls it: both wrong
    assert wrong["rnn_step_backward"][0] == 0 and wrong["rnn_backward"][0] == 0
