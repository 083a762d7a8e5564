"""The opt-out ``--isolation user`` (platforms without namespaces): its positive path, for real.

The kernel runs as a separate unprivileged uid (one per job slot), never as the grader's own user.
That needs root, and a Python that other users can run: the venv of this repository is made from
an interpreter under ``/root`` (private), so the grader refuses to start with it (tested below),
and the positive test runs the grader with the system's ``/usr/bin/python3.X`` of the same version
(the same ABI as the venv's packages), as a Gradescope image would. The course package, the
submissions and the output folder are a private copy (``chmod go-rwx``), as the instructor page
asks. A correct notebook scores full marks, a stub 0, and a notebook that tries to read or write
the grader's files, signal the grader or peek at the other slot loses a point for every attempt
that works (so its full marks prove that none did).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from fixtures.grading_nb import STUB, solution_cells, write

from rnncourse.grading.judge.jail import SLOT_UID_BASE, Jail, SandboxError, others_can_use

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}")
SITE = sysconfig.get_path("purelib")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="--isolation user needs root")


@needs_root
def test_a_python_other_users_cannot_run_is_refused(tmp_path, monkeypatch):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "python").write_bytes(b"")
    os.chmod(private / "python", 0o755)
    jail = Jail("user", tmp_path)
    monkeypatch.setattr("rnncourse.grading.judge.jail.others_can_read", lambda path: False)
    monkeypatch.setattr(jail, "exe", str(private / "python"))
    with pytest.raises(SandboxError, match="cannot be used by another user .* private"):
        jail.check()
    assert others_can_use(Path("/usr/bin/env")) and not others_can_use(private / "python")


def _probe_cell(pkg: Path, subs: Path, out: Path) -> str:
    """Every attempt that works is a mistake; softmax is broken once per mistake."""
    return f'''import os, signal
mistakes, tried, finished = [], [], []
_right = softmax
def softmax(o):   # defined first: a probe that stops half-way costs points too
    return _right(o) + sum(2.0 ** k for k in mistakes) + (0 if finished else 2.0 ** 20)
def attempt(what, fn):
    tried.append(what)
    try:
        fn()
        mistakes.append(len(tried))     # the error's size names what worked
    except OSError:
        pass
if os.getuid() == 0 or os.geteuid() == 0 or os.getuid() == {os.geteuid()}:
    mistakes.append(0)
attempt("read the registry", lambda: open({str(pkg / "rnncourse/grading/judge/registry.py")!r}).read())
attempt("read a submission", lambda: open({str(subs / "good.ipynb")!r}).read())
attempt("list the submissions", lambda: os.listdir({str(subs)!r}))
attempt("write the output folder", lambda: open({str(out / "forged.json")!r}, "w").write("x"))
attempt("overwrite a results file", lambda: open({str(out / "good.json")!r}, "a").write("x"))
attempt("change the package", lambda: open({str(pkg / "rnncourse/__init__.py")!r}, "a").write("x"))
attempt("write a submission", lambda: open({str(subs / "good.ipynb")!r}, "a").write("x"))
attempt("signal the grader", lambda: os.kill(os.getppid(), 0))
attempt("read the grader's environment", lambda: open(f"/proc/{{os.getppid()}}/environ").read())
scratch = os.path.dirname(os.environ["HOME"])          # <batch>/slot-N/home
if not (os.path.basename(scratch).startswith("slot-") and os.listdir(scratch)):
    mistakes.append(19)
if not (os.getcwd().startswith(scratch + "/") and os.environ.get("IPYTHONDIR", "").startswith(scratch + "/")):
    mistakes.append(18)                                 # a folder shared with the other slot
batch = os.path.dirname(scratch)
other = os.path.join(batch, "slot-1" if scratch.endswith("slot-0") else "slot-0")
attempt("list the batch folder", lambda: os.listdir(batch))
attempt("enter the other slot (if it is there now)", lambda: os.listdir(other))
attempt("write into the other slot", lambda: open(os.path.join(other, "x"), "w"))
open("/tmp/rnncourse-user-probe-" + str(os.getuid()), "w").write("left behind")
finished.append(True)
'''


@pytest.fixture(scope="module")
def user_batch(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("--isolation user needs root")
    if not (SYSTEM_PYTHON.exists() and others_can_use(SYSTEM_PYTHON)):
        pytest.skip(f"no {SYSTEM_PYTHON} that other users can run (the venv's own Python is "
                    "private here, and --isolation user refuses it)")
    if not others_can_use(Path(SITE)):
        pytest.skip(f"the venv's packages ({SITE}) are not readable by other users")
    base = tmp_path_factory.mktemp("user-isolation")
    top = base / "private"
    top.mkdir(mode=0o700)
    pkg, subs, out = top / "pkg", top / "subs", top / "out"
    shutil.copytree(ROOT / "rnncourse", pkg / "rnncourse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    write(subs / "good.ipynb", solution_cells())
    write(subs / "stub.ipynb", solution_cells(**STUB))
    write(subs / "probe.ipynb", solution_cells(after=[_probe_cell(pkg, subs, out)]))
    for path in (pkg, subs):
        subprocess.run(["chmod", "-R", "go-rwx", str(path)], check=True)
    (top / "seed").write_text("20261203\n")
    before = {p: p.read_bytes() for p in sorted(subs.glob("*.ipynb"))}
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{pkg}:{SITE}", "LANG": "C.UTF-8"}
    proc = subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "rnncourse", "grade", str(subs), "--out", str(out),
         "--isolation", "user", "--seed-file", str(top / "seed"), "--jobs", "2",
         "--cell-timeout", "30", "--timeout", "120", "--case-timeout", "5", "--quiet"],
        env=env, cwd=str(base), capture_output=True, text=True, timeout=600)
    results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")
               if p.stem not in ("batch",)}
    # the same, with the seed in a file every user can read: refused before anything runs
    fd, open_seed = tempfile.mkstemp(prefix="rnncourse-open-seed-", dir="/tmp")
    try:
        os.write(fd, b"20261203\n")
        os.close(fd)
        os.chmod(open_seed, 0o644)
        refused = subprocess.run(
            [str(SYSTEM_PYTHON), "-m", "rnncourse", "grade", str(subs), "--out",
             str(top / "out2"), "--isolation", "user", "--seed-file", open_seed, "--quiet"],
            env=env, cwd=str(base), capture_output=True, text=True, timeout=300)
    finally:
        os.unlink(open_seed)
    return proc, results, before, subs, out, refused


def test_user_isolation_grades_for_real(user_batch):
    proc, results, *_ = user_batch
    assert proc.returncode == 0, proc.stderr[-3000:]
    refused = user_batch[-1]
    assert refused.returncode == 2 and "open-seed-" in refused.stderr, refused.stderr[-2000:]
    assert "is readable by other users" in refused.stderr, \
        refused.stderr[-2000:]
    assert not (Path(user_batch[4]).parent / "out2" / "good.json").exists()
    assert results["good"]["score"] == 8.0
    assert results["stub"]["score"] == 0.0
    assert all(t["status"] == "passed" for t in results["good"]["tests"])


def test_the_kernel_cannot_touch_the_grader_or_the_other_slot(user_batch):
    proc, results, before, subs, out, _ = user_batch
    probe = results["probe"]
    softmax = next(t for t in probe["tests"] if t["name"].startswith("softmax"))
    assert softmax["score"] == softmax["max_score"], softmax["output"]   # no attempt worked
    assert probe["score"] == 8.0
    assert {p: p.read_bytes() for p in sorted(subs.glob("*.ipynb"))} == before
    assert not (out / "forged.json").exists()
    assert "PYTHONPATH" not in json.dumps(results)


def test_nothing_of_the_kernels_users_is_left_behind(user_batch):
    uids = {SLOT_UID_BASE, SLOT_UID_BASE + 1}
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        for entry in os.scandir(folder):
            try:
                owner = entry.stat(follow_symlinks=False).st_uid
            except OSError:
                continue
            assert owner not in uids, entry.path
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as fh:
                uid = next(int(line.split()[1]) for line in fh if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        assert uid not in uids, pid
