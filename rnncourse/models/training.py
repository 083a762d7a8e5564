"""A small training loop and evaluation helpers shared by the seq2seq chapters (8 and 10).

Models follow the interface of :class:`rnncourse.models.seq2seq.Seq2Seq`:
``model(src, src_len, tgt_in) -> logits`` for teacher forcing, and ``start``/``step`` for the
searches of :mod:`rnncourse.decoding`. Data come as a :class:`rnncourse.data.addition.Seq2SeqBatch`
of numpy arrays. Training runs on the CPU unless the caller asks for another device
(``device="cuda"``, or ``"auto"`` for CUDA when present): the book's numbers must not depend on
the reader's hardware, so a GPU is an explicit opt-in. Minibatches are drawn from a seeded
generator so a run is reproducible.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..decoding import beam_search, greedy_search

__all__ = ["default_device", "masked_cross_entropy", "train_seq2seq", "greedy_predict",
           "beam_predict", "exact_match", "accuracy_by"]


def default_device(device=None) -> torch.device:
    """The device to train on: the CPU unless asked otherwise.

    ``device`` may be ``None`` (the CPU), ``"auto"`` (CUDA when available, else the CPU), or any
    name or :class:`torch.device` torch accepts (``"cuda"``, ``"cuda:1"``, ...).
    """
    if device is None:
        return torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: expected None, 'auto' or a torch device name, got {device!r}") from exc


def masked_cross_entropy(logits, targets, pad_id: int = 0):
    """Mean cross-entropy over the real target symbols (eq. {eq}`s2s-masked-loss`), torch version of
    :func:`rnncourse.decoding.masked_cross_entropy`."""
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
                                             ignore_index=pad_id)


def _tensors(batch, device):
    return [torch.as_tensor(np.asarray(a), device=device) for a in batch]


def train_seq2seq(model, data, epochs: int = 10, batch_size: int = 128, lr: float = 1e-2,
                  seed: int = 0, clip: float = 1.0, desc: str = "training",
                  progress: bool = True, device=None) -> list[float]:
    """Train ``model`` with teacher forcing and Adam; returns the loss of every update.

    Args:
        model: a seq2seq model (moved to ``default_device(device)``).
        data: a :class:`~rnncourse.data.addition.Seq2SeqBatch` (the whole training set).
        epochs: passes over the data, each in a new random order.
        batch_size: examples per update.
        lr: Adam's learning rate.
        seed: seed of the minibatch order.
        clip: gradient-norm clipping threshold.
        desc: label of the progress bar.
        progress: show a ``tqdm`` progress bar.
        device: ``None`` (the CPU, the default), ``"auto"`` or a torch device name; see
            :func:`default_device`.
    """
    device = default_device(device)
    model.to(device).train()
    src, src_len, tgt_in, tgt_out, _ = _tensors(data, device)
    N = src.shape[0]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = (N + batch_size - 1) // batch_size
    losses: list[float] = []
    with tqdm(total=epochs * per_epoch, desc=desc, disable=not progress) as bar:
        for _ in range(epochs):
            order = torch.randperm(N, generator=gen).to(device)
            for i in range(per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                Ts = int(src_len[idx].max())                       # trim the common padding
                logits = model(src[idx, :Ts], src_len[idx], tgt_in[idx])
                loss = masked_cross_entropy(logits, tgt_out[idx])
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                losses.append(loss.item())
                bar.update()
    model.eval()
    return losses


def _numpy_step(model):
    def step(prev, state):
        logp, state = model.step(prev, state)
        return logp.double().cpu().numpy(), state
    return step


@torch.no_grad()
def greedy_predict(model, src, src_len, bos: int, eos: int, max_len: int) -> np.ndarray:
    """Greedy decoding of a padded batch of sources; ids (N, max_len), 0 after ``eos``."""
    model.eval()
    device = next(model.parameters()).device
    src, src_len = (torch.as_tensor(np.asarray(a), device=device) for a in (src, src_len))
    state = model.start(src, src_len)
    ids, _ = greedy_search(_numpy_step(model), state, src.shape[0], bos, eos, max_len)
    return ids


@torch.no_grad()
def beam_predict(model, src, src_len, bos: int, eos: int, max_len: int, beam_width: int):
    """Beam search for each source of a batch, one at a time.

    Returns ids (N, max_len) and scores (N,) of the best hypothesis of each source.
    """
    model.eval()
    device = next(model.parameters()).device
    src = np.asarray(src)
    src_len = np.asarray(src_len)
    out = np.zeros((len(src), max_len), dtype=np.int64)
    scores = np.zeros(len(src))
    for n in range(len(src)):
        s = torch.as_tensor(src[n:n + 1, :src_len[n]], device=device)
        state = model.start(s, torch.as_tensor(src_len[n:n + 1]))
        ids, sc = beam_search(_numpy_step(model), state, bos, eos, max_len, beam_width)
        out[n], scores[n] = ids[0], sc[0]
    return out, scores


def exact_match(pred, tgt_out) -> np.ndarray:
    """Per example: is the prediction (up to and including ``eos``) exactly the target?

    ``pred (N, P)`` and ``tgt_out (N, Tt)`` are padded with 0 after ``eos``.
    """
    pred, tgt_out = np.asarray(pred), np.asarray(tgt_out)
    T = max(pred.shape[1], tgt_out.shape[1])
    pad = lambda a: np.pad(a, ((0, 0), (0, T - a.shape[1])))
    return np.all(pad(pred) == pad(tgt_out), axis=1)


def accuracy_by(key, correct):
    """Group a boolean array ``correct (N,)`` by an integer ``key (N,)`` (e.g. the source length).

    Returns the sorted distinct keys, the accuracy and the number of examples for each.
    """
    key, correct = np.asarray(key), np.asarray(correct, dtype=np.float64)
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    acc = np.bincount(inverse, weights=correct) / counts
    return keys, acc, counts
