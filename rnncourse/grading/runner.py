"""Execute a submission in a fresh, limited kernel and collect the harness's raw results.

One call of :func:`run_notebook` = one temp folder, one kernel, every code cell in order (an error
does not stop later cells; a cell past its time limit is interrupted, and if that fails the kernel is
killed), then the grading harness (:mod:`kernel_harness`) item by item. The harness files are read
only after the kernel and everything it started are dead, as bytes, from regular files of bounded
size; the temp folder is then deleted. Nothing here interprets the results: see :mod:`judge`.
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import harness
from .kernel import ExecResult, Kernel, KernelStartError, describe_exit

__all__ = ["Limits", "CellRun", "ItemRun", "RunResult", "RunError", "run_notebook",
           "read_regular_file", "resolve_kernel_user"]

_MAX_JSON = 2 * 1024 * 1024
_MAX_NPZ = 96 * 1024 * 1024


class RunError(RuntimeError):
    """The submission could not be run at all (the kernel did not start): not the student's doing."""


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 60.0
    total_timeout: float = 600.0
    case_timeout: float = 10.0
    memory_mb: int = 4096
    file_mb: int = 1024
    output_cap: int = 20_000          # characters of output kept per cell
    kernel_user: tuple | None = None  # (uid, gid) to run the kernel as, or None: the grader's


@dataclass
class CellRun:
    index: int                 # 1-based position among all cells of the notebook
    status: str                # ok | error | timeout | dead | skipped
    seconds: float = 0.0
    ename: str = ""
    evalue: str = ""
    output: str = ""


@dataclass
class ItemRun:
    status: str                # ok | error | timeout | dead | not-run
    message: str = ""
    record: bytes | None = None
    arrays: bytes | None = None


@dataclass
class RunResult:
    cells: list = field(default_factory=list)
    items: list = field(default_factory=list)
    notebook_seconds: float = 0.0
    kernel_message: str = ""   # why the kernel stopped early, if it did
    kernel_exit: str = ""
    harness_error: str = ""


def resolve_kernel_user(name: str) -> tuple | None:
    """``auto`` (``nobody`` when the grader is root and that works), ``same``, or a user name."""
    if name == "same" or (name == "auto" and os.geteuid() != 0):
        return None
    try:
        entry = pwd.getpwnam("nobody" if name == "auto" else name)
    except KeyError:
        if name == "auto":
            return None
        raise ValueError(f"no such user: {name!r}") from None
    ids = (entry.pw_uid, entry.pw_gid)
    if name == "auto" and not _can_run_as(ids):
        return None
    return ids


def _can_run_as(ids: tuple) -> bool:
    try:
        done = subprocess.run([sys.executable, "-c", "import ipykernel, numpy"], user=ids[0],
                              group=ids[1], extra_groups=[], cwd="/", capture_output=True,
                              timeout=60, env={"PATH": os.environ.get("PATH", os.defpath)})
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """Bytes of ``path`` if it is a regular file (no symlink, FIFO, device) of at most ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def _prepare(root: Path, name: str, data: bytes, user: tuple | None) -> tuple[Path, Path]:
    work, run = root / "work", root / "run"
    work.mkdir()
    run.mkdir()
    (work / name).write_bytes(data)
    if user is not None:
        os.chmod(root, 0o711)
        for path in (work, work / name):
            os.chown(path, *user)
    return work, run


def _note(res: ExecResult) -> str:
    return {"dead": "the kernel died", "timeout": "did not finish in time"}.get(res.status, "")


def _run_cells(kernel: Kernel, cells: list, limits: Limits, out: RunResult) -> bool:
    """Run the notebook's code cells; False when the kernel can no longer be used."""
    deadline = time.monotonic() + limits.total_timeout
    for pos, (index, source) in enumerate(cells):
        left = deadline - time.monotonic()
        if left <= 0:
            out.kernel_message = (f"the notebook's total time limit ({limits.total_timeout:g} s) "
                                  f"was reached before cell {index}; later cells were not run")
            out.cells += [CellRun(i, "skipped") for i, _ in cells[pos:]]
            return True
        res = kernel.execute(source, min(limits.cell_timeout, left), limits.output_cap,
                             store_history=True)
        if res.status == "cancelled":
            raise RunError("grading was cancelled")
        out.cells.append(CellRun(index, res.status, round(res.seconds, 3), res.ename,
                                 res.evalue, res.output))
        out.notebook_seconds += res.seconds
        stuck = res.status == "timeout" and not res.replied
        if res.status == "dead" or stuck:
            kernel.kill()
            why = f"the kernel died: {describe_exit(kernel.exit_state)}" if res.status == "dead" else (
                f"it ran past its time limit ({min(limits.cell_timeout, left):g} s) and ignored "
                "the interrupt, so the kernel was stopped")
            out.kernel_message = f"cell {index}: {why}; later cells were not run"
            out.cells += [CellRun(i, "skipped") for i, _ in cells[pos + 1:]]
            return False
    return True


