"""Truncated backpropagation through time (TBPTT): cut a long sequence into chunks of k steps.

Each chunk starts from the last state of the previous one (the forward pass is exact), but its
backward pass stops at the chunk boundary: ``dh0`` (and an LSTM's ``dc0``) are dropped, so no
gradient flows into earlier chunks ({eq}`tbptt`). Memory and the cost of one update are then O(k)
instead of O(T). A training loop over one long sequence ``x (N, T, D)`` with an LSTM::

    h, c = h0, c0
    for sl in tbptt_slices(T, k):
        out, cache = lstm_forward(x[:, sl], h, Wx, Wh, b, c)
        h, c = lstm_last_state(cache)          # carried into the next chunk ...
        dout = ...                              # gradient of this chunk's loss w.r.t. out
        dx, _dh0, dWx, dWh, db, _dc0 = lstm_backward(dout, cache)   # ... but not backwards
        optimiser.update(params, {"Wx": dWx, "Wh": dWh, "b": db})

For the RNN and the GRU the carried state is ``out[:, -1]``.
"""
from __future__ import annotations

from numbers import Integral

__all__ = ["tbptt_slices"]


def tbptt_slices(T: int, k: int) -> list[slice]:
    """The time slices ``[0, k), [k, 2k), ...`` covering ``0..T-1``; the last may be shorter.

    Args:
        T: sequence length, >= 1.
        k: chunk length (the truncation), >= 1.

    Returns:
        list of ``slice`` objects, to index the time axis: ``x[:, sl]``.
    """
    for name, v in (("T", T), ("k", k)):
        if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    return [slice(start, min(start + k, T)) for start in range(0, T, k)]
