"""Embedding lookup, the unigram^0.75 negative sampler, the negative-sampling loss, CBOW and
skip-gram: gradient checks, equality with torch.nn.Embedding, clear errors."""
import numpy as np
import pytest

from rnncourse.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from rnncourse.layers import (
    UnigramSampler, cbow_backward, cbow_forward, embedding_backward, embedding_forward,
    negative_sampling_backward, negative_sampling_forward, skipgram_backward, skipgram_forward,
)


@pytest.mark.parametrize("idx_shape,V,D", [((2, 3), 5, 4), ((1, 1), 1, 1), ((4,), 3, 2),
                                           ((3, 6), 4, 3)])
def test_embedding_gradients(rng, idx_shape, V, D):
    W = rng.standard_normal((V, D))
    idx = rng.integers(0, V, size=idx_shape)
    out, cache = embedding_forward(idx, W)
    assert out.shape == idx_shape + (D,)
    np.testing.assert_array_equal(out, W[idx])
    dout = rng.standard_normal(out.shape)
    dW = embedding_backward(dout, cache)
    num = numerical_gradient_array(lambda: embedding_forward(idx, W)[0], W, dout)
    assert rel_error(dW, num) < 1e-7


def test_repeated_words_accumulate(rng):
    W = rng.standard_normal((4, 3))
    idx = np.array([[1, 1, 2]])
    dout = rng.standard_normal((1, 3, 3))
    dW = embedding_backward(dout, embedding_forward(idx, W)[1])
    np.testing.assert_allclose(dW[1], dout[0, 0] + dout[0, 1], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(dW[[0, 3]], 0.0)


def test_gradcheck_catches_a_wrong_backward(rng):
    """The check must be able to fail: fancy-index assignment drops repeated ids."""
    W = rng.standard_normal((3, 2))
    idx = np.array([[0, 0, 1], [2, 0, 1]])
    dout = rng.standard_normal((2, 3, 2))
    wrong = np.zeros_like(W)
    wrong[idx.reshape(-1)] += dout.reshape(-1, 2)      # the classic bug: += does not accumulate
    num = numerical_gradient_array(lambda: embedding_forward(idx, W)[0], W, dout)
    assert rel_error(embedding_backward(dout, embedding_forward(idx, W)[1]), num) < 1e-7
    assert rel_error(wrong, num) > 1e-3


def test_embedding_matches_torch(rng):
    torch = pytest.importorskip("torch")
    V, D = 7, 4
    W = rng.standard_normal((V, D))
    idx = rng.integers(0, V, size=(3, 5))
    emb = torch.nn.Embedding(V, D).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(W))
    out_t = emb(torch.tensor(idx))
    dout = rng.standard_normal((3, 5, D))
    out_t.backward(torch.tensor(dout))
    out, cache = embedding_forward(idx, W)
    assert rel_error(out, out_t.detach().numpy()) < 1e-10
    assert rel_error(embedding_backward(dout, cache), emb.weight.grad.numpy()) < 1e-10


def test_unigram_sampler(rng):
    corpus = np.array([0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3])   # counts 1, 2, 4, 8
    sampler = UnigramSampler(corpus, power=0.75, sample_size=4, seed=7)
    expected = np.array([1, 2, 4, 8]) ** 0.75
    np.testing.assert_allclose(sampler.probs, expected / expected.sum(), rtol=1e-15)
    target = np.array([3, 0, 2, 3, 1] * 400)
    neg = sampler.get_negative_sample(target)
    assert neg.shape == (2000, 4) and neg.dtype.kind == "i"
    assert not np.any(neg == target[:, None])             # never the positive word itself
    again = UnigramSampler(corpus, sample_size=4, seed=7).get_negative_sample(target)
    np.testing.assert_array_equal(neg, again)             # seeded
    # among rows whose target is 3, negatives follow P restricted to {0, 1, 2}
    rows = neg[target == 3].reshape(-1)
    freq = np.bincount(rows, minlength=4)[:3] / rows.size
    p = expected[:3] / expected[:3].sum()
    assert np.max(np.abs(freq - p)) < 0.03


