"""No graded solution is printed in a chapter or in the question bank (issue 13, item 1).

A *graded function* is a function of ``solutions/*.ipynb`` that contains a ``### BEGIN SOLUTION`` /
``### END SOLUTION`` region, or is defined inside one. The checker compares

- each graded function, normalised (docstrings, comments and type hints dropped; every name that is not a
  builtin or an imported module renamed in order of first appearance, the function's own name included),
  with every function and method defined in every code cell of ``book/*.ipynb`` and every code question
  of ``rnncourse/quiz/bank/*.json`` (its blank filled with the correct choice, as a student sees it in the
  explanation), and
- every run of k consecutive statements of a solution region (normalised the same way, as one block) with
  every run of k consecutive statements in those cells and snippets (a near-copy), where k = 4, or, for a
  region of fewer than 8 statements, half of it rounded up but at least 3 (so copying the three key lines of
  a five-line solution is caught, and a region of 1-2 statements is only caught as a whole function).
  Tuple assignments ``a, b = x, y`` count as one statement per target, so merging lines does not hide them.
- a looser near-copy: a run of consecutive statements containing at least 4 distinct statements of one
  solution region, each normalised on its own (names renamed per statement), where statements with fewer
  than 2 operations (``a = b * c``; an attribute counts as one) neither count nor break the run, and any other statement breaks it.
  This finds a derivation that reorders, renames and interleaves the solution's lines.

Chapters are read in full: code cells and the fenced ``python`` blocks of markdown cells.

``test_checker_finds_the_known_leaks`` runs it on the three cells that printed graded solutions before
issue 13 (copies in tests/fixtures/solution_leaks/), so the test is known to be able to fail.
"""
from __future__ import annotations

import ast
import builtins
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "solution_leaks"
WINDOW = 4
MIN_WINDOW = 3
_BEGIN = re.compile(r"^\s*###\s*BEGIN SOLUTION")
_END = re.compile(r"^\s*###\s*END SOLUTION")
_BUILTINS = set(dir(builtins)) | {"self", "cls"}


# ---------------------------------------------------------------------------------------------- parsing
def _parse(src: str) -> ast.Module | None:
    """Parse a notebook cell: IPython magics and shell lines become ``pass``; None if not Python."""
    lines = [("pass" if re.match(r"^\s*[%!]", ln) else ln) for ln in src.splitlines()]
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return None
    tree = _SplitTuples().visit(tree)
    for node in ast.walk(tree):          # end_lineno of the split statements
        for field in ("lineno", "end_lineno"):
            if hasattr(node, "lineno") and getattr(node, field, None) is None:
                setattr(node, field, node.lineno)
    return tree


class _SplitTuples(ast.NodeTransformer):
    """``a, b = x, y`` becomes ``a = x`` and ``b = y`` (same line numbers)."""

    def visit_Assign(self, node):
        t, v = node.targets, node.value
        if len(t) == 1 and isinstance(t[0], ast.Tuple) and isinstance(v, ast.Tuple) \
                and len(t[0].elts) == len(v.elts) and not any(isinstance(e, ast.Starred) for e in t[0].elts + v.elts):
            return [ast.copy_location(ast.Assign(targets=[a], value=b), node) for a, b in zip(t[0].elts, v.elts)]
        return node


