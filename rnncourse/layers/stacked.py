"""Stacked (deep) recurrent networks with optional residual connections.

Layer 1 reads the input sequence and layer l reads the hidden states of layer l-1:

    h^1(t) = cell(x(t), h^1(t-1))                                   {eq}`deep-rnn`
    h^l(t) = cell(h^(l-1)(t), h^l(t-1)) [+ h^(l-1)(t)],  l = 2..L     {eq}`deep-rnn-residual`

The bracketed skip connection (``residual=True``, as in Wu et al. 2016) adds each layer's input to
its output from the second layer on, where both have width H; it gives the gradient a path around
every layer. Without it the network is ``torch.nn.RNN/LSTM/GRU(num_layers=L)`` (no dropout).
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._cells import check_cell, check_layer_params, layer_backward, layer_forward
from ._common import check_upstream

__all__ = ["stacked_forward", "stacked_backward"]


def _check_states(name, s, L, N, H):
    s = as_array(name, s, 3)
    check_shape(name, s, (L, N, H), "(L, N, H)")
    return s


def stacked_forward(x, h0, params, cell: str = "lstm", residual: bool = False, c0=None,
                    nonlinearity: str = "tanh"):
    """Run L recurrent layers on top of each other, eqs. {eq}`deep-rnn`, {eq}`deep-rnn-residual`.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state of every layer, (L, N, H) (torch's layout).
        params: L tuples ``(Wx, Wh, b[, extra])``; layer 1 has ``Wx (D, kH)``, the others
            ``Wx (H, kH)``, with k = 1, 4, 3 for rnn, lstm, gru; ``extra`` is an LSTM's peephole
            (3, H) or a GRU's bhn (H,).
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        residual: add each layer's input to its output from the second layer on.
        c0: LSTM only: initial cell states, (L, N, H); zeros when omitted.
        nonlinearity: RNN only: ``"tanh"`` or ``"relu"``.

    Returns:
        h: hidden states of the top layer, (N, T, H); cache for :func:`stacked_backward`.
    """
    check_cell(cell)
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError("params: expected a non-empty list of per-layer tuples "
                         "(Wx, Wh, b[, extra])")
    if c0 is not None and cell != "lstm":
        raise ValueError(f"c0: only an LSTM has a cell state, got cell {cell!r}")
    x = as_array("x", x, 3)
    N, T, D = x.shape
    L = len(params)
    layers, H = [], None
    for l, p in enumerate(params):
        p, Hl = check_layer_params(f"params[{l}]", p, cell, D if l == 0 else H,
                                   "D" if l == 0 else "H")
        H = Hl if H is None else H
        layers.append(p)
    h0 = _check_states("h0", h0, L, N, H)
    c0 = None if c0 is None else _check_states("c0", c0, L, N, H)
    caches, inp = [], x
    for l, p in enumerate(layers):
        h, cache = layer_forward(cell, inp, h0[l], p, None if c0 is None else c0[l], nonlinearity)
        if residual and l > 0:
            h = h + inp                                              # h^l += h^(l-1)
        caches.append(cache)
        inp = h
    return inp, (cell, residual, caches, c0 is not None, (N, T, D, H))


def stacked_backward(dh, cache):
    """Backward pass of :func:`stacked_forward`.

    Args:
        dh: upstream gradients w.r.t. the top layer's hidden states, (N, T, H).
        cache: from :func:`stacked_forward`.

    Returns:
        dx (N, T, D), dh0 (L, N, H), dparams (list of L tuples matching ``params``), and
        dc0 (L, N, H) last if the forward was given ``c0``.
    """
    cell, residual, caches, has_c0, (N, T, D, H) = cache
    L = len(caches)
    dout = check_upstream("dh", dh, (N, T, H), "(N, T, H)")
    dh0, dc0 = [None] * L, [None] * L
    dparams = [None] * L
    for l in range(L - 1, -1, -1):
        dinp, dh0[l], dparams[l], dc0[l] = layer_backward(cell, dout, caches[l], has_c0)
        if residual and l > 0:
            dinp = dinp + dout                                       # the skip path
        dout = dinp
    grads = (dout, np.stack(dh0), dparams)
    return grads + (np.stack(dc0),) if has_c0 else grads
