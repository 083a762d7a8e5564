"""The student kit: the only ``rnncourse`` (and the only packages) a sandbox can see.

For each exercise the grader writes, into the batch's private folder, a small copy of the package
holding exactly what :attr:`Exercise.kit` allows (data generators, gradcheck, plotting, the
library modules the exercise builds on), the sandbox side of the grader
(:mod:`rnncourse.grading.sandbox`) and ``check``'s visible cases as data. The registry, the
references, ``solutions/`` and the judge are not in it. Third-party packages are the dependency
closure of numpy, IPython, matplotlib and tqdm (plus :attr:`Exercise.packages`), bound read-only
from where they are installed; torch, scipy and everything else are absent.

An allow-list that does not hold together (a module importing an rnncourse module that the kit
lacks) is an error here, at build time, not an ImportError in a student's notebook.
"""
from __future__ import annotations

import ast
import compileall
import functools
import importlib.metadata as md
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .registry import Exercise
from .visible import kit_files

__all__ = ["Kit", "KitError", "build_kit", "kit_modules", "distributions", "BASE_DISTRIBUTIONS"]

PACKAGE = Path(__file__).resolve().parents[2]          # the installed rnncourse/
BASE_DISTRIBUTIONS = ("numpy", "ipython", "matplotlib", "matplotlib-inline", "tqdm")
_ALWAYS = ("rnncourse", "rnncourse.grading", "rnncourse.grading.sandbox")
_TOOL_PACKAGES = ("rnncourse.plot",)
_GRADING_INIT = '''"""Student kit (grading sandbox): check() on the visible cases, nothing else of the grader."""
from .sandbox.kit_check import CheckResult, check

__all__ = ["check", "CheckResult"]
'''
_CHECK = '''"""Student kit (grading sandbox): check() reads the visible cases from data."""
from .sandbox.kit_check import CheckResult, check

__all__ = ["check", "CheckResult"]
'''


class KitError(RuntimeError):
    """The kit of an exercise cannot be built (an allow-list that does not hold together)."""


@dataclass
class Kit:
    """A built kit: ``path`` holds ``rnncourse/``; ``binds`` are ``(source, name)`` of packages."""

    exercise: str
    path: Path
    binds: list = field(default_factory=list)
    modules: list = field(default_factory=list)


def _file_of(module: str) -> Path | None:
    parts = module.split(".")[1:]
    rel = Path(*parts)
    candidates = [PACKAGE / rel / "__init__.py"]
    if parts:
        candidates.append((PACKAGE / rel).with_suffix(".py"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _tool_submodules(listed) -> set[str]:
    """The submodules of a listed tool package (plotting): a tool, whether one module or a
    package, travels whole. Library packages do not (their allow-list names each module)."""
    out: set[str] = set()
    for tool in _TOOL_PACKAGES:
        folder = PACKAGE / Path(*tool.split(".")[1:])
        if tool in listed and (folder / "__init__.py").is_file():
            out |= {f"{tool}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    return out


def kit_modules(ex: Exercise) -> list[str]:
    """Every rnncourse module the kit of ``ex`` holds (sorted)."""
    sandbox = [f"rnncourse.grading.sandbox.{p.stem}"
               for p in (PACKAGE / "grading" / "sandbox").glob("*.py") if p.stem != "__init__"]
    return sorted(set(_ALWAYS) | set(sandbox) | {"rnncourse.grading.check"} | set(ex.kit)
                  | _tool_submodules(ex.kit))


def _imports(path: Path, module: str) -> set[str]:
    """Absolute rnncourse modules imported anywhere in ``path`` (function bodies included)."""
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names if _file_of(f"{base}.{a.name}")}
    return {m for m in found if m == "rnncourse" or m.startswith("rnncourse.")}


def _package_init(module: str, allowed: set[str]) -> str:
    subs = sorted(m for m in allowed if m.rpartition(".")[0] == module)
    lines = [f'"""Student kit: only what this exercise allows of {module}."""']
    lines += [f"from .{m.rpartition('.')[2]} import *  # noqa: F401,F403" for m in subs
              if not m.rpartition(".")[2].startswith("_")]
    return "\n".join(lines) + "\n"


def _write_modules(ex: Exercise, root: Path) -> list[str]:
    allowed = set(kit_modules(ex))
    special = {"rnncourse.grading": _GRADING_INIT, "rnncourse.grading.check": _CHECK}
    for module in sorted(allowed):
        src = _file_of(module)
        if src is None and module not in special:
            raise KitError(f"{ex.id}: the kit lists {module}, which is not a module of rnncourse")
        dst = root / Path(*module.split("."))
        dst = dst / "__init__.py" if src is not None and src.name == "__init__.py" else \
            dst.with_suffix(".py")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if module in special:
            dst.write_text(special[module], encoding="utf-8")
            continue
        missing = sorted(_imports(src, module) - allowed)
        if missing and src.name == "__init__.py":
            dst.write_text(_package_init(module, allowed), encoding="utf-8")
        elif missing:
            raise KitError(f"{ex.id}: {module} imports {', '.join(missing)}, which the kit of "
                           "this exercise does not allow; allow it or leave the module out")
        else:
            shutil.copyfile(src, dst)
            if src.name == "__init__.py":      # a data package's texts travel with it
                for data in sorted(src.parent.glob("*.txt")):
                    shutil.copyfile(data, dst.parent / data.name)
    return sorted(allowed)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(extra=()) -> list[str]:
    """The dependency closure of the base distributions and ``extra`` (canonical names)."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    env = {**default_environment(), "extra": ""}
    seen: set[str] = set()
    todo = [*BASE_DISTRIBUTIONS, *extra]
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            if name in ("numpy", "ipython"):
                raise KitError(f"{name} is not installed: the sandbox needs it") from None
            continue
        seen.add(name)
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return sorted(seen)


@functools.lru_cache(maxsize=None)
def _binds(extra: tuple) -> list[tuple[str, str]]:
    """``(installed path, top-level name)`` of every file or folder of the allowed distributions."""
    binds: dict[str, str] = {}
    for name in distributions(extra):
        dist = md.distribution(name)
        for f in dist.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth") or top in binds.values():
                continue
            path = Path(dist.locate_file(top)).resolve()
            if path.exists():
                binds[str(path)] = top
    return sorted(binds.items(), key=lambda kv: kv[1])


def build_kit(ex: Exercise, folder: Path) -> Kit:
    """Write the kit of ``ex`` under ``folder`` (``folder/rnncourse``) and list its binds."""
    folder = Path(folder)
    modules = _write_modules(ex, folder)
    spec, arrays = kit_files(ex)
    grading = folder / "rnncourse" / "grading"
    (grading / "visible.json").write_bytes(spec)
    (grading / "visible.npz").write_bytes(arrays)
    # compiled once per batch, not once per sandbox (which may not write); tracebacks say /kit
    compileall.compile_dir(str(folder), ddir="/kit", quiet=2, workers=1)
    return Kit(ex.id, folder, list(_binds(tuple(ex.packages))), modules)
