"""Copy detection for the instructor: ``similarity.csv``. Flagged, never prevented, never graded.

The course publishes its solutions, so no sandbox can stop a student from copying one. For every
graded function of every submission this module takes the function's syntax tree, with the
docstring dropped and every identifier the student chose (arguments, locals, helpers) renamed by
order of first use, module aliases resolved (``np`` and ``numpy`` alike) and numbers normalised
(``1`` and ``1.0`` alike), and turns it into a token sequence. Two functions are compared by the
Jaccard similarity of their token 5-grams: renaming, re-commenting or re-spacing a copy changes
nothing, while two independently structured implementations share only short runs.

Only functions of at least :data:`MIN_TOKENS` tokens are judged: short ones (a three-line
softmax) look alike however they were written. A pair is flagged when its similarity is at least
:data:`FLOOR` *and* stands out from the batch's own distribution for that function (median + 4
robust deviations over all pairs, when there are enough pairs to have a distribution), so a
function that everybody writes the same way does not flag everybody. Each submission is also
compared with the published solution.
"""
from __future__ import annotations

import ast
import builtins
import csv
import io
import itertools
import json
import statistics
from pathlib import Path

from .forbidden import _to_python

__all__ = ["function_tokens", "similarity", "write_similarity", "MIN_TOKENS", "FLOOR", "K"]

K = 5                  # token n-gram length
MIN_TOKENS = 80        # shorter functions are listed but never judged
FLOOR = 0.75           # never flag below this similarity
CEILING = 0.95         # the batch cannot push the threshold above this
REPORT = 0.3           # pairs of submissions below this are not listed
_MAX_TOKENS = 20_000
_BUILTINS = set(dir(builtins))
_PACKAGE = Path(__file__).resolve().parents[3]


class _Tokens(ast.NodeVisitor):
    def __init__(self, modules: dict):
        self.modules, self.names, self.out = modules, {}, []

    def _name(self, name: str) -> str:
        if name in self.modules:
            return "M:" + self.modules[name]
        if name in _BUILTINS:
            return "B:" + name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def generic_visit(self, node):
        if len(self.out) > _MAX_TOKENS:
            return
        self.out.append(type(node).__name__)
        super().generic_visit(node)

    def visit_Name(self, node):
        self.out.append(self._name(node.id))

    def visit_arg(self, node):
        self.out.append(self._name(node.arg))

    def visit_Attribute(self, node):
        self.out.append("Attribute")
        self.visit(node.value)
        self.out.append("." + node.attr)

    def visit_keyword(self, node):
        self.out.append(f"kw:{node.arg}")
        self.visit(node.value)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            self.out.append(f"N:{float(v)!r}")
        else:
            self.out.append("S" if isinstance(v, (str, bytes)) else repr(v))

    def visit_FunctionDef(self, node):
        self.out.append("def")
        self._name(node.name)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]            # the docstring
        self.visit(node.args)
        for stmt in body:
            self.visit(stmt)

    visit_AsyncFunctionDef = visit_FunctionDef


def _trees(cells) -> list:
    trees = []
    for source in cells:
        for text in _to_python(source):
            try:
                trees.append(ast.parse(text))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
    return trees


def _modules(trees) -> dict:
    aliases = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                        a.name.split(".")[0]
    return aliases


def function_tokens(cells, name: str) -> list[str] | None:
    """Normalised tokens of the last top-level ``def name`` in the code cells (None: not there)."""
    trees = _trees(cells)
    found = None
    for tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = node
    if found is None:
        return None
    visitor = _Tokens(_modules(trees))
    try:
        visitor.visit(found)
    except RecursionError:
        return None
    return visitor.out[:_MAX_TOKENS]


def _grams(tokens: list) -> set:
    return {tuple(tokens[i:i + K]) for i in range(max(len(tokens) - K + 1, 1))}


def similarity(a: list, b: list) -> float:
    """Jaccard similarity of the token 5-grams of two functions (1.0: the same after renaming)."""
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / max(len(ga | gb), 1)


def _threshold(values: list) -> float:
    """FLOOR, or higher when the batch's own pairs are alike anyway (robust: median + 4 MAD)."""
    if len(values) < 6:
        return FLOOR
    med = statistics.median(values)
    mad = 1.4826 * statistics.median(abs(v - med) for v in values)
    return min(max(FLOOR, med + 4 * max(mad, 0.05)), CEILING)


def _solution_cells(folder: Path | None, exercise: str) -> list | None:
    folder = Path(folder) if folder else _PACKAGE / "solutions"
    path = folder / f"{exercise}.ipynb"
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _rows(graded: list, solutions) -> list[list]:
    rows = []
    by_exercise: dict = {}
    for g in graded:
        if g.exercise is not None and g.cells:
            by_exercise.setdefault(g.exercise.id, []).append(g)
    for ex_id, subs in sorted(by_exercise.items()):
        ex = subs[0].exercise
        sol = _solution_cells(solutions, ex_id)
        names = list(dict.fromkeys(n for item in ex.items for n in item.objects))
        for name in names:
            toks = {str(g.path): function_tokens([s for _, s in g.cells], name) for g in subs}
            ref = function_tokens(sol, name) if sol else None
            long = {k: t for k, t in toks.items() if t and len(t) >= MIN_TOKENS}
            pairs = [(a, b, similarity(long[a], long[b]))
                     for a, b in itertools.combinations(sorted(long), 2)]
            vs_sol = [(a, "published solution", similarity(t, ref))
                      for a, t in sorted(long.items()) if ref and len(ref) >= MIN_TOKENS]
            limit = _threshold([s for _, _, s in pairs + vs_sol])
            for a, b, s in vs_sol + pairs:
                if b != "published solution" and s < REPORT and s < limit:
                    continue
                rows.append([ex_id, name, a, b, f"{s:.3f}", f"{limit:.3f}",
                             "yes" if s >= limit else "", len(long[a]),
                             len(ref) if b == "published solution" else len(long[b]), ""])
            for a, t in sorted(toks.items()):
                if a not in long:
                    why = "not defined" if t is None else \
                        f"too short to judge ({len(t)} < {MIN_TOKENS} tokens)"
                    rows.append([ex_id, name, a, "", "", "", "", len(t or []), "", why])
    rows.sort(key=lambda r: (r[6] != "yes", r[0], r[1], -float(r[4] or 0)))
    return rows


def write_similarity(graded: list, path: Path, solutions=None) -> int:
    """Write ``similarity.csv`` (instructors only); return how many pairs are flagged."""
    from .report import write_atomic

    rows = _rows(graded, solutions)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["exercise", "function", "submission", "compared_with", "similarity",
                     "threshold", "flagged", "tokens", "tokens_other", "note"])
    writer.writerows(rows)
    write_atomic(Path(path), buf.getvalue(), mode=0o600)
    return sum(r[6] == "yes" for r in rows)
