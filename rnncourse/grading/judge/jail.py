"""The sandbox around every kernel: bubblewrap namespaces, or, as an explicit opt-out, a user.

``bwrap`` (the default): each submission runs in new user, pid, mount, network, IPC, UTS and cgroup
namespaces made by bubblewrap. Its filesystem is the system's shared libraries, the Python runtime
(read-only, its own site-packages hidden), the student kit at ``/kit`` (read-only: see
:mod:`.kit`), a fresh ``/proc`` showing only the sandbox's processes, a minimal ``/dev``, and two
private tmpfs, ``/tmp`` (home and working folder) and ``/dev/shm``, whose size caps are taken out of
the memory budget. No network (only its own loopback), no view of the grader, its files or the other
submissions; nested user namespaces are disabled. It runs as uid 1000 inside; outside, when the
grader is root, as a uid of its own per job slot (so its process count is its own), otherwise as
the grader's user inside its own user namespace (process counts are per namespace). Ending it
kills everything in it and frees its tmpfs.

``user`` (``--isolation user``, for platforms without namespaces, e.g. some Gradescope images):
the kernel runs as a separate unprivileged uid (root only; never the grader's own user), with the
same limits, a private working folder, and checks that the course package is not readable by
other users. It shares ``/tmp``, ``/dev/shm`` and the network with the host; what it leaves there
is removed after each submission.

If the sandbox cannot be set up, :meth:`Jail.check` raises :class:`SandboxError`: grading stops.
"""
from __future__ import annotations

import glob
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .cleanup import remove_tree, sweep_owned

__all__ = ["ISOLATIONS", "Limits", "Jail", "Proc", "SandboxError", "SANDBOX_UID",
           "others_can_read", "others_can_use"]

ISOLATIONS = ("bwrap", "user")
SANDBOX_UID = 1000                 # the uid inside the sandbox
SLOT_UID_BASE = 1_500_000_000      # outside, when grading as root: one uid per job slot
_CLONE_NEWUSER = 0x10000000
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
_HIDDEN_SITES = ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                 "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages")
_USERNS_HELPER = (
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.unshare(%d) != 0:\n"
    "    sys.exit('unshare(CLONE_NEWUSER): ' + os.strerror(ctypes.get_errno()))\n"
    "os.write(1, b'1'); os.read(0, 1)\n"
    "with open('/proc/sys/user/max_user_namespaces', 'w') as fh:\n"
    "    fh.write('0')\n"
    "os.write(1, b'2'); os.read(0, 1)\n" % _CLONE_NEWUSER)


class SandboxError(RuntimeError):
    """The sandbox cannot be set up: nothing is graded (fail closed)."""


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. ``memory_mb`` is the whole budget: the ``/tmp`` and ``/dev/shm``
    caps are taken out of it, and the rest is the address-space limit of the sandbox's processes."""

    cell_timeout: float = 60.0
    total_timeout: float = 600.0
    case_timeout: float = 10.0
    memory_mb: int = 4096
    tmp_mb: int = 256
    shm_mb: int = 64
    nproc: int = 128
    output_cap: int = 20_000        # characters of output kept per cell

    def rlimits(self, cpu_seconds: float) -> dict:
        mb = 1024 * 1024
        return {"RLIMIT_AS": max(self.memory_mb - self.tmp_mb - self.shm_mb, 64) * mb,
                "RLIMIT_FSIZE": (self.tmp_mb + self.shm_mb) * mb, "RLIMIT_NPROC": self.nproc,
                "RLIMIT_CPU": int(cpu_seconds) + 1}


