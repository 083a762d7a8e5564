"""Binary trees as plain arrays, and random boolean formulas to evaluate (chapter 7).

A *forest* of binary trees is two integer arrays over its ``n`` nodes, in topological order (every
child comes before its parent, so a tree's root is the last of its nodes):

    children (n, 2): left and right child of each node; ``[-1, -1]`` for a leaf
    tokens   (n,):   token id of each leaf; -1 for an internal node

and ``roots (n_trees,)``, the index of each tree's root. The trees of a forest built here occupy
contiguous blocks of nodes, tree ``i`` ending at ``roots[i]``. Plain arrays (no node objects) make a
forest easy to batch, to save, and to pass to the grader.

The task: boolean formulas over ``T``/``F`` with ``and``/``or``, to be evaluated. A formula can be
read as a tree (the operator is a leaf token, ``(a op b)`` becomes ``((a op) b)``), or as a token
sequence ``( a op b )`` that a chain RNN reads left to right: a chain is the left-branching tree.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

__all__ = [
    "BOOL_VOCAB", "Forest", "check_forest", "forest_from_trees", "chain_tree", "balanced_tree",
    "select_trees", "tree_heights", "random_formula", "formula_value", "formula_tokens",
    "formula_tree", "FormulaData", "boolean_formulas",
]

BOOL_VOCAB = ("F", "T", "and", "or", "(", ")")   # token id = position in this tuple
_ID = {s: i for i, s in enumerate(BOOL_VOCAB)}


class Forest(NamedTuple):
    """A forest of binary trees as plain arrays (see the module docstring).

    Attributes:
        children: (n, 2) int64, children of each node, ``-1`` for leaves.
        tokens: (n,) int64, token id of each leaf, ``-1`` for internal nodes.
        roots: (n_trees,) int64, the root of each tree (the last node of its block).
    """

    children: np.ndarray
    tokens: np.ndarray
    roots: np.ndarray


def check_forest(children, tokens, V: int | None = None):
    """Validate a forest's arrays; returns them as int64 arrays.

    Checks: ``children (n, 2)`` and ``tokens (n,)`` integer; a node has two children or none; every
    child index is smaller than its parent's (topological order); no node has two parents; a leaf's
    token lies in ``[0, V)``.
    """
    children = np.asarray(children)
    tokens = np.asarray(tokens)
    for name, arr, nd in (("children", children, 2), ("tokens", tokens, 1)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name}: expected an integer array, got dtype {arr.dtype}")
        if arr.ndim != nd:
            raise ValueError(f"{name}: expected a {nd}-d array, got shape {arr.shape}")
    n = tokens.shape[0]
    if children.shape != (n, 2):
        raise ValueError(f"children: expected shape (n_nodes, 2) = ({n}, 2), got {children.shape}")
    children, tokens = children.astype(np.int64), tokens.astype(np.int64)
    leaf = children[:, 0] < 0
    if np.any((children[:, 1] < 0) != leaf):
        bad = int(np.flatnonzero((children[:, 1] < 0) != leaf)[0])
        raise ValueError(f"children: node {bad} has one child {children[bad].tolist()}; "
                         "a binary tree node has two children or none (-1, -1)")
    inner = np.flatnonzero(~leaf)
    bad = np.concatenate([np.flatnonzero(leaf & (children.min(axis=1) != -1)),
                          inner[(children[inner].max(axis=1) >= inner) | (children[inner].min(axis=1) < 0)]])
    if bad.size:
        node = int(bad.min())
        raise ValueError(f"children: node {node} has children {children[node].tolist()}; nodes must be "
                         "in topological order (children before parents) and (-1, -1) marks a leaf")
    uses = np.bincount(children[inner].ravel(), minlength=n)
    if np.any(uses > 1):
        node = int(np.flatnonzero(uses > 1)[0])
        raise ValueError(f"children: node {node} is the child of {int(uses[node])} nodes; in a tree "
                         "every node has at most one parent")
    if np.any(tokens[leaf] < 0) or (V is not None and np.any(tokens[leaf] >= V)):
        hi = "" if V is None else f", {V}"
        raise ValueError(f"tokens: every leaf needs a token id in [0{hi}), got range "
                         f"[{tokens[leaf].min()}, {tokens[leaf].max()}]")
    return children, tokens


def tree_heights(children) -> np.ndarray:
    """Height of every node: 0 for a leaf, ``1 + max(height of the children)`` otherwise.

    The height of a root is the number of compositions on the longest path from a leaf, i.e. the
    depth of the computational graph. Vectorised: one pass per level, children before parents.
    """
    children = np.asarray(children, dtype=np.int64)
    height = np.zeros(children.shape[0], dtype=np.int64)
    inner = np.flatnonzero(children[:, 0] >= 0)
    left, right = children[inner, 0], children[inner, 1]
    while inner.size:
        new = 1 + np.maximum(height[left], height[right])
        if np.array_equal(new, height[inner]):
            break
        height[inner] = new
    return height


def forest_from_trees(trees: Sequence[tuple[np.ndarray, np.ndarray]]) -> Forest:
    """Concatenate single trees ``(children, tokens)`` (each with its root last) into one forest."""
    kids, toks, roots, offset = [], [], [], 0
    for children, tokens in trees:
        children = np.asarray(children, dtype=np.int64)
        shifted = np.where(children >= 0, children + offset, -1)
        kids.append(shifted)
        toks.append(np.asarray(tokens, dtype=np.int64))
        offset += len(tokens)
        roots.append(offset - 1)
    return Forest(np.concatenate(kids).reshape(-1, 2), np.concatenate(toks),
                  np.asarray(roots, dtype=np.int64))


def chain_tree(tokens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The left-branching tree over a sequence: ``((((t1 t2) t3) t4) ...)``, a chain RNN.

    Leaves first (nodes ``0..n-1``), then node ``n - 1 + k`` composes the previous node with leaf ``k``.
    """
    n = len(tokens)
    children = np.full((2 * n - 1, 2), -1, dtype=np.int64)
    prev = 0
    for k in range(1, n):
        children[n - 1 + k] = (prev, k)
        prev = n - 1 + k
    return children, np.concatenate([np.asarray(tokens, dtype=np.int64), np.full(n - 1, -1)])


