"""Sequence tagging: the offset task, the uni/bidirectional tagger's gradients, the training loop."""
import numpy as np
import pytest

from rnncourse.data.tagging import offset_tagging, one_hot
from rnncourse.gradcheck import numerical_gradient, rel_error
from rnncourse.layers import rnn_forward, temporal_affine_forward, temporal_softmax_loss
from rnncourse.tagging import (
    init_tagger_params, predict_tags, tag_accuracy, tagger_forward, tagger_loss, train_tagger,
)


@pytest.mark.parametrize("offset", [-3, -1, 0, 2, 5])
def test_offset_tagging(offset):
    T = 8
    d = offset_tagging(20, T=T, V=4, offset=offset, seed=1)
    assert d.x.shape == (20, T, 4) and d.y.shape == d.mask.shape == (20, T)
    assert np.array_equal(d.x.argmax(-1), d.ids)
    for t in range(T):
        inside = 0 <= t + offset < T
        assert d.mask[:, t].all() == inside and d.mask[:, t].any() == inside
        if inside:
            assert np.array_equal(d.y[:, t], d.ids[:, t + offset])


def test_offset_tagging_errors():
    with pytest.raises(ValueError, match="offset"):
        offset_tagging(5, T=4, offset=4)
    with pytest.raises(ValueError, match="ids"):
        one_hot(np.array([0, 3]), 3)


def _batch(rng, N=3, T=5, D=4, C=3):
    x = rng.standard_normal((N, T, D))
    y = rng.integers(0, C, size=(N, T))
    mask = rng.random((N, T)) < 0.7
    return x, y, mask


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_gradients(rng, bidirectional):
    x, y, mask = _batch(rng)
    params = init_tagger_params(4, 3, 3, bidirectional=bidirectional, seed=2)
    for k in params:
        if k.startswith("b"):
            params[k] = 0.3 * rng.standard_normal(params[k].shape)
    loss, grads = tagger_loss(x, y, mask, params)
    assert set(grads) == set(params)
    for key, p in params.items():
        num = numerical_gradient(lambda: tagger_loss(x, y, mask, params)[0], p)
        assert rel_error(num, grads[key]) < 1e-7, key


def test_bidirectional_tagger_reads_both_directions(rng):
    x, y, mask = _batch(rng)
    p = init_tagger_params(4, 3, 3, bidirectional=True, seed=0)
    o, _ = tagger_forward(x, p)
    N, H = x.shape[0], 3
    h, _ = rnn_forward(x, np.zeros((N, H)), p["Wx_f"], p["Wh_f"], p["b_f"])
    g, _ = rnn_forward(x[:, ::-1], np.zeros((N, H)), p["Wx_b"], p["Wh_b"], p["b_b"])
    expected, _ = temporal_affine_forward(np.concatenate([h, g[:, ::-1]], axis=2), p["Wy"], p["by"])
    assert np.allclose(o, expected, atol=1e-13)
    # the output at t = 0 depends on the last input only through the backward RNN
    x2 = x.copy()
    x2[:, -1] += 1.0
    assert not np.allclose(tagger_forward(x2, p)[0][:, 0], o[:, 0])
    uni = init_tagger_params(4, 3, 3, bidirectional=False, seed=0)
    assert np.allclose(tagger_forward(x2, uni)[0][:, :-1], tagger_forward(x, uni)[0][:, :-1])


def test_train_tagger_is_plain_sgd(rng):
    x, y, mask = _batch(rng)
    params = init_tagger_params(4, 3, 3, bidirectional=True, seed=1)
    before = {k: v.copy() for k, v in params.items()}
    losses, trained = train_tagger(x, y, mask, params, lr=0.3, num_steps=4)
    assert all(np.array_equal(params[k], before[k]) for k in params)     # inputs untouched
    p = {k: v.copy() for k, v in before.items()}
    for s in range(4):
        loss, grads = tagger_loss(x, y, mask, p)
        assert loss == pytest.approx(losses[s], rel=1e-12)
        for k in p:
            p[k] = p[k] - 0.3 * grads[k]
    assert all(np.allclose(trained[k], p[k], rtol=1e-12, atol=1e-14) for k in p)
    again, trained2 = train_tagger(x, y, mask, before, lr=0.3, num_steps=4)
    assert np.array_equal(again, losses)


def test_training_learns_the_past_and_bidirectional_the_future():
    for offset in (-1, 1):
        train = offset_tagging(128, T=8, V=4, offset=offset, seed=0)
        test = offset_tagging(300, T=8, V=4, offset=offset, seed=1)
        acc = {}
        for bi in (False, True):
            p = init_tagger_params(4, 8 if bi else 16, 4, bidirectional=bi, seed=0)
            losses, p = train_tagger(train.x, train.y, train.mask, p, lr=0.05, num_steps=120,
                                     optimizer="adam")
            assert losses[-1] < losses[0]
            acc[bi] = tag_accuracy(test.x, test.y, test.mask, p)
        assert acc[True] > 0.95
        if offset < 0:
            assert acc[False] > 0.95
        else:
            assert acc[False] < 0.25 + 0.07                      # chance is 1/V = 0.25
    assert predict_tags(test.x, p).shape == test.y.shape


def test_bad_optimizer(rng):
    x, y, mask = _batch(rng)
    with pytest.raises(ValueError, match="optimizer"):
        train_tagger(x, y, mask, init_tagger_params(4, 3, 3), optimizer="rmsprop")
