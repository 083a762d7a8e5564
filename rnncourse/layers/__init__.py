"""Numpy layers with hand-written backward passes (CS231n style, see DESIGN section 2)."""
from .losses import (
    sigmoid, sigmoid_cross_entropy, softmax, temporal_affine_backward, temporal_affine_forward,
    temporal_softmax_loss,
)
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "temporal_affine_forward", "temporal_affine_backward", "softmax", "temporal_softmax_loss",
    "sigmoid", "sigmoid_cross_entropy",
]
