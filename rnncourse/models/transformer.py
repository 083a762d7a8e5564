"""Small Transformers in torch for chapter 13: an encoder-decoder, an encoder classifier, and a
language model (causal, GPT-style, or bidirectional for masked-LM pretraining, BERT-style).

All use post-norm ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` blocks without
dropout, the same computation as the numpy blocks of :mod:`rnncourse.layers.transformer` (the tests
prove it), token embeddings scaled by ``sqrt(d_model)`` and the sinusoidal positional encoding of
:func:`rnncourse.layers.positional.sinusoidal_encoding` (eq. {eq}`tf-pe-add`), which
``positional=False`` leaves out. Id 0 is padding everywhere and is masked out of every attention.

:class:`TransformerSeq2Seq` has the interface of :class:`rnncourse.models.seq2seq.Seq2Seq`
(``model(src, src_len, tgt_in) -> logits``, ``start``/``step``), so the training loop and the
searches of :mod:`rnncourse.models.training` work with it unchanged. Everything runs on the CPU
unless the caller moves it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..layers.positional import sinusoidal_encoding

__all__ = ["PositionalEncoding", "TransformerSeq2Seq", "TransformerClassifier", "TransformerLM",
           "causal_attn_mask", "train_classifier", "sequential_steps"]


def causal_attn_mask(T: int, device=None) -> torch.Tensor:
    """``(T, T)`` booleans in torch's convention (True = may *not* attend): the future, j > i."""
    return torch.triu(torch.ones(T, T, dtype=torch.bool, device=device), diagonal=1)


class PositionalEncoding(nn.Module):
    """Scale token embeddings by sqrt(d) and add the sinusoidal table (or nothing)."""

    def __init__(self, d_model: int, max_len: int = 64, positional: bool = True):
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.positional = positional
        pe = torch.tensor(sinusoidal_encoding(max_len, d_model), dtype=torch.float32)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, emb, start: int = 0):
        """``emb (N, T, d)`` -> ``emb sqrt(d) + PE[start:start + T]``."""
        T = emb.shape[1]
        if start + T > self.pe.shape[0]:
            raise ValueError(f"sequence of length {start + T} is longer than max_len = {self.pe.shape[0]}")
        x = emb * self.scale
        return x + self.pe[start:start + T] if self.positional else x


def _embedding(vocab_size, d_model):
    """Token embeddings with entries of variance 1/d: scaled by sqrt(d) they are O(1), the size of
    the positional encoding (torch's default N(0, 1) init would drown the positions)."""
    emb = nn.Embedding(vocab_size, d_model, padding_idx=0)
    with torch.no_grad():
        emb.weight.normal_(0.0, d_model ** -0.5)
        emb.weight[0].zero_()
    return emb


def _encoder_layers(d_model, nhead, num_layers, dim_feedforward, dropout):
    return nn.ModuleList([nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                     batch_first=True) for _ in range(num_layers)])


def _key_padding(src_len, T, device):
    """torch's ``key_padding_mask`` (True = padding) from the lengths: (N, T)."""
    src_len = torch.as_tensor(src_len, device=device)
    return torch.arange(T, device=device)[None, :] >= src_len[:, None]


class TransformerSeq2Seq(nn.Module):
    """Encoder-decoder Transformer (eqs. {eq}`tf-encoder`, {eq}`tf-decoder`) for character tasks.

    Source and target share one vocabulary and one embedding (as on the date task, whose source and
    target are written with the same symbols). ``forward(src (N, Ts), src_len (N,), tgt_in (N, Tt))``
    gives the teacher-forced logits (N, Tt, V): every target position in parallel, the causal mask
    hiding the future.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2,
                 dim_feedforward: int = 128, max_len: int = 64, positional: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.embed = _embedding(vocab_size, d_model)
        self.pos = PositionalEncoding(d_model, max_len, positional)
        self.encoder = _encoder_layers(d_model, nhead, num_encoder_layers, dim_feedforward, dropout)
        self.decoder = nn.ModuleList([
            nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True)
            for _ in range(num_decoder_layers)])
        self.out = nn.Linear(d_model, vocab_size)

    def encode(self, src, src_len):
        """Memory (N, Ts, d) and the source's key padding mask (N, Ts), True at padding."""
        src = torch.as_tensor(src)
        pad = _key_padding(src_len, src.shape[1], src.device)
        x = self.pos(self.embed(src))
        for layer in self.encoder:
            x = layer(x, src_key_padding_mask=pad)
        return x, pad

    def decode(self, tgt_in, memory, src_pad):
        """Logits (N, Tt, V) for the decoder inputs ``tgt_in (N, Tt)``, all positions at once."""
        T = tgt_in.shape[1]
        y = self.pos(self.embed(tgt_in))
        mask = causal_attn_mask(T, tgt_in.device)
        for layer in self.decoder:
            y = layer(y, memory, tgt_mask=mask, memory_key_padding_mask=src_pad)
        return self.out(y)

    def forward(self, src, src_len, tgt_in):
        memory, pad = self.encode(src, src_len)
        return self.decode(torch.as_tensor(tgt_in), memory, pad)

    def start(self, src, src_len):
        """Decoder state for :meth:`step`: (memory, source padding, symbols so far (N, 0))."""
        memory, pad = self.encode(src, src_len)
        return (memory, pad, torch.zeros(memory.shape[0], 0, dtype=torch.long, device=memory.device))

    def step(self, prev, state):
        """One decoder step: ``prev (B,)`` -> log-probabilities (B, V) and the new state.

        A Transformer decoder has no recurrent state: each step re-reads every symbol produced so
        far (a real implementation caches the keys and values of the earlier positions)."""
        memory, pad, prefix = state
        prev = torch.as_tensor(prev, device=memory.device).long()
        prefix = torch.cat([prefix, prev[:, None]], dim=1)
        logits = self.decode(prefix, memory, pad)[:, -1]
        return torch.log_softmax(logits, dim=-1), (memory, pad, prefix)