def _run_harness(kernel: Kernel, hp, hdir: Path, limits: Limits, out: RunResult) -> None:
    inputs, outputs = hdir / "in.npz", hdir / "out"
    harness.write_inputs(hp, inputs)
    res = kernel.execute(harness.setup_code(hp, inputs, outputs, limits.case_timeout), 120.0)
    n_items = len(hp.manifest)
    if res.status != "ok":
        out.harness_error = f"{_note(res) or 'it raised'} {res.ename}: {res.evalue}".strip()
        out.items = [ItemRun("error", out.harness_error) for _ in range(n_items)]
        return
    for i, spec in enumerate(hp.manifest):
        if not kernel.alive():
            out.items.append(ItemRun("not-run", "the kernel had stopped"))
            continue
        budget = len(spec["cases"]) * (limits.case_timeout + 1.0) + 5.0
        res = kernel.execute(harness.item_code(hp, i), budget)
        if res.status == "cancelled":
            raise RunError("grading was cancelled")
        out.items.append(ItemRun(res.status, f"{res.ename}: {res.evalue}" if res.ename else ""))
        if res.status == "dead" or (res.status == "timeout" and not res.replied):
            kernel.kill()
    if kernel.alive():
        kernel.execute(harness.cleanup_code(hp), 10.0)


def _collect(hp, hdir: Path, out: RunResult) -> None:
    prefix = hdir / "out"
    for i, item in enumerate(out.items):
        item.record = read_regular_file(Path(f"{prefix}-{i}.json"), _MAX_JSON)
        item.arrays = read_regular_file(Path(f"{prefix}-{i}.npz"), _MAX_NPZ)


def run_notebook(data: bytes, name: str, cells: list, hp, limits: Limits) -> RunResult:
    """Run ``cells`` (``[(cell_number, source)]``) of the notebook ``data``, then the harness ``hp``.

    Raises :class:`RunError` when the kernel could not be started (or grading was cancelled);
    everything the notebook does is reported in the returned :class:`RunResult` instead.
    """
    root = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    out = RunResult()
    try:
        work, run = _prepare(root, name, data, limits.kernel_user)
        uid, gid = limits.kernel_user or (-1, -1)
        with Kernel(work, run, memory_mb=limits.memory_mb, file_mb=limits.file_mb, uid=uid,
                    gid=gid, nproc=512 if uid >= 0 else 0) as kernel:
            try:
                kernel.start()
            except KernelStartError as exc:
                raise RunError(str(exc)) from None
            usable = _run_cells(kernel, cells, limits, out)
            hdir = root / secrets.token_hex(16)
            if usable:
                hdir.mkdir(mode=0o700)
                if limits.kernel_user is not None:
                    os.chown(hdir, *limits.kernel_user)
                _run_harness(kernel, hp, hdir, limits, out)
            else:
                out.items = [ItemRun("not-run", out.kernel_message) for _ in hp.manifest]
            kernel.kill()  # everything it started dies before anything is read
            out.kernel_exit = kernel.exit_state
        if usable:
            _collect(hp, hdir, out)
        return out
    finally:
        _remove(root)


def _remove(root: Path) -> None:
    def unlock(func, path, _exc):  # the kernel may have made things read-only
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)
        except OSError:
            pass
    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=unlock)
    else:
        shutil.rmtree(root, onerror=unlock)
