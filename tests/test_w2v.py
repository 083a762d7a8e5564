"""word2vec training and evaluation (chapter 11), rnncourse.layers.word2vec."""
import numpy as np
import pytest

from rnncourse.data.corpus import analogy_pairs, generate_corpus
from rnncourse.layers.word2vec import (
    UnigramSampler, cbow_backward, cbow_forward,
    analogy_accuracy, analogy_predict, analogy_questions, cbow_sgd_step, cbow_windows,
    cooccurrence_matrix, keep_probability, most_similar, neighbour_agreement, noise_distribution,
    normalize_rows, pca_2d, ppmi, subsample, svd_embeddings, train_word2vec, word2vec_param_count,
)


def test_noise_distribution_matches_the_sampler():
    corpus = np.array([0, 1, 1, 2, 2, 2, 2, 4])
    counts = np.bincount(corpus, minlength=5)
    p = noise_distribution(counts)
    np.testing.assert_allclose(p, UnigramSampler(corpus, vocab_size=5).probs, rtol=1e-14)
    assert p[3] == 0.0 and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(noise_distribution(counts, power=1.0), counts / counts.sum())
    with pytest.raises(ValueError, match="counts"):
        noise_distribution(np.zeros(3))


def test_keep_probability_and_subsample():
    counts = np.array([900, 90, 9, 1])
    keep = keep_probability(counts, t=1e-2)
    f = counts / counts.sum()
    np.testing.assert_allclose(keep, np.minimum(1.0, np.sqrt(1e-2 / f)))
    assert keep[0] < keep[1] < 1.0 and keep[2] == keep[3] == 1.0
    ids = np.repeat(np.arange(4), counts)
    kept = subsample(ids, t=1e-2, seed=0)
    np.testing.assert_array_equal(kept, subsample(ids, t=1e-2, seed=0))
    got = np.bincount(kept, minlength=4) / counts
    assert abs(got[0] - keep[0]) < 0.05 and got[2] == got[3] == 1.0


def test_cbow_windows():
    ids = np.arange(10, 17)
    ctx, tgt = cbow_windows(ids, window=2)
    np.testing.assert_array_equal(tgt, [12, 13, 14])
    np.testing.assert_array_equal(ctx[0], [10, 11, 13, 14])
    with pytest.raises(ValueError, match="ids"):
        cbow_windows(np.arange(4), window=2)


