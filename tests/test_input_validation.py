"""Bad input that used to be accepted silently gets a clear ValueError naming the argument."""
import numpy as np
import pytest

from rnncourse.layers import (
    dot_attention_forward, rnn_forward, sigmoid_cross_entropy, temporal_softmax_loss,
)


def _logits(N=2, T=3, V=4):
    r = np.random.default_rng(0)
    return r.standard_normal((N, T, V)), r.integers(0, V, size=(N, T))


@pytest.mark.parametrize("bad", [-1, 2, 0.5])
def test_temporal_softmax_loss_refuses_a_mask_that_is_not_0_or_1(bad):
    o, y = _logits()
    mask = np.ones(y.shape)
    mask[0, 1] = bad                 # -1 flipped the loss's sign (-2.80), 2 doubled a step
    with pytest.raises(ValueError, match=r"mask: a mask holds booleans or 0/1 only, got \[" + str(bad)):
        temporal_softmax_loss(o, y, mask)


def test_temporal_softmax_loss_accepts_booleans_and_0_1_alike():
    o, y = _logits()
    m = np.array([[1, 1, 0], [1, 0, 0]])
    assert temporal_softmax_loss(o, y, m)[0] == temporal_softmax_loss(o, y, m.astype(bool))[0]
    assert temporal_softmax_loss(o, y, m.astype(float))[0] == temporal_softmax_loss(o, y, m)[0]


def test_sigmoid_cross_entropy_refuses_a_fractional_mask():
    s = np.zeros((2, 3))
    with pytest.raises(ValueError, match="mask"):
        sigmoid_cross_entropy(s, np.ones((2, 3)), np.full((2, 3), 0.5))


@pytest.mark.parametrize("bad", [0.5, -1.0, 3])
def test_attention_refuses_a_mask_of_weights(bad):
    r = np.random.default_rng(1)
    q, k, v = r.standard_normal((2, 4)), r.standard_normal((2, 5, 4)), r.standard_normal((2, 5, 3))
    mask = np.ones((2, 5))
    mask[1, 2] = bad                 # 0.5 used to count as True: the key was fully attended
    with pytest.raises(ValueError, match="mask: a mask holds booleans or 0/1 only"):
        dot_attention_forward(q, k, v, mask)


def test_rnn_forward_refuses_complex_input():
    r = np.random.default_rng(2)
    N, T, D, H = 2, 3, 4, 5
    x = r.standard_normal((N, T, D)) + 1j * r.standard_normal((N, T, D))
    args = (np.zeros((N, H)), r.standard_normal((D, H)), r.standard_normal((H, H)), np.zeros(H))
    with pytest.raises(ValueError, match="x: expected a real array, got complex"):
        rnn_forward(x, *args)
    with pytest.raises(ValueError, match="Wh: expected a real array"):
        rnn_forward(x.real, args[0], args[1], args[2].astype(complex), args[3])
