"""The judge (grader process): plain data in, points out; and the source checks for shortcuts.

No kernel here: harness records and arrays are built by hand, as a hostile kernel could build them.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from rnncourse.grading import kernel_harness as kh
from rnncourse.grading.forbidden import (UNCHECKED, CellSource, forbidden_uses, matches,
                                         parse_notebook)
from rnncourse.grading.harness import build_plan, item_code, setup_code
from rnncourse.grading.judge import clean_record, judge_item, load_arrays
from rnncourse.grading.plan import execute_plan
from rnncourse.grading.registry import get_exercise

EX = get_exercise("01_unfolding")
FORBIDDEN = ("rnncourse.layers", "torch", "scipy.special")


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key, arr in arrays.items():
            zf.writestr(key + ".npy", kh._npy_bytes(arr))
    return buf.getvalue()


def _record(n_cases, **case_fields) -> bytes:
    case = {"error": None, "where": "", "outputs": {}, "seconds": 0.0, "calls": [], **case_fields}
    return json.dumps({"item": "x", "objects": {}, "cases": [dict(case) for _ in range(n_cases)],
                       "aborted": False}).encode()


def _expected(item, cases):
    return [execute_plan(item.reference(), item.calls, c, item.outputs) for c in cases]


_DEFAULT = object()


def _judge(item_name, arrays, record=_DEFAULT, units=(), note=""):
    hp = build_plan(EX, 11)
    index = [i.name for i in EX.items].index(item_name)
    item, cases = EX.items[index], hp.cases[index]
    record = _record(len(cases)) if record is _DEFAULT else record
    return judge_item(item, cases, record, arrays(item, cases) if callable(arrays) else arrays,
                      list(units), note, 2.0)


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
    assert "case 3 [x (3, 7, 2), h0 (3, 4)" in result.output
    assert "outside tolerance; max abs error 5.00e-01" in result.output
    assert "case 4" in result.output and "wrong shape: expected (2, 10, 5), got (5, 10, 2)" in result.output
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
    for record in (None, b"not json", b"[]", b'{"cases": "x"}', json.dumps(
            {"cases": [{}] * 9}).encode(), b"\xff\xfe"):
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
        zf.writestr("c0_p.npy", kh._npy_bytes(np.zeros(5_000_000)))
    assert load_arrays(huge.getvalue(), ["c0_p"]) == {}


def test_clean_record_normalises_hostile_fields():
    raw = json.dumps({"cases": [{"error": 3, "where": ["x"], "outputs": {"p": {"a": 1}},
                                 "calls": [["m", "f"], "bad", [1, 2, 3]], "trace_lost": "yes"}],
                      "objects": {"f": {"found": True}}}).encode()
    rec = clean_record(raw, 4)
    assert rec["cases"][0] == {"error": None, "where": "", "outputs": {"p": ""},
                               "calls": [("m", "f")], "trace_lost": False}


# -- runtime evidence from the kernel --------------------------------------------------------------
def test_calls_into_forbidden_modules_void_the_item():
    rec = _record(4, calls=[["numpy", ""], ["rnncourse.layers.losses", "/x/losses.py"]])
    result = _judge("softmax", _correct, rec)
    assert result.score == 0 and "called into rnncourse.layers.losses" in result.output
    import rnncourse.layers.losses as losses
    rec = _record(4, calls=[["innocent", losses.__file__]])    # renamed module, same file
    assert _judge("softmax", _correct, rec).score == 0
    rec = _record(4, trace_lost=True)
    assert "call trace" in _judge("softmax", _correct, rec).output


def test_graded_object_that_is_the_reference_voids_the_item():
    rec = json.loads(_record(4))
    rec["objects"] = {"softmax": {"found": True, "in_notebook": False,
                                  "origin": "rnncourse.layers.losses.softmax"}}
    result = _judge("softmax", _correct, json.dumps(rec).encode())
    assert result.score == 0 and "softmax is rnncourse.layers.losses.softmax" in result.output


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
    result = judge_item(EX.item("softmax"), build_plan(EX, 1).cases[0], None, None, units, "x", 1.0)
    assert result.score == 0 and "cannot verify" in result.output


def test_matches_is_by_dotted_prefix():
    assert matches("torch.nn.LSTM", "torch") and matches("torch", "torch")
    assert not matches("torchvision.x", "torch") and not matches("rnncourse", "rnncourse.layers")


# -- the in-kernel harness's pieces, run here --------------------------------------------------------
@pytest.mark.parametrize("arr", [np.arange(6.0).reshape(2, 3), np.array(2.5), np.array([True, False]),
                                 np.arange(4, dtype=">i4"), np.zeros((0, 3)), np.ones((2, 1, 2), np.float32)])
def test_hand_rolled_npy_writer_round_trips(arr):
    plain, why = kh._to_plain(arr)
    assert why is None
    back = np.lib.format.read_array(io.BytesIO(kh._npy_bytes(plain)), allow_pickle=False)
    assert back.shape == arr.shape and np.array_equal(back, arr) and back.dtype.kind == arr.dtype.kind


def test_harness_reduces_values_to_plain_arrays():
    class Sub(np.ndarray):
        pass
    arr, why = kh._to_plain(np.ones(3).view(Sub))
    assert type(arr) is np.ndarray and why is None
    assert kh._to_plain([1.0, 2.0]) == (None, "list")
    assert kh._to_plain(np.array([1j])) == (None, "ndarray of dtype complex128")
    assert kh._to_plain(3.5)[0].shape == ()


def test_harness_code_embeds_no_seed_and_hides_its_names():
    hp = build_plan(EX, 123456789)
    code = setup_code(hp, "/x/in.npz", "/x/out", 1.0) + item_code(hp, 0)
    assert "123456789" not in code and hp.token in code
    assert "_rnncourse_run_" + hp.token in code
    assert build_plan(EX, 1).token != hp.token
    compile(code, "<harness>", "exec")
