"""HRED and VHRED dialogue models in torch (chapter 9; Serban et al. 2016, 2017).

HRED reads a dialogue at two levels. An **utterance encoder** (a GRU over words) turns each turn
into a vector ``u_m`` (eq. {eq}`hred-utt`); a **context RNN** runs over the turns,
``c_m = f(c_{m-1}, u_m)`` (eq. {eq}`hred-context`); a **decoder** GRU generates the reply from the
last context state (eq. {eq}`hred-decoder`). VHRED adds a latent variable ``z`` per reply: a
learned prior ``p(z | c) = N(mu_p(c), sigma_p^2(c))``, an approximate posterior
``q(z | c, y) = N(mu_q, sigma_q^2)`` that also reads the reply, and a decoder conditioned on
``[c, z]``; it is trained on the ELBO with a KL weight ``beta`` that can be annealed from 0 to 1
(eq. {eq}`vhred-elbo`), and optionally with word dropout on the decoder inputs.

:func:`context_rnn_forward` is the numpy reference of the context update (a tanh cell that
leaves the state unchanged on padded turns); it equals :class:`ContextRNN` with ``cell="rnn"``.

Data come as a :class:`rnncourse.data.dialogues.DialogueBatch`: ``ctx (N, M, Tu)``,
``utt_len (N, M)``, ``n_turns (N,)``, ``tgt_in``/``tgt_out (N, Tr)``; padding id 0.
Training and generation run on the CPU and are deterministic given their seeds.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from tqdm.auto import tqdm

from .._checks import as_array, check_shape

__all__ = [
    "context_rnn_forward", "UtteranceEncoder", "ContextRNN", "ResponseDecoder", "HRED", "VHRED",
    "kl_diag", "train_dialogue_model", "generate_replies", "reply_validity", "distinct_n",
    "reply_entropy",
]


def context_rnn_forward(u, mask, c0, Wx, Wh, b):
    """The context RNN over a batch of dialogues, eq. {eq}`hred-context` (tanh cell), in numpy.

    ``c_m = tanh(u_m Wx + c_{m-1} Wh + b)`` on a real turn (``mask[:, m]`` True) and
    ``c_m = c_{m-1}`` on a padded one, so ``c[:, -1]`` is the state after each dialogue's last turn.

    Args:
        u: utterance vectors, (N, M, Du).
        mask: True for real turns, (N, M) bool.
        c0: initial context state, (N, H).
        Wx: (Du, H); Wh: (H, H); b: (H,).

    Returns:
        c: context states after every turn, (N, M, H).
    """
    u = as_array("u", u, 3)
    N, M, Du = u.shape
    mask = np.asarray(mask)
    check_shape("mask", mask, (N, M), "(N, M)")
    Wh = as_array("Wh", Wh, 2)
    H = Wh.shape[0]
    check_shape("Wh", Wh, (H, H), "(H, H)")
    check_shape("Wx", as_array("Wx", Wx, 2), (Du, H), "(Du, H)")
    check_shape("b", as_array("b", b, 1), (H,), "(H,)")
    check_shape("c0", as_array("c0", c0, 2), (N, H), "(N, H)")
    m = mask.astype(np.float64)[..., None]               # (N, M, 1)
    c = np.zeros((N, M, H))
    prev = np.asarray(c0, dtype=np.float64)
    for t in range(M):
        new = np.tanh(u[:, t] @ Wx + prev @ Wh + b)
        prev = m[:, t] * new + (1.0 - m[:, t]) * prev     # padded turn: keep the state
        c[:, t] = prev
    return c


def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
    """KL of diagonal Gaussians per example, eq. {eq}`vhred-kl`, torch version of
    :func:`rnncourse.vae.gaussian_kl_diag`: (N, Z) tensors -> (N,)."""
    ratio = (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp()
    return 0.5 * (logvar_p - logvar_q + ratio - 1.0).sum(-1)


class UtteranceEncoder(nn.Module):
    """Embedding + GRU over the words of an utterance; its last state is ``u``, eq. {eq}`hred-utt`."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.GRU(embed_dim, hidden_size, batch_first=True)

    def forward(self, words, lengths):
        """``words (B, T)`` ids, ``lengths (B,)`` >= 1 -> ``u (B, H)``."""
        packed = pack_padded_sequence(self.embed(words), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, h = self.rnn(packed)
        return h[0]

    def encode_turns(self, ctx, utt_len):
        """``ctx (N, M, T)``, ``utt_len (N, M)`` -> ``u (N, M, H)``, zero for padded turns."""
        N, M, T = ctx.shape
        real = utt_len.reshape(-1) > 0
        u = torch.zeros(N * M, self.rnn.hidden_size)
        u[real] = self(ctx.reshape(N * M, T)[real], utt_len.reshape(-1)[real])
        return u.reshape(N, M, -1)


class ContextRNN(nn.Module):
    """The recurrence over turns, eq. {eq}`hred-context`: ``cell`` is ``"gru"`` or ``"rnn"`` (tanh)."""

    def __init__(self, input_size: int, hidden_size: int, cell: str = "gru"):
        super().__init__()
        cells = {"gru": nn.GRU, "rnn": nn.RNN}
        if cell not in cells:
            raise ValueError(f"cell: expected one of {sorted(cells)}, got {cell!r}")
        self.rnn = cells[cell](input_size, hidden_size, batch_first=True)

    def forward(self, u, n_turns):
        """``u (N, M, Du)``, ``n_turns (N,)`` -> states after every turn ``(N, M, H)`` (zero on
        padding) and the state after each dialogue's last turn ``(N, H)``."""
        packed = pack_padded_sequence(u, n_turns.cpu(), batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=u.shape[1])
        return out, h[0]


class ResponseDecoder(nn.Module):
    """GRU decoder conditioned on a vector ``cond`` (HRED: ``c``; VHRED: ``[c, z]``), eq.
    {eq}`hred-decoder`: the state starts at ``tanh(W cond + b)`` and ``cond`` is fed to every step
    and to the output layer."""

    def __init__(self, vocab_size: int, embed_dim: int, cond_size: int, hidden_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.init = nn.Linear(cond_size, hidden_size)
        self.rnn = nn.GRU(embed_dim + cond_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size + cond_size, vocab_size)

    def init_state(self, cond):
        return torch.tanh(self.init(cond))

    def forward(self, tgt_in, cond, state):
        """``tgt_in (N, T)``, ``cond (N, C)``, ``state (N, H)`` -> logits (N, T, V), state (N, H)."""
        c = cond[:, None, :].expand(-1, tgt_in.shape[1], -1)
        h, state = self.rnn(torch.cat([self.embed(tgt_in), c], dim=-1), state[None].contiguous())
        return self.out(torch.cat([h, c], dim=-1)), state[0]


class HRED(nn.Module):
    """Hierarchical recurrent encoder-decoder.

    Args:
        vocab_size: V (id 0 is padding).
        embed_dim: word embedding size (encoder and decoder have their own tables).
        utt_hidden, ctx_hidden, dec_hidden: sizes of the utterance encoder, context RNN, decoder.
        cell: the context RNN's cell, ``"gru"`` or ``"rnn"``.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 16, utt_hidden: int = 48,
                 ctx_hidden: int = 48, dec_hidden: int = 48, cell: str = "gru"):
        super().__init__()
        self.encoder = UtteranceEncoder(vocab_size, embed_dim, utt_hidden)
        self.context_rnn = ContextRNN(utt_hidden, ctx_hidden, cell)
        self.decoder = ResponseDecoder(vocab_size, embed_dim, self._cond_size(ctx_hidden),
                                       dec_hidden)

    def _cond_size(self, ctx_hidden: int) -> int:
        return ctx_hidden

    def context(self, ctx, utt_len, n_turns):
        """The context vector ``c`` after the last turn, (N, ctx_hidden)."""
        return self.context_rnn(self.encoder.encode_turns(ctx, utt_len), n_turns)[1]

    def loss(self, ctx, utt_len, n_turns, tgt_in, tgt_out, beta: float = 1.0):
        """``(loss, nll, kl)``: NLL summed over each reply's words and averaged over the batch;
        HRED has no KL term (0)."""
        logits = self.decoder(tgt_in, *self._cond_and_state(self.context(ctx, utt_len, n_turns)))[0]
        nll = _reply_nll(logits, tgt_out)
        return nll, nll, torch.zeros(())

    def _cond_and_state(self, cond):
        return cond, self.decoder.init_state(cond)

    def prior_condition(self, c, generator=None):
        """The decoder's condition at generation time (HRED: ``c`` itself)."""
        return c

    @torch.no_grad()
    def generate(self, ctx, utt_len, n_turns, bos: int, eos: int, max_len: int = 8,
                 sample: bool = False, generator=None):
        """Replies ``(N, max_len)`` ids, 0 after ``eos``: greedy, or token-by-token sampling."""
        cond = self.prior_condition(self.context(ctx, utt_len, n_turns), generator)
        cond, state = self._cond_and_state(cond)
        N = cond.shape[0]
        out = torch.zeros(N, max_len, dtype=torch.long)
        prev = torch.full((N,), bos, dtype=torch.long)
        done = torch.zeros(N, dtype=torch.bool)
        for t in range(max_len):
            logits, state = self.decoder(prev[:, None], cond, state)
            logits = logits[:, 0]
            if sample:
                nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)[:, 0]
            else:
                nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.zeros_like(nxt), nxt)
            out[:, t] = nxt
            done |= nxt == eos
            prev = nxt
            if bool(done.all()):
                break
        return out


