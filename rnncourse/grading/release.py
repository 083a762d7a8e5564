"""``rnncourse release SOLUTIONS EXERCISES``: make student notebooks from the solution notebooks.

``solutions/`` is the only place an exercise is written. In code cells, each region between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub raising ``NotImplementedError`` (text
after ``BEGIN SOLUTION`` becomes a hint comment); in markdown cells, text between
``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is replaced by a prompt; cells tagged
``solution-only`` are dropped. Outputs are cleared. The result is deterministic, so a test can prove
``exercises/`` is exactly what this produces.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

__all__ = ["ReleaseError", "release_notebook", "release_dir", "write_notebook", "normalize_notebook"]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?P<rest>.*)$")
_END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
_MD_BEGIN, _MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+(?P<name>\w+)")
SOLUTION_ONLY_TAG = "solution-only"


class ReleaseError(ValueError):
    """A solution notebook is malformed (unbalanced markers, missing exercise id, ...)."""


def _enclosing_function(lines: list[str], index: int, indent: str) -> str | None:
    for line in reversed(lines[:index]):
        m = _DEF.match(line)
        if m and len(m.group("indent")) < len(indent):
            return m.group("name")
    return None


def _strip_code(source: str, where: str) -> str:
    lines = source.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _BEGIN.match(lines[i])
        if _END.match(lines[i]):
            raise ReleaseError(f"{where}: '### END SOLUTION' without a matching BEGIN (line {i + 1})")
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent, rest = m.group("indent"), m.group("rest").strip(" :-")
        j = i + 1
        while j < len(lines) and not _END.match(lines[j]):
            if _BEGIN.match(lines[j]):
                raise ReleaseError(f"{where}: nested '### BEGIN SOLUTION' (line {j + 1})")
            j += 1
        if j == len(lines):
            raise ReleaseError(f"{where}: '### BEGIN SOLUTION' on line {i + 1} is never closed")
        name = _enclosing_function(lines, i, indent) or "this cell"
        if rest:
            out.append(f"{indent}# {rest[0].upper()}{rest[1:]}")
        out.append(f"{indent}# YOUR CODE HERE")
        out.append(f'{indent}raise NotImplementedError("{name}: your code goes here")')
        i = j + 1
    return "\n".join(out)


def _strip_markdown(source: str, where: str) -> str:
    out, rest = [], source
    while _MD_BEGIN in rest:
        before, after = rest.split(_MD_BEGIN, 1)
        if _MD_END not in after:
            raise ReleaseError(f"{where}: '{_MD_BEGIN}' is never closed")
        out.append(before + "*Your answer here.*")
        rest = after.split(_MD_END, 1)[1]
    if _MD_END in rest:
        raise ReleaseError(f"{where}: '{_MD_END}' without a matching BEGIN")
    out.append(rest)
    return "".join(out)


def normalize_notebook(nb) -> None:
    """Clear outputs and execution counts in place (notebooks are committed clean)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)


def release_notebook(nb, where: str = "notebook"):
    """Return the student version of a solution notebook (the input is not modified)."""
    meta = nb.metadata.get("rnncourse", {})
    if not meta.get("exercise"):
        raise ReleaseError(f"{where}: metadata.rnncourse.exercise is missing (the grader needs it)")
    student = copy.deepcopy(nb)
    cells = []
    for k, cell in enumerate(student.cells, 1):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        here = f"{where}, cell {k}"
        if cell.cell_type == "code":
            cell.source = _strip_code(cell.source, here)
        elif cell.cell_type == "markdown":
            cell.source = _strip_markdown(cell.source, here)
        cells.append(cell)
    student.cells = cells
    student.metadata["rnncourse"] = {**meta, "role": "exercise"}
    normalize_notebook(student)
    return student


def notebook_text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def write_notebook(nb, path: Path) -> None:
    Path(path).write_text(notebook_text(nb), encoding="utf-8")


def release_dir(src: Path, dst: Path, check: bool = False) -> list[Path]:
    """Release every ``*.ipynb`` of ``src`` into ``dst``.

    With ``check=True`` nothing is written; returns the notebooks whose release differs from what
    is in ``dst`` (an empty list means ``dst`` is up to date). Otherwise returns the files written.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise ReleaseError(f"{src}: not a directory")
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ReleaseError(f"{src}: no .ipynb files to release")
    changed: list[Path] = []
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001
            raise ReleaseError(f"{path}: not a readable notebook ({exc})") from None
        text = notebook_text(release_notebook(nb, where=str(path)))
        target = dst / path.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            changed.append(target)
            if not check:
                dst.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    if check:
        stale = sorted(set(p.name for p in dst.glob("*.ipynb")) - set(p.name for p in notebooks))
        changed.extend(dst / name for name in stale)
    return changed
