"""The torch Transformers of chapter 13 (seq2seq, classifier, language models), the pretraining helpers
and the order task: interfaces, masks, invariances, and that the numpy blocks reproduce the models."""
import numpy as np
import pytest
import torch

from rnncourse.data.order import order_pairs
from rnncourse.layers import (
    causal_mask, decoder_block_forward, decoder_block_from_torch, encoder_block_forward,
    encoder_block_from_torch, padding_mask, positional_encoding_forward,
)
from rnncourse.models.pretraining import (
    BOS, EOS, MASK, PAD, WordVocab, blank_logprobs, mask_tokens, perplexity, sample_sentences,
    sentence_ids, token_nll, train_lm,
)
from rnncourse.models.training import greedy_predict, train_seq2seq
from rnncourse.data.addition import seq2seq_batch
from rnncourse.data.dates import date_pairs, date_vocab
from rnncourse.models.transformer import (
    TransformerClassifier, TransformerLM, TransformerSeq2Seq, sequential_steps, train_classifier,
)


def test_order_pairs():
    x, y, lengths = order_pairs(50, seed=3)
    assert x.shape == (100, 10) and set(y.tolist()) == {0, 1}
    for n in range(0, 100, 2):
        a, b = x[n], x[n + 1]
        assert sorted(a) == sorted(b) and y[n] != y[n + 1]            # same symbols, opposite labels
        L = lengths[n]
        assert np.all(a[:L] > 0) and np.all(a[L:] == 0) and len(set(a[:L])) == L
        pos1, pos2 = list(a).index(1), list(a).index(2)
        assert y[n] == int(pos1 < pos2)
    np.testing.assert_array_equal(order_pairs(5, seed=1)[0], order_pairs(5, seed=1)[0])
    with pytest.raises(ValueError, match="min_len, max_len"):
        order_pairs(3, alphabet=5, max_len=6)


def test_seq2seq_interface_and_numpy_equivalence():
    vocab = date_vocab()
    data = seq2seq_batch(date_pairs(64, seed=0), vocab)
    torch.manual_seed(0)
    model = TransformerSeq2Seq(len(vocab), d_model=16, nhead=2, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=32)
    losses = train_seq2seq(model, data, epochs=2, batch_size=32, lr=1e-2, progress=False)
    assert len(losses) == 4 and all(np.isfinite(losses))
    # teacher-forced logits equal the numpy blocks run with the model's weights
    logits = model(data.src[:3], data.src_len[:3], data.tgt_in[:3]).detach().double().numpy()
    emb = model.embed.weight.detach().double().numpy()
    embed = lambda ids: positional_encoding_forward(emb[ids] * np.sqrt(16))[0]
    pad = padding_mask(data.src_len[:3], data.src.shape[1])
    mem, _ = encoder_block_forward(embed(data.src[:3]), encoder_block_from_torch(model.encoder[0]), 2,
                                   mask=pad)
    T = data.tgt_in.shape[1]
    y, _ = decoder_block_forward(embed(data.tgt_in[:3]), mem, decoder_block_from_torch(model.decoder[0]),
                                 2, self_mask=causal_mask(T), memory_mask=pad)
    W, b = model.out.weight.detach().double().numpy(), model.out.bias.detach().double().numpy()
    np.testing.assert_allclose(y @ W.T + b, logits, atol=1e-4)
    # greedy decoding through start/step equals re-running forward on the prefix
    pred = greedy_predict(model, data.src[:4], data.src_len[:4], vocab.stoi["^"], vocab.stoi["$"], 5)
    assert pred.shape == (4, 5)


def test_causal_decoder_ignores_the_future():
    torch.manual_seed(1)
    model = TransformerSeq2Seq(12, d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                               dim_feedforward=8).eval()
    src, src_len = torch.randint(1, 12, (2, 5)), torch.tensor([5, 3])
    tgt = torch.randint(1, 12, (2, 6))
    tgt2 = tgt.clone()
    tgt2[:, 4:] = torch.randint(1, 12, (2, 2))
    with torch.no_grad():
        a, b = model(src, src_len, tgt), model(src, src_len, tgt2)
        src2 = src.clone()
        src2[1, 3:] = 7                                    # change only the padding of example 2
        c = model(src2, src_len, tgt)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    torch.testing.assert_close(a, c)