def balanced_tree(tokens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """A balanced binary tree over a sequence: pair neighbours level by level (height ceil(log2 n))."""
    n = len(tokens)
    children = [[-1, -1]] * n
    toks = list(np.asarray(tokens, dtype=np.int64))
    level = list(range(n))
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            children.append([level[i], level[i + 1]])
            toks.append(-1)
            nxt.append(len(children) - 1)
        if len(level) % 2:
            nxt.append(level[-1])          # an odd node out moves up unchanged
        level = nxt
    return np.asarray(children, dtype=np.int64).reshape(-1, 2), np.asarray(toks, dtype=np.int64)


def select_trees(forest: Forest, idx) -> Forest:
    """The sub-forest made of trees ``idx`` (in that order), renumbered from 0."""
    roots = forest.roots
    starts = np.concatenate([[0], roots[:-1] + 1])
    trees = []
    for i in np.asarray(idx, dtype=np.int64):
        lo, hi = starts[i], roots[i] + 1
        ch = forest.children[lo:hi]
        trees.append((np.where(ch >= 0, ch - lo, -1), forest.tokens[lo:hi]))
    return forest_from_trees(trees)


# ---------------------------------------------------------------- boolean formulas
def random_formula(n_ops: int, rng: np.random.Generator):
    """A random formula with ``n_ops`` operators: ``True``/``False`` or ``(op, left, right)``.

    The shape is drawn by splitting the remaining operators uniformly between the two subtrees;
    leaves and operators are uniform. By the duality of and/or, P(value = True) = 1/2 exactly.
    """
    if n_ops == 0:
        return bool(rng.integers(2))
    k = int(rng.integers(n_ops))
    op = "and" if rng.integers(2) == 0 else "or"
    return (op, random_formula(k, rng), random_formula(n_ops - 1 - k, rng))


def formula_value(f) -> bool:
    if isinstance(f, bool):
        return f
    op, a, b = f
    va, vb = formula_value(a), formula_value(b)
    return (va and vb) if op == "and" else (va or vb)


def _depth(f) -> int:
    return 0 if isinstance(f, bool) else 1 + max(_depth(f[1]), _depth(f[2]))


def formula_tokens(f) -> list[str]:
    """Infix tokens with brackets around every operation: ``( T and ( F or T ) )``."""
    if isinstance(f, bool):
        return ["T" if f else "F"]
    op, a, b = f
    return ["("] + formula_tokens(a) + [op] + formula_tokens(b) + [")"]


def formula_tree(f) -> tuple[np.ndarray, np.ndarray]:
    """The formula as a binary tree over its symbols: ``(a op b)`` is ``((a op) b)``; no brackets."""
    children: list[list[int]] = []
    tokens: list[int] = []

    def leaf(sym):
        children.append([-1, -1])
        tokens.append(_ID[sym])
        return len(tokens) - 1

    def node(l, r):
        children.append([l, r])
        tokens.append(-1)
        return len(tokens) - 1

    def build(g):
        if isinstance(g, bool):
            return leaf("T" if g else "F")
        op, a, b = g
        left = build(a)
        with_op = node(left, leaf(op))
        return node(with_op, build(b))

    build(f)
    return np.asarray(children, dtype=np.int64).reshape(-1, 2), np.asarray(tokens, dtype=np.int64)


class FormulaData(NamedTuple):
    """A data set of formulas, each as a tree and as a chain over its bracketed infix tokens.

    Attributes:
        tree: :class:`Forest` of the formula trees (operators as leaves, no brackets).
        chain: :class:`Forest` of left-branching trees over the infix tokens (a chain RNN).
        labels: (num,) int64, 1 if the formula is true.
        n_ops: (num,) int64, number of operators.
        depth: (num,) int64, nesting depth in operators.
        text: the infix strings.
    """

    tree: Forest
    chain: Forest
    labels: np.ndarray
    n_ops: np.ndarray
    depth: np.ndarray
    text: list


def boolean_formulas(num: int, min_ops: int = 1, max_ops: int = 8, seed: int = 0) -> FormulaData:
    """``num`` random formulas, the number of operators uniform in ``[min_ops, max_ops]``."""
    if num < 1 or not 1 <= min_ops <= max_ops:
        raise ValueError(f"num, min_ops, max_ops: need num >= 1 and 1 <= min_ops <= max_ops, got "
                         f"{num}, {min_ops}, {max_ops}")
    rng = np.random.default_rng(seed)
    formulas = [random_formula(int(rng.integers(min_ops, max_ops + 1)), rng) for _ in range(num)]
    toks = [formula_tokens(f) for f in formulas]
    return FormulaData(
        tree=forest_from_trees([formula_tree(f) for f in formulas]),
        chain=forest_from_trees([chain_tree([_ID[s] for s in t]) for t in toks]),
        labels=np.array([formula_value(f) for f in formulas], dtype=np.int64),
        n_ops=np.array([(len(t) - 1) // 4 for t in toks], dtype=np.int64),
        depth=np.array([_depth(f) for f in formulas], dtype=np.int64),
        text=[" ".join(t) for t in toks],
    )