class TransformerClassifier(nn.Module):
    """Transformer encoder + mean over the real positions + linear layer: ``forward(x (N, T)) ->
    logits (N, C)``. Without positional encoding (``positional=False``) it is a function of the
    multiset of input symbols only: permuting the input leaves its output unchanged."""

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 32, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int = 64, max_len: int = 64,
                 positional: bool = True, dropout: float = 0.0):
        super().__init__()
        self.embed = _embedding(vocab_size, d_model)
        self.pos = PositionalEncoding(d_model, max_len, positional)
        self.layers = _encoder_layers(d_model, nhead, num_layers, dim_feedforward, dropout)
        self.head = nn.Linear(d_model, num_classes)

    def features(self, x):
        """Mean of the last layer's outputs over the real (non-zero) symbols: (N, d)."""
        x = torch.as_tensor(x)
        pad = x == 0
        h = self.pos(self.embed(x))
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).to(h.dtype)
        return (h * keep).sum(1) / keep.sum(1)

    def forward(self, x):
        return self.head(self.features(x))


class TransformerLM(nn.Module):
    """A Transformer language model over token ids (0 = padding): ``forward(x (N, T)) -> logits
    (N, T, V)``.

    ``causal=True``: a GPT-style decoder-only model, position t attends to positions <= t, trained
    to predict token t + 1 (eq. {eq}`lm-causal`). ``causal=False``: a BERT-style bidirectional
    encoder, every position attends to every real position, trained to predict masked tokens
    (eq. {eq}`lm-masked`). The body (embedding and layers) can be reused by a classifier for
    fine-tuning through :meth:`features`.
    """

    def __init__(self, vocab_size: int, d_model: int = 32, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 64, max_len: int = 64, causal: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.causal = causal
        self.embed = _embedding(vocab_size, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        self.layers = _encoder_layers(d_model, nhead, num_layers, dim_feedforward, dropout)
        self.out = nn.Linear(d_model, vocab_size)

    def hidden(self, x):
        """The last layer's outputs (N, T, d)."""
        x = torch.as_tensor(x)
        pad = x == 0
        mask = causal_attn_mask(x.shape[1], x.device) if self.causal else None
        h = self.pos(self.embed(x))
        for layer in self.layers:
            h = layer(h, src_mask=mask, src_key_padding_mask=pad)
        return h

    def features(self, x):
        """Mean of :meth:`hidden` over the real positions: (N, d), for a classifier head."""
        x = torch.as_tensor(x)
        keep = (x != 0).unsqueeze(-1).float()
        return (self.hidden(x) * keep).sum(1) / keep.sum(1)

    def forward(self, x):
        return self.out(self.hidden(x))


def train_classifier(model, x, y, steps: int = 200, batch_size: int = 64, lr: float = 5e-3,
                     seed: int = 0, progress: bool = True, desc: str = "training") -> list[float]:
    """Train a classifier (``model(x) -> logits``) with Adam and cross-entropy on random minibatches
    of ``x (N, T)``, ``y (N,)``; returns the loss of every step. ``seed`` fixes the minibatches."""
    x, y = torch.as_tensor(np.asarray(x)), torch.as_tensor(np.asarray(y))
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected {x.shape[0]} labels (one per row of x), got {y.shape[0]}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in tqdm(range(steps), desc=desc, disable=not progress):
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=gen)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


def sequential_steps(kind: str, source_length: int, target_length: int, num_layers: int = 1) -> int:
    """How many steps of a teacher-forced training pass must run one after another.

    ``"rnn"``: an RNN encoder-decoder (with or without attention) computes each of its layers'
    states from the previous one, ``source_length + target_length`` steps per layer, and the
    layers can be pipelined so the chain is ``source_length + target_length + num_layers - 1``.
    ``"transformer"``: every position of a layer is computed at once from the layer below, so the
    chain is one step per layer (encoder and decoder layers together: ``num_layers``), whatever the
    lengths.
    """
    for name, value in (("source_length", source_length), ("target_length", target_length),
                        ("num_layers", num_layers)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    if kind == "rnn":
        return source_length + target_length + num_layers - 1
    if kind == "transformer":
        return num_layers
    raise ValueError(f"kind: expected 'rnn' or 'transformer', got {kind!r}")