def test_unigram_sampler_errors():
    with pytest.raises(ValueError, match="corpus: expected integer indices"):
        UnigramSampler(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="target: indices must lie in"):
        UnigramSampler(np.array([0, 1, 2])).get_negative_sample(np.array([3]))
    with pytest.raises(ValueError, match="target: a target is the only word"):
        UnigramSampler(np.array([0, 0])).get_negative_sample(np.array([0]))


def _ns_inputs(rng, N, D, V, K):
    h = rng.standard_normal((N, D))
    W_out = 0.5 * rng.standard_normal((V, D))
    target = rng.integers(0, V, size=N)
    negatives = rng.integers(0, V, size=(N, K))
    return h, W_out, target, negatives


@pytest.mark.parametrize("N,D,V,K", [(3, 4, 6, 2), (1, 1, 2, 1), (5, 3, 4, 5)])
def test_negative_sampling_gradients(rng, N, D, V, K):
    h, W_out, target, negatives = _ns_inputs(rng, N, D, V, K)
    loss, cache = negative_sampling_forward(h, W_out, target, negatives)
    dh, dW_out = negative_sampling_backward(1.0, cache)
    f = lambda: negative_sampling_forward(h, W_out, target, negatives)[0]
    assert rel_error(dh, numerical_gradient(f, h)) < 1e-7
    assert rel_error(dW_out, numerical_gradient(f, W_out)) < 1e-7


def test_negative_sampling_value(rng):
    h, W_out, target, negatives = _ns_inputs(rng, 2, 3, 5, 2)
    sig = lambda s: 1 / (1 + np.exp(-s))
    pos = np.sum(h * W_out[target], 1)
    neg = np.einsum("nd,nkd->nk", h, W_out[negatives])
    expected = np.mean(-np.log(sig(pos)) - np.sum(np.log(sig(-neg)), 1))
    loss, _ = negative_sampling_forward(h, W_out, target, negatives)
    assert abs(loss - expected) < 1e-12


def test_gradcheck_catches_a_wrong_negative_sampling_backward(rng):
    """Forgetting the - 1 of the positive label (dL/ds = sigmoid(s) - 1) is caught."""
    h, W_out, target, negatives = _ns_inputs(rng, 3, 4, 6, 2)
    _, cache = negative_sampling_forward(h, W_out, target, negatives)
    _, _, _, w_pos, w_neg, s_pos, s_neg, _ = cache
    sig = lambda s: 1 / (1 + np.exp(-s))
    wrong_dh = (sig(s_pos)[:, None] * w_pos + np.einsum("nk,nkd->nd", sig(s_neg), w_neg)) / 3
    f = lambda: negative_sampling_forward(h, W_out, target, negatives)[0]
    num = numerical_gradient(f, h)
    assert rel_error(negative_sampling_backward(1.0, cache)[0], num) < 1e-7
    assert rel_error(wrong_dh, num) > 1e-3


@pytest.mark.parametrize("N,C,D,V,K", [(3, 2, 4, 6, 2), (1, 1, 1, 2, 1), (2, 4, 3, 5, 3)])
def test_cbow_gradients(rng, N, C, D, V, K):
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    contexts = rng.integers(0, V, size=(N, C))
    target = rng.integers(0, V, size=N)
    negatives = rng.integers(0, V, size=(N, K))
    loss, cache = cbow_forward(contexts, target, W_in, W_out, negatives)
    dW_in, dW_out = cbow_backward(1.0, cache)
    f = lambda: cbow_forward(contexts, target, W_in, W_out, negatives)[0]
    assert rel_error(dW_in, numerical_gradient(f, W_in)) < 1e-7
    assert rel_error(dW_out, numerical_gradient(f, W_out)) < 1e-7


