"""Chapter 12: the grammar corpus, the numpy mRNN/mLSTM/zoneout reference (hand-computed steps and
gradient checks) and the torch cells (shapes, parameter counts, zoneout train vs eval, equality with
the numpy reference and torch.nn.LSTM, tLSTM depth and causality, gradients reach every parameter)."""
import math

import numpy as np
import pytest
import torch

from rnncourse.layers.beyond import (
    delta_rnn_param_count, mlstm_param_count, stacked_lstm_param_count, tlstm_depth,
    tlstm_param_count, mlstm_step_backward, mlstm_step_forward, mrnn_param_count,
    mrnn_step_backward, mrnn_step_forward, zoneout_backward, zoneout_forward,
    zoneout_mlstm_step_forward,
)
from rnncourse.data.text import (
    _NOUNS, _VERBS_I, _VERBS_T, GRAMMAR_CHARS, TextVocab, contiguous_windows, encode_text,
    grammar_corpus, grammar_sentences, random_windows,
)
from rnncourse.gradcheck import gradcheck
from rnncourse.models.beyond import (
    LSTM, MLSTM, MRNN, TLSTM, CharLM, DeltaRNN, StackedLSTM, count_params, evaluate_char_lm,
    hidden_for_budget, seconds_per_step, train_char_lm, zoneout,
)


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


# ---------------------------------------------------------------- corpus

def test_corpus_is_deterministic_and_exact():
    a, b = grammar_corpus(1000, seed=3), grammar_corpus(1000, seed=3)
    assert a == b and len(a) == 1000
    assert grammar_corpus(1000, seed=4) != a
    assert set(a) <= set(GRAMMAR_CHARS)
    assert grammar_sentences(5, seed=0) == grammar_sentences(5, seed=0)


def test_sentences_agree_in_number_without_relative_clauses():
    sing_n = {s for s, _ in _NOUNS}
    plur_n = {p for _, p in _NOUNS}
    sing_v = {s for s, _ in _VERBS_T + _VERBS_I}
    plur_v = {p for _, p in _VERBS_T + _VERBS_I}
    for s in grammar_sentences(300, seed=1, max_depth=0):
        assert s.endswith(".") and "that" not in s
        words = s[:-1].split()
        noun = next(w for w in words if w in sing_n | plur_n)
        verb = next(w for w in words if w in sing_v | plur_v)
        assert (noun in sing_n) == (verb in sing_v), s


def test_relative_clauses_nest():
    sents = grammar_sentences(400, seed=2, max_depth=2, p_rel=0.6)
    assert max(s.split().count("that") for s in sents) >= 2
    assert all(s.split().count("that") <= 2 * 3 for s in sents)     # bounded by the depth


