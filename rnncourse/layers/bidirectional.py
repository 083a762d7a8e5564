"""Bidirectional recurrent layer: one layer reads the sequence forwards, another backwards.

    hf(t) = cell_f(x(t), hf(t-1))               (t = 1..T)        {eq}`birnn-forward`
    hb(t) = cell_b(x(t), hb(t+1))               (t = T..1)        {eq}`birnn-backward`
    h(t)  = [hf(t), hb(t)]   or   hf(t) + hb(t)                    {eq}`birnn-merge`

``merge="concat"`` is ``torch.nn.RNN/LSTM/GRU(bidirectional=True)`` (forward half first); ``"sum"``
keeps the width H. Works over any of the cells rnn, lstm, gru.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape
from ._cells import check_cell, check_layer_params, layer_backward, layer_forward
from ._common import check_upstream

__all__ = ["bidirectional_forward", "bidirectional_backward"]

_MERGES = ("concat", "sum")


def bidirectional_forward(x, h0, params, cell: str = "lstm", merge: str = "concat", c0=None,
                          nonlinearity: str = "tanh"):
    """Run a forward and a backward layer over ``x`` and merge them, eqs. {eq}`birnn-forward` to
    {eq}`birnn-merge`.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden states of the forward and the backward layer, (2, N, H) (torch's layout).
        params: two tuples ``(Wx, Wh, b[, extra])``, forward layer first; ``Wx (D, kH)``,
            ``Wh (H, kH)``, ``b (kH,)`` with k = 1, 4, 3 for rnn, lstm, gru.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        merge: ``"concat"`` (output (N, T, 2H)) or ``"sum"`` (output (N, T, H)).
        c0: LSTM only: initial cell states, (2, N, H); zeros when omitted.
        nonlinearity: RNN only: ``"tanh"`` or ``"relu"``.

    Returns:
        h: merged hidden states, (N, T, 2H) or (N, T, H); cache for :func:`bidirectional_backward`.
    """
    check_cell(cell)
    if merge not in _MERGES:
        raise ValueError(f"merge: expected one of {_MERGES}, got {merge!r}")
    if not isinstance(params, (list, tuple)) or len(params) != 2:
        raise ValueError("params: expected two per-direction tuples (forward, backward)")
    if c0 is not None and cell != "lstm":
        raise ValueError(f"c0: only an LSTM has a cell state, got cell {cell!r}")
    x = as_array("x", x, 3)
    N, T, D = x.shape
    pf, H = check_layer_params("params[0]", params[0], cell, D)
    pb, Hb = check_layer_params("params[1]", params[1], cell, D)
    if Hb != H:
        raise ValueError(f"params[1] Wh: expected hidden size H = {H} (as params[0]), got {Hb}")
    h0 = as_array("h0", h0, 3)
    check_shape("h0", h0, (2, N, H), "(2, N, H)")
    if c0 is not None:
        c0 = as_array("c0", c0, 3)
        check_shape("c0", c0, (2, N, H), "(2, N, H)")
    cf, cb = (None, None) if c0 is None else (c0[0], c0[1])
    hf, cache_f = layer_forward(cell, x, h0[0], pf, cf, nonlinearity)
    hb, cache_b = layer_forward(cell, x[:, ::-1], h0[1], pb, cb, nonlinearity)
    hb = hb[:, ::-1]                                   # back in input order: hb(t) has read x(t..T)
    h = np.concatenate([hf, hb], axis=2) if merge == "concat" else hf + hb
    return h, (cell, merge, cache_f, cache_b, c0 is not None, (N, T, H))


def bidirectional_backward(dh, cache):
    """Backward pass of :func:`bidirectional_forward`.

    Args:
        dh: upstream gradients, (N, T, 2H) for ``merge="concat"``, (N, T, H) for ``"sum"``.
        cache: from :func:`bidirectional_forward`.

    Returns:
        dx (N, T, D), dh0 (2, N, H), dparams (two tuples matching ``params``), and dc0 (2, N, H)
        last if the forward was given ``c0``.
    """
    cell, merge, cache_f, cache_b, has_c0, (N, T, H) = cache
    if merge == "concat":
        dh = check_upstream("dh", dh, (N, T, 2 * H), "(N, T, 2H)")
        dhf, dhb = dh[:, :, :H], dh[:, :, H:]
    else:
        dh = check_upstream("dh", dh, (N, T, H), "(N, T, H)")
        dhf = dhb = dh
    dxf, dh0f, dpf, dc0f = layer_backward(cell, dhf, cache_f, has_c0)
    dxb, dh0b, dpb, dc0b = layer_backward(cell, dhb[:, ::-1], cache_b, has_c0)
    dx = dxf + dxb[:, ::-1]
    grads = (dx, np.stack([dh0f, dh0b]), [dpf, dpb])
    return grads + (np.stack([dc0f, dc0b]),) if has_c0 else grads
