"""Numpy layers with hand-written backward passes (CS231n style, see DESIGN section 2)."""
from .attention import (
    additive_attention_backward, additive_attention_forward, dot_attention_backward,
    dot_attention_forward, general_attention_backward, general_attention_forward,
    scaled_dot_attention_backward, scaled_dot_attention_forward,
)
from .bidirectional import bidirectional_backward, bidirectional_forward
from .convert import (
    from_torch, gru_from_torch, gru_to_torch, lstm_from_torch, lstm_to_torch, rnn_from_torch,
    rnn_to_torch, to_torch,
)
from .embedding import embedding_backward, embedding_forward
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from ._common import sigmoid
from .losses import (
    sigmoid_cross_entropy, softmax, temporal_affine_backward, temporal_affine_forward,
    temporal_softmax_loss,
)
from .lstm import (
    lstm_backward, lstm_forward, lstm_last_state, lstm_step_backward, lstm_step_forward,
)
from .params import gru_param_count, lstm_param_count, rnn_param_count
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .stacked import stacked_backward, stacked_forward
from .tbptt import tbptt_slices
from .word2vec import (
    UnigramSampler, cbow_backward, cbow_forward, negative_sampling_backward,
    negative_sampling_forward, skipgram_backward, skipgram_forward,
)

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "temporal_affine_forward", "temporal_affine_backward", "softmax", "temporal_softmax_loss",
    "sigmoid", "sigmoid_cross_entropy",
    # gated cells
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward", "lstm_last_state",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    # wrappers and training helpers
    "stacked_forward", "stacked_backward", "bidirectional_forward", "bidirectional_backward",
    "tbptt_slices",
    # words
    "embedding_forward", "embedding_backward", "UnigramSampler",
    "negative_sampling_forward", "negative_sampling_backward",
    "cbow_forward", "cbow_backward", "skipgram_forward", "skipgram_backward",
    # attention
    "dot_attention_forward", "dot_attention_backward",
    "scaled_dot_attention_forward", "scaled_dot_attention_backward",
    "general_attention_forward", "general_attention_backward",
    "additive_attention_forward", "additive_attention_backward",
    # torch interop and sizes
    "rnn_to_torch", "rnn_from_torch", "lstm_to_torch", "lstm_from_torch",
    "gru_to_torch", "gru_from_torch", "to_torch", "from_torch",
    "rnn_param_count", "lstm_param_count", "gru_param_count",
]
from .layernorm import add_norm_backward, add_norm_forward, layernorm_backward, layernorm_forward
from .multihead import (
    causal_mask, mha_from_torch, mha_to_torch, multihead_attention_backward,
    multihead_attention_forward, padding_mask,
)
from .positional import (
    positional_encoding_backward, positional_encoding_forward, sinusoidal_encoding,
)
from .transformer import (
    decoder_block_backward, decoder_block_forward, decoder_block_from_torch, encoder_block_backward,
    encoder_block_forward, encoder_block_from_torch, ffn_backward, ffn_forward, init_decoder_block,
    init_encoder_block,
)

__all__ += [
    # Transformer (chapter 13)
    "multihead_attention_forward", "multihead_attention_backward", "causal_mask", "padding_mask",
    "mha_from_torch", "mha_to_torch", "layernorm_forward", "layernorm_backward", "add_norm_forward",
    "add_norm_backward", "sinusoidal_encoding", "positional_encoding_forward",
    "positional_encoding_backward", "ffn_forward", "ffn_backward", "init_encoder_block",
    "init_decoder_block", "encoder_block_forward", "encoder_block_backward",
    "decoder_block_forward", "decoder_block_backward", "encoder_block_from_torch",
    "decoder_block_from_torch",
]