def test_vocab_and_windows(rng):
    vocab = TextVocab()
    text = grammar_corpus(500, seed=0)
    ids = encode_text(text)
    assert vocab.decode(ids) == text and ids.dtype == np.int64 and len(vocab) == len(GRAMMAR_CHARS)
    x, y = random_windows(ids, 4, 10, rng)
    assert x.shape == y.shape == (4, 10)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])               # targets are the next char
    xc, yc = contiguous_windows(ids, 16)
    assert xc.shape == ((len(ids) - 1) // 16, 16)
    np.testing.assert_array_equal(xc.reshape(-1)[1:], yc.reshape(-1)[:-1])


@pytest.mark.parametrize("call, match", [
    (lambda: grammar_sentences(0), "num"),
    (lambda: grammar_sentences(3, p_rel=1.5), "p_rel"),
    (lambda: grammar_corpus(0), "num_chars"),
    (lambda: TextVocab().encode("abc!"), "not in the vocabulary"),
    (lambda: random_windows(np.arange(5), 2, 5, np.random.default_rng(0)), "T"),
])
def test_corpus_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- numpy reference

def _mult_params(rng, N, D, H, gates):
    return dict(
        x=rng.standard_normal((N, D)), prev_h=rng.standard_normal((N, H)),
        Wmx=rng.standard_normal((D, H)), Wmh=0.5 * rng.standard_normal((H, H)),
        Wx=0.5 * rng.standard_normal((D, gates * H)), Wm=0.5 * rng.standard_normal((H, gates * H)),
        b=rng.standard_normal(gates * H))


def test_mrnn_hand_computed_step():
    # m = (2*3) * (0.5*2) = 6; a = 2*0.1 + 6*0.2 + 0.05 = 1.45
    args = [np.array([[2.0]]), np.array([[0.5]]), np.array([[3.0]]), np.array([[2.0]]),
            np.array([[0.1]]), np.array([[0.2]]), np.array([0.05])]
    h, _ = mrnn_step_forward(*args)
    assert h.shape == (1, 1) and abs(h[0, 0] - math.tanh(1.45)) < 1e-15
    cell = MRNN(1, 1).double()
    with torch.no_grad():
        for name, a in zip(["Wmx", "Wmh", "Wx", "Wm", "b"], args[2:]):
            getattr(cell, name).copy_(torch.tensor(a))
    out, last = cell(torch.tensor(args[0])[:, None], torch.tensor(args[1]))
    assert abs(out[0, 0, 0].item() - math.tanh(1.45)) < 1e-15


def test_mlstm_hand_computed_step():
    # m = (1*2) * (1*0.5) = 1; a = x Wx + m Wm = [1.5, 0, 0, 2] -> i, f, g, o
    x, h, c = np.array([[1.0]]), np.array([[1.0]]), np.array([[0.5]])
    Wmx, Wmh = np.array([[2.0]]), np.array([[0.5]])
    Wx, Wm, b = np.array([[1.0, -1.0, 0.5, 2.0]]), np.array([[0.5, 1.0, -0.5, 0.0]]), np.zeros(4)
    c_ref = 0.5 * 0.5 + sig(1.5) * math.tanh(0.0)                     # f c + i g
    h_ref = sig(2.0) * math.tanh(c_ref)                               # o tanh(c)
    nh, nc, _ = mlstm_step_forward(x, h, c, Wmx, Wmh, Wx, Wm, b)
    assert abs(nc[0, 0] - c_ref) < 1e-15 and abs(nh[0, 0] - h_ref) < 1e-15
    cell = MLSTM(1, 1).double()
    with torch.no_grad():
        for name, a in zip(["Wmx", "Wmh", "Wx", "Wm", "b"], [Wmx, Wmh, Wx, Wm, b]):
            getattr(cell, name).copy_(torch.tensor(a))
    out, (th, tc) = cell(torch.tensor(x)[:, None], (torch.tensor(h), torch.tensor(c)))
    assert abs(th.item() - h_ref) < 1e-15 and abs(tc.item() - c_ref) < 1e-15


def test_delta_rnn_hand_computed_step():
    cell = DeltaRNN(1, 1).double()
    with torch.no_grad():
        cell.W.fill_(2.0)
        cell.V.fill_(1.0)
    out, _ = cell(torch.ones(1, 1, 1, dtype=torch.float64), torch.full((1, 1), 0.5, dtype=torch.float64))
    # wx = 2, vh = 0.5, alpha = 2, beta = 1: z = tanh(2*0.5*2 + 0.5 + 2) = tanh(4.5); r = sigmoid(2)
    ref = (1 - sig(2.0)) * math.tanh(4.5) + sig(2.0) * 0.5
    assert abs(out.item() - ref) < 1e-15


@pytest.mark.parametrize("N,D,H", [(2, 3, 4), (1, 1, 1), (3, 2, 5)])
def test_mrnn_step_gradients(rng, N, D, H):
    p = _mult_params(rng, N, D, H, 1)
    errors = gradcheck(mrnn_step_forward, mrnn_step_backward, list(p.values()))
    assert len(errors) == 7 and max(errors) < 1e-7, errors


@pytest.mark.parametrize("N,D,H", [(2, 3, 4), (1, 1, 1), (3, 2, 5)])
def test_mlstm_step_gradients(rng, N, D, H):
    p = _mult_params(rng, N, D, H, 4)
    prev_c = rng.standard_normal((N, H))
    inputs = [p["x"], p["prev_h"], prev_c, p["Wmx"], p["Wmh"], p["Wx"], p["Wm"], p["b"]]

    def fwd(*a):
        h, c, cache = mlstm_step_forward(*a)
        return np.stack([h, c]), cache

    errors = gradcheck(fwd, lambda d, cache: mlstm_step_backward(d[0], d[1], cache), inputs)
    assert len(errors) == 8 and max(errors) < 1e-7, errors


@pytest.mark.parametrize("train", [True, False])
def test_zoneout_numpy(rng, train):
    prev, new = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = (rng.random((3, 4)) < 0.4).astype(float)
    out, _ = zoneout_forward(prev, new, mask, 0.4, train)
    expected = np.where(mask == 1, prev, new) if train else 0.4 * prev + 0.6 * new
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)
    errors = gradcheck(lambda a, b: zoneout_forward(a, b, mask, 0.4, train), zoneout_backward,
                       [prev, new])
    assert max(errors) < 1e-9
    # z = 0 never zones out at evaluation, z = 1 always keeps the previous value
    np.testing.assert_allclose(zoneout_forward(prev, new, mask, 0.0, False)[0], new)
    np.testing.assert_allclose(zoneout_forward(prev, new, mask, 1.0, False)[0], prev)


