"""Cells beyond the LSTM (chapter 12) in torch, plus a character language model to compare them.

Every cell maps ``x (N, T, D)`` and an optional state to ``(h (N, T, H), state)``. Weights are kept
in the course's row layout (``x @ Wx``, gate order i, f, g, o as in torch), so a cell's parameters
are the arguments of the numpy functions in :mod:`rnncourse.layers.beyond` and a test proves both
compute the same thing. The loops are plain Python over time steps, the same for every cell, so
that timings compare the cells and not the kernels (a fused ``torch.nn.LSTM`` would be faster).

    LSTM       the baseline, eqs. {eq}`lstm-i`..{eq}`lstm-h`; optional zoneout {eq}`zoneout`
    MRNN       multiplicative RNN (Sutskever et al. 2011), {eq}`mrnn-m`, {eq}`mrnn-h`
    MLSTM      multiplicative LSTM (Krause et al. 2016), {eq}`mlstm-m`..{eq}`mlstm-h`; optional zoneout
    DeltaRNN   Delta-RNN (Ororbia et al. 2017), {eq}`delta-z`..{eq}`delta-h`
    StackedLSTM  L LSTM layers, the deep baseline of the tLSTM comparison
    TLSTM      tensorized LSTM (He et al. 2017), {eq}`tlstm-cat`..{eq}`tlstm-delay`
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

__all__ = [
    "LSTM", "MRNN", "MLSTM", "DeltaRNN", "StackedLSTM", "TLSTM", "CharLM", "count_params",
    "hidden_for_budget", "train_char_lm", "evaluate_char_lm", "seconds_per_step", "zoneout",
]


def count_params(module: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _uniform(*shape, k):
    return nn.Parameter(torch.empty(*shape).uniform_(-k, k))


def zoneout(prev, new, z: float, training: bool, mask=None):
    """Eq. {eq}`zoneout`: keep ``prev`` where the mask is 1, take ``new`` where it is 0.

    Training: ``mask`` (or a fresh Bernoulli(z) draw) picks per unit; evaluation: the expectation
    ``z * prev + (1 - z) * new``.
    """
    if training:
        if mask is None:
            if z == 0.0:
                return new
            mask = torch.bernoulli(torch.full_like(new, z))
        return mask * prev + (1.0 - mask) * new
    return z * prev + (1.0 - z) * new


class _Recurrent(nn.Module):
    """Shared loop: ``forward(x, state=None, masks=None) -> (h (N, T, H), state)``."""

    has_cell = False

    def __init__(self, D: int, H: int, z_c: float = 0.0, z_h: float = 0.0):
        super().__init__()
        for name, z in (("z_c", z_c), ("z_h", z_h)):
            if not 0.0 <= z <= 1.0:
                raise ValueError(f"{name}: zoneout probability must lie in [0, 1], got {z}")
        self.D, self.H, self.z_c, self.z_h = D, H, z_c, z_h

    def init_state(self, N, like):
        zeros = like.new_zeros(N, self.H)
        return (zeros, zeros.clone()) if self.has_cell else zeros

    def forward(self, x, state=None, masks=None):
        """``masks``: optional zoneout masks ``(mask_c, mask_h)``, each (N, T, H), 1 = keep the
        previous value; drawn at random when training if not given."""
        N, T, D = x.shape
        if D != self.D:
            raise ValueError(f"x: expected shape (N, T, D) with D = {self.D}, got {tuple(x.shape)}")
        state = self.init_state(N, x) if state is None else state
        pre = self.project(x)                          # input projections of all steps at once
        hs = []
        for t in range(T):
            mask_t = None if masks is None else tuple(None if m is None else m[:, t] for m in masks)
            state = self.step([p[:, t] for p in pre], state, mask_t)
            hs.append(state[0] if self.has_cell else state)
        return torch.stack(hs, dim=1), state

    def _zone(self, prev_h, prev_c, h, c, mask):
        mc, mh = (None, None) if mask is None else mask
        c = zoneout(prev_c, c, self.z_c, self.training, mc)
        h = zoneout(prev_h, h, self.z_h, self.training, mh)
        return h, c


class LSTM(_Recurrent):
    """LSTM in the row layout ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``, gates i, f, g, o; with
    zoneout rates ``z_c`` (cell) and ``z_h`` (hidden), where the hidden candidate uses the new cell."""

    has_cell = True

    def __init__(self, D: int, H: int, z_c: float = 0.0, z_h: float = 0.0):
        super().__init__(D, H, z_c, z_h)
        k = 1.0 / math.sqrt(H)
        self.Wx, self.Wh, self.b = _uniform(D, 4 * H, k=k), _uniform(H, 4 * H, k=k), _uniform(4 * H, k=k)

    def project(self, x):
        return [x @ self.Wx + self.b]

    def step(self, pre, state, mask):
        prev_h, prev_c = state
        a = pre[0] + prev_h @ self.Wh
        i, f, g, o = a.chunk(4, dim=-1)
        c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self._zone(prev_h, prev_c, h, c, mask)


class MRNN(_Recurrent):
    """Multiplicative RNN: ``m = (x Wmx) * (h Wmh)``, ``h' = tanh(x Wx + m Wm + b)``."""

    def __init__(self, D: int, H: int):
        super().__init__(D, H)
        k = 1.0 / math.sqrt(H)
        self.Wmx, self.Wmh = _uniform(D, H, k=1.0), _uniform(H, H, k=k)
        self.Wx, self.Wm, self.b = _uniform(D, H, k=k), _uniform(H, H, k=k), _uniform(H, k=k)

    def project(self, x):
        return [x @ self.Wmx, x @ self.Wx + self.b]

    def step(self, pre, prev_h, mask):
        m = pre[0] * (prev_h @ self.Wmh)
        return torch.tanh(pre[1] + m @ self.Wm)