def _executable() -> str:
    """The base interpreter (not a venv's launcher): the sandbox has no venv."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def _site_dirs() -> list[str]:
    return [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]


def _bootstrap(paths: list[str], home: str, work: str) -> str:
    """The code the sandboxed interpreter runs first: become uid 1000, then the cell runner."""
    u = SANDBOX_UID
    return ("import os, sys\n"
            "if os.getuid() == 0:\n"
            f"    os.setgroups([]); os.setresgid({u}, {u}, {u}); os.setresuid({u}, {u}, {u})\n"
            "if os.getuid() == 0 or os.geteuid() == 0:\n"
            "    os._exit(70)\n"
            f"sys.path[:0] = {paths!r}\n"
            "from rnncourse.grading.sandbox.runner import main\n"
            "main()\n")


def _others_may(path: Path, run: bool) -> bool:
    """Can a user who is neither owner nor in the group read ``path`` (every folder above it
    searchable), and enter it if it is a folder, or (``run``) run it if it is a program?"""
    path = Path(path).resolve()
    try:
        for parent in reversed(path.parents):
            if not os.stat(parent).st_mode & 0o001:
                return False
        mode = os.stat(path).st_mode
    except OSError:
        return False
    needs_x = path.is_dir() or (run and bool(mode & 0o100))
    return bool(mode & 0o004) and (not needs_x or bool(mode & 0o001))


def others_can_read(path: Path) -> bool:
    """Can a user who is neither owner nor in the group read ``path`` (folders searchable)?"""
    return _others_may(path, run=False)


def others_can_use(path: Path) -> bool:
    """Can a user who is neither owner nor in the group read (and, for a folder or a program,
    enter or run) ``path``?"""
    return _others_may(path, run=True)


class Proc:
    """One running sandbox: pipes to its cell runner, and the means to interrupt and end it."""

    def __init__(self, popen: subprocess.Popen, commands: int, replies: int, log: int,
                 jail: Jail, slot: int, info: int | None):
        self.popen, self.commands, self.replies, self.log = popen, commands, replies, log
        self.jail, self.slot, self._info = jail, slot, info
        self.init_pid = popen.pid if info is None else -1
        self.runner_pid = popen.pid if info is None else -1
        self.exit_state = ""
        self._ended = False

    def locate_runner(self, timeout: float = 5.0) -> None:
        """Find the runner's pid (outside view); call once it said it is ready."""
        if self._info is None:
            return
        deadline = time.monotonic() + timeout
        data = b""
        while b"}" not in data and time.monotonic() < deadline:
            ready, _, _ = select.select([self._info], [], [], 0.1)
            if ready:
                chunk = os.read(self._info, 4096)
                if not chunk:
                    break
                data += chunk
        try:
            self.init_pid = int(json.loads(data.decode())["child-pid"])
        except (ValueError, KeyError, TypeError):
            return
        children = Path(f"/proc/{self.init_pid}/task/{self.init_pid}/children")
        while time.monotonic() < deadline:
            try:
                kids = children.read_text().split()
            except OSError:
                return
            if kids:
                self.runner_pid = int(kids[0])
                return
            time.sleep(0.01)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def interrupt(self) -> None:
        if self.runner_pid > 0 and self.alive():
            try:
                os.kill(self.runner_pid, signal.SIGINT)
            except OSError:
                pass

    def end(self) -> str:
        """Kill everything in the sandbox; return how the runner ended. Safe to call twice."""
        if self._ended:
            return self.exit_state
        self._ended = True
        running = self.alive()
        if running:
            try:
                self.popen.wait(timeout=0.2)   # it may be leaving on its own ("bye")
                running = False
            except subprocess.TimeoutExpired:
                pass
        if running:
            self.jail.kill(self)
        code = self.popen.wait()
        if running:
            self.exit_state = "stopped by the grader"
        elif code > 128 and self._info is not None:   # bwrap reports a signal as 128 + number
            self.exit_state = f"signal {code - 128}"
        elif code < 0:
            self.exit_state = f"signal {-code}"
        else:
            self.exit_state = f"exit {code}"
        for fd in (self.commands, self.replies, self.log, self._info):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.jail.after(self)
        return self.exit_state


