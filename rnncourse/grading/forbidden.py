"""Find forbidden shortcuts in a submission's source (grader process; the source is only parsed).

An item forbids dotted names (``Item.forbidden``: e.g. ``torch``, ``rnncourse.layers``). A use counts
against an item when it is in code the item depends on: the definitions of the item's objects, the
notebook-level names they use (helpers, aliases, imports), transitively, and any notebook-level
statement that modifies one of those names (``softmax.__code__ = ...``, ``np.exp = ...``).
Imports are resolved, so ``import rnncourse.layers as L`` + ``L.rnn_forward``,
``from rnncourse import layers``, ``from rnncourse.layers import rnn_forward as f``,
``__import__("torch")``, ``importlib.import_module("torch")``, ``getattr(L, "rnn_forward")`` and
``from rnncourse.layers import *`` are all recognised. Code inside ``exec("...")`` with a literal
string and the Python magics (``%time``, ``%%timeit``, ...) is parsed too.

What this cannot see (names computed at run time, ``exec`` of built strings, helper files written
to disk) is what the harness's call trace in the kernel looks for; see :mod:`judge`.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .forbidden_resolve import Use, header_nodes, resolve_uses

__all__ = ["Use", "CellSource", "parse_notebook", "forbidden_uses", "matches", "UNCHECKED"]

UNCHECKED = "code nested too deeply to be checked"

_PY_MAGICS = {"time", "timeit", "prun", "capture", "debug"}
_IMPORTERS = {"__import__", "importlib.import_module", "importlib.__import__"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


@dataclass
class _Unit:
    """One notebook-level statement: what it binds, what globals it reads, what it resolves to."""

    node: ast.AST
    cell: int
    source: str
    binds: set = field(default_factory=set)
    refs: set = field(default_factory=set)
    mutates: set = field(default_factory=set)   # globals it changes in place (attributes, items)
    unchecked: bool = False                     # too deeply nested to analyse: fail closed


@dataclass
class CellSource:
    cell: int
    source: str


def matches(name: str, forbidden: str) -> bool:
    """``torch.nn.LSTM`` matches ``torch`` and ``torch.nn.LSTM``; ``torchvision`` matches neither."""
    return name == forbidden or name.startswith(forbidden + ".")


def _to_python(source: str) -> list[str]:
    """Python text of a cell: IPython syntax translated; Python cell magics unwrapped."""
    lines = source.lstrip("\n").split("\n")
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split(maxsplit=1)[0] if len(lines[0]) > 2 else ""
        return [_to_python("\n".join(lines[1:]))[0]] if magic in _PY_MAGICS else []
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return [TransformerManager().transform_cell(source)]
    except Exception:  # noqa: BLE001 - IPython's own errors on malformed input
        return [source]


def _embedded_code(tree: ast.AST) -> list[str]:
    """Literal code strings run by exec/eval/run_cell or by a Python line magic."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = _dotted(node.func) or (node.func.attr if isinstance(node.func, ast.Attribute) else "")
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name in ("exec", "eval", "run_cell") and args:
            found.append(args[0])
        elif name in ("run_line_magic", "run_cell_magic") and len(args) >= 2 and args[0] in _PY_MAGICS:
            found.append(args[-1])
    return found


def parse_notebook(cells: list[CellSource]) -> list[_Unit]:
    """Notebook-level statements of every parseable code cell, in order."""
    units: list[_Unit] = []
    for cell in cells:
        todo = _to_python(cell.source)
        for _ in range(20):  # bounded: exec("exec('...')") and so on
            if not todo:
                break
            text = todo.pop(0)
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                continue  # the kernel cannot run it either
            except (RecursionError, MemoryError):  # it may run (with a higher recursion limit)
                units.append(_Unit(ast.Pass(lineno=1), cell.cell, text, unchecked=True))
                continue
            todo.extend(_embedded_code(tree))
            for node in _flatten(tree.body):
                units.append(_analyse(node, cell.cell, text))
    return units


def _flatten(body):
    for node in body:
        if isinstance(node, _COMPOUND):
            yield node  # its header (test, iterator, context managers) as a unit of its own
            for name in ("body", "orelse", "finalbody"):
                yield from _flatten(getattr(node, name, []))
            for handler in getattr(node, "handlers", []):
                yield from _flatten(handler.body)
        else:
            yield node


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return ""


def _analyse(node, cell: int, source: str) -> _Unit:
    unit = _Unit(node, cell, source)
    try:
        for part in header_nodes(node):
            _Scan(unit).visit(part)
    except RecursionError:
        unit.unchecked = True
    return unit


