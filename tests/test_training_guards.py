"""Behavioural guards found by a mutation audit: each test fails on one mutant that used to survive.

- VHRED word dropout applied at evaluation instead of training, or allowed to replace ``<bos>``;
- gradient clipping removed from ``train_seq2seq`` or from ``train_dialogue_model``;
- an off-by-one in the long-lag early-stopping patience;
- ``longlag_accuracy`` evaluating on the sequences the model was trained on;
- ``lstm_last_state`` returning views into the cache where its docstring promises copies.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnncourse.data.addition import addition_pairs, addition_vocab, seq2seq_batch
from rnncourse.data.dialogues import dialogue_batch, dialogue_vocab, generate_dialogues
from rnncourse.experiments import memory_tasks
from rnncourse.experiments.memory_tasks import LongLagNet, longlag_accuracy, train_longlag
from rnncourse.layers import lstm_forward
from rnncourse.layers.lstm import lstm_last_state
from rnncourse.models.hred import HRED, VHRED, train_dialogue_model
from rnncourse.models.seq2seq import Seq2Seq
from rnncourse.models.training import train_seq2seq


# --- VHRED word dropout ---------------------------------------------------------------------------

def _decoder_inputs(model, data, train: bool):
    """The ``tgt_in`` the decoder actually receives in one call of ``model.loss``."""
    seen = []
    forward = model.decoder.forward

    def spy(tgt_in, *args, **kwargs):
        seen.append(tgt_in.clone())
        return forward(tgt_in, *args, **kwargs)

    model.decoder.forward = spy
    model.train(train)
    torch.manual_seed(0)
    model.loss(*[torch.as_tensor(a) for a in data[:5]])
    return seen[0]


def test_word_dropout_acts_in_training_only_and_never_on_bos_or_padding():
    vocab = dialogue_vocab()
    data = dialogue_batch(generate_dialogues(64, seed=0), vocab)
    tgt_in = torch.as_tensor(data[3])
    torch.manual_seed(0)
    model = VHRED(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8, word_dropout=0.9,
                  unk_id=vocab.unk)
    unk = model.unk_id

    evaluated = _decoder_inputs(model, data, train=False)
    assert torch.equal(evaluated, tgt_in)                    # evaluation sees the true words

    trained = _decoder_inputs(model, data, train=True)
    words = (tgt_in != 0) & (tgt_in != unk)
    words[:, 0] = False
    dropped = (trained == unk) & words
    assert dropped.sum() > 0.7 * words.sum()                 # p = 0.9 of the real words dropped
    assert torch.equal(trained[:, 0], tgt_in[:, 0])          # <bos> is always kept
    assert torch.equal(trained[tgt_in == 0], tgt_in[tgt_in == 0])   # padding stays padding


# --- gradient clipping ----------------------------------------------------------------------------

def _max_change(before, model):
    return max((p.detach() - b).abs().max().item() for p, b in zip(model.parameters(), before))


def test_train_seq2seq_clips_the_gradient_norm():
    """Adam ignores the gradient's scale, except through eps: with every gradient clipped to a norm
    of 1e-12 (far below eps = 1e-8) the parameters must barely move; without clipping they move by
    about the learning rate."""
    vocab = addition_vocab()
    data = seq2seq_batch(addition_pairs(64, max_digits=2, seed=0), vocab)
    moved = {}
    for clip in (1e-12, 1e3):
        torch.manual_seed(0)
        model = Seq2Seq(len(vocab), embed_dim=8, hidden_size=8)
        before = [p.detach().clone() for p in model.parameters()]
        train_seq2seq(model, data, epochs=1, batch_size=32, lr=1e-2, clip=clip, progress=False)
        moved[clip] = _max_change(before, model)
    assert moved[1e3] > 5e-3
    assert moved[1e-12] < 1e-5


def test_train_dialogue_model_clips_the_gradient_norm():
    vocab = dialogue_vocab()
    data = dialogue_batch(generate_dialogues(64, seed=0), vocab)
    moved = {}
    for clip in (1e-12, 1e3):
        torch.manual_seed(0)
        model = HRED(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8)
        before = [p.detach().clone() for p in model.parameters()]
        train_dialogue_model(model, data, epochs=1, batch_size=32, lr=1e-2, clip=clip, progress=False)
        moved[clip] = _max_change(before, model)
    assert moved[1e3] > 5e-3
    assert moved[1e-12] < 1e-5


# --- long-lag training and evaluation -------------------------------------------------------------

class _Oracle(LongLagNet):
    """Reads the key from the first one-hot input: every batch is classified perfectly."""

    def forward(self, x):
        return 50.0 * (x[:, 0, :2] - 0.5) + 0.0 * self.head.bias.sum()


@pytest.mark.parametrize("patience", [1, 3, 7])
def test_early_stopping_after_exactly_patience_perfect_batches(monkeypatch, patience):
    monkeypatch.setattr(memory_tasks, "LongLagNet", _Oracle)
    run = train_longlag("lstm", 5, steps=50, patience=patience)
    assert run.solved and run.steps == patience


def test_no_early_stop_when_batches_are_not_all_correct(monkeypatch):
    class Wrong(LongLagNet):
        def forward(self, x):
            return 50.0 * (0.5 - x[:, 0, :2]) + 0.0 * self.head.bias.sum()
    monkeypatch.setattr(memory_tasks, "LongLagNet", Wrong)
    run = train_longlag("lstm", 5, steps=12, patience=3)
    assert not run.solved and run.steps == 12


@pytest.mark.parametrize("train_seed", [0, 1, 7])
def test_longlag_accuracy_never_evaluates_on_training_sequences(monkeypatch, train_seed):
    drawn = []
    real = memory_tasks.longlag_batch

    def spy(*args, **kwargs):
        batch = real(*args, **kwargs)
        drawn.append(batch.tokens.copy())
        return batch
    monkeypatch.setattr(memory_tasks, "longlag_batch", spy)
    p = 30                                                        # 2 * 29^29 possible sequences
    run = train_longlag("rnn", p, steps=20, patience=10 ** 6, seed=train_seed)
    seen = {row.tobytes() for batch in drawn for row in batch}
    drawn.clear()
    longlag_accuracy(run.model, p, n=500)
    evaluated = [row.tobytes() for row in drawn[0]]
    assert len(seen) == 20 * 32
    assert not any(row in seen for row in evaluated)


# --- lstm_last_state ------------------------------------------------------------------------------

def test_lstm_last_state_returns_copies():
    r = np.random.default_rng(0)
    N, T, D, H = 2, 4, 3, 5
    _, cache = lstm_forward(r.standard_normal((N, T, D)), r.standard_normal((N, H)),
                            r.standard_normal((D, 4 * H)), r.standard_normal((H, 4 * H)),
                            r.standard_normal(4 * H))
    h, c = lstm_last_state(cache)
    h_again, c_again = lstm_last_state(cache)
    h += 1.0
    c[:] = 0.0
    h2, c2 = lstm_last_state(cache)
    assert np.array_equal(h2, h_again) and np.array_equal(c2, c_again)
    for arr in (h2, c2):
        assert not any(np.shares_memory(arr, part) for part in cache if isinstance(part, np.ndarray))