class Jail:
    """How the kernels of one batch are isolated (one per batch; ``slot`` = job slot)."""

    def __init__(self, isolation: str, root: Path, limits: Limits = Limits()):
        if isolation not in ISOLATIONS:
            raise SandboxError(f"unknown isolation {isolation!r}: one of {', '.join(ISOLATIONS)}")
        self.isolation, self.root, self.limits = isolation, Path(root), limits
        self.as_root = os.geteuid() == 0
        self.exe = _executable()
        self.bwrap = shutil.which("bwrap")
        self._userns: dict[int, int] = {}
        self._lock = threading.Lock()
        self._etc = self.root / "etc"

    # -- set-up --------------------------------------------------------------------------------
    def slot_uid(self, slot: int) -> int:
        return SLOT_UID_BASE + slot

    def check(self, private=()) -> None:
        """Raise :class:`SandboxError` (with what to do) when this isolation cannot work here."""
        if self.isolation == "bwrap":
            if self.bwrap is None:
                raise SandboxError(
                    "bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed. "
                    "Install it (apt-get install bubblewrap), or, on a platform without user "
                    "namespaces, pass --isolation user (see the instructor page)")
            self._etc.mkdir(parents=True, exist_ok=True)
            (self._etc / "passwd").write_text(
                f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:/tmp/home:/usr/sbin/nologin\n")
            (self._etc / "group").write_text(f"student:x:{SANDBOX_UID}:\n")
            if self.as_root:
                self._userns_fd(0)
            return
        if not self.as_root:
            raise SandboxError("--isolation user runs kernels as a separate unprivileged user, "
                               "which needs root; without root use the bubblewrap sandbox")
        package = Path(__file__).resolve().parents[2]
        for path in [package / "grading" / "judge" / "registry.py", *map(Path, private)]:
            if others_can_read(path):
                raise SandboxError(
                    f"--isolation user: {path} is readable by other users, so a kernel could "
                    f"read it; make it private first (chmod -R go-rwx {path.parent})")
        for path in [self.exe, *_site_dirs()]:
            if not others_can_use(Path(path)):
                raise SandboxError(
                    f"--isolation user: {path} cannot be used by another user (a folder above it "
                    "is private, e.g. /root), so the kernel's user could not run Python or import "
                    "numpy; install Python and the course's packages where every user can read "
                    "them (e.g. a venv made from /usr/bin/python3) and grade from there")
        # the kernel's user must reach its own scratch folder and the (public) kit, nothing else:
        # the batch folder can be crossed but not listed
        os.chmod(self.root, 0o711)

    def share(self, path: Path) -> None:
        """Make a kit readable by the kernel's user (``user`` isolation; the kit is public)."""
        if self.isolation != "user":
            return
        for folder, dirs, files in os.walk(path):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)

    def _userns_fd(self, slot: int) -> int:
        """A user namespace mapping uid 1000 to this slot's uid, nested ones disabled (root)."""
        with self._lock:
            if slot in self._userns:
                return self._userns[slot]
            helper = subprocess.Popen([self.exe, "-I", "-S", "-c", _USERNS_HELPER],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, close_fds=True)
            try:
                if helper.stdout.read(1) != b"1":
                    raise SandboxError("cannot create a user namespace for the sandbox: "
                                       f"{helper.stderr.read().decode(errors='replace').strip()}")
                uid = self.slot_uid(slot)
                for name in ("uid_map", "gid_map"):
                    with open(f"/proc/{helper.pid}/{name}", "w") as fh:
                        fh.write(f"0 0 1\n{SANDBOX_UID} {uid} 1\n")
                fd = os.open(f"/proc/{helper.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
                helper.stdin.write(b"g")
                helper.stdin.flush()
                if helper.stdout.read(1) != b"2":
                    os.close(fd)
                    raise SandboxError("cannot disable nested user namespaces in the sandbox: "
                                       f"{helper.stderr.read().decode(errors='replace').strip()}")
            except OSError as exc:
                raise SandboxError(f"cannot set up the sandbox's user namespace: {exc}") from None
            finally:
                helper.kill()
                helper.wait()
                for stream in (helper.stdin, helper.stdout, helper.stderr):
                    stream.close()
            self._userns[slot] = fd
            return fd

    def close(self) -> None:
        for fd in self._userns.values():
            os.close(fd)
        self._userns.clear()

    # -- one sandbox ---------------------------------------------------------------------------
    def env(self, home: str, tmp: str) -> dict:
        env = {"HOME": home, "TMPDIR": tmp, "PATH": "/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "USER": "student", "LOGNAME": "student",
               "MPLCONFIGDIR": f"{home}/.config/matplotlib"}
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = os.environ.get(var, "1")   # many kernels at once: one BLAS thread each
        return env

    def start(self, kit, slot: int, limits: Limits | None = None) -> tuple[Proc, dict]:
        """Start a sandbox for ``kit``; return it and the paths the runner uses."""
        limits = limits or self.limits
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        log_r, log_w = os.pipe()
        try:
            if self.isolation == "bwrap":
                return self._start_bwrap(kit, slot, limits, cmd_r, rep_w, log_w, cmd_w, rep_r,
                                         log_r)
            return self._start_user(kit, slot, cmd_r, rep_w, log_w, cmd_w, rep_r, log_r)
        finally:
            for fd in (cmd_r, rep_w, log_w):
                os.close(fd)

    def _bwrap_args(self, kit, slot: int, info_w: int, limits: Limits) -> list[str]:
        args = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
                "--new-session", "--info-fd", str(info_w), "--clearenv"]
        if self.as_root:
            args += ["--userns", str(self._userns_fd(slot)), "--cap-drop", "ALL",
                     "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID),
                     "--gid", str(SANDBOX_UID)]
        for name, value in self.env("/tmp/home", "/tmp").items():
            args += ["--setenv", name, value]
        for d in _SYSTEM:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
            elif os.path.isdir(d):
                args += ["--ro-bind", d, d]
        for f in _ETC:
            args += ["--ro-bind-try", f, f]
        args += ["--ro-bind", str(self._etc / "passwd"), "/etc/passwd",
                 "--ro-bind", str(self._etc / "group"), "/etc/group"]
        for pattern in _HIDDEN_SITES:
            for d in sorted(glob.glob(pattern)):
                args += ["--tmpfs", d]
        base = os.path.realpath(sys.base_prefix)
        if not any(base == d or base.startswith(d + "/") for d in _SYSTEM):
            for parent in reversed(Path(base).parents):
                if str(parent) != "/":
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", base, base]
        for key in ("purelib", "platlib"):
            site = sysconfig.get_path(key, vars={"base": base, "platbase": base})
            if os.path.isdir(site) and site not in args:
                args += ["--tmpfs", site]
        args += ["--tmpfs", "/kit", "--ro-bind", str(Path(kit.path) / "rnncourse"),
                 "/kit/rnncourse"]
        for source, name in kit.binds:
            args += ["--ro-bind", source, f"/kit/{name}"]
        mb = 1024 * 1024
        args += ["--remount-ro", "/kit", "--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(limits.tmp_mb * mb), "--tmpfs", "/tmp",
                 "--perms", "1777", "--size", str(limits.shm_mb * mb), "--tmpfs", "/dev/shm",
                 "--chdir", "/tmp"]
        return args + ["--", self.exe, "-I", "-S", "-B", "-c",
                       _bootstrap(["/kit"], "/tmp/home", "/tmp/work")]

    def _start_bwrap(self, kit, slot, limits, cmd_r, rep_w, log_w, cmd_w, rep_r, log_r):
        info_r, info_w = os.pipe()
        try:
            args = self._bwrap_args(kit, slot, info_w, limits)
            keep = [info_w] + ([self._userns[slot]] if self.as_root else [])
            popen = subprocess.Popen(args, stdin=cmd_r, stdout=rep_w, stderr=log_w,
                                     pass_fds=keep, close_fds=True, cwd="/",
                                     env={"PATH": os.environ.get("PATH", os.defpath)},
                                     start_new_session=True)
        except BaseException:
            os.close(info_r)
            raise
        finally:
            os.close(info_w)
        proc = Proc(popen, cmd_w, rep_r, log_r, self, slot, info_r)
        return proc, {"home": "/tmp/home", "work": "/tmp/work"}

    def _scratch(self, slot: int) -> Path:
        return self.root / f"slot-{slot}"

    def _start_user(self, kit, slot, cmd_r, rep_w, log_w, cmd_w, rep_r, log_r):
        uid = self.slot_uid(slot)
        scratch = self._scratch(slot)
        remove_tree(scratch)
        scratch.mkdir(mode=0o700)
        os.chown(scratch, uid, uid)
        home, work = str(scratch / "home"), str(scratch / "work")
        paths = [str(kit.path)] + _site_dirs()
        popen = subprocess.Popen([self.exe, "-I", "-S", "-B", "-c", _bootstrap(paths, home, work)],
                                 stdin=cmd_r, stdout=rep_w, stderr=log_w, close_fds=True,
                                 cwd=str(scratch), env=self.env(home, str(scratch)), user=uid,
                                 group=uid, extra_groups=[], start_new_session=True)
        return Proc(popen, cmd_w, rep_r, log_r, self, slot, None), {"home": home, "work": work}

    # -- ending one sandbox --------------------------------------------------------------------
    def kill(self, proc: Proc) -> None:
        if self.isolation == "bwrap":
            for pid in (proc.init_pid, proc.popen.pid):
                if pid > 0:
                    try:
                        os.kill(pid, signal.SIGKILL)   # pid 1 of the namespace: all of it dies
                    except OSError:
                        pass
            return
        self._kill_uid(self.slot_uid(proc.slot))

    def _kill_uid(self, uid: int) -> None:
        """Kill every process whose real uid is ``uid`` (repeated: a process may fork meanwhile)."""
        for _ in range(50):
            found = 0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/status", "rb") as fh:
                        line = next(x for x in fh if x.startswith(b"Uid:"))
                    if int(line.split()[1]) == uid:
                        os.kill(int(entry), signal.SIGKILL)
                        found += 1
                except (OSError, StopIteration, ValueError, IndexError):
                    continue
            if not found:
                return
            time.sleep(0.02)

    def after(self, proc: Proc) -> None:
        """Remove what a sandbox left behind (bwrap: nothing can be left; user: sweep)."""
        if self.isolation == "user":
            uid = self.slot_uid(proc.slot)
            self._kill_uid(uid)
            remove_tree(self._scratch(proc.slot))
            sweep_owned(["/tmp", "/var/tmp", "/dev/shm"], uid)