class MLSTM(_Recurrent):
    """Multiplicative LSTM: the LSTM's ``h(t-1) Wh`` becomes ``m Wm`` with ``m = (x Wmx) * (h Wmh)``.

    Parameters ``Wmx (D, H)``, ``Wmh (H, H)``, ``Wx (D, 4H)``, ``Wm (H, 4H)``, ``b (4H,)``; zoneout
    as in :class:`LSTM`.
    """

    has_cell = True

    def __init__(self, D: int, H: int, z_c: float = 0.0, z_h: float = 0.0):
        super().__init__(D, H, z_c, z_h)
        k = 1.0 / math.sqrt(H)
        self.Wmx, self.Wmh = _uniform(D, H, k=1.0), _uniform(H, H, k=k)
        self.Wx, self.Wm, self.b = _uniform(D, 4 * H, k=k), _uniform(H, 4 * H, k=k), _uniform(4 * H, k=k)

    def project(self, x):
        return [x @ self.Wmx, x @ self.Wx + self.b]

    def step(self, pre, state, mask):
        prev_h, prev_c = state
        m = pre[0] * (prev_h @ self.Wmh)
        a = pre[1] + m @ self.Wm
        i, f, g, o = a.chunk(4, dim=-1)
        c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self._zone(prev_h, prev_c, h, c, mask)


class DeltaRNN(_Recurrent):
    """Delta-RNN: ``z = tanh(alpha*(h V)*(x W) + beta1*(h V) + beta2*(x W) + b)``,
    ``r = sigmoid(x W + br)``, ``h' = (1 - r) * z + r * h`` (outer activation: identity).

    Parameters ``W (D, H)``, ``V (H, H)``, ``alpha, beta1, beta2, b, br`` (each (H,)).
    """

    def __init__(self, D: int, H: int):
        super().__init__(D, H)
        k = 1.0 / math.sqrt(H)
        self.W, self.V = _uniform(D, H, k=1.0), _uniform(H, H, k=k)
        self.alpha = nn.Parameter(torch.full((H,), 2.0))
        self.beta1, self.beta2 = nn.Parameter(torch.ones(H)), nn.Parameter(torch.ones(H))
        self.b, self.br = nn.Parameter(torch.zeros(H)), nn.Parameter(torch.zeros(H))

    def project(self, x):
        return [x @ self.W]

    def step(self, pre, prev_h, mask):
        wx = pre[0]
        vh = prev_h @ self.V
        z = torch.tanh(self.alpha * vh * wx + self.beta1 * vh + self.beta2 * wx + self.b)
        r = torch.sigmoid(wx + self.br)
        return (1.0 - r) * z + r * prev_h


