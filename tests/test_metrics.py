"""rnncourse.metrics: BLEU against NLTK's reference implementation (a test-only dependency), by hand
on small cases, and its input checks; bits per symbol against perplexity."""
import math
import warnings

import numpy as np
import pytest

from rnncourse import metrics as M

bleu_nltk = pytest.importorskip("nltk.translate.bleu_score")
SF = bleu_nltk.SmoothingFunction()
NLTK_SMOOTHING = {"none": None, "floor": SF.method1, "add-k": SF.method2, "exp": SF.method3}


def nltk_corpus(refs, hyps, smoothing="none", weights=(0.25,) * 4):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLTK warns on every zero precision without smoothing
        return float(bleu_nltk.corpus_bleu(refs, hyps, weights=weights,
                                           smoothing_function=NLTK_SMOOTHING[smoothing]))


def random_corpus(rng, n_sent, vocab, min_len, max_len, max_refs=3):
    """Sentences over a small vocabulary (so n-grams repeat and match); hypotheses are noisy
    copies of a reference (word swaps, drops, repeats) so every precision order gets exercised."""
    refs, hyps = [], []
    for _ in range(n_sent):
        rs = [[f"w{v}" for v in rng.integers(vocab, size=rng.integers(min_len, max_len + 1))]
              for _ in range(rng.integers(1, max_refs + 1))]
        base = list(rs[0])
        h = []
        for w in base:
            u = rng.random()
            if u < 0.15:
                continue  # dropped
            h.append(f"w{rng.integers(vocab)}" if u < 0.35 else w)
            if u > 0.92:
                h.append(w)  # repeated: clipping matters
        while len(h) < min_len:
            h.append(f"w{rng.integers(vocab)}")
        refs.append(rs)
        hyps.append(h)
    return refs, hyps


@pytest.mark.parametrize("smoothing", M.SMOOTHING)
def test_corpus_bleu_matches_nltk_on_random_corpora(smoothing):
    """Hypotheses of >= 4 tokens (NLTK's per-sentence max(1, .) never applies): agreement to 1e-12
    relative on 150 corpora per smoothing, incl. corpora where no smoothing gives exactly 0."""
    rng = np.random.default_rng(20260 + M.SMOOTHING.index(smoothing))
    positive = zero = 0
    for trial in range(150):
        refs, hyps = random_corpus(rng, int(rng.integers(1, 8)), int(rng.integers(3, 12)), 4, 14)
        ours, ref = M.corpus_bleu(refs, hyps, smoothing=smoothing), nltk_corpus(refs, hyps, smoothing)
        if ours == 0.0 and smoothing == "none" and ref > 0:
            # NLTK replaces a zero precision by the smallest float: a tiny positive number
            s = M.bleu_stats(refs, hyps)
            assert s["matches"][0] > 0 and 0 in s["matches"]
            assert ref < 1e-70
            zero += 1
            continue
        assert ours == pytest.approx(ref, rel=1e-12, abs=0), (trial, refs, hyps)
        positive += ours > 0
    assert positive >= 50  # the comparison was not vacuous
    if smoothing == "none":
        assert zero >= 5


@pytest.mark.parametrize("smoothing", M.SMOOTHING)
def test_sentence_bleu_matches_nltk_any_length(smoothing):
    """Single sentences of any length, incl. shorter than 4 tokens and empty hypotheses."""
    rng = np.random.default_rng(31 + M.SMOOTHING.index(smoothing))
    for trial in range(300):
        refs, hyps = random_corpus(rng, 1, int(rng.integers(2, 8)), 0, 7)
        hyp = hyps[0][: int(rng.integers(0, len(hyps[0]) + 1))]
        ours = M.sentence_bleu(refs[0], hyp, smoothing=smoothing)
        ref = nltk_corpus(refs, [hyp], smoothing)
        if ours == 0.0 and ref < 1e-70:
            continue
        assert ours == pytest.approx(ref, rel=1e-12, abs=0), (trial, refs[0], hyp)


def test_weights_and_orders_match_nltk():
    rng = np.random.default_rng(7)
    for trial in range(100):
        refs, hyps = random_corpus(rng, int(rng.integers(1, 6)), 5, 5, 12)
        n = int(rng.integers(1, 6))
        w = rng.dirichlet(np.ones(n))
        ours = M.corpus_bleu(refs, hyps, max_n=n, weights=w, smoothing="floor")
        assert ours == pytest.approx(nltk_corpus(refs, hyps, "floor", tuple(w)), rel=1e-12, abs=0)


def test_short_hypotheses_convention_difference_is_exactly_nltks_per_sentence_floor():
    """With some hypotheses shorter than n, NLTK adds max(1, 0) = 1 to the n-gram total for each of
    them; the paper (and this module) adds 0. Feeding NLTK's totals into bleu_from_stats gives
    NLTK's number to 1e-12, so the only difference is that denominator."""
    rng = np.random.default_rng(11)
    differed = 0
    for trial in range(150):
        refs, hyps = random_corpus(rng, int(rng.integers(2, 7)), 4, 1, 9)
        s = M.bleu_stats(refs, hyps)
        nltk_totals = [t + sum(len(h) < n for h in hyps) for n, t in zip(range(1, 5), s["totals"])]
        for smoothing in ("floor", "add-k", "exp"):
            ref = nltk_corpus(refs, hyps, smoothing)
            theirs = M.bleu_from_stats(s["matches"], nltk_totals, s["hyp_len"], s["ref_len"],
                                       smoothing=smoothing)
            assert theirs == pytest.approx(ref, rel=1e-12, abs=0)
            ours = M.corpus_bleu(refs, hyps, smoothing=smoothing)
            differed += not math.isclose(ours, ref, rel_tol=1e-9)
    assert differed > 0