@pytest.mark.parametrize("N,C,D,V,K", [(3, 2, 4, 6, 2), (1, 1, 1, 2, 1), (2, 4, 3, 5, 3)])
def test_skipgram_gradients(rng, N, C, D, V, K):
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    center = rng.integers(0, V, size=N)
    contexts = rng.integers(0, V, size=(N, C))
    negatives = rng.integers(0, V, size=(N, C, K))
    loss, cache = skipgram_forward(center, contexts, W_in, W_out, negatives)
    dW_in, dW_out = skipgram_backward(2.0, cache)
    f = lambda: 2.0 * skipgram_forward(center, contexts, W_in, W_out, negatives)[0]
    assert rel_error(dW_in, numerical_gradient(f, W_in)) < 1e-7
    assert rel_error(dW_out, numerical_gradient(f, W_out)) < 1e-7
    # the loss is the sum over the context words of the per-word negative-sampling losses
    per_word = [negative_sampling_forward(W_in[center], W_out, contexts[:, c], negatives[:, c])[0]
                for c in range(C)]
    assert abs(loss - sum(per_word)) < 1e-12


def test_word2vec_trains(rng):
    """A few hundred SGD steps of skip-gram on a tiny corpus lower the loss."""
    corpus = np.array([0, 1, 2, 3, 4, 1, 2, 3, 0, 1, 2, 3, 4, 1, 2, 3] * 4)
    V, D = 5, 4
    sampler = UnigramSampler(corpus, sample_size=2, seed=0)
    W_in, W_out = 0.1 * rng.standard_normal((V, D)), np.zeros((V, D))
    center, contexts = corpus[1:-1], np.stack([corpus[:-2], corpus[2:]], axis=1)
    losses = []
    for _ in range(200):
        negatives = np.stack([sampler.get_negative_sample(contexts[:, c]) for c in range(2)], 1)
        loss, cache = skipgram_forward(center, contexts, W_in, W_out, negatives)
        dW_in, dW_out = skipgram_backward(1.0, cache)
        W_in -= 0.5 * dW_in
        W_out -= 0.5 * dW_out
        losses.append(loss)
    assert np.mean(losses[-20:]) < 0.7 * np.mean(losses[:20])


def test_clear_errors(rng):
    W = rng.standard_normal((5, 3))
    with pytest.raises(ValueError, match="idx: expected integer indices"):
        embedding_forward(np.array([[0.0, 1.0]]), W)
    with pytest.raises(ValueError, match=r"idx: indices must lie in \[0, 5\), got range \[0, 5\]"):
        embedding_forward(np.array([[0, 5]]), W)
    with pytest.raises(ValueError, match="W: expected a 2-d array"):
        embedding_forward(np.array([0]), W[0])
    _, cache = embedding_forward(np.array([[0, 1]]), W)
    with pytest.raises(ValueError, match=r"dout: expected shape idx.shape \+ \(D,\) = \(1, 2, 3\)"):
        embedding_backward(np.zeros((1, 2, 4)), cache)
    h, W_out, target, negatives = _ns_inputs(rng, 3, 3, 5, 2)
    with pytest.raises(ValueError, match=r"W_out: expected shape \(V, D\) = \(5, 3\), got \(5, 4\)"):
        negative_sampling_forward(h, np.zeros((5, 4)), target, negatives)
    with pytest.raises(ValueError, match=r"target: expected shape \(N,\) = \(3,\), got \(2,\)"):
        negative_sampling_forward(h, W_out, target[:2], negatives)
    with pytest.raises(ValueError, match=r"negatives: expected shape \(N, K\) = \(3, 2\)"):
        negative_sampling_forward(h, W_out, target, negatives[:1])
    _, cache = negative_sampling_forward(h, W_out, target, negatives)
    with pytest.raises(ValueError, match=r"dloss: expected a scalar"):
        negative_sampling_backward(np.ones(2), cache)
    with pytest.raises(ValueError, match=r"negatives: expected shape \(N, C, K\)"):
        skipgram_forward(target, np.zeros((3, 2), int), W, W_out[:, :3], negatives)