class _Scan(ast.NodeVisitor):
    """Collect bindings, global reads and in-place changes, minding function-local names."""

    def __init__(self, unit: _Unit):
        self.unit = unit
        self.locals: list[set] = []

    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self.locals)

    def visit_Import(self, node):
        for alias in node.names:
            if not self.locals:
                self.unit.binds.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node):
        for alias in node.names:
            if not self.locals:
                self.unit.binds.add(alias.asname or alias.name)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if not self._local(node.id):
                self.unit.refs.add(node.id)
        elif not self.locals:
            self.unit.binds.add(node.id)

    def _target_root(self, target) -> None:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name) and not self._local(target.id):
            self.unit.mutates.add(target.id)
            self.unit.refs.add(target.id)

    def visit_Assign(self, node):
        for target in node.targets:
            self._target_root(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target_root(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._target_root(target)
        self.generic_visit(node)

    def visit_Call(self, node):
        if _dotted(node.func) in ("setattr", "delattr") and node.args:
            self._target_root(ast.Attribute(node.args[0], "x", ast.Store()))
        self.generic_visit(node)

    def _scope(self, node, args, body):
        if not self.locals and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.unit.binds.add(node.name)
        for deco in getattr(node, "decorator_list", []):
            self.visit(deco)
        if args is not None:
            for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
                self.visit(default)
        self.locals.append(_local_names(args, body))
        self.unit.binds |= _declared_global(body) & _assigned(body)
        for stmt in body:
            self.visit(stmt)
        self.locals.pop()

    def visit_FunctionDef(self, node):
        self._scope(node, node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._scope(node, node.args, [node.body])

    def visit_ClassDef(self, node):
        if not self.locals:
            self.unit.binds.add(node.name)
        for expr in node.bases + node.keywords + node.decorator_list:
            self.visit(expr)
        for stmt in node.body:  # class bodies do not shadow for methods; keep it simple
            self.visit(stmt)

    def _comprehension(self, node):
        names = set()
        for gen in node.generators:
            names |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        self.visit(node.generators[0].iter)
        self.locals.append(names)
        for gen in node.generators:
            for cond in gen.ifs:
                self.visit(cond)
        for gen in node.generators[1:]:
            self.visit(gen.iter)
        for part in ("elt", "key", "value"):
            if getattr(node, part, None) is not None:
                self.visit(getattr(node, part))
        self.locals.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


def _arg_names(args) -> set:
    if args is None:
        return set()
    extra = [a for a in (args.vararg, args.kwarg) if a]
    every = args.posonlyargs + args.args + args.kwonlyargs + extra
    return {a.arg for a in every}


def _own_nodes(body):
    """Nodes of a function body, not descending into nested scopes."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _SCOPES + (ast.ClassDef,)):
                todo.append(child)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield child


def _assigned(body) -> set:
    names = set()
    for node in _own_nodes(body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _declared_global(body) -> set:
    return {n for node in _own_nodes(body) if isinstance(node, ast.Global) for n in node.names}


def _local_names(args, body) -> set:
    return (_arg_names(args) | _assigned(body)) - _declared_global(body)


def _relevant(units: list[_Unit], objects) -> list[_Unit]:
    """Units the objects depend on: a fixpoint over bindings and in-place changes."""
    wanted, chosen = set(objects), set()
    changed = True
    while changed:
        changed = False
        for i, unit in enumerate(units):
            if i not in chosen and (unit.binds & wanted or unit.mutates & wanted or _star(unit)):
                chosen.add(i)
                wanted |= unit.refs
                changed = True
    return [units[i] for i in sorted(chosen)]


def _star(unit: _Unit) -> bool:
    """A star import may bind anything: it always counts."""
    return isinstance(unit.node, ast.ImportFrom) and any(a.name == "*" for a in unit.node.names)


def forbidden_uses(units: list[_Unit], objects, forbidden) -> list[Use]:
    """Uses of ``forbidden`` names in the code the ``objects`` depend on (first few, in order)."""
    if not forbidden:
        return []
    for unit in units:
        if unit.unchecked:  # cannot be analysed, so cannot be cleared
            return [Use(UNCHECKED, unit.cell, getattr(unit.node, "lineno", 0), "")]
    hits: dict = {}  # one use per line: the most specific name
    try:
        for use in resolve_uses(units, _relevant(units, objects)):
            if any(matches(use.name, f) for f in forbidden):
                where = (use.cell, use.line)
                if where not in hits or len(use.name) > len(hits[where].name):
                    hits[where] = use
    except RecursionError:
        return [Use(UNCHECKED, 0, 0, "")]
    return [hits[k] for k in sorted(hits)][:5]
