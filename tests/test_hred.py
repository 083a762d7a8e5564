"""HRED / VHRED (chapter 9): the numpy context update equals torch, shapes, masking, the KL in
torch equals the numpy formula, training is deterministic, the metrics."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnncourse.data.dialogues import dialogue_batch, dialogue_vocab, generate_dialogues
from rnncourse.gradcheck import rel_error
from rnncourse.layers.convert import rnn_from_torch
from rnncourse.models.hred import (
    HRED, VHRED, ContextRNN, context_rnn_forward, distinct_n, generate_replies, kl_diag,
    reply_entropy, reply_validity, train_dialogue_model,
)
from rnncourse.vae import gaussian_kl_diag


def _small_data(n=24, seed=0, **kw):
    vocab = dialogue_vocab()
    dialogues = generate_dialogues(n, seed=seed)
    return vocab, dialogues, dialogue_batch(dialogues, vocab, **kw)


def test_context_rnn_forward_matches_torch(rng):
    N, M, Du, H = 5, 6, 4, 3
    u = rng.standard_normal((N, M, Du))
    n_turns = np.array([6, 1, 3, 5, 2])
    mask = np.arange(M)[None] < n_turns[:, None]
    u[~mask] = 0.0
    net = ContextRNN(Du, H, cell="rnn").double()
    Wx, Wh, b = rnn_from_torch(net.rnn)
    c = context_rnn_forward(u, mask, np.zeros((N, H)), Wx, Wh, b)
    with torch.no_grad():
        out, last = net(torch.tensor(u), torch.tensor(n_turns))
    assert rel_error(c[mask], out.numpy()[mask]) < 1e-10          # states of the real turns
    assert rel_error(c[:, -1], last.numpy()) < 1e-10               # padding keeps the last state


def test_context_rnn_forward_by_hand():
    u = np.array([[[1.0], [2.0]]])
    c = context_rnn_forward(u, np.array([[True, False]]), np.array([[0.5]]),
                            np.array([[0.3]]), np.array([[-0.7]]), np.array([0.1]))
    first = np.tanh(0.3 * 1.0 - 0.7 * 0.5 + 0.1)
    np.testing.assert_allclose(c[0, :, 0], [first, first], rtol=1e-15)


def test_context_rnn_forward_errors():
    with pytest.raises(ValueError, match=r"Wh: expected shape \(H, H\)"):
        context_rnn_forward(np.zeros((1, 2, 3)), np.ones((1, 2), bool), np.zeros((1, 4)),
                            np.zeros((3, 4)), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="mask"):
        context_rnn_forward(np.zeros((1, 2, 3)), np.ones((2, 2), bool), np.zeros((1, 4)),
                            np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4))


def test_kl_diag_matches_numpy(rng):
    args = [rng.standard_normal((4, 3)) for _ in range(4)]
    got = kl_diag(*[torch.tensor(a) for a in args]).numpy()
    assert rel_error(got, gaussian_kl_diag(*args)) < 1e-12


def test_padding_does_not_change_the_context():
    vocab, dialogues, data = _small_data(6)
    torch.manual_seed(0)
    model = HRED(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8).eval()
    t = [torch.as_tensor(a) for a in data[:3]]
    with torch.no_grad():
        together = model.context(*t)
        alone = torch.cat([model.context(*[torch.as_tensor(a) for a in
                                          dialogue_batch([d], vocab)[:3]]) for d in dialogues])
    assert torch.allclose(together, alone, atol=1e-6)


def test_one_turn_batch_keeps_only_the_question():
    vocab, dialogues, data = _small_data(5, last_turns=1)
    assert data.ctx.shape[1] == 1 and np.all(data.n_turns == 1)
    for d, row, n in zip(dialogues, data.ctx[:, 0], data.utt_len[:, 0]):
        assert vocab.decode(row[:n]) == d.turns[-1]


@pytest.mark.parametrize("cls", [HRED, VHRED])
def test_shapes_loss_and_determinism(cls):
    vocab, dialogues, data = _small_data(32)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = cls(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8)
        hist = train_dialogue_model(model, data, epochs=2, batch_size=16, progress=False, seed=3,
                                    kl_anneal_steps=2)
        runs.append(hist)
    assert runs[0] == runs[1]                                      # seeded
    assert len(runs[0]["loss"]) == 4 and runs[0]["beta"] == [0.0, 0.5, 1.0, 1.0]
    replies = generate_replies(model, data, vocab, n_samples=3, seed=1)
    assert len(replies) == 32 and all(len(r) == 3 for r in replies)
    assert reply_validity(replies, dialogues).shape == (32, 3)
    if cls is HRED:
        assert all(v == 0.0 for v in runs[0]["kl"])
        assert all(len(set(r)) == 1 for r in replies)              # greedy HRED: one reply


def test_vhred_loss_is_nll_plus_beta_kl():
    vocab, _, data = _small_data(8)
    torch.manual_seed(0)
    model = VHRED(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8, latent_size=3).eval()
    t = [torch.as_tensor(a) for a in data[:5]]
    torch.manual_seed(1)
    loss, nll, kl = model.loss(*t, beta=0.25)
    assert loss.item() == pytest.approx(nll.item() + 0.25 * kl.item(), rel=1e-6)
    assert kl.item() >= 0.0


def test_word_dropout_only_in_training():
    vocab, _, data = _small_data(8)
    model = VHRED(len(vocab), utt_hidden=8, ctx_hidden=8, dec_hidden=8, word_dropout=0.5)
    t = [torch.as_tensor(a) for a in data[:5]]
    model.eval()
    torch.manual_seed(0)
    a = model.loss(*t)[1]
    torch.manual_seed(0)
    b = model.loss(*t)[1]
    assert a.item() == b.item()
    with pytest.raises(ValueError, match="word_dropout"):
        VHRED(len(vocab), word_dropout=1.0)
    with pytest.raises(ValueError, match="cell"):
        HRED(len(vocab), cell="lstm")


def test_metrics():
    replies = [("a", "b", "c"), ("a", "b", "d"), ("a", "b", "c"), ("e",)]
    assert distinct_n(replies, 1) == pytest.approx(5 / 10)
    assert distinct_n(replies, 2) == pytest.approx(3 / 6)
    assert distinct_n([], 2) == 0.0
    p = np.array([2, 1, 1]) / 4
    assert reply_entropy(replies) == pytest.approx(-(p * np.log(p)).sum())
    assert reply_entropy([("x",)] * 5) == 0.0
