"""Exercise 7 (chapter 7): a recursive network over trees stored as plain arrays: node heights,
the forward pass, backpropagation through structure, and a classifier at the roots.

The backward is judged on its own too: besides the cache of the student's own forward, it is given
the cache of a correct forward in the published solution's layout (see ``Item.alone``).
"""
from __future__ import annotations

import numpy as np

from ..registry import DATA, TOOLS, Exercise, Item, call, sizes

__all__ = ["EXERCISE"]

_NO_SHORTCUTS = ("rnncourse.recursive", "rnncourse.data.trees", "rnncourse.layers", "torch",
                 "scipy.special")


def _forest(rng, V, kinds):
    """A forest mixing random formula trees, chains, balanced trees and single leaves."""
    from ....data.trees import balanced_tree, chain_tree, forest_from_trees, formula_tree, random_formula

    trees = []
    for kind in kinds:
        if kind == "leaf":
            trees.append((np.array([[-1, -1]]), rng.integers(0, V, size=1)))
        elif kind == "chain":
            trees.append(chain_tree(rng.integers(0, V, size=int(rng.integers(2, 7)))))
        elif kind == "balanced":
            trees.append(balanced_tree(rng.integers(0, V, size=int(rng.integers(2, 10)))))
        else:                                       # a formula tree, tokens remapped into [0, V)
            ch, tok = formula_tree(random_formula(int(rng.integers(1, 5)), rng))
            trees.append((ch, np.where(tok >= 0, tok % V, -1)))
    return forest_from_trees(trees)


_KINDS = [
    ("leaf",),                                  # no internal node at all
    ("chain",),                                 # the deepest tree for its size
    ("balanced", "formula", "leaf", "chain"),   # a forest: several roots in one array
    ("formula", "formula", "balanced"),
]


def _weights(rng, V, H):
    return {"E": rng.standard_normal((V, H)), "W": 0.6 * rng.standard_normal((2 * H, H)),
            "b": 0.5 * rng.standard_normal(H)}


def _height_cases(rng, hidden=False):
    return [{"children": _forest(rng, 4, kinds).children} for kinds in _KINDS]


def _tree_cases(rng, hidden=False):
    out = []
    for (V, H), kinds in zip(sizes(rng, [(3, 4), (2, 1), (6, 3), (3, 5)], hidden), _KINDS):
        f = _forest(rng, V, kinds)
        n = f.tokens.shape[0]
        out.append({"children": f.children, "tokens": f.tokens, **_weights(rng, V, H),
                    "dh": rng.standard_normal((n, H))})
    # only 2 token ids over many leaves: dE must add up every use of a token
    f = _forest(rng, 2, ("chain", "balanced", "chain"))
    out.append({"children": f.children, "tokens": f.tokens, **_weights(rng, 2, 3),
                "dh": rng.standard_normal((f.tokens.shape[0], 3))})
    return out


def _correct_cache(case: dict) -> tuple:
    """The published solution's cache ``(children, tokens, E.shape, W, h)`` of a correct forward."""
    children, tokens, E, W, b = (case[k] for k in ("children", "tokens", "E", "W", "b"))
    h = np.zeros((children.shape[0], E.shape[1]))
    for i, (left, right) in enumerate(children):
        h[i] = E[tokens[i]] if left < 0 else np.tanh(np.concatenate([h[left], h[right]]) @ W + b)
    return (children, tokens, tuple(int(n) for n in E.shape), W, h)


def _tree_backward_cases(rng, hidden=False):
    return [dict(case, correct_cache=_correct_cache(case)) for case in _tree_cases(rng, hidden)]


def _loss_cases(rng, hidden=False):
    out = []
    for (V, H, C), kinds in zip(sizes(rng, [(3, 4, 2), (2, 2, 3), (6, 3, 2), (4, 5, 4)], hidden),
                                _KINDS):
        f = _forest(rng, V, kinds)
        m = f.roots.shape[0]
        out.append({"children": f.children, "tokens": f.tokens, "roots": f.roots,
                    "labels": rng.integers(0, C, size=m), **_weights(rng, V, H),
                    "Wo": rng.standard_normal((H, C)), "bo": 0.5 * rng.standard_normal(C)})
    return out


