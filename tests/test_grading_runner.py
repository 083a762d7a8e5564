"""The runner: a fresh, limited kernel per notebook; every cell run; harness results as raw bytes."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import nbformat
import pytest
from fixtures.grading_nb import notebook, solution_cells

from rnncourse.grading import kernel_launcher
from rnncourse.grading.harness import build_plan
from rnncourse.grading.judge import clean_record, load_arrays
from rnncourse.grading.registry import get_exercise
from rnncourse.grading.runner import (Limits, RunError, read_regular_file, resolve_kernel_user,
                                      run_notebook)

EX = get_exercise("01_unfolding")
FAST = Limits(cell_timeout=4, total_timeout=30, case_timeout=1, memory_mb=2048)


def _run(cells, limits=FAST):
    data = nbformat.writes(notebook(cells)).encode()
    hp = build_plan(EX, 3)
    return run_notebook(data, "sub.ipynb", [(i + 2, c) for i, c in enumerate(cells)], hp, limits), hp


def test_every_cell_runs_and_errors_do_not_stop_the_notebook():
    run, _ = _run(["x = 1", "1/0", "y = x + 1\nprint(y)", "undefined_name"])
    assert [(c.index, c.status) for c in run.cells] == [(2, "ok"), (3, "error"), (4, "ok"), (5, "error")]
    assert run.cells[1].ename == "ZeroDivisionError" and run.cells[2].output == "2\n"
    assert run.cells[3].ename == "NameError"
    assert [i.status for i in run.items] == ["ok"] * 4     # the harness ran anyway
    assert run.kernel_message == "" and run.notebook_seconds > 0


def test_harness_results_come_back_as_bytes_and_are_plain_data():
    run, hp = _run(solution_cells())
    for i, item in enumerate(EX.items):
        rec = clean_record(run.items[i].record, len(hp.cases[i]))
        assert rec is not None and all(c["error"] is None for c in rec["cases"])
        keys = [f"c{k}_{n}" for k in range(len(hp.cases[i])) for n in item.outputs]
        assert set(load_arrays(run.items[i].arrays, keys)) == set(keys)
        assert rec["objects"][item.objects[0]]["in_notebook"] is True


def test_accidental_shadowing_does_not_break_the_harness():
    shadow = ("json = os = sys = signal = zipfile = time = threading = functools = None\n"
              "execute_plan = make_runner = copy = None\nprint = len = None\n")
    cells = solution_cells(after=[shadow])
    cells[0] = "import numpy as np\nfrom rnncourse.grading import check\nnumpy = None"
    run, hp = _run(cells)
    assert [i.status for i in run.items] == ["ok"] * 4
    assert all(clean_record(i.record, 4)["cases"][0]["error"] is None for i in run.items)


def test_no_stdin_and_a_scrubbed_environment(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_TEST_SECRET", "s3cret")
    start = time.monotonic()
    run, _ = _run(["import os\nprint(os.environ.get('RNNCOURSE_TEST_SECRET'), os.path.basename(os.getcwd()),"
                   " sorted(os.listdir('.')))", "input('name? ')"])
    assert run.cells[0].output == "None work ['sub.ipynb']\n"
    assert run.cells[1].ename == "StdinNotImplementedError"
    assert time.monotonic() - start < 20


def test_timeouts_interrupt_then_skip_what_is_left():
    limits = Limits(cell_timeout=2, total_timeout=3, case_timeout=1, memory_mb=2048)
    run, _ = _run(["import time\ntime.sleep(30)", "time.sleep(30)", "x = 1"], limits)
    assert [c.status for c in run.cells] == ["timeout", "timeout", "skipped"]
    assert "total time limit (3 s)" in run.kernel_message
    assert [i.status for i in run.items] == ["ok"] * 4     # the kernel is still usable


def test_output_is_capped():
    limits = Limits(cell_timeout=10, total_timeout=30, case_timeout=1, memory_mb=2048, output_cap=1000)
    run, _ = _run(["print('z' * 3_000_000)"], limits)
    assert run.cells[0].status == "ok" and len(run.cells[0].output) == 1000


def test_memory_cap_turns_a_hog_into_a_memory_error():
    run, _ = _run(["big = bytearray(16 * 1024 ** 3)", "ok = 1"])
    assert run.cells[0].ename == "MemoryError" and run.cells[1].status == "ok"


def test_a_kernel_that_cannot_start_is_a_run_error():
    with pytest.raises(RunError, match="kernel"):
        _run(["x = 1"], Limits(memory_mb=16))


def test_temp_folder_and_processes_are_gone_afterwards():
    marker = f"rnncourse-runner-test-{os.getpid()}"
    spawn = ("import os, subprocess, sys\n"
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'])\n"
             f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'],"
             " start_new_session=True)\n"
             "print(os.getcwd())")
    run, _ = _run([spawn])
    workdir = run.cells[0].output.strip()
    assert workdir.endswith("work") and not os.path.exists(workdir)
    assert not any(marker in " ".join(_cmdline(pid)) for pid in _pids())


def _pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def test_descendants_finds_a_whole_tree():
    proc = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 5
        while len(kernel_launcher.descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(kernel_launcher.descendants(proc.pid)) >= 2
    finally:
        for pid in kernel_launcher.descendants(proc.pid) + [proc.pid]:
            os.kill(pid, 9)
        proc.wait()


def test_read_regular_file_refuses_links_fifos_and_big_files(tmp_path):
    good = tmp_path / "good"
    good.write_bytes(b"data")
    assert read_regular_file(good, 10) == b"data"
    assert read_regular_file(good, 3) is None
    (tmp_path / "link").symlink_to(good)
    assert read_regular_file(tmp_path / "link", 10) is None
    os.mkfifo(tmp_path / "fifo")
    assert read_regular_file(tmp_path / "fifo", 10) is None     # and does not block
    assert read_regular_file(tmp_path / "missing", 10) is None
    assert read_regular_file(tmp_path, 10) is None


def test_kernel_user_resolution():
    assert resolve_kernel_user("same") is None
    with pytest.raises(ValueError, match="no such user"):
        resolve_kernel_user("no-such-user-rnncourse")
    auto = resolve_kernel_user("auto")
    assert auto is None or (os.geteuid() == 0 and len(auto) == 2)


def test_launcher_runs_without_the_package_on_its_path():
    # the launcher is started as a script: it must not import rnncourse (nor numpy) itself
    code = ("import runpy, sys; sys.argv = ['x', '--help']\n"
            f"try:\n    runpy.run_path({kernel_launcher.__file__!r}, run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('numpy' in sys.modules, 'rnncourse' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False False"
