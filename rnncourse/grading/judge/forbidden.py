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

This is a friendly first warning, not the guarantee: what it cannot see (names computed at run
time, ``exec`` of built strings) cannot reach the references either, because the sandbox's student
kit does not hold them (:mod:`.kit`). The analysis is linear in the size of the code and bounded:
more than :data:`MAX_CODE_CHARS` characters of code, or more than :data:`MAX_SECONDS` seconds, and
the items with forbidden names get 0 with a message saying so (it fails closed).
"""
from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field

from .forbidden_resolve import Use, header_nodes, resolve_uses

__all__ = ["Use", "CellSource", "parse_notebook", "forbidden_uses", "matches", "UNCHECKED",
           "MAX_CODE_CHARS", "MAX_SECONDS"]

UNCHECKED = "code nested too deeply to be checked"
TOO_MUCH = "more than {:,} characters of code, more than the source check reads"
TOO_SLOW = "code that took the source check more than {:g} s"
MAX_CODE_CHARS = 1_000_000
MAX_SECONDS = 60.0

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
    unchecked: str = ""                         # why it could not be analysed: fail closed


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


def parse_notebook(cells: list[CellSource], max_chars: int = MAX_CODE_CHARS,
                   max_seconds: float = MAX_SECONDS) -> list[_Unit]:
    """Notebook-level statements of every parseable code cell, in order (bounded, see above)."""
    units: list[_Unit] = []
    size, deadline = 0, time.monotonic() + max_seconds
    for cell in cells:
        size += len(cell.source)
        if size > max_chars or time.monotonic() > deadline:
            why = TOO_MUCH.format(max_chars) if size > max_chars else TOO_SLOW.format(max_seconds)
            return [_Unit(ast.Pass(lineno=1), cell.cell, "", unchecked=why)]
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
                units.append(_Unit(ast.Pass(lineno=1), cell.cell, text, unchecked=UNCHECKED))
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
        unit.unchecked = UNCHECKED
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
    """Units the objects depend on: bindings and in-place changes, followed through an index
    (linear in the code: a chain of 50,000 assignments is one pass, not 50,000)."""
    by_name: dict = {}
    chosen: set = set()
    todo = list(objects)
    for i, unit in enumerate(units):
        for name in unit.binds | unit.mutates:
            by_name.setdefault(name, []).append(i)
        if _star(unit):
            chosen.add(i)
            todo.extend(unit.refs)
    seen: set = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for i in by_name.get(name, ()):
            if i not in chosen:
                chosen.add(i)
                todo.extend(units[i].refs)
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
            return [Use(UNCHECKED, unit.cell, getattr(unit.node, "lineno", 0), unit.unchecked)]
    hits: dict = {}  # one use per line: the most specific name
    try:
        for use in resolve_uses(units, _relevant(units, objects)):
            if any(matches(use.name, f) for f in forbidden):
                where = (use.cell, use.line)
                if where not in hits or len(use.name) > len(hits[where].name):
                    hits[where] = use
    except RecursionError:
        return [Use(UNCHECKED, 0, 0, UNCHECKED)]
    return [hits[k] for k in sorted(hits)][:5]
