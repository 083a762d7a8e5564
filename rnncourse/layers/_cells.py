"""One recurrent layer of any kind behind one interface, for the stacked and bidirectional wrappers.

A layer's parameters are a tuple ``(Wx, Wh, b)``, or ``(Wx, Wh, b, extra)`` where ``extra`` is the
LSTM's ``peephole (3, H)`` or the GRU's ``bhn (H,)``. The gradients come back as a tuple of the
same length and order.
"""
from __future__ import annotations

from .._checks import as_array, check_shape
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = ["CELLS", "GATES", "check_cell", "check_layer_params", "layer_forward", "layer_backward"]

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_BACKWARD = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}


def check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")


def check_layer_params(name: str, params, cell: str, D: int | None = None, D_symbol: str = "D"):
    """Check one layer's tuple; ``D`` (if given) is the input width the layer must accept, called
    ``D_symbol`` in error messages.

    Returns the tuple and H.
    """
    if not isinstance(params, (tuple, list)) or not 3 <= len(params) <= (3 if cell == "rnn" else 4):
        n = "3" if cell == "rnn" else "3 or 4"
        raise ValueError(f"{name}: expected a tuple of {n} arrays (Wx, Wh, b[, extra]) for "
                         f"cell {cell!r}, got {type(params).__name__} of length "
                         f"{len(params) if isinstance(params, (tuple, list)) else '?'}")
    G = GATES[cell]
    letter = f"{G}H" if G > 1 else "H"
    Wh = as_array(f"{name} Wh", params[1], 2)
    H = Wh.shape[0]
    check_shape(f"{name} Wh", Wh, (H, G * H), f"(H, {letter})")
    if D is not None:
        Wx = as_array(f"{name} Wx", params[0], 2)
        check_shape(f"{name} Wx", Wx, (D, G * H), f"({D_symbol}, {letter})")
    b = as_array(f"{name} b", params[2], 1)
    check_shape(f"{name} b", b, (G * H,), f"({letter},)")
    if len(params) == 4 and params[3] is None:
        return tuple(params[:3]), H                      # no extra: three gradients come back
    if len(params) == 4:
        label = f"{name} {'peephole' if cell == 'lstm' else 'bhn'}"
        extra = as_array(label, params[3])
        check_shape(label, extra, *(((3, H), "(3, H)") if cell == "lstm" else ((H,), "(H,)")))
    return tuple(params), H


def layer_forward(cell, x, h0, params, c0=None, nonlinearity="tanh"):
    """``(h (N, T, H), cache)`` of one layer of kind ``cell``."""
    Wx, Wh, b, *extra = params
    if cell == "rnn":
        return rnn_forward(x, h0, Wx, Wh, b, nonlinearity=nonlinearity)
    if cell == "lstm":
        return lstm_forward(x, h0, Wx, Wh, b, c0, extra[0] if extra else None)
    return gru_forward(x, h0, Wx, Wh, b, extra[0] if extra else None)


def layer_backward(cell, dh, cache, has_c0: bool):
    """``(dx, dh0, dparams, dc0)`` of one layer; ``dparams`` matches the layer's tuple and ``dc0``
    is None unless an LSTM was given ``c0``."""
    dx, dh0, *rest = _BACKWARD[cell](dh, cache)
    dc0 = rest.pop(3) if cell == "lstm" and has_c0 else None   # rest = dWx, dWh, db[, dc0][, extra]
    return dx, dh0, tuple(rest), dc0
