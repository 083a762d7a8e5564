"""Greedy and beam search against exhaustive search; the masked loss against torch and centred
differences."""
import itertools

import numpy as np
import pytest
import torch

from rnncourse.decoding import (
    beam_decode, beam_search, greedy_decode, greedy_search, log_softmax, masked_cross_entropy,
    rnn_decoder_step,
)
from rnncourse.gradcheck import numerical_gradient, rel_error


def _decoder(rng, V=4, H=5, scale=1.5):
    return (scale * rng.standard_normal((V, H)), scale * rng.standard_normal((H, H)),
            scale * rng.standard_normal((H, V)))


def _score(seq, h0, E, Wh, Wo, bos):
    """Sum of log-probabilities of ``seq`` (a list of ids) under the tiny decoder."""
    h, prev, total = h0[None], np.array([bos]), 0.0
    for y in seq:
        logp, h = rnn_decoder_step(prev, h, E, Wh, Wo)
        total += logp[0, y]
        prev = np.array([y])
    return total


def _exhaustive(h0, E, Wh, Wo, bos, eos, max_len):
    """Every finished sequence (ending in eos) and every unfinished one of length max_len."""
    V = E.shape[0]
    out = []
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=L):
            if eos in seq[:-1]:
                continue
            if seq[-1] == eos or L == max_len:
                out.append((_score(list(seq), h0, E, Wh, Wo, bos), seq))
    return sorted(out, reverse=True)


def _as_list(row, eos):
    row = list(row)
    return tuple(row[:row.index(eos) + 1]) if eos in row else tuple(row)


def test_log_softmax_is_stable():
    o = np.array([[1000.0, 1001.0, 999.0]])
    assert np.allclose(np.exp(log_softmax(o)).sum(), 1.0)
    assert np.allclose(log_softmax(o), torch.log_softmax(torch.tensor(o), -1).numpy())


@pytest.mark.parametrize("seed", range(6))
def test_greedy_follows_the_argmax_and_pads_after_eos(seed):
    rng = np.random.default_rng(seed)
    E, Wh, Wo = _decoder(rng)
    h0 = rng.standard_normal((3, 5))
    ids, scores = greedy_decode(h0, E, Wh, Wo, bos=0, eos=1, max_len=6)
    assert ids.shape == (3, 6) and ids.dtype == np.int64
    for n in range(3):
        seq, h, prev = [], h0[n:n + 1], np.array([0])
        for _ in range(6):
            logp, h = rnn_decoder_step(prev, h, E, Wh, Wo)
            seq.append(int(logp[0].argmax()))
            prev = np.array([seq[-1]])
            if seq[-1] == 1:
                break
        assert ids[n, :len(seq)].tolist() == seq
        assert np.all(ids[n, len(seq):] == 0)
        assert np.isclose(scores[n], _score(seq, h0[n], E, Wh, Wo, 0))


@pytest.mark.parametrize("seed", range(6))
def test_beam_of_width_one_is_greedy(seed):
    rng = np.random.default_rng(seed)
    E, Wh, Wo = _decoder(rng)
    h0 = rng.standard_normal(5)
    g_ids, g_scores = greedy_decode(h0[None], E, Wh, Wo, 0, 1, 5)
    b_ids, b_scores = beam_decode(h0, E, Wh, Wo, 0, 1, 5, beam_width=1)
    assert np.array_equal(b_ids, g_ids) and np.allclose(b_scores, g_scores)


@pytest.mark.parametrize("seed", range(8))
def test_wide_beam_is_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    V, max_len = 3, 4
    E, Wh, Wo = _decoder(rng, V=V)
    h0 = rng.standard_normal(5)
    best = _exhaustive(h0, E, Wh, Wo, 0, 2, max_len)
    ids, scores = beam_decode(h0, E, Wh, Wo, 0, 2, max_len, beam_width=V ** max_len)
    assert _as_list(ids[0], 2) == best[0][1]
    assert np.isclose(scores[0], best[0][0])
    # scores are sorted and are the log-probabilities of the returned sequences
    assert np.all(np.diff(scores) <= 0)
    for row, s in zip(ids, scores):
        assert np.isclose(s, _score(list(_as_list(row, 2)), h0, E, Wh, Wo, 0))