def _window_size(n: int) -> int:
    """The length of a near-copy of a solution region of ``n`` statements (0: none checked)."""
    k = WINDOW if n >= 2 * WINDOW else max(MIN_WINDOW, -(-n // 2))
    return k if k <= n else 0


def _module_aliases(tree: ast.AST) -> set[str]:
    """Names bound by ``import x`` / ``import x as y`` (modules keep their names; from-imports do not)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(a.asname or a.name.split(".")[0])
    return out | {"np", "torch", "nn", "F", "math", "plt"}


class _Normalise(ast.NodeTransformer):
    """Drop docstrings and annotations; rename non-global names in order of first appearance."""

    def __init__(self, keep: set[str]):
        self.keep = keep
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"_v{len(self.names)}")

    def _strip_body(self, body):
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:] or [ast.Pass()]
        return body

    def visit_FunctionDef(self, node):
        node.name = self._rename(node.name)
        node.returns = None
        node.decorator_list = []
        node.body = self._strip_body(node.body)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._rename(node.name)
        node.body = self._strip_body(node.body)
        self.generic_visit(node)
        return node

    def visit_arg(self, node):
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node):
        node.id = self._rename(node.id)
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is None:
            return ast.Pass()
        return ast.Assign(targets=[node.target], value=node.value)


def _key(nodes: list[ast.AST], keep: set[str]) -> str:
    """The normalised form of a function or of a block of statements (one renaming for the block)."""
    import copy

    mod = ast.Module(body=[copy.deepcopy(n) for n in nodes], type_ignores=[])
    mod = _Normalise(keep).visit(mod)
    return ast.dump(mod, annotate_fields=False, include_attributes=False)


def _statement_lists(node: ast.AST):
    """Every list of statements in the tree (module, function, loop, branch, with, try bodies)."""
    for child in ast.walk(node):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(child, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield body
        for h in getattr(child, "handlers", []) or []:
            yield h.body


def _windows(body: list[ast.stmt], keep: set[str], size: int = WINDOW):
    for k in range(len(body) - size + 1):
        block = body[k:k + size]
        if all(isinstance(s, ast.Pass) for s in block):
            continue
        yield _key(block, keep)


# ------------------------------------------------------------------------------------ the graded code
@dataclass(frozen=True)
class Graded:
    where: str           # "solutions/04_lstm.ipynb cell 6"
    functions: dict      # name -> normalised key
    windows: dict        # (size, normalised block key) -> region description
    statements: dict     # normalised non-trivial statement -> region description


_OPS = (ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Subscript, ast.Compare, ast.BoolOp)


def _trivial(stmt: ast.stmt) -> bool:
    return sum(isinstance(n, _OPS) for n in ast.walk(stmt)) < 2


def _simple_statements(stmts):
    """The simple (non-compound) statements in ``stmts`` and below."""
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.stmt) and not any(isinstance(getattr(n, f, None), list) and getattr(n, f)
                                                   and isinstance(getattr(n, f)[0], ast.stmt)
                                                   for f in ("body", "orelse", "finalbody")):
                yield n


def _regions(src: str) -> list[tuple[int, int]]:
    out, start = [], None
    for n, line in enumerate(src.splitlines(), 1):
        if _BEGIN.match(line):
            start = n
        elif _END.match(line) and start is not None:
            out.append((start, n))
            start = None
    return out


def graded_code(src: str, where: str) -> Graded | None:
    regions = _regions(src)
    if not regions:
        return None
    tree = _parse(src)
    if tree is None:
        raise AssertionError(f"{where}: a solution cell that does not parse")
    keep = _BUILTINS | _module_aliases(tree)
    inside = lambda ln: any(a < ln < b for a, b in regions)  # noqa: E731
    functions, windows, statements = {}, {}, {}
    owner = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for ln in range(node.lineno, node.end_lineno + 1):
                owner[ln] = node.name         # ast.walk is breadth-first: the innermost def wins
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = range(node.lineno, node.end_lineno + 1)
            if inside(node.lineno) or any(a in lines for a, _ in regions):
                functions[node.name] = _key([node], keep)
    for body in _statement_lists(tree):
        run: list[ast.stmt] = []
        for stmt in body + [None]:
            if stmt is not None and inside(stmt.lineno):
                run.append(stmt)
                continue
            if run:
                desc = f"{owner.get(run[0].lineno, 'module code')} of {where}"
                for st in _simple_statements(run):
                    if not _trivial(st):
                        statements.setdefault(_key([st], keep), desc)
                for child_body in [run] + [b for s in run for b in _statement_lists(s)]:
                    size = _window_size(len(child_body))
                    if size:
                        for w in _windows(child_body, keep, size):
                            windows.setdefault((size, w), desc)
            run = []
    return Graded(where, functions, windows, statements)


def all_graded() -> list[Graded]:
    out = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for k, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                g = graded_code(cell.source, f"{path.relative_to(ROOT)} cell {k}")
                if g:
                    out.append(g)
    return out


# -------------------------------------------------------------------------------- the published code
def find_leaks(src: str, where: str, graded: list[Graded]) -> list[str]:
    """Leaks of ``graded`` in the code ``src`` (a chapter cell or a bank snippet), as messages."""
    tree = _parse(src)
    if tree is None:
        return []
    keep = _BUILTINS | _module_aliases(tree)
    found = []
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for g in graded:
        gkeep_funcs = g.functions
        for f in funcs:
            key = _key([f], keep)
            for name, gkey in gkeep_funcs.items():
                if key == gkey:
                    found.append(f"{where}: function {f.name!r} is the graded solution {name!r} of {g.where}")
    seen = set()
    for body in _statement_lists(tree):
        for size in range(MIN_WINDOW, WINDOW + 1):
            for k, w in enumerate(_windows(body, keep, size)):
                for g in graded:
                    if (size, w) in g.windows and (g.where, id(body)) not in seen:
                        seen.add((g.where, id(body)))
                        found.append(f"{where}: lines {body[k].lineno}-{body[k + size - 1].end_lineno} copy "
                                     f"{size} statements of the solution region {g.windows[size, w]}")
    for body in _statement_lists(tree):
        keys = [None if _trivial(st) else _key([st], keep) for st in body] + [None]
        for g in graded:
            if (g.where, id(body)) in seen or not any(k in g.statements for k in keys):
                continue
            matched, start = set(), None
            for st, key in zip(body + [None], keys):
                if st is not None and key is None:
                    continue
                if key in g.statements:
                    start = start or st.lineno
                    matched.add(key)
                    continue
                if len(matched) >= WINDOW:
                    seen.add((g.where, id(body)))
                    desc = next(iter(g.statements[k] for k in matched))
                    found.append(f"{where}: from line {start}, {len(matched)} statements of the solution "
                                 f"region {desc}, reordered or interleaved")
                    break
                matched, start = set(), None
    return found


_FENCE = re.compile(r"^(`{3,}|~{3,})\s*(?:python|py|ipython3?|\{code-cell\}[^\n]*)\s*\n(.*?)^\1\s*$", re.M | re.S)


def book_cells():
    """(where, source) of every code cell and fenced python block of book/*.ipynb."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for k, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                yield f"{path.relative_to(ROOT)} cell {k}", cell.source
            elif cell.cell_type == "markdown":
                for m in _FENCE.finditer(cell.source):
                    yield f"{path.relative_to(ROOT)} cell {k} (python block)", m.group(2)


def bank_snippets():
    for path in sorted((ROOT / "rnncourse" / "quiz" / "bank").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for q in data.get("questions", []) if isinstance(data, dict) else []:
            if q.get("kind") == "code":
                filled = q["code"].replace("____", str(q["choices"][q["answer"]]))
                yield f"{path.relative_to(ROOT)} question {q['id']}", filled


@pytest.fixture(scope="module")
def graded():
    g = all_graded()
    assert len(g) >= 40, f"expected the graded cells of every solutions notebook, found {len(g)}"
    return g


def test_no_graded_solution_in_the_chapters(graded):
    leaks = [m for where, src in book_cells() for m in find_leaks(src, where, graded)]
    assert not leaks, "graded solutions printed in the book:\n" + "\n".join(leaks)


def test_no_graded_solution_in_the_question_bank(graded):
    leaks = [m for where, src in bank_snippets() for m in find_leaks(src, where, graded)]
    assert not leaks, "graded solutions given away by code questions:\n" + "\n".join(leaks)


@pytest.mark.parametrize("fixture, solution", [
    ("04_lstm_step_backward.py", "lstm_step_backward"),
    ("05_gru_step_backward.py", "gru_step_backward"),
    ("06_birnn_backward.py", "birnn_backward"),
])
def test_checker_finds_the_known_leaks(graded, fixture, solution):
    """The cells of chapters 4, 5 and 6 that printed graded solutions (commit 3cda9ff) are found."""
    src = (FIXTURES / fixture).read_text(encoding="utf-8")
    leaks = find_leaks(src, fixture, graded)
    assert any(solution in m for m in leaks), leaks


def test_checker_sees_through_renaming_and_docstrings(graded):
    """Renamed variables, comments and type hints do not hide a copy; a different computation is no match."""
    src = (FIXTURES / "04_lstm_step_backward.py").read_text(encoding="utf-8")
    for old, new in [("dh", "grad_h"), ("tc", "tanh_c"), ("dc", "delta_c"), ("do", "delta_o")]:
        src = re.sub(rf"\b{old}\b", new, src)
    assert "delta_c = dc_next + grad_h * o * (1 - tanh_c ** 2)" in src
    assert any("lstm_step_backward" in m for m in find_leaks(src, "renamed", graded))
    fn = ("def my_backward(g: np.ndarray, cache) -> tuple:\n    \"\"\"A new docstring.\"\"\"\n"
          "    x, prev_h, prev_c, Wx, Wh, i, f, g2, o, tc = cache  # same as the solution\n"
          "    do = g * tc\n    dc = 0 + g * o * (1 - tc ** 2)\n")
    assert not find_leaks(fn, "partial", graded)          # 3 statements, one changed: not a copy
    assert not find_leaks("def f(a, b):\n    return a @ b\n", "other", graded)


def test_window_sizes():
    assert [_window_size(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 20)] == [0, 0, 3, 3, 3, 3, 4, 4, 4]


def test_markdown_python_blocks_are_read(tmp_path):
    src = "text\n\n```python\nx = 1\n```\n\n```{code-cell} ipython3\ny = 2\n```\n"
    assert [m.group(2) for m in _FENCE.finditer(src)] == ["x = 1\n", "y = 2\n"]


def test_bank_code_is_parsed():
    """Every code question parses once its blank is filled (else the bank check would skip it)."""
    bad = [where for where, src in bank_snippets() if _parse(src) is None]
    assert not bad, bad
