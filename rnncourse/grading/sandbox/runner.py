"""The cell runner: the process that runs a submission inside the sandbox.

A plain subprocess, not a Jupyter kernel: an IPython shell (so magics and ``get_ipython()`` work)
runs the notebook's code cells one by one, then the grading harness. It talks to the grader over
two pipes with :mod:`.wire` messages: commands come in on what was fd 0, replies go out on what was
fd 1. Then fd 0 becomes ``/dev/null`` (``input()`` fails at once) and raw writes to fd 1 and 2 go to
a pipe the grader drains and drops. The grader interrupts a cell with SIGINT and ends the sandbox
with SIGKILL; it enforces every limit from outside, so nothing here has to survive the student.

Started by the grader's bootstrap code, after it has dropped to the sandbox's user.
"""
from __future__ import annotations

import builtins
import os
import resource
import signal
import sys
import time

from .wire import read_npz, recv, send

__all__ = ["main"]

_BUSY = {"now": False}
_HOME, _WORK = "/tmp/home", "/tmp/work"


def _on_interrupt(signum, frame):
    if _BUSY["now"]:  # only the student's code is interrupted, never the runner between commands
        raise KeyboardInterrupt


def _no_input(prompt=""):
    raise EOFError("input() is not available while grading")


class _Capture:
    """``sys.stdout``/``sys.stderr`` during a cell: keeps the first ``cap`` characters."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.size, self.truncated = cap, [], 0, False

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        self.truncated |= len(text) > room
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "".join(self.parts)


def _apply_limits(lim: dict) -> None:
    wanted = [(resource.RLIMIT_CORE, 0)]
    for name, value in lim.items():
        which = getattr(resource, name, None)
        if which is not None and value > 0:
            wanted.append((which, int(value)))
    for which, value in wanted:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _shell(home: str):
    os.environ["IPYTHONDIR"] = os.path.join(home, ".ipython")
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Shell(InteractiveShell):
        def enable_gui(self, gui=None):  # %matplotlib inline: figures are not shown anyway
            pass

    cfg = Config()
    cfg.HistoryManager.enabled = False
    return Shell.instance(config=cfg, colors="nocolor")


def _run_cell(shell, source: str, cap: int) -> dict:
    out = _Capture(cap)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    start, error = time.perf_counter(), None
    try:
        try:
            _BUSY["now"] = True
            result = shell.run_cell(source, store_history=True)
        finally:
            _BUSY["now"] = False
        error = result.error_before_exec or result.error_in_exec
    except KeyboardInterrupt as exc:  # arrived in IPython's own code around the cell
        error = exc
    finally:
        sys.stdout, sys.stderr = saved
    reply = {"op": "cell", "status": "ok", "seconds": round(time.perf_counter() - start, 4),
             "output": out.text(), "truncated": out.truncated}
    if error is not None:
        reply["status"] = "interrupted" if isinstance(error, KeyboardInterrupt) else "error"
        reply["ename"], reply["evalue"] = type(error).__name__, str(error)[:1000]
    return reply


def _run_item(run, index: int) -> tuple[dict, bytes]:
    try:
        _BUSY["now"] = True
        try:
            record, payload = run(index)
        finally:
            _BUSY["now"] = False
    except KeyboardInterrupt:
        record, payload = {"cases": [], "aborted": True}, b""
    return {"op": "item", "index": index, "record": record}, payload


def main() -> None:
    """Serve the grader's commands until it says ``bye`` (or ends the sandbox)."""
    os.closerange(3, 1024)                    # nothing inherited but the three pipes
    commands, replies = os.fdopen(os.dup(0), "rb"), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    signal.signal(signal.SIGINT, _on_interrupt)
    hello, _ = recv(commands)
    _apply_limits(hello.get("limits", {}))
    # the grader says where (bwrap: the private /tmp; --isolation user: the slot's own folder)
    home, work = str(hello.get("home") or _HOME), str(hello.get("work") or _WORK)
    for folder in (home, work):
        os.makedirs(folder, exist_ok=True)
    os.chdir(work)
    shell = _shell(home)
    builtins.input = _no_input
    send(replies, {"op": "ready"})
    run = None
    cap = int(hello.get("output_cap", 20_000))
    while True:
        try:
            msg, payload = recv(commands)
        except KeyboardInterrupt:  # an interrupt that came just after a reply: ignore it
            continue
        except (EOFError, ValueError):
            os._exit(0)
        op = msg.get("op")
        if op == "cell":
            send(replies, _run_cell(shell, msg["source"], cap))
        elif op == "inputs":
            from .harness import make_runner

            run = make_runner(shell.user_ns, msg["manifest"], read_npz(payload))
            send(replies, {"op": "inputs"})
        elif op == "item" and run is not None:
            send(replies, *_run_item(run, int(msg["index"])))
        else:  # "bye", or anything else: done
            sys.stdout.flush()
            os._exit(0)
