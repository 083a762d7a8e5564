"""One submission in its sandbox: every cell runs, only plain data comes back, nothing is left.

These run the real sandbox (bubblewrap). Grading as root on this machine must use it: there is no
silent fallback, and a missing sandbox fails closed.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures.grading_nb import solution_cells

from rnncourse.grading.judge.grade import Options, _Batch
from rnncourse.grading.judge.jail import Jail, Limits, SandboxError, others_can_read
from rnncourse.grading.judge.judge import clean_record, load_arrays
from rnncourse.grading.judge.registry import get_exercise
from rnncourse.grading.judge.session import RunError, run_notebook

EX = get_exercise("01_unfolding")
FAST = Limits(cell_timeout=4, total_timeout=30, case_timeout=1, memory_mb=2048)


@pytest.fixture(scope="module")
def batch():
    b = _Batch(Options(limits=FAST, seed=3), jobs=1)
    yield b
    b.close()


def _run(batch, cells, limits=FAST):
    kit, plan = batch.prepare(EX)
    return run_notebook(batch.jail, kit, 0, [(i + 2, c) for i, c in enumerate(cells)], plan,
                        limits), plan


def test_every_cell_runs_and_errors_do_not_stop_the_notebook(batch):
    run, _ = _run(batch, ["x = 1", "1/0", "y = x + 1\nprint(y)", "undefined_name"])
    assert [(c.index, c.status) for c in run.cells] == [(2, "ok"), (3, "error"), (4, "ok"), (5, "error")]
    assert run.cells[1].ename == "ZeroDivisionError" and run.cells[2].output == "2\n"
    assert run.cells[3].ename == "NameError"
    assert [i.status for i in run.items] == ["ok"] * 4     # the harness ran anyway
    assert run.kernel_message == "" and run.kernel_exit == "exit 0"


def test_results_come_back_as_plain_data(batch):
    run, plan = _run(batch, solution_cells())
    for i, item in enumerate(EX.items):
        rec = clean_record(run.items[i].record, len(plan.cases[i]))
        assert rec is not None and all(c["error"] is None for c in rec["cases"])
        keys = [f"c{k}_{n}" for k in range(len(plan.cases[i])) for n in item.outputs]
        assert set(load_arrays(run.items[i].arrays, keys)) == set(keys)


def test_the_sandbox_sees_no_grader_no_network_no_reference(batch, monkeypatch):
    monkeypatch.setenv("RNNCOURSE_TEST_SECRET", "s3cret")
    probe = (
        "import os, socket, sys\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "env = ' '.join(open(f'/proc/{p}/environ', 'rb').read().decode(errors='replace')\n"
        "               for p in pids if os.access(f'/proc/{p}/environ', os.R_OK))\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1); net = 'online'\n"
        "except OSError:\n    net = 'offline'\n"
        "import rnncourse\n"
        "umap = [l.split()[:2] for l in open('/proc/self/uid_map') if l.split()[0] == '1000']\n"
        "print(repr((os.getuid(), pids[:2], 'secret' in env or 's3cret' in str(os.environ), net,\n"
        "      sorted(os.listdir(os.path.dirname(rnncourse.__file__))), os.path.exists('/work'),\n"
        "      umap[0])))\n")
    run, _ = _run(batch, [probe, "input('name? ')"])
    uid, pids, leaked, net, package, work, umap = eval(run.cells[0].output.strip().split("\n")[0])
    assert uid == 1000 and pids == [1, 2] and leaked is False and net == "offline"
    # plotting is one module or a package (then whole); nothing else of the library (compiled
    # once per batch: __pycache__)
    assert package[:5] == ["__init__.py", "__pycache__", "data", "gradcheck.py", "grading"]
    assert package[5:] in (["plot.py"], ["plot"])
    assert work is False
    if os.geteuid() == 0:   # grading as root: the sandbox's processes are not root outside
        assert umap[0] == "1000" and umap[1] not in ("0", str(os.geteuid()))
    assert run.cells[1].status == "error" and run.cells[1].ename == "EOFError"


def test_the_kit_has_no_registry_references_or_solutions(batch):
    code = ("import importlib, os\nfound = []\n"
            "for m in ('rnncourse.grading.judge', 'rnncourse.grading.judge.registry',"
            " 'rnncourse.layers', 'rnncourse.longterm', 'torch', 'scipy'):\n"
            "    try:\n        importlib.import_module(m); found.append(m)\n"
            "    except ImportError:\n        pass\n"
            "print(found, os.path.exists('/kit/solutions'), [p for p in ('solutions', 'exercises')"
            " if os.path.exists(os.path.join('/kit', p))])")
    run, _ = _run(batch, [code])
    assert run.cells[0].output.strip() == "[] False []"


def test_timeouts_interrupt_then_skip_what_is_left(batch):
    limits = Limits(cell_timeout=2, total_timeout=3, case_timeout=1, memory_mb=2048)
    run, _ = _run(batch, ["import time\ntime.sleep(30)", "time.sleep(30)", "x = 1"], limits)
    assert [c.status for c in run.cells] == ["timeout", "timeout", "skipped"]
    assert "total time limit (3 s)" in run.kernel_message
    assert [i.status for i in run.items] == ["ok"] * 4     # the sandbox is still usable


def test_output_is_capped(batch):
    limits = Limits(cell_timeout=10, total_timeout=30, case_timeout=1, memory_mb=2048, output_cap=1000)
    run, _ = _run(batch, ["print('z' * 3_000_000)", "import os\nos.write(1, b'q' * 50_000_000)"], limits)
    assert run.cells[0].status == "ok" and len(run.cells[0].output) == 1000
    assert run.cells[1].status == "ok"


def test_memory_tmp_and_shm_are_capped(batch):
    cells = ["big = bytearray(16 * 1024 ** 3)", "ok = 1",
             "import os\ndef fill(path):\n    try:\n        with open(path, 'wb') as fh:\n"
             "            for _ in range(4096):\n                fh.write(b'x' * 2 ** 20)\n"
             "    except OSError as exc:\n        return exc.errno\n    return 0\n"
             "print(fill('/tmp/big'), fill('/dev/shm/big'))"]
    # generous time: a loaded machine must not turn "ran out of space" into "ran out of time"
    run, _ = _run(batch, cells, Limits(cell_timeout=60, total_timeout=120, case_timeout=1,
                                       memory_mb=1024, tmp_mb=32))
    assert run.cells[0].ename == "MemoryError" and run.cells[1].status == "ok"
    assert run.cells[2].output.split() == ["28", "28"]            # ENOSPC: both are capped


def test_a_sandbox_that_cannot_start_is_a_run_error(batch):
    with pytest.raises(RunError, match="did not start"):
        _run(batch, ["x = 1"], Limits(memory_mb=400, tmp_mb=256))


def test_processes_and_files_are_gone_afterwards(batch):
    marker = f"rnncourse-runner-test-{os.getpid()}"
    spawn = ("import os, subprocess, sys\n"
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'],"
             " start_new_session=True)\n"
             f"open('/tmp/{marker}', 'w').write('x'); open('/dev/shm/{marker}', 'w').write('x')\n"
             "print(os.getcwd())")
    run, _ = _run(batch, [spawn])
    assert run.cells[0].output.strip() == "/tmp/work"
    left = [(pid, _cmdline(pid)) for pid in os.listdir("/proc") if pid.isdigit()
            and marker in _cmdline(pid) and "pytest" not in _cmdline(pid)]
    assert left == [], (run.kernel_exit, left)
    assert not os.path.exists(f"/tmp/{marker}") and not os.path.exists(f"/dev/shm/{marker}")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def test_no_sandbox_no_grading(tmp_path, monkeypatch):
    jail = Jail("bwrap", tmp_path)
    monkeypatch.setattr(jail, "bwrap", None)
    with pytest.raises(SandboxError, match="bubblewrap .* not installed.*--isolation user"):
        jail.check()
    with pytest.raises(SandboxError, match="unknown isolation"):
        Jail("none", tmp_path)


def test_a_sandbox_that_cannot_be_made_stops_the_batch(tmp_path, monkeypatch):
    from fixtures.grading_nb import write

    from rnncourse.grading.judge import grade

    nb = write(tmp_path / "s.ipynb", solution_cells())
    monkeypatch.setattr(Jail, "_bwrap_args", lambda self, kit, slot, info, limits: ["/bin/sh", "-c",
                        "echo 'bwrap: No permissions to create new namespace' >&2; exit 1"])
    with pytest.raises(SandboxError, match="did not start .*No permissions to create new namespace"):
        grade.grade_files([nb], Options(limits=FAST, seed=1))


def test_the_user_opt_out_never_runs_as_the_graders_user(tmp_path, monkeypatch):
    jail = Jail("user", tmp_path)
    monkeypatch.setattr(jail, "as_root", False)
    with pytest.raises(SandboxError, match="needs root"):
        jail.check()
    if os.geteuid() == 0:
        # here the course package is readable by everyone: a kernel of another user could read
        # the references, so the opt-out refuses to run
        with pytest.raises(SandboxError, match="readable by other users"):
            Jail("user", tmp_path).check()


def test_others_can_read(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    os.chmod(tmp_path, 0o755)
    os.chmod(f, 0o644)
    assert others_can_read(f) is others_can_read(Path(tmp_path))
    os.chmod(f, 0o600)
    assert others_can_read(f) is False