def test_cbow_sgd_step(rng):
    V, D, N, C, K = 7, 3, 5, 4, 2
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    ctx, tgt = rng.integers(0, V, (N, C)), rng.integers(0, V, N)
    neg = rng.integers(0, V, (N, K))
    before = W_in.copy(), W_out.copy()
    new_in, new_out, loss = cbow_sgd_step(W_in, W_out, ctx, tgt, neg, lr=0.1)
    np.testing.assert_array_equal(W_in, before[0])                 # inputs untouched
    ref_loss, cache = cbow_forward(ctx, tgt, W_in, W_out, neg)
    d_in, d_out = cbow_backward(1.0, cache)
    assert loss == ref_loss
    np.testing.assert_allclose(new_in, W_in - 0.1 * d_in, rtol=1e-15)
    np.testing.assert_allclose(new_out, W_out - 0.1 * d_out, rtol=1e-15)
    assert cbow_forward(ctx, tgt, new_in, new_out, neg)[0] < loss   # a small step descends


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
def test_training_is_seeded_and_learns(model):
    ids, vocab = generate_corpus(1500, seed=0)
    runs = [train_word2vec(ids, len(vocab), dim=8, model=model, epochs=2, progress=False, seed=1)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    losses = runs[0][2]
    assert losses[-20:].mean() < 0.8 * losses[:5].mean()
    with pytest.raises(ValueError, match="model"):
        train_word2vec(ids, len(vocab), model="glove")


def test_analogy_on_planted_vectors(rng):
    """Embeddings built as role + entity solve every analogy; random ones almost none."""
    class Vocab:
        def __init__(self, words):
            self.stoi = {w: i for i, w in enumerate(words)}
    words = [f"{r}{e}" for r in "ab" for e in range(6)] + ["x", "y", "z"]
    role, entity = rng.standard_normal((2, 16)), rng.standard_normal((6, 16))
    E = np.vstack([role[r] + entity[e] for r in range(2) for e in range(6)]
                  + [rng.standard_normal(16) for _ in range(3)])
    q = analogy_questions([(f"a{e}", f"b{e}") for e in range(6)], Vocab(words))
    assert q.shape == (30, 4)
    assert analogy_accuracy(E, q) == 1.0
    # the question words are never answers, even when the offset is zero
    pred = analogy_predict(np.vstack([np.ones(16)] * 15), q)
    assert not np.any(pred[:, None] == q[:, :3])


def test_similarity_helpers(rng):
    E = rng.standard_normal((6, 4))
    En = normalize_rows(E)
    np.testing.assert_allclose(np.linalg.norm(En, axis=1), 1.0)
    E[2] = 3.0 * E[0]                                              # same direction as word 0
    assert most_similar(E, 0, k=1)[0] == 2
    assert 2 not in most_similar(E, 0, k=3, exclude=[2])
    P = pca_2d(E)
    assert P.shape == (6, 2)
    assert P[:, 0].var() >= P[:, 1].var()
    np.testing.assert_allclose(P.mean(0), 0.0, atol=1e-12)


def test_analogy_pairs_make_questions():
    _, vocab = generate_corpus(200, seed=0)
    for pairs in analogy_pairs().values():
        q = analogy_questions(pairs, vocab)
        assert q.shape == (56, 4)


def test_cooccurrence_ppmi_svd():
    ids = np.array([0, 1, 2, 1, 0, 3])
    C = cooccurrence_matrix(ids, 5, window=1)
    # centres 1..4: (1: 0, 2), (2: 1, 1), (1: 2, 0), (0: 1, 3)
    expected = np.zeros((5, 5))
    for w, c in [(1, 0), (1, 2), (2, 1), (2, 1), (1, 2), (1, 0), (0, 1), (0, 3)]:
        expected[w, c] += 1
    np.testing.assert_array_equal(C, expected)
    P = ppmi(C)
    total, row, col = C.sum(), C.sum(1), C.sum(0)
    assert P[1, 0] == pytest.approx(max(0.0, np.log(C[1, 0] * total / (row[1] * col[0]))))
    assert np.all(P >= 0) and np.all(P[C == 0] == 0) and np.all(np.isfinite(P))
    with pytest.raises(ValueError, match="C"):
        ppmi(-C)
    M = np.random.default_rng(0).standard_normal((6, 4))
    E = svd_embeddings(M, 4)
    np.testing.assert_allclose(E @ E.T, M @ M.T, atol=1e-12)     # full rank keeps every inner product
    assert svd_embeddings(M, 2).shape == (6, 2)
    with pytest.raises(ValueError, match="dim"):
        svd_embeddings(M, 5)


def test_neighbour_agreement():
    E = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [-1.0, -1.0]])
    assert neighbour_agreement(E, [0, 0, 1, 1, -1]) == 1.0
    assert neighbour_agreement(E, [0, 1, 0, 1, -1]) == 0.0
    assert neighbour_agreement(E, [0, -1, 1, 1, -1]) == pytest.approx(2 / 3)   # word 0's neighbour is unlabelled
    with pytest.raises(ValueError, match="labels"):
        neighbour_agreement(E, [0, 1])


def test_param_count_matches_the_weights():
    ids, vocab = generate_corpus(100, seed=0)
    W_in, W_out, _ = train_word2vec(ids, len(vocab), dim=6, epochs=1, progress=False)
    assert word2vec_param_count(len(vocab), 6) == W_in.size + W_out.size
    assert word2vec_param_count(10000, 300) == 6_000_000
    with pytest.raises(ValueError, match="vocab_size"):
        word2vec_param_count(0, 3)