class StackedLSTM(nn.Module):
    """``L`` :class:`LSTM` layers of width ``H``; returns the top layer's states and all final states."""

    def __init__(self, D: int, H: int, L: int):
        super().__init__()
        if L < 1:
            raise ValueError(f"L: expected >= 1 layers, got {L}")
        self.H = H
        self.layers = nn.ModuleList(LSTM(D if l == 0 else H, H) for l in range(L))

    def forward(self, x, state=None):
        states = []
        for l, layer in enumerate(self.layers):
            x, s = layer(x, None if state is None else state[l])
            states.append(s)
        return x, states


class TLSTM(nn.Module):
    """Tensorized LSTM with a 2-D hidden state ``H (N, P, M)``: P locations of M channels.

    Per step the projected input is put in front of the hidden locations, eq. {eq}`tlstm-cat`,
    one convolution over the locations (kernel K, odd, zero padding) computes all gates,
    eq. {eq}`tlstm-conv`, and, with ``memory_conv``, a per-location softmax kernel also produced by
    that convolution mixes neighbouring memory cells, eq. {eq}`tlstm-memconv`. The output for input
    step t is read at the last location P after a delay of ``L - 1`` steps with
    ``L = ceil(P / r)``, ``r = (K - 1) / 2`` (the locations information moves up per step), so the
    network has depth L without any parameter that depends on P.
    """

    def __init__(self, D: int, M: int, P: int, K: int = 3, memory_conv: bool = True):
        super().__init__()
        if K < 3 or K % 2 == 0:
            raise ValueError(f"K: expected an odd kernel size >= 3, got {K}")
        if P < 1:
            raise ValueError(f"P: expected >= 1 locations, got {P}")
        self.D, self.M, self.P, self.K, self.memory_conv = D, M, P, K, memory_conv
        self.r = (K - 1) // 2
        self.depth = math.ceil(P / self.r)             # L: output delayed by L - 1 steps
        self.H = M                                     # width of what the output layer reads
        Mo = 4 * M + (K if memory_conv else 0)         # gates g, i, f, o (+ K kernel logits)
        k = 1.0 / math.sqrt(K * M)
        self.Wx, self.bx = _uniform(D, M, k=1.0 / math.sqrt(D)), _uniform(M, k=1.0 / math.sqrt(D))
        self.Wh, self.bh = _uniform(K * M, Mo, k=k), _uniform(Mo, k=k)

    def step(self, xin, H, C):
        """One step: ``xin (N, M)`` projected input, ``H, C (N, P, M)``."""
        N, P, M = H.shape
        r, K = self.r, self.K
        cat = torch.cat([xin[:, None], H], dim=1)                         # (N, P + 1, M)
        pad = nn.functional.pad(cat, (0, 0, r, r))                       # zeros outside
        win = pad.unfold(1, K, 1)[:, 1:]                                  # (N, P, M, K), loc 1..P
        a = win.transpose(2, 3).reshape(N, P, K * M) @ self.Wh + self.bh  # (N, P, Mo)
        g = torch.tanh(a[..., :M])
        i, f, o = torch.sigmoid(a[..., M:4 * M]).chunk(3, dim=-1)
        if self.memory_conv:
            q = torch.softmax(a[..., 4 * M:], dim=-1)                     # (N, P, K) per location
            edge = torch.cat([C[:, :1]] * r + [C] + [C[:, -1:]] * r, dim=1)  # border values
            C = (edge.unfold(1, K, 1) * q[:, :, None, :]).sum(-1)         # (N, P, M)
        C = g * i + C * f
        return torch.tanh(C) * o, C

    def forward(self, x, state=None):
        N, T, D = x.shape
        if D != self.D:
            raise ValueError(f"x: expected shape (N, T, D) with D = {self.D}, got {tuple(x.shape)}")
        if state is None:
            H = x.new_zeros(N, self.P, self.M)
            C = torch.zeros_like(H)
        else:
            H, C = state
        L = self.depth
        xin = x @ self.Wx + self.bx
        xin = torch.cat([xin, self.bx.expand(N, L - 1, self.M)], dim=1)   # x = 0 after the end
        out = []
        for s in range(T + L - 1):
            H, C = self.step(xin[:, s], H, C)
            if s >= L - 1:
                out.append(H[:, -1])                                      # y(s - L + 1)
        return torch.stack(out, dim=1), (H, C)


