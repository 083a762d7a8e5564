"""Hostile and broken submissions: none may earn an unearned point, hang the grader, or stop others.

The whole suite is graded as ONE batch through the real command (``rnncourse grade --jobs 2``), with
a correct solution in the same batch, so every verdict below is also a check that one bad
submission does not affect another. Each test then reads the verdict of one submission.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

import pytest
from fixtures.grading_nb import STUB, solution_cells, write

from rnncourse.grading.runner import resolve_kernel_user

FULL, ZERO = 8.0, 0.0
# As root the grader runs kernels as 'nobody' (when that user can run Python): a kernel then
# cannot even signal its warden, so killing it fails and the notebook carries on.
SAME_USER = resolve_kernel_user("auto") is None
MARKER = "rnncourse-forger-4c1d"  # a leftover forger process would carry this in its command line

_SILENCE = (
    "import sys, os\n"
    "ip = get_ipython()\n"
    "ip.showtraceback = lambda *a, **k: None\n"
    "ip._showtraceback = lambda *a, **k: None\n"
    "sys.stderr = open(os.devnull, 'w')\n"
    "sys.excepthook = lambda *a: None\n")

_EQ = (
    "class AlwaysEqual:\n"
    "    def __eq__(self, other): return True\n"
    "    def __ne__(self, other): return False\n"
    "    def __array__(self, dtype=None, copy=None): return np.zeros(1)\n"
    "    shape = property(lambda self: (3, 5))\n")

_SUBCLASS = (
    "class Liar(np.ndarray):\n"
    "    def __eq__(self, other): return np.ones(np.shape(other), bool)\n"
    "    def __array_ufunc__(self, *a, **k): return np.zeros(3)\n"
    "    def __array_function__(self, *a, **k): return True\n"
    "    def __float__(self): return 0.0\n")

_PATCH = (
    "import numpy, numpy.testing, rnncourse.grading as G, rnncourse.grading.compare as C\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.shape(a), bool)\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "numpy.array_equal = lambda *a, **k: True\n"
    "class V:\n"
    "    ok, message, max_abs_error = True, 'ok', 0.0\n"
    "C.compare_output = lambda *a, **k: V()\n"
    "G.check = lambda *a, **k: None\n"
    "import rnncourse.grading.check as K\n"
    "K.compare_output = C.compare_output\n")

_FORGE = (
    "import json, os, subprocess, sys, threading, time\n"
    "FAKE = json.dumps({'score': 8.0, 'max_score': 8.0, 'output': 'forged', 'tests': []})\n"
    "TARGETS = [@TARGETS@]\n"
    "def forge():\n"
    "    for t in TARGETS + ['results.json', '../results.json', os.path.expanduser('~/results.json')]:\n"
    "        try:\n"
    "            open(t, 'w').write(FAKE)\n"
    "        except OSError:\n"
    "            pass\n"
    "forge()\n"
    "def loop():\n"
    "    while True:\n"
    "        forge(); time.sleep(0.02)\n"
    "threading.Thread(target=loop, daemon=True).start()\n"
    "daemon = ('import os, sys, time\\n'\n"
    "          'if os.fork(): os._exit(0)\\n'\n"
    "          'os.setsid()\\n'\n"
    "          'end = time.time() + 60\\n'\n"
    "          'while time.time() < end:\\n'\n"
    "          '    for t in sys.argv[2:]:\\n'\n"
    "          '        try: open(t, \"w\").write(sys.argv[1])\\n'\n"
    "          '        except OSError: pass\\n'\n"
    "          '    time.sleep(0.02)\\n')\n"
    "subprocess.Popen([sys.executable, '-c', daemon, FAKE] + TARGETS + ['@MARKER@'],\n"
    "                 start_new_session=True, stdin=subprocess.DEVNULL)\n")

_ESCAPE = (  # a double-forked, setsid'd sleeper, started just before the kernel kills its warden
    "import subprocess, sys\n"
    "code = 'import os, time\\nif os.fork(): os._exit(0)\\nos.setsid()\\ntime.sleep(120)\\n'\n"
    "subprocess.Popen([sys.executable, '-c', code, '@MARKER@'], start_new_session=True)\n"
    "import time; time.sleep(0.5)\n")

_REFERENCE = {
    "softmax": "import rnncourse.layers as L\n\ndef softmax(o):\n    return L.softmax(o)\n",
    "rnn_step_forward": ("from rnncourse import layers\n\n"
                         "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                         "    return layers.rnn_step_forward(x, prev_h, Wx, Wh, b)\n"),
    "rnn_forward": "from rnncourse.layers import rnn_forward as f\n\nrnn_forward = f\n",
    "sequence_loss": ("import importlib\nlosses = importlib.import_module('rnncourse.layers.losses')\n\n"
                      "def sequence_loss(o, y, mask):\n"
                      "    return losses.temporal_softmax_loss(o, y, mask)[0]\n"),
}

_OBFUSCATED = {
    "softmax": ("def softmax(o):\n"
                "    m = getattr(__builtins__, '__imp' + 'ort__')('rnn' + 'course.la' + 'yers', None, None, ['x'])\n"
                "    return getattr(m, 'soft' + 'max')(o)\n"),
    "rnn_step_forward": ("exec('def rnn_step_forward(x, prev_h, Wx, Wh, b):\\n'\n"
                         "     '    import rnncourse.layers as M\\n'\n"
                         "     '    return M.rnn_step_forward(x, prev_h, Wx, Wh, b)\\n'.replace('M', 'LL'))\n"),
    "rnn_forward": ("import sys\n_mods = sys.modules\n\n"
                    "def rnn_forward(x, h0, Wx, Wh, b):\n"
                    "    __import__('rnncourse.' + 'layers')\n"
                    "    return vars(_mods['rnncourse.' + 'layers'])['rnn_' + 'forward'](x, h0, Wx, Wh, b)\n"),
}


def _cases(outdir) -> dict:
    """name -> (cells or raw text, exercise id or None)."""
    wrong = dict(softmax="def softmax(o):\n    return o\n",
                 rnn_step_forward="def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return prev_h, None\n",
                 rnn_forward="def rnn_forward(x, h0, Wx, Wh, b):\n    return x, None\n",
                 sequence_loss="def sequence_loss(o, y, mask):\n    return 1.0\n")
    targets = ", ".join(repr(str(outdir / n))
                        for n in ("forged_results.json", "correct.json", "grades.csv"))
    ex = "01_unfolding"
    return {
        "correct": (solution_cells(), ex),
        "stub": (solution_cells(**STUB), ex),
        "silenced": (solution_cells(before=[_SILENCE], **{
            n: s.replace("    return", "    raise ValueError('hidden')\n    return", 1)
            for n, s in wrong.items()}), ex),
        "always_equal": (solution_cells(before=[_EQ], checks=False, **{
            n: f"def {n}(*args):\n    return AlwaysEqual()\n" if n in ("softmax", "sequence_loss")
            else f"def {n}(*args):\n    return AlwaysEqual(), None\n" for n in STUB}), ex),
        "ndarray_subclass": (solution_cells(before=[_SUBCLASS], checks=False, softmax=(
            "def softmax(o):\n    return np.zeros_like(o).view(Liar)\n")), ex),
        "monkeypatched": (solution_cells(before=[_PATCH], **wrong), ex),
        "forged_results": (solution_cells(before=[_FORGE.replace("@TARGETS@", targets).replace("@MARKER@", MARKER)],
                                          **STUB), ex),
        "infinite_loop": (solution_cells(after=["while True:\n    pass\n", "print('after')"]), ex),
        "unkillable_loop": (solution_cells(after=[
            "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
            "    except BaseException:\n        pass\n"]), ex),
        "slow_function": (solution_cells(rnn_forward=(
            "def rnn_forward(x, h0, Wx, Wh, b):\n    while True:\n        pass\n")), ex),
        "unstoppable_function": (solution_cells(checks=False, rnn_forward=(
            "import time\n\ndef rnn_forward(x, h0, Wx, Wh, b):\n    while True:\n        try:\n"
            "            time.sleep(0.05)\n        except BaseException:\n            pass\n")), ex),
        "memory_hog": (solution_cells(before=[
            "big = bytearray(64 * 1024 ** 3)\n",
            "hog = []\nwhile True:\n    hog.append(bytearray(10 ** 7))\n", "del hog\n"],
            sequence_loss="def sequence_loss(o, y, mask):\n    return np.ones((10 ** 6, 10 ** 6)).sum()\n"), ex),
        "os_exit": (solution_cells(after=["import os\nos._exit(3)\n"]), ex),
        "sys_exit": (solution_cells(after=["import sys\nsys.exit(1)\n"]), ex),
        "kernel_kill": (solution_cells(after=["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"]), ex),
        "warden_kill": (solution_cells(after=[_ESCAPE.replace("@MARKER@", MARKER),
                                              "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"]), ex),
        "huge_output": (solution_cells(before=[
            "print('x' * 50_000_000)\n", "for i in range(5000):\n    print('y' * 10_000)\n"]), ex),
        "input": (solution_cells(before=["name = input('your name: ')\n"], softmax=(
            "def softmax(o):\n    input('press enter')\n    return o\n")), ex),
        "invalid_json": ('{"cells": [', None),
        "empty": ("", None),
        "no_exercise_id": (solution_cells(), None),
        "foreign_exercise_id": (solution_cells(), "99_not_an_exercise"),
        "renamed my homework (v2, final)": (solution_cells(), ex),
        "reordered": (list(reversed(solution_cells())), ex),
        "deleted_cell": ([c for c in solution_cells() if not c.startswith("def rnn_forward")], ex),
        "calls_reference": (solution_cells(**_REFERENCE), ex),
        "obfuscated_reference": (solution_cells(**_OBFUSCATED), ex),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    subs, outdir = root / "submissions", root / "out"
    outdir.mkdir()
    for name, (cells, ex) in _cases(outdir).items():
        path = subs / f"{name}.ipynb"
        if isinstance(cells, str):
            subs.mkdir(exist_ok=True)
            path.write_text(cells, encoding="utf-8")
        elif ex is None:
            write(path, cells, exercise=None)
        else:
            write(path, cells, exercise=ex)
    start = time.monotonic()
    done = subprocess.run(  # a process of its own, as an instructor runs it
        [sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(outdir), "--jobs", "2",
         "--seed", "7", "--cell-timeout", "3", "--case-timeout", "1", "--timeout", "60",
         "--memory-mb", "2048", "--quiet"], capture_output=True, text=True, timeout=240)
    code = done.returncode
    seconds = time.monotonic() - start
    time.sleep(0.5)  # a surviving forger would rewrite its files meanwhile
    return {"code": code, "out": outdir, "seconds": seconds}


def _result(batch, name) -> dict:
    return json.loads((batch["out"] / f"{name}.json").read_text(encoding="utf-8"))


def _test(result, item) -> dict:
    return next(t for t in result["tests"] if t["name"].startswith(item + ":"))


def test_batch_exit_code(batch):
    # a hang would surface as subprocess.TimeoutExpired in the fixture (timeout=240); how long a
    # batch takes is measured by benchmarks/grading.py, not asserted here
    assert batch["code"] == 1            # some submissions were not gradable


@pytest.mark.parametrize("name, score", [
    ("correct", FULL), ("stub", ZERO), ("silenced", ZERO), ("always_equal", ZERO),
    ("monkeypatched", ZERO), ("forged_results", ZERO), ("infinite_loop", FULL),
    ("unkillable_loop", ZERO), ("os_exit", ZERO), ("sys_exit", FULL), ("kernel_kill", ZERO),
    ("warden_kill", ZERO if SAME_USER else FULL), ("huge_output", FULL), ("renamed my homework (v2, final)", FULL),
    ("reordered", FULL), ("calls_reference", ZERO), ("obfuscated_reference", 2.0),
])
def test_scores(batch, name, score):
    result = _result(batch, name)
    assert result["score"] == score, json.dumps(result["tests"], indent=1)
    assert result["max_score"] == FULL
    assert result["extra_data"]["graded"] is True
    assert all(t["status"] == ("passed" if t["score"] == t["max_score"] else "failed")
               for t in result["tests"])


def test_partial_credit_per_item(batch):
    assert _result(batch, "ndarray_subclass")["score"] == 7.0   # softmax lost
    assert _result(batch, "slow_function")["score"] == 5.0      # rnn_forward lost
    assert _result(batch, "memory_hog")["score"] == 6.0         # sequence_loss lost
    assert _result(batch, "input")["score"] == 7.0              # softmax lost
    assert _result(batch, "deleted_cell")["score"] == 5.0       # rnn_forward lost
    unstoppable = _result(batch, "unstoppable_function")        # the kernel had to be killed:
    assert unstoppable["score"] == 3.0                          # items before it still count
    assert "did not finish" in _test(unstoppable, "rnn_forward")["output"]
    assert "kernel had stopped" in _test(unstoppable, "sequence_loss")["output"]


def test_messages_say_what_went_wrong(batch):
    def out(name, item):
        return _test(_result(batch, name), item)["output"]

    assert "expected a numeric array, got AlwaysEqual" in out("always_equal", "softmax")
    assert "outside tolerance" in out("ndarray_subclass", "softmax")
    assert "not implemented yet" in out("stub", "rnn_forward")
    assert "raised ValueError: hidden (in rnn_step_forward, line 2" in out("silenced", "rnn_step_forward")
    assert "took longer than 1 s" in out("slow_function", "rnn_forward")
    assert "MemoryError" in out("memory_hog", "sequence_loss")
    assert "StdinNotImplementedError" in out("input", "softmax")
    assert "cases 1, 2, 3, 4: rnn_forward is not defined" in out("deleted_cell", "rnn_forward")
    assert "ignored the interrupt" in out("unkillable_loop", "softmax")
    assert "the kernel died: it exited with code 3" in out("os_exit", "softmax")
    assert "the kernel died: it was killed (SIGKILL" in out("kernel_kill", "softmax")
    if SAME_USER:
        assert "the kernel died" in out("warden_kill", "softmax")


def test_reference_implementation_is_caught(batch):
    result = _result(batch, "calls_reference")
    for item in ("softmax", "rnn_step_forward", "rnn_forward", "sequence_loss"):
        text = _test(result, item)["output"]
        assert "must not use rnncourse.layers" in text, text
        assert "(Otherwise 4/4 hidden cases passed.)" in text
    obf = _result(batch, "obfuscated_reference")
    for item in ("softmax", "rnn_step_forward", "rnn_forward"):
        text = _test(obf, item)["output"]
        assert text.startswith("0 points") and "rnncourse.layers" in text, text
    assert _test(obf, "sequence_loss")["score"] == 2.0


def test_timeouts_and_outputs_are_reported(batch):
    loop = _result(batch, "infinite_loop")
    statuses = [c["status"] for c in loop["extra_data"]["cells"]]
    assert statuses[-2:] == ["timeout", "ok"]           # interrupted, and later cells still ran
    assert "did not finish in time" in loop["output"]
    huge = _result(batch, "huge_output")
    assert len(json.dumps(huge)) < 200_000              # captured output is capped


def test_ungradable_files_get_a_results_file_saying_why(batch):
    why = {name: _result(batch, name)["output"] for name in
           ("invalid_json", "empty", "no_exercise_id", "foreign_exercise_id")}
    assert "not valid JSON" in why["invalid_json"]
    assert "empty" in why["empty"]
    assert "metadata.rnncourse.exercise is missing" in why["no_exercise_id"]
    assert "unknown exercise id '99_not_an_exercise'" in why["foreign_exercise_id"]
    for name in why:
        result = _result(batch, name)
        assert result["score"] == 0 and result["extra_data"]["graded"] is False


def test_forged_files_are_overwritten_and_the_forger_is_dead(batch):
    for name in ("forged_results", "correct"):
        result = _result(batch, name)
        assert result["output"] != "forged" and result["extra_data"]["grader"].startswith("rnncourse")
    assert _result(batch, "correct")["score"] == FULL
    with open(batch["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {row["file"]: row for row in csv.DictReader(fh)}
    assert rows["forged_results.ipynb"]["score"] == "0"
    assert rows["correct.ipynb"]["score"] == "8"
    assert rows["renamed my homework (v2, final).ipynb"]["score"] == "8"
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if MARKER.encode() in fh.read():
                    leftovers.append(pid)
        except OSError:
            pass
    assert leftovers == []