def test_zoneout_mlstm_uses_the_new_cell_for_h(rng):
    p = _mult_params(rng, 2, 3, 4, 4)
    prev_c = rng.standard_normal((2, 4))
    args = [p["x"], p["prev_h"], prev_c, p["Wmx"], p["Wmh"], p["Wx"], p["Wm"], p["b"]]
    h_new, c_new, _ = mlstm_step_forward(*args)
    ones, zeros = np.ones((2, 4)), np.zeros((2, 4))
    # cell fully zoned out, hidden free: h is still o * tanh(c_new), c stays c(t-1)
    nh, nc, _ = zoneout_mlstm_step_forward(*args, ones, zeros, 0.5, 0.5, True)
    np.testing.assert_allclose(nc, prev_c)
    np.testing.assert_allclose(nh, h_new)
    nh, nc, _ = zoneout_mlstm_step_forward(*args, ones, ones, 0.3, 0.1, False)
    np.testing.assert_allclose(nc, 0.3 * prev_c + 0.7 * c_new)
    np.testing.assert_allclose(nh, 0.1 * p["prev_h"] + 0.9 * h_new)


def test_param_count_formulas():
    assert mrnn_param_count(5, 7) == count_params(MRNN(5, 7))
    assert mlstm_param_count(5, 7) == count_params(MLSTM(5, 7))
    assert delta_rnn_param_count(5, 7) == count_params(DeltaRNN(5, 7))
    for L in [1, 3]:
        assert stacked_lstm_param_count(5, 7, L) == count_params(StackedLSTM(5, 7, L))
    for K, P, mc in [(3, 1, True), (3, 4, False), (5, 6, True), (7, 2, False)]:
        cell = TLSTM(5, 7, P=P, K=K, memory_conv=mc)
        assert tlstm_param_count(5, 7, K, mc) == count_params(cell)
        assert tlstm_depth(P, K) == cell.depth
    # the chapter's worked numbers
    assert mlstm_param_count(30, 100) == 65_400 and delta_rnn_param_count(50, 100) == 15_500
    assert tlstm_depth(6, 5) == 3 and tlstm_depth(12, 5) == 6 and tlstm_depth(7, 3) == 7


