"""Recursive networks over trees: backprop through structure vs centred differences, the chain tree
as an RNN, the tree arrays and their checks, the boolean-formula data."""
import numpy as np
import pytest

from rnncourse.data.trees import (
    BOOL_VOCAB, Forest, balanced_tree, boolean_formulas, chain_tree, check_forest,
    forest_from_trees, select_trees, tree_heights,
)
from rnncourse.gradcheck import gradcheck, numerical_gradient, rel_error
from rnncourse.layers import rnn_forward
from rnncourse.recursive import (
    init_tree_params, predict_trees, train_tree_classifier, tree_backward, tree_classifier_loss,
    tree_forward,
)


def _weights(rng, V, H):
    return (rng.standard_normal((V, H)), 0.6 * rng.standard_normal((2 * H, H)),
            0.5 * rng.standard_normal(H))


def _forests():
    data = boolean_formulas(4, 1, 4, seed=3)
    yield "formulas", data.tree
    yield "chains", data.chain
    yield "balanced", forest_from_trees([balanced_tree([0, 1, 2, 3, 4, 5, 1]), balanced_tree([2])])
    yield "single leaf", forest_from_trees([(np.array([[-1, -1]]), np.array([4]))])
    yield "repeated token", forest_from_trees([chain_tree([3, 3, 3, 3])])


@pytest.mark.parametrize("name,forest", list(_forests()))
def test_tree_gradients(rng, name, forest):
    E, W, b = _weights(rng, len(BOOL_VOCAB), 3)
    fwd = lambda E, W, b: tree_forward(forest.children, forest.tokens, E, W, b)
    errors = gradcheck(fwd, tree_backward, [E, W, b])
    assert max(errors) < 1e-7, (name, errors)


def test_chain_tree_is_an_rnn(rng):
    tokens = [0, 3, 1, 5, 2, 2, 4]
    V, H = 6, 4
    E, W, b = _weights(rng, V, H)
    children, toks = chain_tree(tokens)
    h, _ = tree_forward(children, toks, E, W, b)
    x = E[tokens[1:]][None]                               # inputs x(1..T) = embeddings of t2..tn
    h_rnn, _ = rnn_forward(x, E[tokens[0]][None], W[H:], W[:H], b)
    assert np.allclose(h[len(tokens):], h_rnn[0], atol=1e-13)


def test_leaves_are_embeddings_and_root_last(rng):
    forest = boolean_formulas(3, 2, 3, seed=0).tree
    E, W, b = _weights(rng, len(BOOL_VOCAB), 5)
    h, _ = tree_forward(forest.children, forest.tokens, E, W, b)
    leaf = forest.children[:, 0] < 0
    assert np.array_equal(h[leaf], E[forest.tokens[leaf]])
    assert np.all(np.abs(h[~leaf]) < 1)


def test_heights():
    for n in [1, 2, 3, 7, 8, 9, 33]:
        ch, _ = balanced_tree(list(range(n)))
        assert tree_heights(ch)[-1] == int(np.ceil(np.log2(n)))
        ch, _ = chain_tree(list(range(n)))
        assert tree_heights(ch)[-1] == n - 1


def test_check_forest_errors():
    ok_children = np.array([[-1, -1], [-1, -1], [0, 1]])
    ok_tokens = np.array([0, 1, -1])
    check_forest(ok_children, ok_tokens, V=2)
    with pytest.raises(ValueError, match="topological"):
        check_forest(np.array([[1, 2], [-1, -1], [-1, -1]]), np.array([-1, 0, 1]))
    with pytest.raises(ValueError, match="two children or none"):
        check_forest(np.array([[-1, -1], [0, -1]]), np.array([0, -1]))
    with pytest.raises(ValueError, match="at most one parent"):
        check_forest(np.array([[-1, -1], [0, 0]]), np.array([0, -1]))
    with pytest.raises(ValueError, match="token id"):
        check_forest(ok_children, np.array([0, 2, -1]), V=2)
    with pytest.raises(ValueError, match="integer"):
        check_forest(ok_children.astype(float), ok_tokens)
    with pytest.raises(ValueError, match=r"\(2H, H\)"):
        tree_forward(ok_children, ok_tokens, np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3))


def test_formulas_evaluate_like_python():
    data = boolean_formulas(200, 1, 6, seed=5)
    for text, label, n_ops in zip(data.text, data.labels, data.n_ops):
        expr = text.replace("T", "True").replace("F", "False")
        assert eval(expr) == bool(label)                        # noqa: S307 - our own strings
        assert text.count("and") + text.count("or") == n_ops
    assert 0.4 < data.labels.mean() < 0.6
    again = boolean_formulas(200, 1, 6, seed=5)
    assert again.text == data.text and np.array_equal(again.tree.children, data.tree.children)
    height = tree_heights(data.tree.children)[data.tree.roots]
    assert np.all((data.depth + 1 <= height) & (height <= 2 * data.depth))   # ((a op) b) per level
    assert tree_heights(data.chain.children)[data.chain.roots].tolist() == (4 * data.n_ops).tolist()


def test_select_trees_keeps_each_tree(rng):
    data = boolean_formulas(10, 1, 5, seed=2)
    params = init_tree_params(len(BOOL_VOCAB), 4, 2, seed=1)
    idx = [7, 2, 2, 9]
    sub = select_trees(data.tree, idx)
    check_forest(sub.children, sub.tokens)
    assert np.array_equal(predict_trees(sub, params), predict_trees(data.tree, params)[idx])


def test_classifier_loss_gradients(rng):
    data = boolean_formulas(5, 1, 3, seed=4)
    params = init_tree_params(len(BOOL_VOCAB), 3, 2, seed=2)
    params["b"] = 0.3 * rng.standard_normal(3)
    f = data.tree
    loss, grads = tree_classifier_loss(f.children, f.tokens, f.roots, data.labels, params)
    for key, p in params.items():
        num = numerical_gradient(
            lambda: tree_classifier_loss(f.children, f.tokens, f.roots, data.labels, params)[0], p)
        assert rel_error(num, grads[key]) < 1e-7, key


def test_training_learns_small_formulas():
    data = boolean_formulas(400, 1, 3, seed=0)
    params = init_tree_params(len(BOOL_VOCAB), 16, 2, seed=0)
    losses = train_tree_classifier(data.tree, data.labels, params, num_steps=150, lr=0.02,
                                   batch_size=32, seed=0)
    assert losses[-20:].mean() < 0.3 * losses[:5].mean()
    test = boolean_formulas(300, 1, 3, seed=1)
    assert (predict_trees(test.tree, params) == test.labels).mean() > 0.95


def test_forest_is_a_namedtuple_of_arrays():
    f = forest_from_trees([chain_tree([1, 2]), balanced_tree([0, 1, 2])])
    assert isinstance(f, Forest)
    assert f.roots.tolist() == [2, 7]
    assert f.children.dtype == np.int64 and f.tokens.dtype == np.int64
