"""A seq2seq model whose decoder attends to every encoder output (chapter 10).

Global attention after Luong et al. (2015): the decoder RNN runs as in
:mod:`rnncourse.models.seq2seq`; at each step its state h_t is the query, the encoder outputs
are keys and values, the padding of the source is masked, and the context vector c_t joins h_t in
the output layer: ``h~_t = tanh(Wc [c_t; h_t])``, ``logits = Wo h~_t + bo`` (eq. {eq}`attn-output`).
Because the attention does not feed back into the RNN, a teacher-forced forward pass runs the
decoder RNN over all target positions at once and then attends for all of them in one batched
product. Scores: ``"dot"`` {eq}`attn-dot`, ``"general"`` {eq}`attn-general`, ``"additive"``
{eq}`attn-additive`; the same formulas as the numpy layers of :mod:`rnncourse.layers.attention`.
"""
from __future__ import annotations

import torch
from torch import nn

from .seq2seq import Encoder, _batch_first, _layer_first, _rnn

__all__ = ["Attention", "AttentionDecoder", "AttentionSeq2Seq", "SCORES"]

SCORES = ("dot", "general", "additive")


class Attention(nn.Module):
    """Scores every query against every key, masked softmax over the keys, weighted sum.

    ``forward(q (N, Tq, H), k (N, Tk, H), mask (N, Tk)) -> context (N, Tq, H), weights (N, Tq, Tk)``,
    values = keys (the encoder outputs); mask True where a key is a real symbol.
    """

    def __init__(self, hidden_size: int, score: str = "general"):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score: expected one of {SCORES}, got {score!r}")
        self.score = score
        if score == "general":
            self.W = nn.Linear(hidden_size, hidden_size, bias=False)   # q W k
        elif score == "additive":
            self.Wq = nn.Linear(hidden_size, hidden_size, bias=False)
            self.Wk = nn.Linear(hidden_size, hidden_size, bias=False)
            self.va = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, q, k, mask):
        if self.score == "dot":
            s = q @ k.transpose(1, 2)                                   # (N, Tq, Tk)
        elif self.score == "general":
            s = self.W(q) @ k.transpose(1, 2)
        else:
            e = torch.tanh(self.Wq(q)[:, :, None, :] + self.Wk(k)[:, None, :, :])   # (N, Tq, Tk, A)
            s = self.va(e)[..., 0]
        s = s.masked_fill(~mask[:, None, :], float("-inf"))             # padding gets weight 0
        a = torch.softmax(s, dim=-1)
        return a @ k, a


class AttentionDecoder(nn.Module):
    """Embedding + RNN + attention over the encoder outputs + output layer."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, cell: str = "lstm",
                 score: str = "general"):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = _rnn(cell, embed_dim, hidden_size)
        self.attention = Attention(hidden_size, score)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, tgt_in, state, enc_out, src_mask):
        """Logits (N, Tt, V), attention weights (N, Tt, Ts) and the final state (batch first)."""
        h, state = self.rnn(self.embed(tgt_in), _layer_first(state))   # (N, Tt, H)
        context, weights = self.attention(h, enc_out, src_mask)        # (N, Tt, H), (N, Tt, Ts)
        h_tilde = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))
        return self.out(h_tilde), weights, _batch_first(state)


class AttentionSeq2Seq(nn.Module):
    """Encoder + attention decoder; the same constructor arguments as
    :class:`rnncourse.models.seq2seq.Seq2Seq` plus ``score``."""

    def __init__(self, vocab_size: int, embed_dim: int = 16, hidden_size: int = 64,
                 cell: str = "lstm", score: str = "general"):
        super().__init__()
        self.encoder = Encoder(vocab_size, embed_dim, hidden_size, cell)
        self.decoder = AttentionDecoder(vocab_size, embed_dim, hidden_size, cell, score)

    def _encode(self, src, src_len):
        enc_out, state = self.encoder(src, src_len)
        src_mask = torch.arange(src.shape[1], device=src.device)[None, :] < \
            torch.as_tensor(src_len, device=src.device)[:, None]       # (N, Ts)
        return enc_out, state, src_mask

    def forward(self, src, src_len, tgt_in, return_weights: bool = False):
        """Teacher-forced logits (N, Tt, V) (and the weights (N, Tt, Ts) if asked)."""
        enc_out, state, src_mask = self._encode(src, src_len)
        logits, weights, _ = self.decoder(tgt_in, state, enc_out, src_mask)
        return (logits, weights) if return_weights else logits

    def start(self, src, src_len):
        """Decoder state for :meth:`step`: (RNN state, encoder outputs, source mask)."""
        enc_out, state, src_mask = self._encode(src, src_len)
        return (state, enc_out, src_mask)

    def step(self, prev, state):
        """One decoder step: ``prev (B,)`` -> log-probabilities (B, V) and the new state."""
        dec_state, enc_out, src_mask = state
        prev = torch.as_tensor(prev, device=enc_out.device).long()
        logits, _, dec_state = self.decoder(prev[:, None], dec_state, enc_out, src_mask)
        return torch.log_softmax(logits[:, 0], dim=-1), (dec_state, enc_out, src_mask)

