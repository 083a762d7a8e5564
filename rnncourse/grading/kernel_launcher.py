"""Start one grading kernel under limits, and clean up everything it leaves behind.

Run by the grader as a script (``python kernel_launcher.py --memory-mb M ... CONNECTION_FILE``), not
imported: it needs nothing but the standard library, so it starts fast and never loads numpy before
forking. It plays two roles:

* **warden** (this process, the grader's own user): becomes a *child subreaper*, so every process the
  kernel spawns stays in its subtree even after a double fork; forwards SIGINT (interrupt) to the
  kernel's process group; on SIGTERM, when the kernel exits or when the grader dies, kills the whole
  subtree and reaps it. It prints the kernel's pid on its first line of stdout and the kernel's exit
  status (``exit CODE`` or ``signal NUM``) on its last.
* **kernel** (a forked child): own process group, resource limits (address space, file size, no core
  dumps, optionally a process count), killed if the warden dies, optionally switched to an
  unprivileged user (when the grader runs as root, e.g. in a Gradescope container), not dumpable
  (so other kernels of the same user cannot ptrace it), then runs ``ipykernel`` in place.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
import time

__all__ = ["main", "children", "descendants", "kill_tree", "prctl", "PR_SET_PDEATHSIG",
           "PR_SET_DUMPABLE", "PR_SET_CHILD_SUBREAPER"]

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
_STOP = False


def prctl(option: int, value: int) -> bool:
    """Linux ``prctl(option, value)``; False where it fails or does not exist."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def _child_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: the ppid follows the last ")"
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    return _child_map().get(pid, [])


def descendants(root: int) -> list[int]:
    """Pids of every process below ``root`` (from /proc; empty where /proc is unavailable)."""
    children = _child_map()
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def kill_tree(root: int, rounds: int = 20) -> list[tuple[int, int]]:
    """SIGKILL every descendant of ``root`` (repeated: a process may fork while we kill).

    Returns the (pid, status) of the children of this process reaped meanwhile.
    """
    reaped: list[tuple[int, int]] = []
    for _ in range(rounds):
        pids = descendants(root)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        reaped += _reap_all()
        time.sleep(0.01)
    return reaped + _reap_all()


def _reap_all() -> list[tuple[int, int]]:
    done = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done.append((pid, status))


def _set_limits(memory_mb: int, file_mb: int, nproc: int) -> None:
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_mb > 0:
        limits.append((resource.RLIMIT_AS, memory_mb * 1024 * 1024))
    if file_mb > 0:
        limits.append((resource.RLIMIT_FSIZE, file_mb * 1024 * 1024))
    if nproc > 0 and hasattr(resource, "RLIMIT_NPROC"):
        limits.append((resource.RLIMIT_NPROC, nproc))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _become_kernel(args) -> None:
    """In the forked child: limits, identity, then ipykernel (never returns)."""
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the warden's stdout is its report to the grader: not for the kernel
        os.close(devnull)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _set_limits(args.memory_mb, args.file_mb, args.nproc if args.uid >= 0 else 0)
        if args.uid >= 0:
            os.setgroups([])
            os.setgid(args.gid)
            os.setuid(args.uid)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != args.warden:  # the warden died before the line above
            os._exit(70)
        prctl(PR_SET_DUMPABLE, 0)
        sys.argv = ["ipykernel_launcher", "-f", args.connection_file]
        sys.path[0] = os.getcwd()  # what ``python -m ipykernel_launcher`` would have
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
    except BaseException as exc:  # noqa: BLE001 - report and leave without running cleanup code
        try:
            print(f"kernel launcher: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        finally:
            os._exit(71)
    os._exit(0)


def _on_term(signum, frame) -> None:
    global _STOP
    _STOP = True


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1}"


def _watch(kernel: int, parent: int) -> int:
    """The warden's loop: returns once the kernel is gone (or must go); cleans the subtree."""
    state = "exit -1"
    alive = True
    while alive and not _STOP and os.getppid() == parent:
        for pid, status in _reap_all():
            if pid == kernel:
                state, alive = _describe(status), False
        if alive:
            time.sleep(0.05)
    for pid, status in kill_tree(os.getpid()):
        if pid == kernel and alive:
            state = _describe(status)
    print(state, flush=True)
    return 0


def _forward_interrupt(kernel: int):
    def handler(signum, frame):
        try:
            os.killpg(kernel, signal.SIGINT)
        except OSError:
            try:
                os.kill(kernel, signal.SIGINT)
            except OSError:
                pass
    return handler


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--memory-mb", type=int, default=0)
    p.add_argument("--file-mb", type=int, default=0)
    p.add_argument("--nproc", type=int, default=0)
    p.add_argument("--uid", type=int, default=-1)
    p.add_argument("--gid", type=int, default=-1)
    p.add_argument("connection_file")
    args = p.parse_args(argv)
    args.warden = os.getpid()
    parent = os.getppid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_DUMPABLE, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_term)
    sys.stdout.flush()
    kernel = os.fork()
    if kernel == 0:
        _become_kernel(args)
    signal.signal(signal.SIGINT, _forward_interrupt(kernel))
    print(kernel, flush=True)
    return _watch(kernel, parent)


if __name__ == "__main__":
    sys.exit(main())
