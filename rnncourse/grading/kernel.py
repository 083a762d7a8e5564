"""A grading kernel: started through :mod:`kernel_launcher`, driven over ZeroMQ, always killed.

The grader talks to the kernel with a minimal Jupyter client (shell and iopub only, no stdin, no
heartbeat) over ``ipc`` sockets in a private folder: no TCP ports to race for when many kernels
start at once, nothing listening on the network. Every execute request has a deadline; output is
captured up to a cap and the rest is drained and dropped; an oversized message closes the channel
instead of filling the grader's memory.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client.session import Session

from . import kernel_launcher

__all__ = ["Kernel", "KernelStartError", "ExecResult", "kernel_env", "describe_exit",
           "become_subreaper", "sweep_orphans", "CANCEL"]

_LAUNCHER = Path(kernel_launcher.__file__).resolve()
_MAX_MSG = 64 * 1024 * 1024   # one zmq message; bigger ones drop the connection
_STATE = re.compile(r"^(exit|signal) -?\d+$")
_IDLE_GRACE = 2.0             # after the reply, how long to wait for the rest of the output
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV", "TZ",
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SYSTEMROOT")


# Every warden this process started and has not reaped yet. A grader that is a child subreaper
# (see become_subreaper) adopts whatever a kernel leaves behind when its warden is killed; any
# child that is not a known warden is such a leftover. The lock covers Popen + registration.
_WARDENS: set = set()
_LOCK = threading.Lock()
_STATE_FLAGS = {"subreaper": False}
CANCEL = threading.Event()   # set it to stop every running kernel (Ctrl-C in a batch)


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants, so that :func:`sweep_orphans` finds them.

    Only for a process whose children are all grading kernels (the ``rnncourse grade`` command):
    every other child would be taken for a leftover and killed.
    """
    _STATE_FLAGS["subreaper"] = kernel_launcher.prctl(kernel_launcher.PR_SET_CHILD_SUBREAPER, 1)
    return _STATE_FLAGS["subreaper"]