def test_beam_can_beat_greedy():
    """Somewhere among a few random decoders greedy misses the best sequence and beam finds it."""
    wins = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        E, Wh, Wo = _decoder(rng)
        h0 = rng.standard_normal(5)
        _, g = greedy_decode(h0[None], E, Wh, Wo, 0, 1, 5)
        _, b = beam_decode(h0, E, Wh, Wo, 0, 1, 5, beam_width=3)
        best = _exhaustive(h0, E, Wh, Wo, 0, 1, 5)[0][0]
        assert g[0] <= best + 1e-12 and b[0] <= best + 1e-12
        wins += b[0] > g[0] + 1e-9
    assert wins >= 3


def test_searches_reorder_tuple_states_and_torch_tensors():
    rng = np.random.default_rng(0)
    E, Wh, Wo = _decoder(rng)
    h0 = rng.standard_normal((1, 5))

    def step(prev, state):                      # state = (torch h, a tag that follows h)
        h, tag = state
        logp, h = rnn_decoder_step(prev, h.numpy(), E, Wh, Wo)
        return logp, (torch.tensor(h), tag)

    ids, scores = beam_search(step, (torch.tensor(h0), torch.zeros(1)), 0, 1, 5, 3)
    ref_ids, ref_scores = beam_decode(h0[0], E, Wh, Wo, 0, 1, 5, 3)
    assert np.array_equal(ids, ref_ids) and np.allclose(scores, ref_scores)
    g_ids, _ = greedy_search(step, (torch.tensor(h0), torch.zeros(1)), 1, 0, 1, 5)
    assert np.array_equal(g_ids, greedy_decode(h0, E, Wh, Wo, 0, 1, 5)[0])


def test_search_arguments_are_checked():
    rng = np.random.default_rng(0)
    E, Wh, Wo = _decoder(rng)
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(np.zeros((1, 5)), E, Wh, Wo, 0, 1, 0)
    with pytest.raises(ValueError, match="beam_width"):
        beam_decode(np.zeros(5), E, Wh, Wo, 0, 1, 3, 0)
    with pytest.raises(ValueError, match="Wh"):
        greedy_decode(np.zeros((1, 5)), E, Wh[:, :4], Wo, 0, 1, 3)
    with pytest.raises(ValueError, match="h0"):
        beam_decode(np.zeros((1, 5)), E, Wh, Wo, 0, 1, 3, 2)


@pytest.mark.parametrize("N,T,V", [(2, 3, 4), (1, 1, 2), (3, 5, 7)])
def test_masked_cross_entropy_matches_torch_and_centred_differences(rng, N, T, V):
    logits = 2.0 * rng.standard_normal((N, T, V))
    targets = rng.integers(1, V, size=(N, T))
    targets[:, 1:][rng.random((N, T - 1)) < 0.4] = 0          # padding, never at t = 0
    loss, dlogits = masked_cross_entropy(logits, targets)
    lt = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(lt.reshape(-1, V), torch.tensor(targets).reshape(-1),
                                            ignore_index=0)
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    assert rel_error(dlogits, lt.grad.numpy()) < 1e-9
    num = numerical_gradient(lambda: masked_cross_entropy(logits, targets)[0], logits)
    assert rel_error(dlogits, num) < 1e-7
    assert np.all(dlogits[targets == 0] == 0)


def test_masked_cross_entropy_checks_inputs():
    with pytest.raises(ValueError, match="every position is padding"):
        masked_cross_entropy(np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="targets"):
        masked_cross_entropy(np.zeros((1, 2, 3)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="targets"):
        masked_cross_entropy(np.zeros((1, 2, 3)), np.full((1, 2), 3))
