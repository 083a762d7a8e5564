"""Run one submission in a sandbox: its cells, then the harness; collect plain data, bounded.

The grader talks to the cell runner (:mod:`rnncourse.grading.sandbox.runner`) over pipes, one
:mod:`~rnncourse.grading.sandbox.wire` message at a time, and trusts nothing it reads: a header
line is at most 1 MB, a payload at most 64 MB and 128 MB in all, anything else ends the sandbox.
Every request has a deadline: past it the cell (or item) is interrupted with SIGINT, and if the
runner does not answer within a grace period the sandbox is ended and what is left is reported as
not run. The runner's raw stdout/stderr is drained and dropped (its first lines are kept for a
message when the sandbox does not start).
"""
from __future__ import annotations

import json
import os
import select
import threading
import time
from dataclasses import dataclass, field

from ..sandbox.wire import npz_bytes
from .jail import Jail, Limits, Proc

__all__ = ["CellRun", "ItemRun", "RunResult", "RunError", "run_notebook", "Channel",
           "describe_exit", "CANCEL", "probe"]

CANCEL = threading.Event()   # set: every running sandbox stops at once (Ctrl-C in a batch)

MAX_HEADER = 1024 * 1024
MAX_PAYLOAD = 64 * 1024 * 1024
MAX_TOTAL = 128 * 1024 * 1024
_GRACE = 5.0
_START = 60.0


class RunError(RuntimeError):
    """The submission could not be run at all (the sandbox did not start): not the student's doing."""


class _Gone(Exception):
    """The runner closed its channel, broke the protocol or sent too much: the sandbox ends."""


_STOPPED = "the kernel stopped"


def describe_exit(state: str) -> str:
    """Words for how the runner ended (``exit N``, ``signal N``, or the grader's own words)."""
    kind, _, num = state.partition(" ")
    if kind == "exit":
        return f"it exited with code {num} (os._exit, exit() or quit() in the notebook?)"
    if kind == "signal":
        names = {"9": "killed (SIGKILL: out of memory, or killed on purpose?)", "6": "aborted",
                 "11": "crashed (segmentation fault)", "25": "stopped: a file grew too large",
                 "24": "stopped: it used up its CPU time"}
        return f"it was {names.get(num, f'killed by signal {num}')}"
    return state or "no reason known"


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
    status: str                # ok | timeout | dead | not-run
    message: str = ""
    record: dict | None = None
    arrays: bytes | None = None


@dataclass
class RunResult:
    cells: list = field(default_factory=list)
    items: list = field(default_factory=list)
    notebook_seconds: float = 0.0
    kernel_message: str = ""   # why the kernel stopped early, if it did
    kernel_exit: str = ""
    harness_error: str = ""
    timings: dict = field(default_factory=dict)   # seconds: start, cells, items, end (profiling)