@pytest.mark.parametrize("call, match", [
    (lambda: tlstm_param_count(3, 4, K=4), "K: expected an odd"),
    (lambda: tlstm_depth(0, 3), "P: expected"),
    (lambda: tlstm_depth(3, 1), "K: expected an odd"),
    (lambda: stacked_lstm_param_count(3, 4, 0), "L: expected"),
])
def test_count_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda r: mrnn_step_forward(r((2, 3)), r((2, 4)), r((3, 4)), r((4, 4)), r((3, 4)), r((4, 5)),
                                 r(4)), r"Wm: expected shape \(H, H\)"),
    (lambda r: mlstm_step_forward(r((2, 3)), r((2, 4)), r((2, 4)), r((3, 4)), r((4, 4)), r((3, 16)),
                                  r((4, 16)), r(15)), r"b: expected shape \(4H,\)"),
    (lambda r: mlstm_step_forward(r((2, 3)), r((1, 4)), r((2, 4)), r((3, 4)), r((4, 4)), r((3, 16)),
                                  r((4, 16)), r(16)), "batch size"),
    (lambda r: zoneout_forward(r((2, 3)), r((2, 3)), r((2, 2)), 0.5, True), "mask"),
    (lambda r: zoneout_forward(r((2, 3)), r((2, 3)), r((2, 3)), 1.5, False), "z"),
])
def test_numpy_errors(rng, call, match):
    with pytest.raises(ValueError, match=match):
        call(rng.standard_normal)


# ---------------------------------------------------------------- torch cells

def _set(cell, arrays):
    with torch.no_grad():
        for name, a in arrays.items():
            getattr(cell, name).copy_(torch.as_tensor(a))


def test_lstm_equals_torch_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 5, batch_first=True).double()
    cell = LSTM(3, 5).double()
    _set(cell, {"Wx": ref.weight_ih_l0.detach().T, "Wh": ref.weight_hh_l0.detach().T,
                "b": (ref.bias_ih_l0 + ref.bias_hh_l0).detach()})
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    out, (h, c) = cell(x)
    out_ref, (h_ref, c_ref) = ref(x)
    assert torch.allclose(out, out_ref, atol=1e-13) and torch.allclose(c, c_ref[0], atol=1e-13)


