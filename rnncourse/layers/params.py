"""Parameter counts of one recurrent layer with input width D and hidden width H.

Each gate has a ``(D, H)`` block of ``Wx``, an ``(H, H)`` block of ``Wh`` and H biases, so a layer
with k gate blocks (RNN 1, GRU 3, LSTM 4) has ``k H (D + H + 1)`` parameters ({eq}`param-count`):

    RNN:   H (D + H + 1)
    LSTM:  4H (D + H + 1)
    GRU:   3H (D + H + 1)

torch keeps two bias vectors per layer, ``bias_ih`` and ``bias_hh``, although only their sum matters
(except the GRU's ``b_hn``, which sits inside the reset gate). ``two_biases=True`` gives torch's
count, ``k H (D + H + 2)``, i.e. ``sum(p.numel() for p in module.parameters())`` of a single-layer
unidirectional module. A GRU that uses ``bhn`` has ``3H (D + H + 1) + H``.
"""
from __future__ import annotations

from numbers import Integral

__all__ = ["rnn_param_count", "lstm_param_count", "gru_param_count"]


def _check_dims(D, H):
    for name, v in (("D", D), ("H", H)):
        if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")


def _count(k, D, H, two_biases):
    _check_dims(D, H)
    return k * H * (D + H + (2 if two_biases else 1))


def rnn_param_count(D: int, H: int, two_biases: bool = False) -> int:
    """``H (D + H + 1)``: Wx (D, H), Wh (H, H), b (H,); torch's ``H (D + H + 2)`` with
    ``two_biases=True``."""
    return _count(1, D, H, two_biases)


def lstm_param_count(D: int, H: int, two_biases: bool = False) -> int:
    """``4H (D + H + 1)``: Wx (D, 4H), Wh (H, 4H), b (4H,); torch's ``4H (D + H + 2)`` with
    ``two_biases=True``. Peepholes add 3H more."""
    return _count(4, D, H, two_biases)


def gru_param_count(D: int, H: int, two_biases: bool = False, bhn: bool = False) -> int:
    """``3H (D + H + 1)``: Wx (D, 3H), Wh (H, 3H), b (3H,); ``+ H`` with ``bhn=True``; torch's
    ``3H (D + H + 2)`` with ``two_biases=True`` (which already contains b_hn)."""
    if two_biases and bhn:
        raise ValueError("bhn: torch's count (two_biases=True) already contains b_hn")
    return _count(3, D, H, two_biases) + (H if bhn else 0)
