"""The judge (grader process): plain data in, points out; and the source checks for shortcuts.

No sandbox here: harness records and arrays are built by hand, as a hostile sandbox could build them.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from rnncourse.grading.judge.cases import build_plan
from rnncourse.grading.judge.forbidden import (UNCHECKED, CellSource, forbidden_uses, matches,
                                               parse_notebook)
from rnncourse.grading.judge.judge import clean_record, judge_item, load_arrays
from rnncourse.grading.judge.registry import get_exercise
from rnncourse.grading.sandbox import harness as kh
from rnncourse.grading.sandbox import wire
from rnncourse.grading.sandbox.plan import execute_plan

EX = get_exercise("01_unfolding")
FORBIDDEN = ("rnncourse.layers", "torch", "scipy.special")


def _npz(arrays: dict) -> bytes:
    return wire.npz_bytes(arrays)


def _record(n_cases, **case_fields) -> dict:
    case = {"error": None, "where": "", "outputs": {}, "seconds": 0.0, **case_fields}
    return {"item": "x", "objects": {}, "cases": [dict(case) for _ in range(n_cases)],
            "aborted": False}


def _expected(item, cases):
    return [execute_plan(item.reference(), item.calls, c, item.outputs) for c in cases]


_DEFAULT = object()


def _judge(item_name, arrays, record=_DEFAULT, units=(), note=""):
    hp = build_plan(EX, 11)
    index = [i.name for i in EX.items].index(item_name)
    item, cases = EX.items[index], hp.cases[index]
    record = _record(len(cases)) if record is _DEFAULT else record
    return judge_item(EX, item, cases, record,
                      arrays(item, cases) if callable(arrays) else arrays, list(units), note, 2.0)


def _correct(item, cases, tweak=lambda k, a: a):
    out = {}
    for k, exp in enumerate(_expected(item, cases)):
        for name, value in exp.items():
            out[f"c{k}_{name}"] = tweak(k, np.asarray(value, dtype=np.float64))
    return _npz(out)


# -- scoring -------------------------------------------------------------------------------------
def test_correct_outputs_get_full_points():
    result = _judge("rnn_forward", _correct)
    assert (result.score, result.status, result.passed_cases) == (3.0, "passed", 4)
    assert result.output.startswith("4/4 hidden cases passed.")


def test_partial_credit_and_messages_without_reference_values():
    def two_wrong(item, cases):
        return _correct(item, cases, lambda k, a: a if k < 2 else (a + 0.5 if k == 2 else a.T))
    result = _judge("rnn_forward", two_wrong)
    assert result.score == 1.5 and result.status == "failed"
    cases = build_plan(EX, 11).cases[2]
    x, h0 = cases[2]["x"].shape, cases[2]["h0"].shape
    assert f"case 3 [x {x}, h0 {h0}" in result.output
    assert "outside tolerance; max abs error 5.00e-01" in result.output
    N, T, _ = cases[3]["x"].shape
    H = cases[3]["h0"].shape[1]
    assert "case 4" in result.output and f"wrong shape: expected {(N, T, H)}, got {(H, T, N)}" in result.output
    assert "Hint:" in result.output


def test_scalar_outputs_never_echo_the_expected_value():
    hp = build_plan(EX, 11)
    expected = _expected(EX.item("sequence_loss"), hp.cases[3])
    result = _judge("sequence_loss", lambda item, cases: _correct(item, cases, lambda k, a: a + 1.0))
    assert result.score == 0
    for exp in expected:
        assert f"{exp['loss']:.3g}"[:5] not in result.output


@pytest.mark.parametrize("value, message", [
    (np.array([np.nan]), "NaN/inf"),
    (np.array([True]), "expected numbers, got booleans"),
])
def test_bad_values(value, message):
    result = _judge("sequence_loss", lambda item, cases: _npz(
        {f"c{k}_loss": value.reshape(()) for k in range(len(cases))}))
    assert result.score == 0 and message in result.output


def test_non_numeric_outputs_and_errors_from_the_record():
    rec = _record(4, outputs={"p": "AlwaysEqual"})
    assert "p: expected a numeric array, got AlwaysEqual" in _judge("softmax", b"", rec).output
    rec = _record(4, error="ValueError: bad", where="in softmax, line 3: x = 1")
    assert "raised ValueError: bad (in softmax, line 3: x = 1)" in _judge("softmax", b"", rec).output
    rec = _record(4, error="timeout")
    assert "took longer than 2 s" in _judge("softmax", b"", rec).output


def test_unreadable_or_forged_records_earn_nothing():
    for record in (None, "not json", [], {"cases": "x"}, {"cases": [{}] * 9}, b"\xff\xfe"):
        result = _judge("softmax", _correct, record=record, note="the kernel died")
        assert result.score == 0, record
        assert "Not graded: the kernel died" in result.output or "hidden cases" in result.output
    # a record that claims success but sends no arrays
    assert _judge("softmax", b"").score == 0
    assert "no value came back" in _judge("softmax", b"").output


def test_arrays_are_plain_data_only():
    buf = io.BytesIO()
    np.savez(buf, c0_p=np.array([object()], dtype=object), c1_p=np.array(["a"]),
             c2_p=np.array([1 + 2j]), c3_p=np.ones(2))
    got = load_arrays(buf.getvalue(), ["c0_p", "c1_p", "c2_p", "c3_p", "c4_p"])
    assert list(got) == ["c3_p"]
    assert load_arrays(b"PK\x03\x04garbage", ["c0_p"]) == {}
    assert load_arrays(None, ["c0_p"]) == {}
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w", zipfile.ZIP_DEFLATED) as zf:  # a zip bomb is not expanded
        zf.writestr("c0_p.npy", wire.npy_bytes(np.zeros(5_000_000)))
    assert load_arrays(huge.getvalue(), ["c0_p"]) == {}
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as zf:  # compressed at all: refused
        zf.writestr("c0_p.npy", wire.npy_bytes(np.ones(3)))
    assert load_arrays(small.getvalue(), ["c0_p"]) == {}


def test_a_zip_directory_of_a_million_entries_is_refused_before_it_is_parsed(monkeypatch):
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as zf:
        for k in range(5000):                       # over the limit of 4096 entries
            zf.writestr(f"x{k}", b"")
        zf.writestr("c0_p.npy", wire.npy_bytes(np.ones(2)))
    parsed = []
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents",
                        lambda self: parsed.append(1))      # it must never get that far
    assert load_arrays(many.getvalue(), ["c0_p"]) == {} and parsed == []
    # a forged end record that claims few entries over a huge directory is refused too
    raw = bytearray(many.getvalue())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8:at + 12] = (3).to_bytes(2, "little") * 2
    assert load_arrays(bytes(raw), ["c0_p"]) == {} and parsed == []


def test_clean_record_normalises_hostile_fields():
    raw = {"cases": [{"error": 3, "where": ["x"], "outputs": {"p": {"a": 1}},
                      "failed_call": ["f"], "seconds": "slow"}],
           "objects": {"f": {"found": True}}}
    rec = clean_record(raw, 4)
    assert rec["cases"][0] == {"error": None, "where": "", "outputs": {"p": ""}, "failed_call": ""}


# -- dependencies: "fix X first" -------------------------------------------------------------------
def test_a_wrong_forward_is_named_when_the_backward_fails_on_it():
    ex = get_exercise("05_gru")
    item = ex.item("gru_step_backward")
    hp = build_plan(ex, 4)
    cases = hp.cases[ex.items.index(item)]
    arrays = {}
    for k, case in enumerate(cases):
        exp = execute_plan(item.reference(), item.calls, case, list(item.outputs) + ["next_h"])
        for name, value in exp.items():
            arrays[f"c{k}_{name}"] = np.asarray(value) + (0.5 if k % 2 else 0.0)
    result = judge_item(ex, item, cases, _record(len(cases)), _npz(arrays), [], "", 2.0)
    assert result.passed_cases == (len(cases) + 1) // 2
    assert "fix gru_step_forward first" in result.output
    assert "is run on what your gru_step_forward returns" in result.output
    rec = _record(len(cases), error="ValueError: bad", failed_call="gru_step_forward")
    result = judge_item(ex, item, cases, rec, b"", [], "", 2.0)
    assert result.score == 0 and "fix gru_step_forward first: it raised ValueError" in result.output


# -- the source check (AST) ----------------------------------------------------------------------
def _uses(*cells, objects=("softmax",), forbidden=FORBIDDEN):
    units = parse_notebook([CellSource(i + 1, c) for i, c in enumerate(cells)])
    return [u.name for u in forbidden_uses(units, objects, forbidden)]


SOFTMAX = "def softmax(o):\n    e = np.exp(o - o.max(-1, keepdims=True))\n    return e / e.sum(-1, keepdims=True)"


@pytest.mark.parametrize("cells", [
    ("import numpy as np\nfrom rnncourse.grading import check", SOFTMAX, "check('01_unfolding.softmax', softmax)"),
    ("import numpy as np\nimport rnncourse.data, rnncourse.plot\nimport torch", SOFTMAX,
     "print(torch.__version__)\nref = torch.softmax(torch.ones(3), 0)"),
    ("import numpy as np\nfrom rnncourse.layers import softmax as ref_softmax", SOFTMAX,
     "assert np.allclose(softmax(np.ones(3)), ref_softmax(np.ones(3)))"),
    ("import numpy as np", "def softmax(torch):\n    return np.exp(torch) / np.exp(torch).sum(-1, keepdims=True)"),
    ("%matplotlib inline\nimport numpy as np\n!echo hi", SOFTMAX, "%timeit softmax(np.ones(3))"),
])
def test_legitimate_notebooks_pass_the_source_check(cells):
    assert _uses(*cells) == []


@pytest.mark.parametrize("cells, name", [
    (("import rnncourse.layers as L", "def softmax(o):\n    return L.softmax(o)"), "rnncourse.layers.softmax"),
    (("from rnncourse import layers", "def softmax(o):\n    return layers.softmax(o)"), "rnncourse.layers.softmax"),
    (("from rnncourse.layers import softmax as f", "def softmax(o):\n    return f(o)"), "rnncourse.layers.softmax"),
    (("from rnncourse.layers import softmax",), "rnncourse.layers.softmax"),
    (("import rnncourse.layers as L\nsoftmax = L.softmax",), "rnncourse.layers.softmax"),
    (("def softmax(o):\n    m = __import__('rnncourse.layers', fromlist=['x'])\n    return m.softmax(o)",),
     "rnncourse.layers.softmax"),
    (("import importlib\nm = importlib.import_module('torch')", "def helper(o):\n    return m.softmax(o)",
      "def softmax(o):\n    return helper(o)"), "torch.softmax"),
    (("from importlib import import_module as im\ndef softmax(o):\n    return im('scipy.special').softmax(o)",),
     "scipy.special.softmax"),
    (("import rnncourse", "def softmax(o):\n    return getattr(rnncourse.layers, 'softmax')(o)"),
     "rnncourse.layers.softmax"),
    (("import sys, rnncourse.layers", "def softmax(o):\n    return sys.modules['rnncourse.layers'].softmax(o)"),
     "rnncourse.layers.softmax"),
    (("from rnncourse.layers import *", "def softmax(o):\n    return temporal(o)"), "rnncourse.layers"),
    (("def softmax(o):\n    import torch\n    return torch.tensor(o).softmax(-1).numpy()",), "torch.tensor"),
    (("import rnncourse.layers as L", "def softmax(o):\n    return o", "softmax.__code__ = L.softmax.__code__"),
     "rnncourse.layers.softmax.__code__"),
    (("import numpy as np\nimport rnncourse.layers as L", SOFTMAX, "np.exp = L.softmax"), "rnncourse.layers.softmax"),
    (("def setup():\n    global softmax\n    import rnncourse.layers as L\n    softmax = L.softmax", "setup()"),
     "rnncourse.layers.softmax"),
    (("%%time\nimport torch\ndef softmax(o):\n    return torch.softmax(o, -1)",), "torch.softmax"),
    (("exec('from rnncourse.layers import softmax')",), "rnncourse.layers.softmax"),
    (("try:\n    from rnncourse.layers import softmax\nexcept ImportError:\n    pass",), "rnncourse.layers.softmax"),
])
def test_shortcuts_are_found_through_aliases(cells, name):
    assert name in _uses(*cells)


def test_only_the_items_own_code_counts():
    cells = ("import numpy as np\nimport torch", SOFTMAX,
             "def rnn_forward(x, h0, Wx, Wh, b):\n    return torch.zeros(1), None")
    assert _uses(*cells, objects=("softmax",)) == []
    assert _uses(*cells, objects=("rnn_forward",)) == ["torch", "torch.zeros"]
    lstm = ("from torch import nn", "def f(x):\n    return nn.LSTM(3, 4)(x)")
    assert _uses(*lstm, objects=("f",), forbidden=("torch.nn.LSTM",)) == ["torch.nn.LSTM"]
    assert _uses(*lstm, objects=("f",), forbidden=("torch.nn.GRU",)) == []


def test_code_too_deep_to_analyse_fails_closed():
    # a kernel that raised its recursion limit can run code that the grader cannot parse
    for deep in ("import numpy as np\nx = np" + ".a" * 5000,
                 "def softmax(o):\n    return " + "-" * 5000 + "o"):
        units = parse_notebook([CellSource(1, deep)])
        assert [u.name for u in forbidden_uses(units, ("softmax",), FORBIDDEN)] == [UNCHECKED]
        assert forbidden_uses(units, ("softmax",), ()) == []
    result = judge_item(EX, EX.item("softmax"), build_plan(EX, 1).cases[0], None, None, units, "x", 1.0)
    assert result.score == 0 and "cannot verify" in result.output


def test_the_source_check_is_linear_and_bounded():
    # a chain of 30,000 assignments used to take the analysis quadratic time (an hour for 0.8 MB)
    chain = "import torch as a0\n" + "".join(f"a{i} = a{i - 1}\n" for i in range(1, 30000))
    cells = [CellSource(1, chain), CellSource(2, "def softmax(o):\n    return a29999.exp(o)\n")]
    uses = forbidden_uses(parse_notebook(cells), ("softmax",), FORBIDDEN)
    assert [u.name for u in uses][:1] == ["torch"]          # followed to the end, and found
    units = parse_notebook(cells, max_chars=100_000)        # more code than the check reads
    uses = forbidden_uses(units, ("softmax",), FORBIDDEN)
    assert uses[0].name == UNCHECKED and "more than 100,000 characters" in uses[0].text
    result = judge_item(EX, EX.item("softmax"), build_plan(EX, 1).cases[0], None, None, units,
                        "x", 1.0)
    assert result.score == 0 and "more than 100,000 characters of code" in result.output


def test_matches_is_by_dotted_prefix():
    assert matches("torch.nn.LSTM", "torch") and matches("torch", "torch")
    assert not matches("torchvision.x", "torch") and not matches("rnncourse", "rnncourse.layers")


# -- the sandbox's harness pieces, run here -------------------------------------------------------
@pytest.mark.parametrize("arr", [np.arange(6.0).reshape(2, 3), np.array(2.5), np.array([True, False]),
                                 np.arange(4, dtype=">i4"), np.zeros((0, 3)), np.ones((2, 1, 2), np.float32)])
def test_npy_writer_round_trips(arr):
    plain, why = kh.to_plain(arr)
    assert why is None
    back = np.lib.format.read_array(io.BytesIO(wire.npy_bytes(plain)), allow_pickle=False)
    assert back.shape == arr.shape and np.array_equal(back, arr) and back.dtype.kind == arr.dtype.kind


def test_harness_reduces_values_to_plain_arrays():
    class Sub(np.ndarray):
        pass
    arr, why = kh.to_plain(np.ones(3).view(Sub))
    assert type(arr) is np.ndarray and why is None
    assert kh.to_plain([1.0, 2.0]) == (None, "list")
    assert kh.to_plain(np.array([1j])) == (None, "ndarray of dtype complex128")
    assert kh.to_plain(3.5)[0].shape == ()


def test_cases_travel_as_plain_data_and_hidden_shapes_are_drawn():
    hp = build_plan(EX, 123456789)
    assert "123456789" not in json.dumps(hp.manifest)       # the seed never leaves the grader
    for i, item in enumerate(EX.items):
        for k, case in enumerate(hp.cases[i]):
            back = wire.unpack_case(hp.manifest[i]["cases"][k], hp.arrays, k, f"i{i}_")
            assert back.keys() == case.keys()
            assert all(np.array_equal(back[n], case[n]) for n in case)
    visible = [c["x"].shape for c in EX.item("rnn_forward").draw(np.random.default_rng(0))]
    drawn = {tuple(c["x"].shape for c in build_plan(EX, s).cases[2]) for s in range(6)}
    assert all(shapes != tuple(visible) for shapes in drawn) and len(drawn) > 1
    assert all(shapes[1] == (1, 1, 2) or shapes[1][:2] == (1, 1) for shapes in drawn)  # edge kept
