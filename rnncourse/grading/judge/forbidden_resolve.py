"""Resolve names used in notebook code to dotted module paths, through imports and aliases.

Part of :mod:`forbidden`. Deliberately generous: an alias is known notebook-wide whatever the
scope it was bound in (an import inside a function counts too), so renaming cannot hide a module.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Use", "resolve_uses", "alias_map", "header_nodes"]

_IMPORT_FUNCS = ("__import__", "importlib.import_module", "importlib.__import__",
                 "import_module")
_MAX_NAMES = 64


@dataclass(frozen=True)
class Use:
    """A resolved dotted name used in the notebook, and where."""

    name: str
    cell: int
    line: int
    text: str


def header_nodes(node):
    """The parts of a unit that run at notebook level (a compound statement: only its header)."""
    if isinstance(node, (ast.If, ast.While)):
        return [node.test]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target, node.iter]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return list(node.items)
    if isinstance(node, ast.Try):
        return [h.type for h in node.handlers if h.type is not None] + [
            ast.Name(h.name, ast.Store()) for h in node.handlers if h.name]
    return [node]


def _literal(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Resolver:
    def __init__(self):
        self.aliases: dict[str, set] = {}
        self.stars: set = set()

    def add(self, name: str, targets) -> bool:
        known = self.aliases.setdefault(name, set())
        new = set(targets) - known
        if new and len(known) < _MAX_NAMES:
            known |= new
            return True
        return False

    def resolve(self, node) -> set:
        """Dotted names an expression may stand for (empty when unknown)."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return set(self.aliases[node.id])
            builtin = {node.id} if node.id in ("__import__", "getattr") else set()
            return builtin | {f"{star}.{node.id}" for star in self.stars}
        if isinstance(node, ast.Attribute):
            return {f"{base}.{node.attr}" for base in self.resolve(node.value)}
        if isinstance(node, ast.Call):
            return self._resolve_call(node)
        if isinstance(node, ast.Subscript):
            key = _literal(node.slice)
            if key and "sys.modules" in self.resolve(node.value):
                return {key}
        return set()

    def _resolve_call(self, node: ast.Call) -> set:
        funcs = self.resolve(node.func)
        first = _literal(node.args[0]) if node.args else None
        if first and funcs & set(_IMPORT_FUNCS):
            return {first, first.split(".")[0]}
        if "getattr" in funcs and len(node.args) >= 2 and _literal(node.args[1]):
            return {f"{base}.{_literal(node.args[1])}" for base in self.resolve(node.args[0])}
        return set()


def _imports(node, res: _Resolver) -> bool:
    changed = False
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                changed |= res.add(a.asname, {a.name})
            else:
                top = a.name.split(".")[0]
                changed |= res.add(top, {top})
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for a in node.names:
            if a.name == "*":
                changed |= node.module not in res.stars
                res.stars.add(node.module)
            else:
                changed |= res.add(a.asname or a.name, {f"{node.module}.{a.name}"})
    return changed


def _assignments(node, res: _Resolver) -> bool:
    changed = False
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = res.resolve(node.value)
        if value:
            for target in targets:
                if isinstance(target, ast.Name):
                    changed |= res.add(target.id, value)
    return changed


def alias_map(trees) -> _Resolver:
    """Every alias bound anywhere in ``trees``, resolved to a fixpoint (chains like ``L = layers``)."""
    res = _Resolver()
    nodes = [n for tree in trees for n in ast.walk(tree)]
    for _ in range(10):
        changed = False
        for node in nodes:
            changed |= _imports(node, res) or _assignments(node, res)
        if not changed:
            break
    return res


def _line(lines: list, lineno: int) -> str:
    return lines[lineno - 1].strip()[:120] if 0 < lineno <= len(lines) else ""


def _names_of(node, res: _Resolver) -> set:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return {node.module if a.name == "*" else f"{node.module}.{a.name}" for a in node.names}
    if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
        return res.resolve(node)
    if isinstance(node, (ast.Call, ast.Subscript)):
        return res.resolve(node)
    return set()


def resolve_uses(all_units, units):
    """Every dotted name used by ``units`` (aliases are collected from ``all_units``)."""
    res = alias_map([u.node for u in all_units])
    split: dict = {}   # one split per cell text, not one per use (a big cell has many uses)
    for unit in units:
        key = id(unit.source)
        if key not in split:
            split[key] = unit.source.split("\n")
        lines = split[key]
        parts = [unit.node]
        if isinstance(unit.node, (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With,
                                  ast.AsyncWith, ast.Try)):
            parts = header_nodes(unit.node)
        for part in parts:
            for node in ast.walk(part):
                for name in sorted(_names_of(node, res)):
                    line = getattr(node, "lineno", getattr(unit.node, "lineno", 0))
                    yield Use(name, unit.cell, line, _line(lines, line))