class VHRED(HRED):
    """HRED with a latent variable per reply (Serban et al. 2017), eqs. {eq}`vhred-prior`-{eq}`vhred-elbo`.

    Args:
        latent_size: Z, the size of ``z``.
        word_dropout: probability that a decoder input word (not ``<bos>``) is replaced by
            ``unk_id`` during training, so that the decoder must lean on ``z``.
        unk_id: id of the unknown word.
        Other arguments as :class:`HRED`.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 16, utt_hidden: int = 48,
                 ctx_hidden: int = 48, dec_hidden: int = 48, cell: str = "gru",
                 latent_size: int = 8, word_dropout: float = 0.0, unk_id: int = 3):
        self.latent_size = latent_size
        super().__init__(vocab_size, embed_dim, utt_hidden, ctx_hidden, dec_hidden, cell)
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"word_dropout: expected a probability in [0, 1), got {word_dropout}")
        self.word_dropout, self.unk_id = float(word_dropout), int(unk_id)
        Z = latent_size
        self.prior = nn.Sequential(nn.Linear(ctx_hidden, ctx_hidden), nn.Tanh(),
                                   nn.Linear(ctx_hidden, 2 * Z))
        self.posterior = nn.Sequential(nn.Linear(ctx_hidden + utt_hidden, ctx_hidden), nn.Tanh(),
                                       nn.Linear(ctx_hidden, 2 * Z))

    def _cond_size(self, ctx_hidden: int) -> int:
        return ctx_hidden + self.latent_size

    def prior_params(self, c):
        """``mu_p, logvar_p`` (N, Z) of ``p(z | c)``, eq. {eq}`vhred-prior`."""
        return self.prior(c).chunk(2, dim=-1)

    def posterior_params(self, c, tgt_out):
        """``mu_q, logvar_q`` (N, Z) of ``q(z | c, y)``: the reply is read by the utterance encoder."""
        y = self.encoder(tgt_out, (tgt_out != 0).sum(-1))
        return self.posterior(torch.cat([c, y], dim=-1)).chunk(2, dim=-1)

    def loss(self, ctx, utt_len, n_turns, tgt_in, tgt_out, beta: float = 1.0):
        """``(nll + beta * kl, nll, kl)``, each averaged over the batch (the negative ELBO at beta=1)."""
        c = self.context(ctx, utt_len, n_turns)
        mu_p, logvar_p = self.prior_params(c)
        mu_q, logvar_q = self.posterior_params(c, tgt_out)
        z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q)   # reparameterisation
        if self.training and self.word_dropout > 0:
            drop = torch.rand(tgt_in.shape) < self.word_dropout
            drop[:, 0] = False                                           # keep <bos>
            tgt_in = torch.where(drop & (tgt_in != 0), torch.full_like(tgt_in, self.unk_id), tgt_in)
        logits = self.decoder(tgt_in, *self._cond_and_state(torch.cat([c, z], dim=-1)))[0]
        nll = _reply_nll(logits, tgt_out)
        kl = kl_diag(mu_q, logvar_q, mu_p, logvar_p).mean()
        return nll + beta * kl, nll, kl

    def prior_condition(self, c, generator=None):
        """``[c, z]`` with ``z`` drawn from the prior ``p(z | c)``."""
        mu_p, logvar_p = self.prior_params(c)
        eps = torch.randn(mu_p.shape, generator=generator)
        return torch.cat([c, mu_p + torch.exp(0.5 * logvar_p) * eps], dim=-1)


def _reply_nll(logits, tgt_out):
    V = logits.shape[-1]
    nll = nn.functional.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1), ignore_index=0,
                                      reduction="sum")
    return nll / tgt_out.shape[0]


def _tensors(data):
    return [torch.as_tensor(np.asarray(a)) for a in data[:5]]


def train_dialogue_model(model, data, epochs: int = 10, batch_size: int = 64, lr: float = 3e-3,
                         seed: int = 0, kl_anneal_steps: int = 0, clip: float = 1.0,
                         desc: str = "training", progress: bool = True) -> dict:
    """Train HRED or VHRED with Adam on a :class:`~rnncourse.data.dialogues.DialogueBatch`.

    The KL weight is ``beta = min(1, step / kl_anneal_steps)`` (1 throughout when
    ``kl_anneal_steps`` is 0). Seeds the minibatch order and torch's generator (sampling of ``z``,
    word dropout) with ``seed``.

    Returns:
        ``{"loss", "nll", "kl", "beta"}``: one float per update each.
    """
    torch.manual_seed(seed)
    model.train()
    ctx, utt_len, n_turns, tgt_in, tgt_out = _tensors(data)
    N = ctx.shape[0]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = (N + batch_size - 1) // batch_size
    hist = {"loss": [], "nll": [], "kl": [], "beta": []}
    step = 0
    with tqdm(total=epochs * per_epoch, desc=desc, disable=not progress) as bar:
        for _ in range(epochs):
            order = torch.randperm(N, generator=gen)
            for i in range(per_epoch):
                idx = order[i * batch_size:(i + 1) * batch_size]
                beta = 1.0 if kl_anneal_steps <= 0 else min(1.0, step / kl_anneal_steps)
                loss, nll, kl = model.loss(ctx[idx], utt_len[idx], n_turns[idx], tgt_in[idx],
                                           tgt_out[idx], beta=beta)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                for key, v in (("loss", loss), ("nll", nll), ("kl", kl)):
                    hist[key].append(v.item())
                hist["beta"].append(beta)
                step += 1
                bar.update()
    model.eval()
    return hist


def generate_replies(model, data, vocab, n_samples: int = 1, sample_tokens: bool = False,
                     seed: int = 0, max_len: int = 8) -> list[list[tuple]]:
    """``n_samples`` replies for every context of ``data``, as word tuples.

    For VHRED each draw uses a new ``z`` from the prior; ``sample_tokens`` samples every word
    instead of taking the most probable one (greedy).

    Returns:
        A list (one per dialogue) of ``n_samples`` replies.
    """
    model.eval()
    ctx, utt_len, n_turns = _tensors(data)[:3]
    gen = torch.Generator().manual_seed(seed)
    draws = [model.generate(ctx, utt_len, n_turns, vocab.bos, vocab.eos, max_len,
                            sample=sample_tokens, generator=gen).numpy() for _ in range(n_samples)]
    return [[vocab.decode(d[n]) for d in draws] for n in range(ctx.shape[0])]


def reply_validity(replies, dialogues) -> np.ndarray:
    """``(N, S)`` bool: is each reply one of its dialogue's valid replies?"""
    return np.array([[r in d.valid_replies for r in rs] for rs, d in zip(replies, dialogues)])


def distinct_n(replies, n: int) -> float:
    """Distinct n-grams / all n-grams over a list of replies (Li et al. 2016)."""
    grams = [tuple(r[i:i + n]) for r in replies for i in range(len(r) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def reply_entropy(replies) -> float:
    """Entropy in nats of the empirical distribution of whole replies."""
    counts = np.array(list(Counter(tuple(r) for r in replies).values()), dtype=np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())