def test_mrnn_and_mlstm_equal_numpy_over_a_sequence(rng):
    N, T, D, H = 2, 5, 3, 4
    x = rng.standard_normal((N, T, D))
    for cls, gates in [(MRNN, 1), (MLSTM, 4)]:
        p = _mult_params(rng, N, D, H, gates)
        params = {k: p[k] for k in ["Wmx", "Wmh", "Wx", "Wm", "b"]}
        cell = cls(D, H).double()
        _set(cell, params)
        out, _ = cell(torch.tensor(x))
        h, c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T):
            if gates == 1:
                h, _ = mrnn_step_forward(x[:, t], h, **params)
            else:
                h, c, _ = mlstm_step_forward(x[:, t], h, c, **params)
            np.testing.assert_allclose(out[:, t].detach().numpy(), h, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("make", [
    lambda: LSTM(3, 4), lambda: MRNN(3, 4), lambda: MLSTM(3, 4), lambda: DeltaRNN(3, 4),
    lambda: StackedLSTM(3, 4, 3), lambda: TLSTM(3, 4, P=3), lambda: TLSTM(3, 4, P=4, K=5),
    lambda: TLSTM(3, 4, P=2, memory_conv=False), lambda: LSTM(3, 4, z_c=0.5, z_h=0.1),
])
def test_shapes_and_gradients_reach_every_parameter(make):
    torch.manual_seed(0)
    cell = make()
    x = torch.randn(2, 7, 3)
    out, _ = cell(x)
    assert out.shape == (2, 7, 4)
    (out ** 2).sum().backward()
    for name, p in cell.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_param_counts():
    D, H = 6, 8
    assert count_params(LSTM(D, H)) == 4 * H * (D + H + 1)
    assert count_params(MRNN(D, H)) == 2 * D * H + 2 * H * H + H
    assert count_params(MLSTM(D, H)) == 4 * H * (D + H + 1) + D * H + H * H
    assert count_params(DeltaRNN(D, H)) == D * H + H * H + 5 * H
    for L in [1, 2, 5]:
        assert count_params(StackedLSTM(D, H, L)) == 4 * H * (D + H + 1) + (L - 1) * 4 * H * (2 * H + 1)
    for K in [3, 5]:
        counts = {count_params(TLSTM(D, H, P=P, K=K)) for P in [1, 2, 4, 8]}
        assert counts == {D * H + H + K * H * (4 * H + K) + 4 * H + K}     # independent of P
    assert count_params(TLSTM(D, H, P=3, memory_conv=False)) == D * H + H + 3 * H * 4 * H + 4 * H


@pytest.mark.parametrize("P,K", [(1, 3), (3, 3), (4, 5), (5, 5), (2, 3)])
@pytest.mark.parametrize("memory_conv", [True, False])
def test_tlstm_depth_and_causality(P, K, memory_conv):
    """y(t) must see x(t) (the output is delayed by exactly L - 1 steps) and never x(t + 1)."""
    torch.manual_seed(0)
    cell = TLSTM(2, 3, P=P, K=K, memory_conv=memory_conv).double()
    assert cell.depth == math.ceil(P / ((K - 1) // 2))
    T, t = 6, 2
    x = torch.randn(1, T, 2, dtype=torch.float64, requires_grad=True)
    out, _ = cell(x)
    out[0, t].sum().backward()
    g = x.grad[0].abs().sum(dim=1)
    assert g[t] > 0 and torch.all(g[t + 1:] == 0)
    if P > 1:
        # with one step less of delay, the last location would not yet have seen x(t)
        cell.depth -= 1
        x2 = x.detach().clone().requires_grad_(True)
        out2, _ = cell(x2)
        out2[0, t].sum().backward()
        assert x2.grad[0, t + 1:].abs().sum() == 0 and x2.grad[0, t].abs().sum() == 0


@pytest.mark.parametrize("memory_conv", [True, False])
def test_tlstm_with_one_location_is_an_lstm(memory_conv):
    """P = 1: the window holds [input, h, zero padding]; with border padding the memory kernel is
    the identity. So the tLSTM is an LSTM whose input weights are Wx W_0 (gate order g, i, f, o)."""
    torch.manual_seed(0)
    D, M = 3, 4
    t = TLSTM(D, M, P=1, memory_conv=memory_conv).double()
    W0, W1 = t.Wh[:M, :4 * M], t.Wh[M:2 * M, :4 * M]
    perm = torch.cat([torch.arange(M, 2 * M), torch.arange(2 * M, 3 * M), torch.arange(M),
                      torch.arange(3 * M, 4 * M)])                    # g,i,f,o -> i,f,g,o
    lstm = LSTM(D, M).double()
    _set(lstm, {"Wx": (t.Wx @ W0)[:, perm], "Wh": W1[:, perm],
                "b": (t.bx @ W0 + t.bh[:4 * M])[perm]})
    x = torch.randn(2, 5, D, dtype=torch.float64)
    assert torch.allclose(t(x)[0], lstm(x)[0], atol=1e-13)


def test_zoneout_train_vs_eval():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    plain = LSTM(4, 5).double()
    zoned = LSTM(4, 5, z_c=0.5, z_h=0.3).double()
    zoned.load_state_dict(plain.state_dict())
    # evaluation is deterministic and differs from the plain LSTM
    zoned.eval()
    e1, e2 = zoned(x)[0], zoned(x)[0]
    assert torch.equal(e1, e2) and not torch.allclose(e1, plain(x)[0])
    # training is random
    zoned.train()
    assert not torch.allclose(zoned(x)[0], zoned(x)[0])
    # z = 1 in training: the state never leaves its initial value
    frozen = LSTM(4, 5, z_c=1.0, z_h=1.0).double().train()
    out, (h, c) = frozen(x)
    assert torch.all(out == 0) and torch.all(c == 0)
    # z = 0: zoneout is the identity in both modes
    free = LSTM(4, 5).double()
    free.load_state_dict(plain.state_dict())
    assert torch.allclose(free.train()(x)[0], plain(x)[0])


def test_zoneout_expectation_is_the_eval_rule():
    """One step from a fixed state: h(1) is linear in the masks, so its mean is the eval value."""
    torch.manual_seed(0)
    cell = LSTM(2, 3, z_c=0.4, z_h=0.2).double()
    S = 20000
    x = torch.randn(1, 1, 2, dtype=torch.float64).expand(S, 1, 2)
    state = (torch.randn(1, 3, dtype=torch.float64).expand(S, 3),
             torch.randn(1, 3, dtype=torch.float64).expand(S, 3))
    cell.train()
    samples = cell(x, state)[0][:, 0]
    cell.eval()
    expected = cell(x, state)[0][0, 0]
    stderr = samples.std(dim=0) / math.sqrt(S)
    assert torch.all((samples.mean(dim=0) - expected).abs() < 5 * stderr + 1e-12)


def test_torch_zoneout_mlstm_equals_numpy_with_given_masks(rng):
    N, T, D, H = 2, 4, 3, 5
    p = _mult_params(rng, N, D, H, 4)
    params = {k: p[k] for k in ["Wmx", "Wmh", "Wx", "Wm", "b"]}
    x = rng.standard_normal((N, T, D))
    mc, mh = (rng.random((N, T, H)) < 0.5).astype(float), (rng.random((N, T, H)) < 0.2).astype(float)
    cell = MLSTM(D, H, z_c=0.5, z_h=0.2).double()
    _set(cell, params)
    for train in [True, False]:
        cell.train(train)
        out, _ = cell(torch.tensor(x), masks=(torch.tensor(mc), torch.tensor(mh)))
        h, c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T):
            h, c, _ = zoneout_mlstm_step_forward(x[:, t], h, c, *params.values(), mc[:, t], mh[:, t],
                                                 0.5, 0.2, train)
            np.testing.assert_allclose(out[:, t].detach().numpy(), h, rtol=1e-12, atol=1e-13)


def test_zoneout_function():
    prev, new = torch.zeros(2, 3), torch.ones(2, 3)
    assert torch.equal(zoneout(prev, new, 0.25, training=False), torch.full((2, 3), 0.75))
    mask = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert torch.equal(zoneout(prev, new, 0.25, True, mask), 1 - mask)
    assert torch.equal(zoneout(prev, new, 0.0, True), new)


def test_model_errors():
    with pytest.raises(ValueError, match="z_c"):
        LSTM(2, 3, z_c=1.5)
    with pytest.raises(ValueError, match="K"):
        TLSTM(2, 3, P=2, K=4)
    with pytest.raises(ValueError, match="L"):
        StackedLSTM(2, 3, 0)
    with pytest.raises(ValueError, match="D = 2"):
        LSTM(2, 3)(torch.zeros(1, 4, 3))


def test_training_helpers_reduce_the_loss():
    torch.set_num_threads(1)
    vocab = TextVocab()
    ids = encode_text(grammar_corpus(3000, seed=0))
    xv, yv = contiguous_windows(encode_text(grammar_corpus(600, seed=1)), 32)
    make = lambda H: CharLM(MLSTM(len(vocab), H), len(vocab))       # noqa: E731
    H = hidden_for_budget(make, 3000, hi=64)
    assert abs(count_params(make(H)) - 3000) <= abs(count_params(make(H + 1)) - 3000)
    torch.manual_seed(0)
    model = make(H)
    before = evaluate_char_lm(model, xv, yv)
    hist = train_char_lm(model, ids, 40, N=8, T=16, lr=2e-2, evals={"val": (xv, yv)}, every=20)
    assert hist["loss"].shape == (40,) and hist["sec_per_step"] > 0
    assert hist["evals"]["val"][:, 0].tolist() == [20, 40]
    assert hist["evals"]["val"][-1, 1] < before - 0.5
    assert seconds_per_step(model.cell, torch.zeros(2, 5, len(vocab))) > 0