def _ref_heights():
    from ....data.trees import tree_heights
    return {"node_heights": tree_heights}


def _ref_tree():
    from ....recursive import tree_backward, tree_forward
    return {"tree_forward": tree_forward, "tree_backward": tree_backward}


def _ref_loss():
    from ....recursive import tree_classifier_loss

    def root_loss(children, tokens, roots, labels, E, W, b, Wo, bo):
        params = {"E": E, "W": W, "b": b, "Wo": Wo, "bo": bo}
        loss, g = tree_classifier_loss(children, tokens, roots, labels, params)
        return loss, g["E"], g["W"], g["b"], g["Wo"], g["bo"]
    return {"root_loss": root_loss}


EXERCISE = Exercise(
    id="07_recursive",
    title="Recursive neural networks",
    chapter="book/07_recursive",
    kit=TOOLS + tuple(m for m in DATA if m != "rnncourse.data.trees"),   # trees holds the heights
    items=(
        Item(
            name="node_heights",
            title="Height of every node of a forest (0 at the leaves): the depth of the graph",
            points=1,
            calls=(call("node_heights", ["children"], ["height"]),),
            outputs=("height",),
            cases=_height_cases,
            reference=_ref_heights,
            atol=0.0, rtol=0.0,
            forbidden=_NO_SHORTCUTS,
            hint="Nodes come children first, so one pass i = 0..n-1 suffices: a leaf (children[i, 0] "
                 "== -1) has height 0, any other node 1 + the larger height of its two children.",
        ),
        Item(
            name="tree_forward",
            title="Forward pass: h = E[token] at a leaf, tanh([h_left, h_right] @ W + b) above",
            points=2,
            calls=(call("tree_forward", ["children", "tokens", "E", "W", "b"], ["h", "cache"]),),
            outputs=("h",),
            cases=_tree_cases,
            reference=_ref_tree,
            forbidden=_NO_SHORTCUTS,
            hint="Visit the nodes in index order (children before parents); W has shape (2H, H): "
                 "concatenate the two children's states into one row of length 2H.",
        ),
        Item(
            name="tree_backward",
            title="Backpropagation through structure: dE, dW, db",
            points=3,
            calls=(call("tree_forward", ["children", "tokens", "E", "W", "b"], ["h", "cache"]),
                   call("tree_backward", ["dh", "cache"], ["dE", "dW", "db"])),
            outputs=("dE", "dW", "db"),
            cases=_tree_backward_cases,
            alone=(call("tree_backward", ["dh", "correct_cache"], ["dE", "dW", "db"]),),
            alone_input="the cache (children, tokens, E.shape, W, h) of a correct forward",
            reference=_ref_tree,
            forbidden=_NO_SHORTCUTS,
            hint="Visit the nodes in reverse index order (parents first) with delta = dh.copy(): at "
                 "an internal node da = delta[i] * (1 - h[i]**2), dW += outer([h_l, h_r], da), "
                 "db += da, and the children get da @ W.T split in halves; at a leaf "
                 "dE[token] += delta[i] (a token can appear many times).",
        ),
        Item(
            name="root_loss",
            title="Softmax classifier at every root: mean cross-entropy and all gradients",
            points=2,
            calls=(call("root_loss", ["children", "tokens", "roots", "labels", "E", "W", "b", "Wo",
                                      "bo"], ["loss", "dE", "dW", "db", "dWo", "dbo"]),),
            outputs=("loss", "dE", "dW", "db", "dWo", "dbo"),
            cases=_loss_cases,
            reference=_ref_loss,
            forbidden=_NO_SHORTCUTS,
            hint="o = h[roots] @ Wo + bo; loss = mean over the m roots of -log softmax(o)[label]; "
                 "do = (softmax(o) - onehot(labels)) / m; put do @ Wo.T on the root rows of a zero "
                 "dh and call your tree_backward.",
        ),
    ),
)