class Channel:
    """The grader's end of the runner's pipes: bounded reads with deadlines."""

    def __init__(self, proc: Proc):
        self.proc = proc
        self.buf = bytearray()
        self.log = bytearray()
        self.total = 0
        self.closed = False
        for fd in (proc.replies, proc.log):
            os.set_blocking(fd, False)

    def send(self, header: dict, payload: bytes = b"") -> None:
        data = json.dumps(dict(header, size=len(payload))).encode() + b"\n" + payload
        view = memoryview(data)
        try:
            while view:
                _, ready, _ = select.select([], [self.proc.commands], [], 30.0)
                if not ready:
                    raise _Gone("the kernel stopped reading")
                view = view[os.write(self.proc.commands, view[:65536]):]
        except (BrokenPipeError, OSError) as exc:
            raise _Gone("the kernel stopped reading") from exc

    def _pump(self, timeout: float) -> None:
        fds = [self.proc.log] + ([] if self.closed else [self.proc.replies])
        ready, _, _ = select.select(fds, [], [], max(timeout, 0.0))
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if fd == self.proc.log:
                if len(self.log) < 8192:
                    self.log += chunk[:8192 - len(self.log)]
                continue
            if not chunk:
                self.closed = True
            self.buf += chunk
            self.total += len(chunk)
            if self.total > MAX_TOTAL + MAX_HEADER:
                raise _Gone("the kernel sent more data than allowed")

    def log_text(self, timeout: float = 2.0) -> str:
        """What the sandbox wrote to stderr (bwrap's own messages), read until it closes."""
        end = time.monotonic() + timeout
        while len(self.log) < 8192 and time.monotonic() < end:
            ready, _, _ = select.select([self.proc.log], [], [], 0.1)
            if not ready:
                if not self.proc.alive():
                    break
                continue
            try:
                chunk = os.read(self.proc.log, 8192)
            except BlockingIOError:
                continue
            except OSError:
                break
            if not chunk:
                break
            self.log += chunk[:8192 - len(self.log)]
        return bytes(self.log).decode(errors="replace").strip()

    def receive(self, deadline: float) -> tuple[dict, bytes] | None:
        """The next message, or None at the deadline. Raises :class:`_Gone` when it never can be."""
        header = None
        while True:
            if header is None:
                end = self.buf.find(b"\n")
                if end < 0 and len(self.buf) > MAX_HEADER:
                    raise _Gone("the kernel sent a message line longer than 1 MB")
                if end >= 0:
                    try:
                        header = json.loads(bytes(self.buf[:end]).decode("utf-8"))
                        size = int(header.get("size", 0)) if isinstance(header, dict) else -1
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        raise _Gone("the kernel sent a message that is not JSON") from None
                    if not 0 <= size <= MAX_PAYLOAD:
                        raise _Gone("the kernel announced more data than allowed")
                    del self.buf[:end + 1]
            if header is not None and len(self.buf) >= header["size"]:
                payload = bytes(self.buf[:header["size"]])
                del self.buf[:header["size"]]
                return header, payload
            if self.closed:
                raise _Gone(_STOPPED)
            if CANCEL.is_set():
                raise RunError("grading was cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                if header is not None:   # a reply was under way: keep its header for later
                    self.buf[:0] = json.dumps(header).encode() + b"\n"
                return None
            self._pump(min(left, 0.5))


def _expect(chan: Channel, op: str, deadline: float, interruptible: bool = True):
    """The reply ``op`` before ``deadline``; past it, interrupt and wait a grace period.

    Returns ``(reply or None, interrupted)``; None means the runner did not answer even then.
    """
    interrupted = False
    while True:
        got = chan.receive(deadline)
        if got is not None:
            header, payload = got
            if header.get("op") == op:
                return (header, payload), interrupted
            continue   # something forged or stale: ignore it
        if interrupted or not interruptible:
            return None, interrupted
        interrupted = True
        chan.proc.interrupt()
        deadline = time.monotonic() + _GRACE


def _describe(res: dict) -> tuple[str, str, str]:
    status = res.get("status") if res.get("status") in ("ok", "error", "interrupted") else "error"
    ename = str(res.get("ename", ""))[:200]
    evalue = str(res.get("evalue", ""))[:1000]
    return status, ename, evalue


def _run_cells(chan: Channel, cells: list, limits: Limits, out: RunResult) -> bool:
    """Run the notebook's code cells; False when the sandbox can no longer be used."""
    deadline = time.monotonic() + limits.total_timeout
    for pos, (index, source) in enumerate(cells):
        left = deadline - time.monotonic()
        if left <= 0:
            out.kernel_message = (f"the notebook's total time limit ({limits.total_timeout:g} s) "
                                  f"was reached before cell {index}; later cells were not run")
            out.cells += [CellRun(i, "skipped") for i, _ in cells[pos:]]
            return True
        budget = min(limits.cell_timeout, left)
        start = time.monotonic()
        chan.send({"op": "cell", "source": source})
        got, interrupted = _expect(chan, "cell", start + budget)
        seconds = round(time.monotonic() - start, 3)
        out.notebook_seconds += seconds
        if got is None:
            out.cells.append(CellRun(index, "timeout" if interrupted else "dead", seconds))
            why = (f"it ran past its time limit ({budget:g} s) and ignored the interrupt, so the "
                   "kernel was stopped") if interrupted else "the kernel stopped answering"
            out.kernel_message = f"cell {index}: {why}; later cells were not run"
            out.cells += [CellRun(i, "skipped") for i, _ in cells[pos + 1:]]
            return False
        status, ename, evalue = _describe(got[0])
        if interrupted or status == "interrupted":
            status = "timeout"
        out.cells.append(CellRun(index, status, seconds, ename, evalue,
                                 str(got[0].get("output", ""))[:limits.output_cap]))
    return True


def _run_items(chan: Channel, plan, limits: Limits, out: RunResult) -> None:
    chan.send({"op": "inputs", "manifest": {"items": plan.manifest,
                                            "case_timeout": limits.case_timeout}},
              npz_bytes(plan.arrays))
    got, _ = _expect(chan, "inputs", time.monotonic() + 120.0, interruptible=False)
    if got is None:
        out.harness_error = "the grading harness did not start in your kernel"
        out.items = [ItemRun("not-run", out.harness_error) for _ in plan.manifest]
        return
    for i, spec in enumerate(plan.manifest):
        budget = len(spec["cases"]) * (limits.case_timeout + 1.0) + 5.0
        chan.send({"op": "item", "index": i})
        got, interrupted = _expect(chan, "item", time.monotonic() + budget)
        if got is None:
            out.items.append(ItemRun("timeout" if interrupted else "dead"))
            out.items += [ItemRun("not-run", "the kernel had stopped")
                          for _ in plan.manifest[i + 1:]]
            return
        header, payload = got
        record = header.get("record") if isinstance(header.get("record"), dict) else None
        out.items.append(ItemRun("timeout" if interrupted else "ok", "", record, payload))


def run_notebook(jail: Jail, kit, slot: int, cells: list, plan, limits: Limits) -> RunResult:
    """Run ``cells`` (``[(cell number, source)]``) in a fresh sandbox, then the harness ``plan``.

    Raises :class:`RunError` when the sandbox did not start; everything the notebook does is
    reported in the returned :class:`RunResult` instead.
    """
    out = RunResult()
    clock = time.monotonic()
    proc, paths = jail.start(kit, slot, limits)
    chan = Channel(proc)
    try:
        cpu = limits.total_timeout + len(plan.manifest) * 60 + 60
        try:
            chan.send({"op": "hello", "limits": limits.rlimits(cpu),
                       "output_cap": limits.output_cap, **paths})
            got, _ = _expect(chan, "ready", time.monotonic() + _START, interruptible=False)
        except _Gone:
            got = None
        if got is None:
            raise RunError(f"the sandbox did not start: {chan.log_text() or 'no message'}")
        proc.locate_runner()
        out.timings["start"] = time.monotonic() - clock
        try:
            if _run_cells(chan, cells, limits, out):
                out.timings["cells"] = time.monotonic() - clock - out.timings["start"]
                _run_items(chan, plan, limits, out)
                out.timings["items"] = (time.monotonic() - clock - out.timings["start"]
                                        - out.timings["cells"])
            else:
                out.items = [ItemRun("not-run", out.kernel_message) for _ in plan.manifest]
            chan.send({"op": "bye"})
        except _Gone as exc:
            state = proc.end()
            why = str(exc) if str(exc) != _STOPPED else f"the kernel died: {describe_exit(state)}"
            _mark_gone(out, cells, plan, why)
    finally:
        ending = time.monotonic()
        out.kernel_exit = proc.end()
        out.timings["end"] = time.monotonic() - ending
    return out


def probe(jail: Jail, kit) -> None:
    """Start and end one sandbox; raise :class:`RunError` with bwrap's words when it cannot."""
    proc, paths = jail.start(kit, 0)
    chan = Channel(proc)
    try:
        try:
            chan.send({"op": "hello", "limits": {}, "output_cap": 100, **paths})
            got, _ = _expect(chan, "ready", time.monotonic() + _START, interruptible=False)
            chan.send({"op": "bye"})
        except _Gone:
            got = None
        if got is None:
            raise RunError(chan.log_text() or "no message")
    finally:
        proc.end()


def _mark_gone(out: RunResult, cells: list, plan, why: str) -> None:
    """The runner went away mid-way (died, closed its pipes, broke the protocol)."""
    done = {c.index for c in out.cells}
    pending = [i for i, _ in cells if i not in done]
    if pending and len(out.items) == 0:
        out.cells.append(CellRun(pending[0], "dead"))
        out.cells += [CellRun(i, "skipped") for i in pending[1:]]
        out.kernel_message = f"cell {pending[0]}: {why}; later cells were not run"
        out.items = [ItemRun("not-run", out.kernel_message) for _ in plan.manifest]
        return
    if not pending and not out.items and not out.harness_error:
        out.harness_error = why
    if len(out.items) < len(plan.manifest):
        out.items.append(ItemRun("dead", why))
        out.items += [ItemRun("not-run", "the kernel had stopped")
                      for _ in plan.manifest[len(out.items):]]
