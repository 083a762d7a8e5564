"""Weight converters to and from torch.nn.RNN / LSTM / GRU, and the parameter counts."""
import numpy as np
import pytest

from rnncourse.layers import (
    gru_forward, gru_param_count, lstm_forward, lstm_param_count, rnn_forward, rnn_param_count,
)
from rnncourse.layers.convert import (
    from_torch, gru_from_torch, gru_to_torch, lstm_from_torch, lstm_to_torch, rnn_from_torch,
    rnn_to_torch, to_torch,
)

torch = pytest.importorskip("torch")

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
FORWARD = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}


def _weights(rng, cell, D, H):
    G = GATES[cell]
    return (rng.standard_normal((D, G * H)), rng.standard_normal((H, G * H)),
            rng.standard_normal(G * H))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_round_trip_is_exact(rng, cell):
    Wx, Wh, b = _weights(rng, cell, 3, 4)
    to, frm = {"rnn": (rnn_to_torch, rnn_from_torch), "lstm": (lstm_to_torch, lstm_from_torch),
               "gru": (gru_to_torch, gru_from_torch)}[cell]
    module = to(Wx, Wh, b)
    assert module.weight_ih_l0.dtype == torch.float64 and module.batch_first
    back = frm(module)
    for a, c in zip(back, (Wx, Wh, b)):
        np.testing.assert_array_equal(a, c)
    if cell == "gru":
        np.testing.assert_array_equal(back[3], np.zeros(4))        # bhn defaults to zero


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_torch_initialised_module_converts(rng, cell):
    """A module with torch's own (two nonzero) biases gives the same outputs after conversion."""
    torch.manual_seed(0)
    module = getattr(torch.nn, cell.upper())(3, 4, batch_first=True).double()
    params = from_torch(module)[0]
    x = rng.standard_normal((2, 5, 3))
    h0 = rng.standard_normal((2, 4))
    with torch.no_grad():
        ref, _ = module(torch.tensor(x), torch.tensor(h0[None]) if cell != "lstm" else
                        (torch.tensor(h0[None]), torch.zeros(1, 2, 4, dtype=torch.float64)))
    h, _ = FORWARD[cell](x, h0, *params)
    np.testing.assert_allclose(h, ref.numpy(), rtol=0, atol=1e-13)


def test_gru_bhn_travels_separately(rng):
    Wx, Wh, b = _weights(rng, "gru", 3, 4)
    bhn = rng.standard_normal(4)
    module = gru_to_torch(Wx, Wh, b, bhn=bhn)
    np.testing.assert_array_equal(module.bias_hh_l0.detach().numpy(), np.r_[np.zeros(8), bhn])
    np.testing.assert_array_equal(gru_from_torch(module)[3], bhn)


def test_multi_layer_bidirectional_round_trip(rng):
    D, H = 3, 4
    params = [_weights(rng, "lstm", D, H), _weights(rng, "lstm", D, H),
              _weights(rng, "lstm", 2 * H, H), _weights(rng, "lstm", 2 * H, H)]
    module = to_torch("lstm", params, bidirectional=True)
    assert module.num_layers == 2 and module.bidirectional
    assert module.weight_ih_l1_reverse.shape == (4 * H, 2 * H)
    for mine, theirs in zip(params, from_torch(module)):
        for a, c in zip(mine, theirs):
            np.testing.assert_array_equal(a, c)


def test_bias_free_module_gives_zero_biases():
    module = torch.nn.GRU(2, 3, bias=False).double()
    Wx, Wh, b, bhn = gru_from_torch(module)
    assert Wx.shape == (2, 9) and Wh.shape == (3, 9)
    np.testing.assert_array_equal(b, 0.0)
    np.testing.assert_array_equal(bhn, 0.0)


def test_a_wrong_conversion_is_caught(rng):
    """The comparison must be able to fail: forgetting the transpose changes the outputs."""
    D = H = 3
    Wx, Wh, b = _weights(rng, "rnn", D, H)
    x = rng.standard_normal((2, 4, D))
    right = rnn_to_torch(Wx, Wh, b)
    wrong = rnn_to_torch(Wx.T, Wh.T, b)
    h, _ = rnn_forward(x, np.zeros((2, H)), Wx, Wh, b)
    with torch.no_grad():
        np.testing.assert_allclose(right(torch.tensor(x))[0].numpy(), h, rtol=0, atol=1e-14)
        assert np.max(np.abs(wrong(torch.tensor(x))[0].numpy() - h)) > 1e-3


@pytest.mark.parametrize("D,H", [(1, 1), (3, 5), (7, 2)])
def test_param_counts(D, H):
    counts = {"rnn": rnn_param_count, "lstm": lstm_param_count, "gru": gru_param_count}
    assert rnn_param_count(D, H) == H * (D + H + 1)
    assert lstm_param_count(D, H) == 4 * H * (D + H + 1)
    assert gru_param_count(D, H) == 3 * H * (D + H + 1)
    assert gru_param_count(D, H, bhn=True) == 3 * H * (D + H + 1) + H
    for cell, count in counts.items():
        module = getattr(torch.nn, cell.upper())(D, H)
        # torch stores bias_ih and bias_hh: one extra bias vector per gate block
        assert sum(p.numel() for p in module.parameters()) == count(D, H, two_biases=True)
        assert count(D, H, two_biases=True) - count(D, H) == GATES[cell] * H
        ours = from_torch(module)[0][:3]                           # (Wx, Wh, b)
        assert sum(a.size for a in ours) == count(D, H)


def test_clear_errors(rng):
    with pytest.raises(ValueError, match=r"params\[0\] Wh: expected shape \(H, 4H\) = \(4, 16\)"):
        lstm_to_torch(np.zeros((3, 16)), np.zeros((4, 12)), np.zeros(16))
    with pytest.raises(ValueError, match=r"params\[0\] bhn: expected shape \(H,\) = \(4,\)"):
        gru_to_torch(*_weights(rng, "gru", 3, 4), bhn=np.zeros(12))
    with pytest.raises(ValueError, match="lstm: expected a single-layer, unidirectional"):
        lstm_from_torch(torch.nn.LSTM(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="module: expected torch.nn.RNN, LSTM or GRU"):
        from_torch(torch.nn.Linear(2, 3))
    with pytest.raises(ValueError, match="module: no gradient stored"):
        rnn_from_torch(torch.nn.RNN(2, 3), grad=True)
    with pytest.raises(ValueError, match=r"params\[1\] Wx: expected shape \(H, H\) = \(4, 4\), got \(3, 4\)"):
        to_torch("rnn", [_weights(rng, "rnn", 3, 4)] * 3)
    with pytest.raises(ValueError, match="D: expected a positive integer"):
        lstm_param_count(0, 3)
