"""Weight converters between rnncourse's row layout and ``torch.nn.RNN``.

torch computes ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``, so ``Wx = W_ih^T``,
``Wh = W_hh^T`` and ``b = b_ih + b_hh``. Going to torch, ``b`` is put in ``bias_ih`` and
``bias_hh`` is zero.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape

__all__ = ["rnn_to_torch", "rnn_from_torch"]


def rnn_to_torch(Wx, Wh, b, nonlinearity: str = "tanh"):
    """A float64 single-layer ``torch.nn.RNN(batch_first=True)`` holding these weights."""
    import torch

    Wx = as_array("Wx", Wx, 2)
    D, H = Wx.shape
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (H, H), "(H, H)")
    b = as_array("b", b, 1)
    check_shape("b", b, (H,), "(H,)")
    rnn = torch.nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wx.T)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wh.T)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def rnn_from_torch(rnn, grad: bool = False):
    """``(Wx, Wh, b)`` of a single-layer unidirectional ``torch.nn.RNN``, or with ``grad=True``
    the gradients of the loss with respect to them."""
    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError("rnn: expected a single-layer, unidirectional torch.nn.RNN")

    def get(p):
        t = p.grad if grad else p
        if t is None:
            raise ValueError("rnn: no gradient stored; call backward() first")
        return t.detach().cpu().double().numpy().copy()

    Wx = get(rnn.weight_ih_l0).T
    Wh = get(rnn.weight_hh_l0).T
    b = get(rnn.bias_ih_l0)
    if not grad:  # b = b_ih + b_hh; its gradient equals that of either bias
        b = b + get(rnn.bias_hh_l0)
    return np.ascontiguousarray(Wx), np.ascontiguousarray(Wh), b
