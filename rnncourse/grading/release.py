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

from .messages import LANG_CELL, STUB

__all__ = ["ReleaseError", "release_notebook", "release_dir", "write_notebook", "normalize_notebook",
           "catalogue_template", "update_catalogue", "catalogue_problems", "translate_notebook",
           "release_dir_lang", "LANG_DIRS"]

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


def _strip_code(source: str, where: str, lang: str = "en") -> str:
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
        stub = STUB[lang].format(name=name)
        out.append(f'{indent}raise NotImplementedError("{stub}")')
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


def release_notebook(nb, where: str = "notebook", lang: str = "en"):
    """Return the student version of a solution notebook (the input is not modified).

    ``lang`` only changes the stubs' ``NotImplementedError`` message; :func:`translate_notebook`
    makes the rest of a notebook in another language."""
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
            cell.source = _strip_code(cell.source, here, lang)
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


# --------------------------------------------------------------------------------------------------
# Exercise notebooks in other languages (issue 14 item 5): gettext catalogues of the exercise text.
#
# One message per markdown cell of the released notebook (its markup stays whole), plus the
# exercise's title and each item's title and hint from the registry (msgctxt "exercise-title",
# "title", "hint"; check() and the grader say them). Code cells are not translated, except the
# stubs' NotImplementedError message (messages.STUB). Catalogues: locales/<lang>/exercises/NN.po.

LANG_DIRS = {"ja": "ja"}          # language -> folder under exercises/


def _markdown_messages(nb) -> list[tuple[str, int]]:
    return [(c.source, k) for k, c in enumerate(nb.cells, 1)
            if c.cell_type == "markdown" and c.source.strip()]


def catalogue_template(nb, where: str = "notebook"):
    """The babel Catalog (no translations) of one solution notebook's student text."""
    from babel.messages.catalog import Catalog

    from .judge.registry import get_exercise

    released = release_notebook(nb, where)
    ex_id = released.metadata["rnncourse"]["exercise"]
    cat = Catalog(project=f"rnncourse exercise {ex_id}", fuzzy=False)
    name = f"solutions/{ex_id}.ipynb"
    for text, k in _markdown_messages(released):
        cat.add(text, locations=[(name, k)])
    ex = get_exercise(ex_id)
    cat.add(ex.title, context="exercise-title", locations=[(f"registry:{ex_id}", 0)])
    for n, item in enumerate(ex.items, 1):
        cat.add(item.title, context="title", locations=[(f"registry:{ex_id}.{item.name}", n)])
        if item.hint:
            cat.add(item.hint, context="hint", locations=[(f"registry:{ex_id}.{item.name}", n)])
    return cat


def _read_po(path: Path):
    from babel.messages.pofile import read_po
    with Path(path).open("rb") as fh:
        return read_po(fh)


def update_catalogue(nb, po: Path, lang: str, where: str = "notebook") -> bool:
    """Create or update ``po`` from the notebook, as sphinx-intl does: translations kept, changed
    messages marked fuzzy (babel's matching), messages no longer in the notebook dropped.
    Returns True when the file changed."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po
    import io

    template = catalogue_template(nb, where)
    po = Path(po)
    if po.exists():
        cat = _read_po(po)
    else:
        cat = Catalog(locale=lang, project=template.project, fuzzy=False)
    cat.project = template.project
    cat.update(template, no_fuzzy_matching=False, update_header_comment=False)
    cat.obsolete.clear()
    buf = io.BytesIO()
    write_po(buf, cat, width=76, omit_header=False, sort_output=False)
    text = buf.getvalue().decode("utf-8")
    text = re.sub(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', "", text, flags=re.M)
    old = po.read_text(encoding="utf-8") if po.exists() else None
    if old != text:
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_text(text, encoding="utf-8")
        return True
    return False


def catalogue_problems(nb, po: Path, where: str = "notebook") -> list[str]:
    """What keeps ``po`` from translating this notebook: missing, untranslated or fuzzy messages
    (empty list: complete)."""
    po = Path(po)
    if not po.exists():
        return [f"{po}: no catalogue"]
    have = {(m.context, m.id): m for m in _read_po(po) if m.id}
    problems = []
    for m in catalogue_template(nb, where):
        if not m.id:
            continue
        got = have.get((m.context, m.id))
        first = m.id.strip().split("\n")[0][:60]
        at = f"{m.context} " if m.context else f"cell {m.locations[0][1]} " if m.locations else ""
        if got is None:
            problems.append(f"{at}not in the catalogue (run --update-po): {first!r}")
        elif not got.string:
            problems.append(f"{at}untranslated: {first!r}")
        elif got.fuzzy:
            problems.append(f"{at}fuzzy (the English changed): {first!r}")
    return problems


def translate_notebook(nb, po: Path, lang: str, where: str = "notebook"):
    """The student notebook in ``lang``: the English release with every markdown cell replaced by
    its translation, the stubs' messages in ``lang``, a first code cell that makes check() speak
    ``lang``, and ``metadata.rnncourse.lang``. Same exercise id, same code. Raises ReleaseError
    naming what is missing when the catalogue is not complete."""
    problems = catalogue_problems(nb, po, where)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ReleaseError(f"{where}: the {lang} catalogue {po} is not complete "
                           f"({len(problems)} message(s)); not writing a partly translated "
                           f"notebook:\n  {shown}{more}")
    table = {m.id: m.string for m in _read_po(po) if m.id and not m.context}
    student = release_notebook(nb, where, lang=lang)
    for cell in student.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            cell.source = table[cell.source]
    first_code = next((i for i, c in enumerate(student.cells) if c.cell_type == "code"),
                      len(student.cells))
    lang_cell = nbformat.v4.new_code_cell(LANG_CELL[lang])
    lang_cell["id"] = f"rnncourse-lang-{lang}"
    student.cells.insert(first_code, lang_cell)
    student.metadata["rnncourse"] = {**student.metadata["rnncourse"], "lang": lang}
    normalize_notebook(student)
    return student


def release_dir_lang(src: Path, dst: Path, catalogues: Path, lang: str,
                     check: bool = False) -> tuple[list[Path], list[str], list[str]]:
    """Release, in ``lang``, every notebook of ``src`` that has a catalogue in ``catalogues``.

    Returns ``(changed, skipped, errors)``: the notebooks written (or, with ``check``, those out of
    date, stale ones included), the exercises without a catalogue (English only), and one
    message per notebook whose catalogue is incomplete (nothing is written for those).
    """
    src, dst, catalogues = Path(src), Path(dst), Path(catalogues)
    if lang not in LANG_CELL:
        raise ReleaseError(f"no notebook language {lang!r}; known: {', '.join(sorted(LANG_CELL))}")
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ReleaseError(f"{src}: no .ipynb files to release")
    changed: list[Path] = []
    skipped: list[str] = []
    errors: list[str] = []
    made: set = set()
    for path in notebooks:
        po = catalogues / f"{path.stem}.po"
        if not po.exists():
            skipped.append(path.stem)
            continue
        nb = nbformat.read(path, as_version=4)
        try:
            text = notebook_text(translate_notebook(nb, po, lang, where=str(path)))
        except ReleaseError as exc:
            errors.append(str(exc))
            continue
        target = dst / path.name
        made.add(path.name)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            changed.append(target)
            if not check:
                dst.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    if check and dst.is_dir():
        failed = {Path(e.split(":", 1)[0]).name for e in errors}
        changed.extend(dst / p.name for p in sorted(dst.glob("*.ipynb"))
                       if p.name not in made and p.name not in failed)
    return changed, skipped, errors
