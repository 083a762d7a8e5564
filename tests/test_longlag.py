"""The long-lag task generator (Hochreiter & Schmidhuber 1997, experiment 2)."""
import numpy as np
import pytest

from rnncourse.data.longlag import LongLagBatch, longlag_batch, longlag_symbols


@pytest.mark.parametrize("p", [1, 2, 5, 30])
def test_shapes_and_structure(p):
    data = longlag_batch(64, p, seed=3)
    assert isinstance(data, LongLagBatch)
    assert data.tokens.shape == (64, p + 1) and data.tokens.dtype == np.int64
    assert data.x.shape == (64, p, p + 1) and data.x.dtype == np.float64
    assert data.y.shape == (64,) and data.y.dtype == np.int64
    # the first and last symbols are the same key, x = 0 or y = 1; the target is that key
    assert np.array_equal(data.tokens[:, 0], data.tokens[:, -1])
    assert set(np.unique(data.y)) <= {0, 1}
    assert np.array_equal(data.y, data.tokens[:, 0])
    # everything in between is a distractor a1 .. a(p-1) (ids 2 .. p)
    middle = data.tokens[:, 1:-1]
    assert middle.size == 0 or (middle.min() >= 2 and middle.max() <= p)
    # inputs are the one-hot codes of the first p symbols
    assert np.array_equal(data.x.argmax(-1), data.tokens[:, :p])
    assert np.all(data.x.sum(-1) == 1.0)


def test_deterministic_given_a_seed_and_a_generator_gives_new_batches():
    a, b = longlag_batch(20, 8, seed=5), longlag_batch(20, 8, seed=5)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    rng = np.random.default_rng(5)
    first, second = longlag_batch(20, 8, rng), longlag_batch(20, 8, rng)
    assert np.array_equal(first.tokens, a.tokens)
    assert not np.array_equal(first.tokens, second.tokens)


def test_keys_are_balanced_and_distractors_cover_the_alphabet():
    data = longlag_batch(4000, 10, seed=0)
    assert abs(data.y.mean() - 0.5) < 0.03
    counts = np.bincount(data.tokens[:, 1:-1].ravel(), minlength=11)[2:]
    assert counts.min() > 0.8 * counts.mean()


def test_fixed_distractors_are_the_paper_sequence():
    data = longlag_batch(6, 5, seed=1, random_distractors=False)
    assert np.array_equal(data.tokens[:, 1:-1], np.tile([2, 3, 4, 5], (6, 1)))
    names = longlag_symbols(5)
    assert names == ["x", "y", "a1", "a2", "a3", "a4"]
    assert [names[i] for i in data.tokens[0]][1:-1] == ["a1", "a2", "a3", "a4"]


def test_dtype_option():
    assert longlag_batch(2, 3, dtype=np.float32).x.dtype == np.float32


@pytest.mark.parametrize("n, p, match", [(0, 3, "n:"), (3, 0, "p:"), (3, 2.5, "p:"), (True, 3, "n:")])
def test_bad_arguments_are_named(n, p, match):
    with pytest.raises(ValueError, match=match):
        longlag_batch(n, p)
