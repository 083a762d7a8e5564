"""Weight converters between rnncourse's row layout and ``torch.nn.RNN`` / ``LSTM`` / ``GRU``.

torch computes ``a = x W_ih^T + b_ih + h W_hh^T + b_hh`` with the gates stacked in the same order as
here (LSTM i, f, g, o; GRU r, z, n), so ``Wx = W_ih^T``, ``Wh = W_hh^T`` and ``b = b_ih + b_hh``.
Going to torch, ``b`` is put in ``bias_ih`` and ``bias_hh`` is zero. The GRU is the exception:
torch's ``b_hn`` sits inside the reset gate, ``n = tanh(x W_in + b_in + r * (h W_hn + b_hn))``,
so it cannot be folded into ``b``; it is the GRU functions' ``bhn`` and travels separately.

Multi-layer and bidirectional modules convert with :func:`to_torch` / :func:`from_torch`, whose
parameter lists are in torch's order: layer 0 forward, layer 0 reverse, layer 1 forward, ...
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._cells import GATES, check_cell

__all__ = [
    "rnn_to_torch", "rnn_from_torch", "lstm_to_torch", "lstm_from_torch",
    "gru_to_torch", "gru_from_torch", "to_torch", "from_torch",
]

_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _check(cell, i, params, D_expected, D_symbol="D"):
    """Check one (Wx, Wh, b[, bhn]) tuple; returns the arrays and (D, H)."""
    name = f"params[{i}]"
    G = GATES[cell]
    n_max = 4 if cell == "gru" else 3
    if not isinstance(params, (tuple, list)) or not 3 <= len(params) <= n_max:
        extra = "[, bhn]" if cell == "gru" else ""
        raise ValueError(f"{name}: expected a tuple (Wx, Wh, b{extra})")
    letter = f"{G}H" if G > 1 else "H"
    Wh = as_array(f"{name} Wh", params[1], 2)
    H = Wh.shape[0]
    check_shape(f"{name} Wh", Wh, (H, G * H), f"(H, {letter})")
    Wx = as_array(f"{name} Wx", params[0], 2)
    D = Wx.shape[0] if D_expected is None else D_expected
    check_shape(f"{name} Wx", Wx, (D, G * H), f"({D_symbol}, {letter})")
    b = as_array(f"{name} b", params[2], 1)
    check_shape(f"{name} b", b, (G * H,), f"({letter},)")
    bhn = None
    if len(params) == 4 and params[3] is not None:
        bhn = as_array(f"{name} bhn", params[3], 1)
        check_shape(f"{name} bhn", bhn, (H,), "(H,)")
    return (Wx, Wh, b, bhn), D, H


def to_torch(cell: str, params, bidirectional: bool = False, nonlinearity: str = "tanh"):
    """A float64 ``torch.nn.RNN/LSTM/GRU(batch_first=True)`` holding these weights.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        params: list of tuples ``(Wx, Wh, b)`` (GRU: ``(Wx, Wh, b[, bhn])``) in torch's order
            (layer 0 [, layer 0 reverse], layer 1, ...); the number of layers is
            ``len(params)`` (halved if bidirectional). Layer l > 0 takes width H (2H if
            bidirectional).
        bidirectional: build ``bidirectional=True``.
        nonlinearity: RNN only, ``"tanh"`` or ``"relu"``.
    """
    import torch

    check_cell(cell)
    dirs = 2 if bidirectional else 1
    if not isinstance(params, (list, tuple)) or len(params) == 0 or len(params) % dirs:
        raise ValueError(f"params: expected a non-empty list of tuples, a multiple of {dirs} long")
    L = len(params) // dirs
    checked, D, H = [], None, None
    for i, p in enumerate(params):
        want, sym = (None, "D") if i < dirs else (dirs * H, "2H" if bidirectional else "H")
        arrays, Di, Hi = _check(cell, i, p, want, sym)
        if i == 0:
            D, H = Di, Hi
        elif Hi != H or (i < dirs and Di != D):
            raise ValueError(f"params[{i}]: expected D = {D}, H = {H} like params[0], "
                             f"got D = {Di}, H = {Hi}")
        checked.append(arrays)
    kw = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    module = getattr(torch.nn, _MODULES[cell])(D, H, num_layers=L, bidirectional=bidirectional,
                                                batch_first=True, **kw).double()
    with torch.no_grad():
        for i, (Wx, Wh, b, bhn) in enumerate(checked):
            sfx = f"_l{i // dirs}" + ("_reverse" if i % dirs else "")
            getattr(module, "weight_ih" + sfx).copy_(torch.from_numpy(np.ascontiguousarray(Wx.T)))
            getattr(module, "weight_hh" + sfx).copy_(torch.from_numpy(np.ascontiguousarray(Wh.T)))
            getattr(module, "bias_ih" + sfx).copy_(torch.from_numpy(np.asarray(b, np.float64)))
            bias_hh = getattr(module, "bias_hh" + sfx)
            bias_hh.zero_()
            if bhn is not None:
                bias_hh[2 * H:] = torch.from_numpy(np.asarray(bhn, np.float64))
    return module


def from_torch(module, grad: bool = False):
    """The parameters of a ``torch.nn.RNN/LSTM/GRU`` as a list of tuples in torch's order
    (see :func:`to_torch`), or with ``grad=True`` the gradients of the loss w.r.t. them.

    RNN and LSTM tuples are ``(Wx, Wh, b)``; GRU tuples are ``(Wx, Wh, b, bhn)``. A module built
    with ``bias=False`` gives zero biases.
    """
    import torch

    kinds = {torch.nn.RNN: "rnn", torch.nn.LSTM: "lstm", torch.nn.GRU: "gru"}
    cell = kinds.get(type(module))
    if cell is None:
        raise ValueError(f"module: expected torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError("module: LSTMs with proj_size > 0 have no counterpart here")
    H = module.hidden_size
    G = GATES[cell]

    def get(sfx, name, size):
        p = getattr(module, name + sfx, None)
        if p is None:                                   # bias=False
            return np.zeros(size)
        t = p.grad if grad else p
        if t is None:
            raise ValueError("module: no gradient stored; call backward() first")
        return t.detach().cpu().double().numpy().copy()

    dirs = 2 if module.bidirectional else 1
    out = []
    for i in range(module.num_layers * dirs):
        sfx = f"_l{i // dirs}" + ("_reverse" if i % dirs else "")
        Wx = np.ascontiguousarray(get(sfx, "weight_ih", None).T)
        Wh = np.ascontiguousarray(get(sfx, "weight_hh", None).T)
        b_ih, b_hh = get(sfx, "bias_ih", G * H), get(sfx, "bias_hh", G * H)
        if cell == "gru":
            # b = [b_ir + b_hr, b_iz + b_hz, b_in]; a gradient of b equals that of either bias
            b = b_ih.copy() if grad else b_ih + np.concatenate([b_hh[:2 * H], np.zeros(H)])
            out.append((Wx, Wh, b, b_hh[2 * H:].copy()))
        else:
            out.append((Wx, Wh, b_ih if grad else b_ih + b_hh))
    return out


def _single(module, kind):
    if module.num_layers != 1 or module.bidirectional:
        raise ValueError(f"{kind}: expected a single-layer, unidirectional "
                         f"torch.nn.{_MODULES[kind]}")


def rnn_to_torch(Wx, Wh, b, nonlinearity: str = "tanh"):
    """A float64 single-layer ``torch.nn.RNN(batch_first=True)``; ``Wx (D, H)``, ``Wh (H, H)``,
    ``b (H,)``."""
    return to_torch("rnn", [(Wx, Wh, b)], nonlinearity=nonlinearity)


def rnn_from_torch(rnn, grad: bool = False):
    """``(Wx, Wh, b)`` of a single-layer unidirectional ``torch.nn.RNN``, or with ``grad=True``
    the gradients of the loss with respect to them."""
    _single(rnn, "rnn")
    return from_torch(rnn, grad)[0]


def lstm_to_torch(Wx, Wh, b):
    """A float64 single-layer ``torch.nn.LSTM(batch_first=True)``; ``Wx (D, 4H)``, ``Wh (H, 4H)``,
    ``b (4H,)`` with gates i, f, g, o. torch has no peepholes."""
    return to_torch("lstm", [(Wx, Wh, b)])


def lstm_from_torch(lstm, grad: bool = False):
    """``(Wx, Wh, b)`` of a single-layer unidirectional ``torch.nn.LSTM`` (or their gradients)."""
    _single(lstm, "lstm")
    return from_torch(lstm, grad)[0]


def gru_to_torch(Wx, Wh, b, bhn=None):
    """A float64 single-layer ``torch.nn.GRU(batch_first=True)``; ``Wx (D, 3H)``, ``Wh (H, 3H)``,
    ``b (3H,)`` with gates r, z, n, and torch's ``b_hn = bhn (H,)`` (zero when omitted)."""
    return to_torch("gru", [(Wx, Wh, b, bhn)])


def gru_from_torch(gru, grad: bool = False):
    """``(Wx, Wh, b, bhn)`` of a single-layer unidirectional ``torch.nn.GRU`` (or their gradients);
    ``bhn`` is always returned because torch always has ``b_hn`` (pass it on to ``gru_forward``)."""
    _single(gru, "gru")
    return from_torch(gru, grad)[0]