def test_classifier_without_positions_is_permutation_invariant():
    torch.manual_seed(2)
    x, y, _ = order_pairs(100, seed=0)
    for positional in (True, False):
        model = TransformerClassifier(11, 2, d_model=16, nhead=2, num_layers=1, dim_feedforward=16,
                                      positional=positional)
        losses = train_classifier(model, x, y, steps=5, batch_size=16, progress=False)
        assert len(losses) == 5
        with torch.no_grad():
            diff = (model(torch.tensor(x[0::2])) - model(torch.tensor(x[1::2]))).abs().max().item()
        assert (diff < 1e-5) == (not positional)
    with pytest.raises(ValueError, match="y: expected 200 labels"):
        train_classifier(model, x, y[:5], steps=1, progress=False)


def test_sequential_steps():
    assert sequential_steps("rnn", 20, 10) == 30
    assert sequential_steps("rnn", 20, 10, num_layers=3) == 32
    assert sequential_steps("transformer", 20, 10, 4) == sequential_steps("transformer", 500, 90, 4) == 4
    with pytest.raises(ValueError, match="kind"):
        sequential_steps("cnn", 1, 1)
    with pytest.raises(ValueError, match="source_length"):
        sequential_steps("rnn", 0, 1)


SENTENCES = [s.split() for s in ["the dog runs", "a cat sees the dog", "the dogs run", "a bird sings"]]


def test_vocab_ids_and_masking():
    vocab = WordVocab(SENTENCES)
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<mask>"]
    ids = sentence_ids(SENTENCES, vocab)
    assert ids.shape == (4, 7) and ids[0, 0] == BOS and ids[0, 4] == EOS and ids[0, 5] == PAD
    assert vocab.decode(ids[1]) == SENTENCES[1]
    inputs, targets = mask_tokens(torch.tensor(ids).repeat(200, 1), len(vocab), 0.15,
                                  torch.Generator().manual_seed(0))
    chosen = targets != PAD
    assert chosen.any(1).all()                              # at least one word per row
    assert not chosen[torch.tensor(ids).repeat(200, 1) <= MASK].any()   # specials never chosen
    frac_mask = (inputs[chosen] == MASK).float().mean().item()
    assert 0.7 < frac_mask < 0.9                            # 80 % of the chosen become <mask>
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode(["unicorn"])


def test_language_models_train_sample_and_fill():
    vocab = WordVocab(SENTENCES)
    ids = sentence_ids(SENTENCES * 8, vocab)
    torch.manual_seed(0)
    causal = TransformerLM(len(vocab), d_model=16, nhead=2, num_layers=1, dim_feedforward=16)
    masked = TransformerLM(len(vocab), d_model=16, nhead=2, num_layers=1, dim_feedforward=16,
                           causal=False)
    for model in (causal, masked):
        losses = train_lm(model, ids, steps=30, batch_size=8, lr=1e-2, progress=False)
        assert losses[-1] < losses[0]
    nll, count = token_nll(causal, ids)
    assert count == int((ids[:, 1:] != PAD).sum()) and perplexity(nll, count) < len(vocab)
    rows = sample_sentences(causal, 5, max_len=8, seed=0)
    assert rows.shape[0] == 5 and np.all(rows[:, 0] == BOS)
    with pytest.raises(ValueError, match="causal LM"):
        sample_sentences(masked, 2, 5)
    # the causal LM's prediction at a blank ignores everything after it; the masked LM's does not
    pos = np.array([2, 2])
    two = sentence_ids([SENTENCES[0], ["the", "dog", "sees", "a", "bird"]], vocab)
    lc, lm = blank_logprobs(causal, two, pos), blank_logprobs(masked, two, pos)
    np.testing.assert_allclose(lc[0], lc[1], atol=1e-6)
    assert np.abs(lm[0] - lm[1]).max() > 1e-4
    np.testing.assert_allclose(np.exp(lc).sum(1), 1, atol=1e-6)
    with pytest.raises(ValueError, match="count"):
        perplexity(1.0, 0)
    assert perplexity(100 * np.log(7), 100) == pytest.approx(7)
