"""Encoder-decoder (seq2seq) models in torch (chapter 8; Sutskever et al. 2014, Cho et al. 2014).

The :class:`Encoder` reads a padded batch of sources and returns its outputs at every position
(zero at padding) and its final state at each source's *last real symbol*, the fixed-size
context C of eq. {eq}`s2s-context`. The :class:`Decoder` starts from C and is trained with
teacher forcing (its inputs are the true previous symbols, eq. {eq}`s2s-decoder`). With
``peeky=True`` C is also fed to every decoder step, as an input and to the output layer.

Models expose the interface the searches of :mod:`rnncourse.decoding` expect:
``start(src, src_len) -> state`` and ``step(prev, state) -> (logp, state)`` with batch-first
tensors, so greedy and beam search work on any of them. Shapes: ``src (N, Ts)`` and
``tgt_in (N, Tt)`` integer ids (padding 0), ``src_len (N,)``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["Encoder", "Decoder", "Seq2Seq", "RNN_CELLS"]

RNN_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def _rnn(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    if cell not in RNN_CELLS:
        raise ValueError(f"cell: expected one of {sorted(RNN_CELLS)}, got {cell!r}")
    return RNN_CELLS[cell](input_size, hidden_size, batch_first=True)


def _batch_first(state):
    """torch's (1, N, H) states (a tuple for the LSTM) -> (N, H); and back with _layer_first."""
    if isinstance(state, tuple):
        return tuple(s[0] for s in state)
    return state[0]


def _layer_first(state):
    if isinstance(state, tuple):
        return tuple(s[None].contiguous() for s in state)
    return state[None].contiguous()


def _top(state):
    """The hidden vector h of a state (the LSTM's state is (h, c))."""
    return state[0] if isinstance(state, tuple) else state


class Encoder(nn.Module):
    """Embedding + one recurrent layer over a padded batch (padding never enters the state)."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, cell: str = "lstm"):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = _rnn(cell, embed_dim, hidden_size)

    def forward(self, src, src_len):
        """Returns outputs (N, Ts, H), zero at padding, and the final state: (N, H), or a tuple
        (h, c) of them for the LSTM, taken at each sequence's last real symbol."""
        lengths = torch.as_tensor(src_len).cpu()
        packed = pack_padded_sequence(self.embed(src), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, state = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        return out, _batch_first(state)


class Decoder(nn.Module):
    """Embedding + one recurrent layer + a linear output layer; optionally peeky."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, cell: str = "lstm",
                 peeky: bool = False):
        super().__init__()
        self.peeky = peeky
        extra = hidden_size if peeky else 0
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = _rnn(cell, embed_dim + extra, hidden_size)
        self.out = nn.Linear(hidden_size + extra, vocab_size)

    def forward(self, tgt_in, state, context):
        """Logits (N, Tt, V) for the inputs ``tgt_in (N, Tt)`` from ``state``; ``context (N, H)``
        is C (used only when peeky). Returns logits and the final state (batch first)."""
        x = self.embed(tgt_in)                                        # (N, Tt, E)
        if self.peeky:
            c = context[:, None, :].expand(-1, x.shape[1], -1)       # C at every step
            x = torch.cat([x, c], dim=-1)
        h, state = self.rnn(x, _layer_first(state))
        if self.peeky:
            h = torch.cat([h, c], dim=-1)
        return self.out(h), _batch_first(state)


class Seq2Seq(nn.Module):
    """An encoder and a decoder joined by the fixed-size context C (the encoder's final state).

    Args:
        vocab_size: V (source and target share one vocabulary; id 0 is padding).
        embed_dim: size of the symbol embeddings.
        hidden_size: H, the size of C.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.
        peeky: feed C to every decoder step (as input and to the output layer).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 16, hidden_size: int = 64,
                 cell: str = "lstm", peeky: bool = False):
        super().__init__()
        self.encoder = Encoder(vocab_size, embed_dim, hidden_size, cell)
        self.decoder = Decoder(vocab_size, embed_dim, hidden_size, cell, peeky)

    def forward(self, src, src_len, tgt_in):
        """Teacher-forced logits (N, Tt, V)."""
        _, state = self.encoder(src, src_len)
        logits, _ = self.decoder(tgt_in, state, _top(state))
        return logits

    def start(self, src, src_len):
        """Decoder state for :meth:`step`: the encoder state and C, batch first."""
        _, state = self.encoder(src, src_len)
        return (state, _top(state))

    def step(self, prev, state):
        """One decoder step: ``prev (B,)`` symbols -> log-probabilities (B, V) and the new state."""
        dec_state, context = state
        prev = torch.as_tensor(prev, device=context.device).long()
        logits, dec_state = self.decoder(prev[:, None], dec_state, context)
        return torch.log_softmax(logits[:, 0], dim=-1), (dec_state, context)