def test_by_hand_clipping_brevity_and_geometric_mean():
    # Papineni et al.'s "the the the ..." example: clipped unigram precision 2/7
    ref = [["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]
    hyp = ["the"] * 7
    assert M.modified_precision(ref, hyp, 1) == (2, 7)
    assert M.sentence_bleu(ref, hyp, max_n=1) == pytest.approx(2 / 7)  # c=7 = closest r: BP 1
    # exact copy of a reference: 1; a prefix of 4 of 6 tokens: precisions 1, BP exp(1 - 6/4)
    r = ["a", "b", "c", "d", "e", "f"]
    assert M.sentence_bleu([r], r) == 1.0
    assert M.sentence_bleu([r], r[:4]) == pytest.approx(math.exp(1 - 6 / 4), rel=1e-15)
    # hand-computed: p1 = 4/5, p2 = 2/4, p3 = 1/3, p4 = 0/2 -> 0 unsmoothed; with exp smoothing
    hyp = ["a", "b", "c", "x", "e"]
    s = M.bleu_stats([[r]], [hyp])
    assert s == {"matches": [4, 2, 1, 0], "totals": [5, 4, 3, 2], "hyp_len": 5, "ref_len": 6}
    assert M.sentence_bleu([r], hyp) == 0.0
    want = math.exp(1 - 6 / 5) * (4 / 5 * 2 / 4 * 1 / 3 * 1 / (2 * 2)) ** 0.25
    assert M.sentence_bleu([r], hyp, smoothing="exp") == pytest.approx(want, rel=1e-14)
    # the closest reference length decides the penalty, the shorter one on a tie
    assert M.closest_ref_length([[1] * 4, [1] * 8], 6) == 4
    assert M.closest_ref_length([[1] * 8, [1] * 5], 7) == 8
    assert M.brevity_penalty(5, 5) == 1.0 and M.brevity_penalty(5, 0) == 0.0


def test_corpus_is_a_micro_average_not_the_mean_of_sentences():
    refs = [[["a", "b", "c", "d"]], [["e", "f", "g", "h", "i", "j", "k", "l"]]]
    hyps = [["a", "b", "c", "d"], ["e", "f", "x", "h", "i", "y", "k", "l"]]
    corpus = M.corpus_bleu(refs, hyps, smoothing="floor")
    mean = np.mean([M.sentence_bleu(r, h, smoothing="floor") for r, h in zip(refs, hyps)])
    s = M.bleu_stats(refs, hyps)
    assert s["matches"] == [10, 6, 2, 1] and s["totals"] == [12, 10, 8, 6]
    assert corpus == pytest.approx((10 / 12 * 6 / 10 * 2 / 8 * 1 / 6) ** 0.25, rel=1e-14)
    assert abs(corpus - mean) > 0.01


def test_integer_tokens_and_numpy_arrays():
    r = np.array([3, 4, 5, 6, 7])
    assert M.sentence_bleu([r], np.array([3, 4, 5, 6, 7])) == 1.0
    assert M.sentence_bleu([list(r)], [3, 4, 5, 9, 7], smoothing="floor") == pytest.approx(
        nltk_corpus([[list(map(int, r))]], [[3, 4, 5, 9, 7]], "floor"), rel=1e-12)


@pytest.mark.parametrize("call, err, match", [
    (lambda: M.corpus_bleu([], []), ValueError, "empty"),
    (lambda: M.corpus_bleu([[["a"]]], [["a"], ["b"]]), ValueError, "one list of references"),
    (lambda: M.sentence_bleu([["a", "b"]], "a b"), TypeError, "split"),
    (lambda: M.sentence_bleu(["a", "b"], ["a", "b"]), TypeError, "wrap a single reference"),
    (lambda: M.sentence_bleu([], ["a"]), ValueError, "at least one reference"),
    (lambda: M.sentence_bleu([["a", 1.5]], ["a"]), TypeError, "str or int"),
    (lambda: M.sentence_bleu([["a"]], [None]), TypeError, "str or int"),
    (lambda: M.sentence_bleu([["a"]], 5), TypeError, "sequence of tokens"),
    (lambda: M.corpus_bleu("abc", ["a"]), TypeError, "str"),
    (lambda: M.sentence_bleu([["a"]], ["a"], max_n=0), ValueError, "max_n"),
    (lambda: M.sentence_bleu([["a"]], ["a"], weights=[0.5, 0.5]), ValueError, "4 weights"),
    (lambda: M.sentence_bleu([["a"]], ["a"], max_n=2, weights=[1.5, -0.5]), ValueError, "non-neg"),
    (lambda: M.sentence_bleu([["a"]], ["a"], smoothing="laplace"), ValueError, "smoothing"),
    (lambda: M.sentence_bleu([["a"]], ["a"], smoothing="floor", epsilon=0), ValueError, "epsilon"),
    (lambda: M.bleu_from_stats([3, 1], [2, 1], 3, 3), ValueError, "match <= total"),
    (lambda: M.brevity_penalty(-1, 3), ValueError, "ref_len"),
    (lambda: M.bits_per_symbol(1.0, 0), ValueError, "count"),
    (lambda: M.bits_per_symbol(float("nan"), 3), ValueError, "nll_sum"),
])
def test_bad_input_is_refused_clearly(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_bits_per_symbol_and_perplexity():
    nll, count = 41.3, 17
    assert 2 ** M.bits_per_symbol(nll, count) == pytest.approx(M.perplexity(nll, count), rel=1e-14)
    assert M.bits_per_symbol(count * math.log(2), count) == pytest.approx(1.0, rel=1e-15)
    from rnncourse.models.pretraining import perplexity
    assert M.perplexity is perplexity  # re-exported, not duplicated
