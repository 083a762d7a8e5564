"""The torch attention decoder agrees with the numpy attention layers and masks the padding."""
import numpy as np
import pytest
import torch

from rnncourse.data.addition import seq2seq_batch
from rnncourse.data.dates import date_pairs, date_vocab
from rnncourse.layers.attention import (
    additive_attention_forward, dot_attention_forward, general_attention_forward,
)
from rnncourse.models.attention_decoder import SCORES, Attention, AttentionSeq2Seq
from rnncourse.models.training import beam_predict, greedy_predict

VOCAB = date_vocab()
V = len(VOCAB)


def _numpy_reference(att, q, k, mask):
    if att.score == "dot":
        return dot_attention_forward(q, k, k, mask)[:2]
    if att.score == "general":
        return general_attention_forward(q, k, k, att.W.weight.detach().numpy().T, mask)[:2]
    return additive_attention_forward(q, k, k, att.Wq.weight.detach().numpy().T,
                                      att.Wk.weight.detach().numpy().T,
                                      att.va.weight.detach().numpy()[0], mask)[:2]


@pytest.mark.parametrize("score", SCORES)
def test_attention_module_equals_numpy_layers(rng, score):
    torch.manual_seed(0)
    att = Attention(6, score).double()
    q, k = rng.standard_normal((3, 4, 6)), rng.standard_normal((3, 5, 6))
    mask = np.arange(5)[None, :] < np.array([5, 2, 1])[:, None]
    with torch.no_grad():
        context, weights = att(torch.tensor(q), torch.tensor(k), torch.tensor(mask))
    ref_context, ref_weights = _numpy_reference(att, q, k, mask)
    assert np.allclose(context.numpy(), ref_context, atol=1e-12)
    assert np.allclose(weights.numpy(), ref_weights, atol=1e-12)
    assert np.all(weights.numpy()[~np.broadcast_to(mask[:, None, :], weights.shape)] == 0)


def test_unknown_score_is_rejected():
    with pytest.raises(ValueError, match="score"):
        Attention(4, "cosine")


@pytest.fixture
def batch():
    return seq2seq_batch(date_pairs(5, seed=3), VOCAB)


@pytest.mark.parametrize("score", SCORES)
def test_step_equals_teacher_forced_forward_and_padding_is_ignored(batch, score):
    torch.manual_seed(1)
    model = AttentionSeq2Seq(V, 8, 12, "lstm", score).double().eval()
    src, src_len, tgt_in = (torch.tensor(a) for a in (batch.src, batch.src_len, batch.tgt_in))
    with torch.no_grad():
        logits, weights = model(src, src_len, tgt_in, return_weights=True)
        full = torch.log_softmax(logits, -1)
        state = model.start(src, src_len)
        for t in range(tgt_in.shape[1]):
            logp, state = model.step(tgt_in[:, t], state)
            assert torch.allclose(logp, full[:, t], atol=1e-12)
        # weights: one distribution over the real source symbols per output step
        assert weights.shape == (5, tgt_in.shape[1], src.shape[1])
        assert torch.allclose(weights.sum(-1), torch.ones(5, tgt_in.shape[1], dtype=torch.float64))
        pad = torch.arange(src.shape[1])[None, :] >= src_len[:, None]
        assert torch.all(weights.masked_select(pad[:, None, :]) == 0)
        # whatever sits in the padding changes nothing
        noisy = src.clone()
        noisy[pad] = 5
        assert torch.allclose(model(noisy, src_len, tgt_in), logits, atol=1e-12)


def test_searches_run_on_the_attention_model(batch):
    torch.manual_seed(2)
    model = AttentionSeq2Seq(V, 8, 12).double()
    bos, eos = VOCAB.stoi["^"], VOCAB.stoi["$"]
    g = greedy_predict(model, batch.src, batch.src_len, bos, eos, 11)
    ids, _ = beam_predict(model, batch.src, batch.src_len, bos, eos, 11, beam_width=1)
    assert g.shape == (5, 11) and np.array_equal(ids, g)
