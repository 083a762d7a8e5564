"""Torch seq2seq models and the shared training loop: padding, step == teacher-forced forward,
searches, reproducibility."""
import numpy as np
import pytest
import torch

from rnncourse.data.addition import addition_pairs, addition_vocab, copy_pairs, seq2seq_batch
from rnncourse.decoding import masked_cross_entropy as np_masked_cross_entropy
from rnncourse.models.seq2seq import Encoder, Seq2Seq
from rnncourse.models.training import (
    accuracy_by, beam_predict, exact_match, greedy_predict, masked_cross_entropy, train_seq2seq,
)

VOCAB = addition_vocab()
V = len(VOCAB)
BOS, EOS = VOCAB.stoi["^"], VOCAB.stoi["$"]


def _batch(n=6, seed=0, reverse=False):
    return seq2seq_batch(addition_pairs(n, max_digits=3, seed=seed), VOCAB, reverse)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_padding_never_enters_the_encoder_state(cell):
    torch.manual_seed(0)
    enc = Encoder(V, 8, 12, cell).double()
    b = _batch()
    out, state = enc(torch.tensor(b.src), torch.tensor(b.src_len))
    h = state[0] if cell == "lstm" else state
    assert out.shape == (6, b.src.shape[1], 12)
    for n in range(6):
        L = int(b.src_len[n])
        out1, state1 = enc(torch.tensor(b.src[n:n + 1, :L]), torch.tensor([L]))
        h1 = state1[0] if cell == "lstm" else state1
        assert torch.allclose(h[n], h1[0], atol=1e-12)
        assert torch.allclose(out[n, :L], out1[0], atol=1e-12)
        assert torch.all(out[n, L:] == 0)                      # outputs at padding are zero


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("peeky", [False, True])
def test_step_by_step_decoding_equals_teacher_forced_forward(cell, peeky):
    torch.manual_seed(1)
    model = Seq2Seq(V, 8, 12, cell, peeky).double().eval()
    b = _batch(seed=1)
    src, src_len, tgt_in = (torch.tensor(a) for a in (b.src, b.src_len, b.tgt_in))
    with torch.no_grad():
        full = torch.log_softmax(model(src, src_len, tgt_in), -1)
        state = model.start(src, src_len)
        for t in range(tgt_in.shape[1]):
            logp, state = model.step(tgt_in[:, t].numpy(), state)
            assert torch.allclose(logp, full[:, t], atol=1e-12)


def test_peeky_decoder_sees_the_context_at_every_step():
    plain, peeky = Seq2Seq(V, 8, 12, peeky=False), Seq2Seq(V, 8, 12, peeky=True)
    assert peeky.decoder.rnn.input_size == 8 + 12 and plain.decoder.rnn.input_size == 8
    assert peeky.decoder.out.in_features == 24
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(V, cell="transformer")


def test_torch_masked_loss_equals_numpy():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 4, V))
    b = _batch(3)
    loss = masked_cross_entropy(torch.tensor(logits), torch.tensor(b.tgt_out)).item()
    assert abs(loss - np_masked_cross_entropy(logits, b.tgt_out)[0]) < 1e-12


def test_training_is_reproducible_and_learns_a_tiny_copy_task():
    data = seq2seq_batch(copy_pairs(256, max_len=3, seed=0), VOCAB)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Seq2Seq(V, 8, 32)
        runs.append(train_seq2seq(model, data, epochs=30, batch_size=64, lr=2e-2, seed=0,
                                  progress=False))
    assert runs[0] == runs[1]
    assert np.mean(runs[0][-5:]) < 0.5 * np.mean(runs[0][:5])
    pred = greedy_predict(model, data.src, data.src_len, BOS, EOS, data.tgt_out.shape[1])
    assert exact_match(pred, data.tgt_out).mean() > 0.8


def test_beam_of_width_one_equals_greedy_on_a_model():
    torch.manual_seed(2)
    model = Seq2Seq(V, 8, 12, peeky=True).double()
    b = _batch(5, seed=2)
    g = greedy_predict(model, b.src, b.src_len, BOS, EOS, 5)
    ids, scores = beam_predict(model, b.src, b.src_len, BOS, EOS, 5, beam_width=1)
    assert np.array_equal(ids, g) and np.all(scores <= 0)
    ids3, scores3 = beam_predict(model, b.src, b.src_len, BOS, EOS, 5, beam_width=3)
    assert ids3.shape == (5, 5)


def test_exact_match_and_accuracy_by():
    pred = np.array([[3, 4, 13, 0], [3, 13, 0, 0], [5, 13, 0, 0]])
    tgt = np.array([[3, 4, 13], [3, 4, 13], [5, 13, 0]])
    assert exact_match(pred, tgt).tolist() == [True, False, True]
    keys, acc, counts = accuracy_by([2, 2, 1], [True, False, True])
    assert keys.tolist() == [1, 2] and acc.tolist() == [1.0, 0.5] and counts.tolist() == [1, 2]


def test_training_runs_on_the_cpu_unless_asked(monkeypatch):
    """The book's numbers must not depend on a GPU: None means the CPU even when CUDA exists."""
    import torch

    from rnncourse.models.training import default_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cpu")
    assert default_device(None) == torch.device("cpu")
    assert default_device("auto") == torch.device("cuda")
    assert default_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        default_device("not-a-device")
