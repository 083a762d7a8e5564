"""Pretraining objectives for chapter 13: next-token (causal, GPT-style) and masked-token (BERT-style)
language modelling on sentences of words, perplexity, sampling and filling in blanks.

Sentences become rows ``<bos> w_1 ... w_n <eos> <pad> ...`` of a :class:`WordVocab` (ids 0-3 are
the special symbols, 0 is padding). The models are :class:`rnncourse.models.transformer.TransformerLM`.

- Causal LM, eq. {eq}`lm-causal`: the input is a row without its last symbol, the target the row
  shifted by one; the loss is the mean negative log-likelihood of every real next symbol.
- Masked LM, eq. {eq}`lm-masked`: a fraction ``rate`` of the word positions is chosen; of those, 80 %
  become ``<mask>``, 10 % a random word, 10 % stay (Devlin et al. 2019); the loss is the mean
  negative log-likelihood of the original words at the chosen positions only.
- Perplexity, eq. {eq}`lm-perplexity`: ``exp`` of the mean negative log-likelihood per predicted
  symbol, in nats.

Randomness comes from a ``torch.Generator`` seeded by the caller; training runs on the CPU.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

__all__ = ["SPECIALS", "WordVocab", "sentence_ids", "mask_tokens", "lm_loss", "train_lm",
           "token_nll", "perplexity", "sample_sentences", "blank_logprobs"]

SPECIALS = ("<pad>", "<bos>", "<eos>", "<mask>")
PAD, BOS, EOS, MASK = range(4)


class WordVocab:
    """Words <-> ids; ids 0-3 are ``<pad> <bos> <eos> <mask>``, then the words in sorted order."""

    PAD, BOS, EOS, MASK = PAD, BOS, EOS, MASK

    def __init__(self, sentences: Sequence[Sequence[str]]):
        words = sorted({w for s in sentences for w in s} - set(SPECIALS))
        if not words:
            raise ValueError("sentences: expected at least one word")
        self.itos = list(SPECIALS) + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words: Sequence[str]) -> list[int]:
        unknown = sorted(set(words) - set(self.stoi))
        if unknown:
            raise ValueError(f"words: {unknown} are not in the vocabulary")
        return [self.stoi[w] for w in words]

    def decode(self, ids) -> list[str]:
        """The words of ``ids`` up to ``<eos>``, without ``<bos>`` and padding."""
        out = []
        for i in np.asarray(ids).reshape(-1):
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.itos[int(i)])
        return out


def sentence_ids(sentences: Sequence[Sequence[str]], vocab: WordVocab) -> np.ndarray:
    """Rows ``<bos> w_1 ... w_n <eos>`` padded with 0 to the longest: (N, max n + 2) int64."""
    if len(sentences) == 0:
        raise ValueError("sentences: expected at least one sentence")
    T = max(len(s) for s in sentences) + 2
    ids = np.zeros((len(sentences), T), dtype=np.int64)
    for n, s in enumerate(sentences):
        ids[n, :len(s) + 2] = [BOS, *vocab.encode(s), EOS]
    return ids


def mask_tokens(ids, vocab_size: int, rate: float, generator: torch.Generator):
    """BERT's corruption: choose each word position with probability ``rate`` (at least one per
    row); replace 80 % of the chosen by ``<mask>``, 10 % by a random word, keep 10 %.

    Returns ``inputs (N, T)`` and ``targets (N, T)``: the original id at chosen positions, 0 (ignored)
    elsewhere."""
    ids = torch.as_tensor(ids)
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate: expected a probability in (0, 1], got {rate}")
    words = ids > MASK                                     # real words, not specials or padding
    u = torch.rand(ids.shape, generator=generator)
    chosen = words & (u < rate)
    # a row without a chosen word gets its word with the smallest u
    first = torch.where(words, u, torch.full_like(u, 2.0)).argmin(dim=1)
    none = ~chosen.any(dim=1)
    chosen[none, first[none]] = True
    r = torch.rand(ids.shape, generator=generator)
    random_words = torch.randint(MASK + 1, vocab_size, ids.shape, generator=generator)
    inputs = torch.where(chosen & (r < 0.8), torch.full_like(ids, MASK), ids)
    inputs = torch.where(chosen & (r >= 0.8) & (r < 0.9), random_words, inputs)
    targets = torch.where(chosen, ids, torch.zeros_like(ids))
    return inputs, targets


def lm_loss(model, ids, generator: torch.Generator | None = None, rate: float = 0.15,
            reduction: str = "mean"):
    """The loss of ``model`` on rows ``ids (N, T)``: next-token NLL for a causal model, masked-token
    NLL for a bidirectional one (``generator`` and ``rate`` draw the masks). ``reduction`` as in
    ``torch.nn.functional.cross_entropy``; padding and unchosen positions never count."""
    ids = torch.as_tensor(ids)
    if model.causal:
        inputs, targets = ids[:, :-1], ids[:, 1:]
    else:
        if generator is None:
            raise ValueError("generator: a masked LM needs a torch.Generator to draw its masks")
        inputs, targets = mask_tokens(ids, model.out.out_features, rate, generator)
    logits = model(inputs)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             targets.reshape(-1), ignore_index=PAD,
                                             reduction=reduction)


def train_lm(model, ids, steps: int = 300, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
             rate: float = 0.15, clip: float = 1.0, progress: bool = True,
             desc: str = "pretraining") -> list[float]:
    """Train a :class:`~rnncourse.models.transformer.TransformerLM` with Adam on random minibatches
    of the rows ``ids (N, T)`` (its own objective: causal or masked); returns the loss of every
    step. ``seed`` fixes the minibatches and the masks."""
    ids = torch.as_tensor(np.asarray(ids))
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in tqdm(range(steps), desc=desc, disable=not progress):
        idx = torch.randint(0, ids.shape[0], (batch_size,), generator=gen)
        batch = ids[idx]
        batch = batch[:, :int((batch != PAD).sum(1).max())]       # trim the common padding
        loss = lm_loss(model, batch, gen, rate)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def token_nll(model, ids, seed: int = 0, rate: float = 0.15) -> tuple[float, int]:
    """Sum of the negative log-likelihoods (nats) of the symbols ``model`` predicts on ``ids`` and
    their number: every real next symbol for a causal model, the chosen positions (masks drawn
    from ``seed``) for a masked one. ``exp(sum / count)`` is the perplexity."""
    model.eval()
    ids = torch.as_tensor(np.asarray(ids))
    gen = torch.Generator().manual_seed(seed)
    total = lm_loss(model, ids, gen, rate, reduction="sum").item()
    if model.causal:
        count = int((ids[:, 1:] != PAD).sum())
    else:
        count = int((mask_tokens(ids, model.out.out_features, rate,
                                 torch.Generator().manual_seed(seed))[1] != PAD).sum())
    return total, count


def perplexity(nll_sum: float, count: int) -> float:
    """``exp(nll_sum / count)``, eq. {eq}`lm-perplexity` (``nll_sum`` in nats)."""
    if count < 1:
        raise ValueError(f"count: expected at least one predicted symbol, got {count}")
    return float(np.exp(nll_sum / count))


@torch.no_grad()
def sample_sentences(model, n: int, max_len: int, seed: int = 0,
                     temperature: float = 1.0) -> np.ndarray:
    """Sample ``n`` rows from a causal LM, left to right from ``<bos>``: (n, <= max_len + 1) ids,
    0 after ``<eos>`` (decode with :meth:`WordVocab.decode`)."""
    if not model.causal:
        raise ValueError("model: sampling left to right needs a causal LM (causal=True)")
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((n, 1), BOS, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    for _ in range(max_len):
        logits = model(x)[:, -1] / temperature
        logits[:, [PAD, BOS, MASK]] = -float("inf")            # never emitted
        nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)[:, 0]
        nxt = torch.where(done, torch.zeros_like(nxt), nxt)
        x = torch.cat([x, nxt[:, None]], dim=1)
        done |= nxt == EOS
        if done.all():
            break
    return x.numpy()


@torch.no_grad()
def blank_logprobs(model, ids, positions) -> np.ndarray:
    """Log-probabilities (n, V) of the symbol at ``positions[i]`` of row ``i`` of ``ids (n, T)``, as
    the model can see it: a causal LM reads only the symbols *before* the blank, a masked LM the
    whole row with ``<mask>`` at the blank (the words on both sides)."""
    model.eval()
    ids = np.asarray(ids)
    positions = np.asarray(positions)
    if positions.shape != (ids.shape[0],) or positions.min() < 1 or positions.max() >= ids.shape[1]:
        raise ValueError(f"positions: expected one position in [1, {ids.shape[1] - 1}] per row, "
                         f"got shape {positions.shape}")
    rows = np.arange(len(positions))
    if model.causal:
        logits = model(torch.as_tensor(ids))[rows, positions - 1]    # the output before the blank
    else:
        x = ids.copy()
        x[rows, positions] = MASK
        logits = model(torch.as_tensor(x))[rows, positions]
    return torch.log_softmax(logits, dim=-1).double().numpy()