class CharLM(nn.Module):
    """One-hot characters -> a cell -> logits over the V characters."""

    def __init__(self, cell: nn.Module, V: int):
        super().__init__()
        self.cell, self.V = cell, V
        self.head = nn.Linear(cell.H, V)

    def forward(self, ids):
        x = nn.functional.one_hot(ids, self.V).float()
        h, _ = self.cell(x)
        return self.head(h)

    def loss(self, ids, targets):
        """Mean cross-entropy in nats per character."""
        logits = self(ids)
        return nn.functional.cross_entropy(logits.reshape(-1, self.V), targets.reshape(-1))


def hidden_for_budget(make, budget: int, lo: int = 1, hi: int = 512) -> int:
    """The width ``H`` in ``[lo, hi]`` whose model ``make(H)`` has the parameter count closest to
    ``budget`` (counts grow with H, so a bisection finds it)."""
    left, right = lo, hi                               # first H with count >= budget
    while left < right:
        mid = (left + right) // 2
        if count_params(make(mid)) >= budget:
            right = mid
        else:
            left = mid + 1
    candidates = [H for H in (left - 1, left) if lo <= H <= hi]
    return min(candidates, key=lambda H: abs(count_params(make(H)) - budget))


def evaluate_char_lm(model: CharLM, x, y) -> float:
    """Mean cross-entropy (nats per character) of ``model`` on windows ``x, y (N, T)``, eval mode."""
    was = model.training
    model.eval()
    with torch.no_grad():
        loss = model.loss(torch.as_tensor(x), torch.as_tensor(y)).item()
    model.train(was)
    return loss


def train_char_lm(model: CharLM, train_ids, steps: int, N: int = 32, T: int = 32,
                  lr: float = 1e-2, clip: float = 1.0, seed: int = 0, evals=None,
                  every: int = 25, progress=None) -> dict:
    """Adam on random windows ``(N, T)`` of the stream ``train_ids``, gradient norm clipped at ``clip``.

    Args:
        evals: optional ``{name: (x, y)}`` windows evaluated (eval mode) every ``every`` steps
            and after the last step.
        progress: wraps the step range when given (e.g. ``tqdm``).

    Returns:
        ``{"loss": per-step training loss (steps,), "sec_per_step": CPU seconds per training step
        (evaluations excluded; CPU time is robust when the machine is shared),
        "evals": {name: array of (step, loss) rows}}``.
    """
    from ..data.text import random_windows

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    evals = evals or {}
    hist = {name: [] for name in evals}
    losses, cpu = [], 0.0
    it = range(1, steps + 1) if progress is None else progress(range(1, steps + 1))
    for step in it:
        model.train()
        start = time.process_time()
        x, y = random_windows(train_ids, N, T, rng)
        loss = model.loss(torch.as_tensor(x), torch.as_tensor(y))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        cpu += time.process_time() - start
        losses.append(loss.item())
        if step % every == 0 or step == steps:
            for name, (xe, ye) in evals.items():
                hist[name].append((step, evaluate_char_lm(model, xe, ye)))
    model.eval()
    return {"loss": np.array(losses), "sec_per_step": cpu / max(steps, 1),
            "evals": {k: np.array(v) for k, v in hist.items()}}


def seconds_per_step(module: nn.Module, x, repeats: int = 3) -> float:
    """CPU seconds per input step of a forward pass without gradients (best of ``repeats``)."""
    best = float("inf")
    with torch.no_grad():
        module(x)                                      # warm-up
        for _ in range(repeats):
            start = time.process_time()
            module(x)
            best = min(best, time.process_time() - start)
    return best / x.shape[1]