def sweep_orphans() -> int:
    """Kill and reap children of this process that are not wardens (only once a subreaper)."""
    if not _STATE_FLAGS["subreaper"]:
        return 0
    killed = 0
    with _LOCK:
        for _ in range(5):
            strays = [p for p in kernel_launcher.children(os.getpid()) if p not in _WARDENS]
            if not strays:
                break
            for pid in strays:
                for sub in kernel_launcher.descendants(pid) + [pid]:
                    try:
                        os.kill(sub, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
                killed += 1
    return killed


class KernelStartError(RuntimeError):
    """The kernel did not come up (infrastructure problem, not the student's)."""


@dataclass
class ExecResult:
    """What one execute request did."""

    status: str = "ok"          # ok | error | timeout | dead
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    output: str = ""
    truncated: bool = False
    seconds: float = 0.0
    interrupted: bool = False
    replied: bool = False       # the kernel answered (after a timeout: the interrupt worked)


@dataclass
class _Capture:
    cap: int
    parts: list = field(default_factory=list)
    size: int = 0
    truncated: bool = False

    def add(self, text: str) -> None:
        if self.size >= self.cap:
            self.truncated = self.truncated or bool(text)
            return
        room = self.cap - self.size
        if len(text) > room:
            text, self.truncated = text[:room], True
        self.parts.append(text)
        self.size += len(text)


def kernel_env(home: Path, workdir: Path) -> dict:
    """A scrubbed environment: no tokens or credentials of the grader's, private IPython dirs."""
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.setdefault("PATH", os.defpath)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # many kernels at once: one BLAS thread each
    env.update({
        "HOME": str(home), "IPYTHONDIR": str(home / "ipython"), "MPLCONFIGDIR": str(home / "mpl"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter"), "JUPYTER_DATA_DIR": str(home / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter"), "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "TMPDIR": str(workdir),
        "JUPYTER_PLATFORM_DIRS": "1",
    })
    return env


class Kernel:
    """One kernel process tree. Use as a context manager: it is killed on exit, whatever happened."""

    def __init__(self, workdir: Path, rundir: Path, *, memory_mb: int, file_mb: int = 1024,
                 uid: int = -1, gid: int = -1, nproc: int = 0):
        self.workdir, self.rundir = Path(workdir), Path(rundir)
        self.limits = dict(memory_mb=memory_mb, file_mb=file_mb, uid=uid, gid=gid, nproc=nproc)
        self.proc: subprocess.Popen | None = None
        self.pid = -1
        self.exit_state = ""
        self._stdout = b""
        self._ctx = zmq.Context()
        self._session = Session(key=secrets.token_hex(32).encode(), username="grader")
        self._shell = self._iopub = None
        self._killed = False
        self._log = None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    def start(self, timeout: float = 60.0) -> None:
        conn = self._write_connection_file()
        cmd = [sys.executable, str(_LAUNCHER)]
        for key, value in self.limits.items():
            cmd += [f"--{key.replace('_', '-')}", str(value)]
        cmd.append(str(conn))
        self._log = open(self.rundir / "kernel.log", "wb")  # noqa: SIM115 - closed in kill()
        home = self.rundir / "home"
        with _LOCK:
            self.proc = subprocess.Popen(
                cmd, cwd=self.workdir, env=kernel_env(home, self.workdir),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log,
                start_new_session=True, close_fds=True)
            _WARDENS.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        line = self._read_line(deadline)
        if not line.strip().isdigit():
            raise KernelStartError(f"kernel launcher failed: {self.log_tail() or 'no output'}")
        self.pid = int(line)
        self._connect(json.loads(conn.read_text()))
        self._wait_ready(deadline)

    def _write_connection_file(self) -> Path:
        sock_dir = self.rundir / "sockets"
        sock_dir.mkdir(exist_ok=True)
        (self.rundir / "home").mkdir(exist_ok=True)
        if self.limits["uid"] >= 0:  # the kernel's user must create its sockets and home files
            for d in (sock_dir, self.rundir / "home"):
                os.chown(d, self.limits["uid"], self.limits["gid"])
        info = {"transport": "ipc", "ip": str(sock_dir / "k"), "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5,
                "key": self._session.key.decode(), "signature_scheme": "hmac-sha256",
                "kernel_name": "rnncourse-grader"}
        path = self.rundir / "connection.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        if self.limits["uid"] >= 0:
            os.chown(path, self.limits["uid"], self.limits["gid"])
        return path

    def _read_line(self, deadline: float) -> str:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._stdout and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self._stdout += chunk
        line, _, self._stdout = self._stdout.partition(b"\n")
        return line.decode("ascii", "replace")

    def _connect(self, info: dict) -> None:
        base = f"ipc://{info['ip']}"
        self._shell = self._ctx.socket(zmq.DEALER)
        self._iopub = self._ctx.socket(zmq.SUB)
        for sock in (self._shell, self._iopub):
            sock.setsockopt(zmq.MAXMSGSIZE, _MAX_MSG)
            sock.setsockopt(zmq.LINGER, 0)
        self._iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self._shell.connect(f"{base}-{info['shell_port']}")
        self._iopub.connect(f"{base}-{info['iopub_port']}")

    def _wait_ready(self, deadline: float) -> None:
        """kernel_info until both the reply and some iopub traffic arrive (iopub joins late)."""
        while time.monotonic() < deadline:
            if not self.alive():
                raise KernelStartError(f"kernel exited while starting: {self.log_tail()}")
            msg_id = self._send("kernel_info_request", {})
            got_reply = got_iopub = False
            until = min(deadline, time.monotonic() + 2.0)
            while time.monotonic() < until and not (got_reply and got_iopub):
                for chan, msg in self._poll(0.1):
                    got_iopub |= chan == "iopub"
                    got_reply |= chan == "shell" and msg["parent_header"].get("msg_id") == msg_id
            if got_reply and got_iopub:
                return
        raise KernelStartError(f"kernel did not answer in time: {self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self) -> None:
        if self.alive():
            try:
                os.kill(self.proc.pid, signal.SIGINT)  # the warden forwards it to the kernel
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the kernel and everything it started; safe to call more than once."""
        if self._killed:
            return
        self._killed = True
        for sock in (self._shell, self._iopub):
            if sock is not None:
                sock.close(linger=0)
        self._shell = self._iopub = None
        self._ctx.term()
        if self.proc is None:
            if self._log is not None:
                self._log.close()
            return
        running = self.proc.poll() is None
        if running:
            self.proc.send_signal(signal.SIGTERM)  # the warden kills its whole subtree
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        final = self._final_line()
        if final:
            self.exit_state = "stopped by the grader" if running and final == "signal 9" else final
        else:  # the warden itself was killed: fall back to the process groups
            for pgid in {self.proc.pid, self.pid}:
                if pgid > 0 and pgid != os.getpgrp():
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                    except OSError:
                        pass
            self.exit_state = "the kernel's warden was killed"
        self.proc.stdout.close()
        self._log.close()
        with _LOCK:
            _WARDENS.discard(self.proc.pid)
        sweep_orphans()

    def _final_line(self) -> str:
        fd, deadline = self.proc.stdout.fileno(), time.monotonic() + 1.0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                break
            self._stdout = (self._stdout + chunk)[-4096:]
        for line in reversed(self._stdout.decode("ascii", "replace").splitlines()):
            if _STATE.match(line.strip()):
                return line.strip()
        return ""

    def log_tail(self, limit: int = 2000) -> str:
        try:
            with open(self.rundir / "kernel.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    # -- messages --------------------------------------------------------------------------------
    def _send(self, msg_type: str, content: dict) -> str:
        msg = self._session.send(self._shell, msg_type, content)
        return msg["header"]["msg_id"]

    def _poll(self, timeout: float):
        """Yield (channel, message) for what arrives within ``timeout`` seconds."""
        poller = zmq.Poller()
        poller.register(self._shell, zmq.POLLIN)
        poller.register(self._iopub, zmq.POLLIN)
        ready = dict(poller.poll(int(max(timeout, 0.0) * 1000)))
        for name, sock in (("iopub", self._iopub), ("shell", self._shell)):
            if sock not in ready:
                continue
            for _ in range(1000):
                try:
                    _, msg = self._session.recv(sock, mode=zmq.NOBLOCK)
                except zmq.Again:
                    break
                except Exception:  # noqa: BLE001 - a malformed or forged message is dropped
                    continue
                if msg is None:
                    break
                yield name, msg

    def execute(self, code: str, timeout: float, output_cap: int = 20_000,
                interrupt_grace: float = 5.0, store_history: bool = False) -> ExecResult:
        """Run ``code``; on timeout interrupt it, and report ``timeout`` whether or not that worked."""
        res, cap = ExecResult(), _Capture(output_cap)
        start = time.monotonic()
        msg_id = self._send("execute_request", {
            "code": code, "silent": False, "store_history": store_history, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False})
        deadline, replied_at, idle = start + timeout, None, False
        while not (replied_at is not None and (idle or time.monotonic() > replied_at + _IDLE_GRACE)):
            now = time.monotonic()
            if not self.alive():
                res.status = "dead"
                break
            if CANCEL.is_set():
                res.status = "cancelled"
                break
            if now > deadline:
                if res.interrupted:  # the interrupt did not help either
                    res.status = "timeout"
                    break
                res.interrupted = True
                self.interrupt()
                deadline = now + interrupt_grace
                continue
            for chan, msg in self._poll(min(0.1, deadline - now)):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if chan == "shell" and msg["msg_type"] == "execute_reply":
                    replied_at = time.monotonic()
                    if msg["content"].get("status") == "error" and res.status == "ok":
                        res.status = "error"
                elif chan == "iopub":
                    idle |= _take_output(msg, res, cap)
        res.replied = replied_at is not None
        if res.interrupted and res.status not in ("dead", "cancelled"):
            res.status = "timeout"
        res.seconds = time.monotonic() - start
        res.output, res.truncated = "".join(cap.parts), cap.truncated
        return res


def describe_exit(state: str) -> str:
    """Words for the warden's report on how the kernel ended."""
    kind, _, num = state.partition(" ")
    if kind == "exit":
        return f"it exited with code {num} (os._exit, exit() or quit() in the notebook?)"
    if kind == "signal":
        names = {"9": "killed (SIGKILL: out of memory, or killed on purpose?)", "6": "aborted",
                 "11": "crashed (segmentation fault)", "25": "stopped: a file grew too large"}
        return f"it was {names.get(num, f'killed by signal {num}')}"
    return state or "no reason known"


def _take_output(msg: dict, res: ExecResult, cap: _Capture) -> bool:
    """Record one iopub message; True when it says the kernel is idle again."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "status":
        return content.get("execution_state") == "idle"
    if kind == "stream":
        cap.add(str(content.get("text", "")))
    elif kind in ("execute_result", "display_data"):
        text = content.get("data", {}).get("text/plain", "")
        cap.add(str(text) + "\n")
    elif kind == "error":
        res.status = "error"
        res.ename = str(content.get("ename", ""))[:200]
        res.evalue = str(content.get("evalue", ""))[:1000]
        res.traceback = "\n".join(str(t) for t in content.get("traceback", []))[-4000:]
    return False
