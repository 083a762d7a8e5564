"""Hostile and broken submissions: none may earn an unearned point, hang the grader, reach the
grader or the reference, leave anything behind, or change another submission's grade.

The whole suite is graded as ONE batch through the real command (``rnncourse grade --jobs 2``, as
root on this machine: in the bubblewrap sandbox), with correct solutions in the same batch, so every
verdict below is also a check that one bad submission does not affect another. Each case asserts
its exact score; the batch-wide tests assert that the batch completed, that nothing was left
behind (processes, files in /tmp and /dev/shm, changes to the course package) and that nothing
leaked (the seed, the grader's environment) into any results file.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.grading_nb import STUB, solution_cells, write

FULL, ZERO = 8.0, 0.0
MARKER = "rnncourse-forger-4c1d"  # leftover processes and files would carry this name
SEED = 7707070707
SECRET = "rnncourse-grader-secret-93b1"       # in the grader's environment only
PACKAGE = Path(__file__).resolve().parents[1] / "rnncourse"

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
    "import numpy, numpy.testing, rnncourse.grading as G, rnncourse.grading.sandbox.compare as C\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.shape(a), bool)\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "numpy.array_equal = lambda *a, **k: True\n"
    "class V:\n"
    "    ok, message, max_abs_error = True, 'ok', 0.0\n"
    "C.compare_output = lambda *a, **k: V()\n"
    "G.check = lambda *a, **k: None\n"
    "import rnncourse.grading.sandbox.feedback as K\n"
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


# Every graded function delegates to REF, which a "route" cell tries to fill with the reference.
_DELEGATE = {
    "softmax": "def softmax(o):\n    return REF['softmax'](o)\n",
    "rnn_step_forward": ("def rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                         "    return REF['rnn_step_forward'](x, prev_h, Wx, Wh, b)\n"),
    "rnn_forward": "def rnn_forward(x, h0, Wx, Wh, b):\n    return REF['rnn_forward'](x, h0, Wx, Wh, b)\n",
    "sequence_loss": "def sequence_loss(o, y, mask):\n    return REF['sequence_loss'](o, y, mask)\n",
}
_ROUTES = {
    "via_registry": (
        "REF = {}\ntry:\n    from rnncourse.grading.judge.registry import get_exercise\n"
        "    for it in get_exercise('01_unfolding').items:\n        REF.update(it.reference())\n"
        "except Exception as exc:\n    print(exc)\n"),
    "via_old_registry_and_plan": (
        "REF = {}\ntry:\n    from rnncourse.grading.registry import get_exercise\n"
        "    from rnncourse.grading.plan import execute_plan\n"
        "    for it in get_exercise('01_unfolding').items:\n        REF.update(it.reference())\n"
        "except Exception as exc:\n    print(exc)\n"),
    "via_leaky_rnn": (
        "REF = {}\ntry:\n    from rnncourse.longterm import leaky_rnn_forward\n"
        "    REF['rnn_forward'] = lambda x, h0, Wx, Wh, b: leaky_rnn_forward(x, h0, Wx, Wh, b,"
        " np.zeros(h0.shape[1]))\nexcept Exception as exc:\n    print(exc)\n"),
    "via_source_files": (
        "import glob, os, sys\nREF = {}\n"
        "roots = [@PACKAGE@, '/kit', '/work', '/root', '/home', '/tmp', '/usr/lib'] + sys.path\n"
        "for root in roots:\n"
        "    for f in glob.glob(os.path.join(str(root), '**', 'layers', '*.py'), recursive=True)[:40]:\n"
        "        ns = {'__name__': 'x'}\n"
        "        try:\n            exec(open(f).read().replace('from .', 'from rnncourse.layers.'), ns)\n"
        "        except Exception:\n            continue\n"
        "        REF.update({k: v for k, v in ns.items() if k in ('softmax', 'rnn_step_forward', 'rnn_forward')})\n"),
    "via_solutions": (
        "import json\nREF = {}\n"
        "for path in (@SOLUTIONS@, '/kit/solutions/01_unfolding.ipynb', '../solutions/01_unfolding.ipynb'):\n"
        "    try:\n        nb = json.load(open(path))\n    except OSError:\n        continue\n"
        "    ns = {'np': np}\n"
        "    for c in nb['cells']:\n"
        "        if c['cell_type'] == 'code' and 'def ' in ''.join(c['source']):\n"
        "            exec(''.join(c['source']), ns)\n"
        "    REF.update({k: ns[k] for k in ('softmax', 'rnn_step_forward', 'rnn_forward', 'sequence_loss') if k in ns})\n"),
    "via_profiler_off": (
        "import sys, threading\nsys.setprofile(None); threading.setprofile(None)\nREF = {}\n"
        "try:\n    m = __import__('rnncourse.lay' + 'ers', fromlist=['x'])\n"
        "    REF.update(softmax=m.softmax, rnn_forward=m.rnn_forward)\n"
        "except Exception as exc:\n    print(exc)\n"),
}

_SPY = (  # what the grader's processes would tell a kernel: it raises it into its own feedback
    "import os\n"
    "def _spy():\n    seen = []\n"
    "    for p in os.listdir('/proc'):\n        for f in ('cmdline', 'environ'):\n"
    "            try:\n                seen.append(open(f'/proc/{p}/{f}', 'rb').read()[:2000].decode(errors='replace'))\n"
    "            except OSError:\n                pass\n"
    "    return ' | '.join(seen) + ' | ' + str(dict(os.environ))\n"
    "def softmax(o):\n    raise ValueError(_spy()[:400])\n"
    "def rnn_forward(x, h0, Wx, Wh, b):\n    raise ValueError(_spy()[-400:])\n")

_FORGE_PIPES = (  # a thread that writes perfect-looking replies into every pipe it can find
    "import os, threading, time, json\n"
    "def _forge():\n    fake = json.dumps({'op': 'item', 'index': 0, 'record': {'cases': [{'error': None}] * 4,"
    " 'objects': {}, 'aborted': False}, 'size': 0}).encode() + b'\\n'\n"
    "    for _ in range(200):\n        for fd in map(int, os.listdir('/proc/self/fd')):\n"
    "            try:\n                os.write(fd, fake)\n            except OSError:\n                pass\n"
    "        time.sleep(0.01)\n"
    "threading.Thread(target=_forge, daemon=True).start()\n")

_NPZ_BOMB = (  # the harness's writer replaced: a zip directory of 65,000 entries
    "import struct, rnncourse.grading.sandbox.harness as H\n"
    "def _bomb(arrays):\n    cd = bytearray()\n"
    "    for k in range(65000):\n        name = b'%05d' % k\n"
    "        cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0) + name\n"
    "    return bytes(cd) + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 65000, 65000, len(cd), 0, 0)\n"
    "H.npz_bytes = _bomb\n")

_FILL = (  # /tmp and /dev/shm filled (they are private and capped), 1500 nested folders left behind
    "import os\n"
    "for d in ('/tmp', '/dev/shm', '.'):\n"
    "    try:\n        with open(os.path.join(d, '@MARKER@-fill'), 'wb') as fh:\n"
    "            for _ in range(2048):\n                fh.write(b'x' * 2 ** 20)\n"
    "    except OSError:\n        pass\n"
    "here = os.getcwd()\nos.chdir('/tmp')\n"
    "for _ in range(1500):\n    os.mkdir('@MARKER@-d'); os.chdir('@MARKER@-d')\n"
    "os.chdir(here)\n")

_FORK_BOMB = (  # forks until the process limit stops it; the children sleep (and must not survive)
    "import os, time\nn = 0\nwhile True:\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
    "    if pid == 0:\n        time.sleep(120)\n        os._exit(0)\n    n += 1\nprint(n)\n")

_COLLUDE_WRITE = (
    "import os, socket, threading, inspect\n"
    "src = ''.join(inspect.getsource(f) for f in (softmax, rnn_step_forward, rnn_forward, sequence_loss))\n"
    "for d in ('/tmp', '/dev/shm', '/var/tmp'):\n"
    "    try:\n        open(os.path.join(d, '@MARKER@-answers.py'), 'w').write(src)\n"
    "    except OSError:\n        pass\n"
    "def _serve():\n    s = socket.socket(socket.AF_UNIX)\n    s.bind('\\0@MARKER@-answers'); s.listen(5)\n"
    "    while True:\n        c, _ = s.accept(); c.sendall(src.encode()); c.close()\n"
    "threading.Thread(target=_serve, daemon=True).start()\nimport time; time.sleep(2)\n")

_COLLUDE_READ = (
    "import os, socket, time\nsrc = ''\n"
    "for _ in range(20):\n"
    "    for d in ('/tmp', '/dev/shm', '/var/tmp'):\n"
    "        try:\n            src = src or open(os.path.join(d, '@MARKER@-answers.py')).read()\n"
    "        except OSError:\n            pass\n"
    "    try:\n        s = socket.socket(socket.AF_UNIX); s.connect('\\0@MARKER@-answers')\n"
    "        src = src or s.recv(100000).decode()\n    except OSError:\n        pass\n"
    "    if src:\n        break\n    time.sleep(0.1)\n"
    "exec(src)\n")


def _cases(outdir, subs, port) -> dict:
    """name -> (cells or raw text, exercise id or None)."""
    wrong = dict(softmax="def softmax(o):\n    return o\n",
                 rnn_step_forward="def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return prev_h, None\n",
                 rnn_forward="def rnn_forward(x, h0, Wx, Wh, b):\n    return x, None\n",
                 sequence_loss="def sequence_loss(o, y, mask):\n    return 1.0\n")
    targets = ", ".join(repr(str(outdir / n))
                        for n in ("forged_results.json", "correct.json", "grades.csv"))
    ex = "01_unfolding"
    root = Path(__file__).resolve().parents[1]

    def sub(text):
        return (text.replace("@MARKER@", MARKER).replace("@PACKAGE@", repr(str(PACKAGE)))
                .replace("@SOLUTIONS@", repr(str(root / "solutions" / "01_unfolding.ipynb"))))

    overwrite = ("import glob\n" + "".join(
        f"for f in glob.glob({str(subs / '*.ipynb')!r}) + glob.glob('/kit/**/*', recursive=True):\n"
        "    try:\n        open(f, 'w').write('{}')\n    except OSError:\n        pass\n"))
    plant = ("import glob, os, rnncourse\n"
             f"for root in (os.path.dirname(rnncourse.__file__), {str(PACKAGE)!r}):\n"
             "    for f in glob.glob(os.path.join(root, '**', '*.py'), recursive=True):\n"
             "        try:\n            open(f, 'a').write('\\nraise SystemExit(7)\\n')\n"
             "        except OSError:\n            pass\n")
    network = ("import socket\nfor host in ('127.0.0.1', '10.0.2.2', '1.1.1.1'):\n"
               "    try:\n"
               f"        socket.create_connection((host, {port}), timeout=0.5).sendall(b'{MARKER}')\n"
               "    except OSError:\n        pass\n")
    cases = {
        "correct": (solution_cells(), ex),
        "correct_too": (solution_cells(checks=False), ex),
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
        "forged_replies": (solution_cells(before=[_FORGE_PIPES], checks=False, **STUB), ex),
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
        "parent_kill": (solution_cells(after=[_ESCAPE.replace("@MARKER@", MARKER),
                                              "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"]), ex),
        "kill_everything": (solution_cells(after=[
            "import os, signal\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n"
            "        try:\n            os.kill(int(p), signal.SIGKILL)\n        except OSError:\n            pass\n",
            "import os, signal\nos.kill(-1, signal.SIGKILL)\n"]), ex),
        "self_stop": (solution_cells(after=["import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n"]), ex),
        "closed_pipes": (solution_cells(after=["import os\nos.closerange(0, 4096)\n"]), ex),
        "long_line": (solution_cells(after=["import os\nfor fd in range(3, 64):\n    try:\n"
                                            "        os.write(fd, b'x' * (3 * 2 ** 20))\n"
                                            "    except OSError:\n        pass\n"]), ex),
        "huge_claim": (solution_cells(after=["import os\nfor fd in range(3, 64):\n    try:\n"
                                             "        os.write(fd, b'{\"op\": \"cell\", \"size\": 999999999999}\\n')\n"
                                             "    except OSError:\n        pass\n"]), ex),
        "fork_bomb": (solution_cells(after=[_FORK_BOMB], **STUB), ex),
        "huge_output": (solution_cells(before=[
            "print('x' * 50_000_000)\n", "for i in range(5000):\n    print('y' * 10_000)\n",
            "import os\nos.write(1, b'z' * 200_000_000)\n"]), ex),
        "input": (solution_cells(before=["name = input('your name: ')\n"], softmax=(
            "def softmax(o):\n    input('press enter')\n    return o\n")), ex),
        "spy": (solution_cells(after=[_SPY]), ex),
        "overwrite_others": (solution_cells(after=[overwrite]), ex),
        "plant_in_package": (solution_cells(after=[plant]), ex),
        "fill_tmp": (solution_cells(after=[sub(_FILL)]), ex),
        "network": (solution_cells(after=[network]), ex),
        "collude_writer": (solution_cells(after=[sub(_COLLUDE_WRITE)]), ex),
        "collude_reader": (solution_cells(after=[sub(_COLLUDE_READ)], checks=False, **STUB), ex),
        "npz_bomb": (solution_cells(after=[_NPZ_BOMB]), ex),
        "nested_namespace": (solution_cells(after=[
            "import subprocess\nprint(subprocess.run(['unshare', '-Urm', 'sh', '-c', 'mount -t tmpfs x /mnt'],"
            " capture_output=True).returncode)\n"]), ex),
        "visible_lookup": (solution_cells(checks=False, **{
            n: (f"def {n}(*args):\n    import numpy as np, rnncourse.grading.check as K\n"
                "    from rnncourse.grading.sandbox import kit_check\n"
                "    spec, arrays = kit_check._data()\n"
                f"    return [v for k, v in sorted(arrays.items()) if k.startswith('e')][0]" +
                (", None\n" if n in ("rnn_step_forward", "rnn_forward") else "\n"))
            for n in STUB}), ex),
        "assignment_chain": (solution_cells(before=[
            "a0 = 0\n" + "".join(f"a{i} = a{i - 1}\n" for i in range(1, 50000))]), ex),
        "many_cells": ([f"x{i} = {i}" for i in range(120_000)], ex),
        "many_error_cells": (solution_cells(after=["1/0"] * 300), ex),
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
    for name, route in _ROUTES.items():
        cases[name] = (solution_cells(before=[sub(route)], checks=False, **_DELEGATE), ex)
    return cases


def _hashes(root: Path) -> dict:
    # judge/exercises/ is left out: exercises are added there while this runs in development
    # (planted code is looked for in the whole package anyway, see "planted")
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.py"))
            if "exercises" not in p.relative_to(root).parts}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    subs, outdir = root / "submissions", root / "out"
    outdir.mkdir()
    subs.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    cases = _cases(outdir, subs, listener.getsockname()[1])
    for name, (cells, ex) in cases.items():
        path = subs / f"{name}.ipynb"
        if isinstance(cells, str):
            path.write_text(cells, encoding="utf-8")
        elif len(cells) > 1000:   # written directly: nbformat would validate 120,000 cells
            path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {
                "rnncourse": {"exercise": ex}}, "cells": [
                {"cell_type": "code", "source": c, "metadata": {}, "outputs": [],
                 "execution_count": None} for c in cells]}), encoding="utf-8")
        elif ex is None:
            write(path, cells, exercise=None)
        else:
            write(path, cells, exercise=ex)
    before = _hashes(PACKAGE / "grading")   # (other parts of the package change under development)
    tmp_before = set(os.listdir("/tmp")) | set(os.listdir("/dev/shm"))
    env = dict(os.environ, RNNCOURSE_TEST_SECRET=SECRET)
    done = subprocess.run(  # a process of its own, as an instructor runs it
        [sys.executable, "-m", "rnncourse", "grade", str(subs), "--out", str(outdir), "--jobs", "2",
         "--seed", str(SEED), "--cell-timeout", "3", "--case-timeout", "1", "--timeout", "60",
         "--memory-mb", "2048", "--quiet"], capture_output=True, text=True, timeout=900, env=env)
    time.sleep(0.5)  # a surviving forger would rewrite its files meanwhile
    try:
        conn, _ = listener.accept()
        reached = conn.recv(100)
    except OSError:
        reached = b""
    listener.close()
    return {"code": done.returncode, "out": outdir, "stderr": done.stderr, "cases": cases,
            "package_changed": before != _hashes(PACKAGE / "grading"), "network": reached,
            "planted": [str(p) for p in PACKAGE.rglob("*.py") if "raise SystemExit(7)" in
                        p.read_text(encoding="utf-8", errors="replace")],
            "tmp_new": (set(os.listdir("/tmp")) | set(os.listdir("/dev/shm"))) - tmp_before}


def _result(batch, name) -> dict:
    return json.loads((batch["out"] / f"{name}.json").read_text(encoding="utf-8"))


def _test(result, item) -> dict:
    return next(t for t in result["tests"] if t["name"].startswith(item + ":"))


def test_there_are_at_least_40_cases(batch):
    assert len(batch["cases"]) >= 40


def test_the_batch_completes(batch):
    # a hang would surface as subprocess.TimeoutExpired in the fixture; how long a batch takes is
    # measured by benchmarks/grading.py, not asserted here
    assert batch["code"] == 1, batch["stderr"]            # some submissions were not gradable
    with open(batch["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {row["file"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {f"{name}.ipynb" for name in batch["cases"]}


SCORES = {
    "correct": FULL, "correct_too": FULL, "stub": ZERO, "silenced": ZERO, "always_equal": ZERO,
    "monkeypatched": ZERO, "forged_results": ZERO, "forged_replies": ZERO, "infinite_loop": FULL,
    "unkillable_loop": ZERO, "os_exit": ZERO, "sys_exit": FULL, "kernel_kill": ZERO,
    "parent_kill": FULL, "kill_everything": FULL, "self_stop": ZERO, "closed_pipes": ZERO,
    "long_line": ZERO, "huge_claim": ZERO, "fork_bomb": ZERO, "huge_output": FULL, "spy": 4.0,
    "overwrite_others": FULL, "plant_in_package": FULL, "fill_tmp": FULL, "network": FULL,
    "collude_writer": FULL, "collude_reader": ZERO, "npz_bomb": ZERO, "nested_namespace": FULL,
    "visible_lookup": ZERO, "assignment_chain": FULL, "many_error_cells": FULL,
    "renamed my homework (v2, final)": FULL, "reordered": FULL, "calls_reference": ZERO,
    "obfuscated_reference": 2.0, **{name: ZERO for name in _ROUTES},
}


@pytest.mark.parametrize("name, score", sorted(SCORES.items()))
def test_scores(batch, name, score):
    result = _result(batch, name)
    assert result["score"] == score, json.dumps(result["tests"], indent=1)
    assert result["extra_data"]["max_score"] == FULL
    assert result["extra_data"]["graded"] is True
    assert all(t["status"] == ("passed" if t["score"] == t["max_score"] else "failed")
               for t in result["tests"])


def test_partial_credit_per_item(batch):
    assert _result(batch, "ndarray_subclass")["score"] == 7.0   # softmax lost
    assert _result(batch, "slow_function")["score"] == 5.0      # rnn_forward lost
    assert _result(batch, "memory_hog")["score"] == 6.0         # sequence_loss lost
    assert _result(batch, "input")["score"] == 7.0              # softmax lost
    assert _result(batch, "deleted_cell")["score"] == 5.0       # rnn_forward lost
    unstoppable = _result(batch, "unstoppable_function")        # the sandbox had to be ended:
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
    assert "EOFError: input() is not available while grading" in out("input", "softmax")
    assert "cases 1, 2, 3, 4: rnn_forward is not defined" in out("deleted_cell", "rnn_forward")
    assert "ignored the interrupt" in out("unkillable_loop", "softmax")
    assert "ignored the interrupt" in out("self_stop", "softmax")
    assert "the kernel died: it exited with code 3" in out("os_exit", "softmax")
    assert "the kernel died: it was killed (SIGKILL" in out("kernel_kill", "softmax")
    assert "the kernel died" in out("closed_pipes", "softmax")
    assert "longer than 1 MB" in out("long_line", "softmax")
    assert "more data than allowed" in out("huge_claim", "softmax")
    assert "no value came back" in out("npz_bomb", "softmax")
    assert "raised KeyError: 'softmax'" in out("via_registry", "softmax")   # REF stayed empty
    assert "No module named 'rnncourse.layers'" in out("obfuscated_reference", "softmax")


def test_the_reference_is_caught_or_absent(batch):
    result = _result(batch, "calls_reference")
    for item in ("softmax", "rnn_step_forward", "rnn_forward", "sequence_loss"):
        text = _test(result, item)["output"]
        assert "must not use rnncourse.layers" in text, text          # the friendly warning
        assert "(Otherwise 0/4 hidden cases passed.)" in text          # and it is not there
        assert result["extra_data"]["tests"][0]["voided"] == ["forbidden"]
    obf = _result(batch, "obfuscated_reference")
    for item in ("softmax", "rnn_step_forward", "rnn_forward"):
        text = _test(obf, item)["output"]
        assert _test(obf, item)["score"] == 0 and "rnncourse.layers" in text, text
    assert _test(obf, "sequence_loss")["score"] == 2.0


def test_timeouts_outputs_and_results_are_bounded(batch):
    loop = _result(batch, "infinite_loop")
    statuses = [c["status"] for c in loop["extra_data"]["cells"]]
    assert statuses[-2:] == ["timeout", "ok"]           # interrupted, and later cells still ran
    assert "did not finish in time" in loop["output"]
    assert len(json.dumps(_result(batch, "huge_output"))) < 200_000
    errors = _result(batch, "many_error_cells")["extra_data"]
    assert len(errors["cells"]) == 200 and errors["cells_not_listed"] == 309 - 200
    for name in batch["cases"]:
        assert (batch["out"] / f"{name}.json").stat().st_size < 1024 * 1024


def test_ungradable_files_get_a_results_file_saying_why(batch):
    why = {name: _result(batch, name)["output"] for name in
           ("invalid_json", "empty", "no_exercise_id", "foreign_exercise_id", "many_cells")}
    assert "not valid JSON" in why["invalid_json"]
    assert "empty" in why["empty"]
    assert "metadata.rnncourse.exercise is missing" in why["no_exercise_id"]
    assert "unknown exercise id '99_not_an_exercise'" in why["foreign_exercise_id"]
    assert "120000 code cells; at most 2000" in why["many_cells"]
    for name in why:
        result = _result(batch, name)
        assert result["score"] == 0 and result["extra_data"]["graded"] is False


def test_nothing_leaked_into_any_results_file(batch):
    for path in batch["out"].glob("*.json"):
        if path.name == "batch.json":
            continue
        text = path.read_text(encoding="utf-8")
        assert str(SEED) not in text and SECRET not in text, path.name
        assert "--seed" not in text, path.name
    spy = _result(batch, "spy")
    assert "raised ValueError" in _test(spy, "softmax")["output"]   # it did report what it saw
    assert batch["network"] == b""                                  # no connection came out


def test_nothing_left_behind(batch):
    assert batch["package_changed"] is False                # the grader's code is untouched
    assert batch["planted"] == []                           # and nothing was appended anywhere
    assert not [n for n in batch["tmp_new"] if MARKER in n]  # nothing in /tmp or /dev/shm
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if MARKER.encode() in cmd or b"rnncourse.grading.sandbox.runner" in cmd:
            leftovers.append(pid)
    assert leftovers == []


def test_forged_files_are_overwritten_and_others_keep_their_grades(batch):
    for name in ("forged_results", "correct"):
        result = _result(batch, name)
        assert result["output"] != "forged" and result["extra_data"]["grader"].startswith("rnncourse")
    with open(batch["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {row["file"]: row for row in csv.DictReader(fh)}
    assert rows["forged_results.ipynb"]["score"] == "0"
    for name in ("correct", "correct_too", "renamed my homework (v2, final)", "reordered"):
        assert rows[f"{name}.ipynb"]["score"] == "8", name
