"""Training small torch RNN / LSTM / GRU classifiers on the long-lag task (chapters 4 and 5).

The task is :func:`rnncourse.data.longlag.longlag_batch`: read a key, ``p - 1`` distractors, and
predict the key. The network is one recurrent layer (``torch.nn.RNN``, ``LSTM`` or ``GRU``) and a
linear read-out of its last hidden state onto the two keys. Training draws a fresh batch at every
step from a seeded generator, uses Adam, and stops early once every example of ``patience``
consecutive batches is classified correctly. Models are tiny, so everything runs on the CPU in
float32; :mod:`rnncourse.layers.convert` turns the trained weights into the numpy layout.

Gated cells start with a *memory bias* ``m`` (the chapters' {eq}`lstm-c` and {eq}`gru-h`): the
LSTM's forget-gate bias is raised by ``m`` and its input-gate bias lowered by ``m`` (``f`` near 1,
``i`` near 0: keep the cell, write little, as the constant error carousel); the GRU's update-gate
bias is raised by ``m`` (``z`` near 1: keep ``h``). This is the spirit of Gers et al. (2000) and of
"chrono" initialisation (Tallec & Ollivier, 2018, ``b_i = -b_f``). The vanilla RNN has no gate.

:data:`RECIPE` is the training recipe of chapters 4 and 5, and the defaults of
:func:`train_longlag`. Its learning rate is deliberately moderate: with Adam at ``lr=0.01`` a
vanilla RNN sometimes stumbles on a long-lag solution after a few hundred updates, so whether it
"fails" at ``p = 100`` becomes a matter of luck; at ``lr=0.005`` it fails at ``p >= 50`` within the
budget while the biased LSTM and GRU still solve ``p = 100`` well inside it
(``benchmarks/longlag_learning_rate.py`` measures both).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data.longlag import longlag_batch

__all__ = ["CELLS", "RECIPE", "LongLagNet", "LongLagRun", "add_memory_bias", "train_longlag",
           "longlag_accuracy"]

CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}

#: The training recipe of chapters 4 and 5: the defaults of :func:`train_longlag`. ``steps`` is the
#: budget of Adam updates (on fresh batches of ``batch`` sequences), ``patience`` the number of
#: consecutive error-free batches that stops training early.
RECIPE = {"hidden": 16, "steps": 200, "batch": 32, "lr": 0.005, "memory_bias": 5.0, "patience": 20}


def _check_cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {tuple(CELLS)}, got {cell!r}")
    return cell


def add_memory_bias(module: torch.nn.Module, bias: float) -> None:
    """Bias a single-layer ``torch.nn.LSTM`` / ``GRU`` towards keeping its state (in place).

    LSTM (gates i, f, g, o): ``b_f += bias``, ``b_i -= bias``. GRU (gates r, z, n): ``b_z += bias``.
    The change goes into ``bias_ih_l0``; a ``torch.nn.RNN`` is left unchanged.
    """
    H = module.hidden_size
    with torch.no_grad():
        if isinstance(module, torch.nn.LSTM):
            module.bias_ih_l0[H:2 * H] += bias           # forget gate: f = sigmoid(... + bias)
            module.bias_ih_l0[:H] -= bias                # input gate:  i = sigmoid(... - bias)
        elif isinstance(module, torch.nn.GRU):
            module.bias_ih_l0[H:2 * H] += bias           # update gate: z = sigmoid(... + bias)


class LongLagNet(torch.nn.Module):
    """One recurrent layer and a linear read-out of its last state onto the two keys.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        p: the lag; the input width is the number of symbols, ``p + 1``.
        hidden: hidden width H.
        memory_bias: see :func:`add_memory_bias` (ignored for the RNN).
    """

    def __init__(self, cell: str, p: int, hidden: int = 16, memory_bias: float = 5.0):
        super().__init__()
        self.cell = _check_cell(cell)
        self.rnn = CELLS[cell](p + 1, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 2)
        add_memory_bias(self.rnn, memory_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (N, p, p + 1)`` one-hot -> logits of the two keys, (N, 2)."""
        h, _ = self.rnn(x)
        return self.head(h[:, -1])


@dataclass
class LongLagRun:
    """The result of :func:`train_longlag`.

    Attributes:
        cell, p: what was trained.
        model: the trained :class:`LongLagNet` (eval mode).
        losses: training loss of every step.
        steps: number of updates made (fewer than asked when it stopped early).
        solved: whether it stopped early (``patience`` perfect batches in a row).
        seconds: CPU time of the training loop.
    """

    cell: str
    p: int
    model: LongLagNet
    losses: list = field(default_factory=list)
    steps: int = 0
    solved: bool = False
    seconds: float = 0.0


def train_longlag(cell: str, p: int, *, hidden: int = 16, steps: int = 200, batch: int = 32,
                  lr: float = 0.005, seed: int = 0, memory_bias: float = 5.0, patience: int = 20,
                  random_distractors: bool = True) -> LongLagRun:
    """Train a :class:`LongLagNet` on lag ``p`` with Adam; reproducible given ``seed``.

    The defaults are :data:`RECIPE`, the recipe of chapters 4 and 5.

    ``torch.manual_seed(seed)`` sets the initial weights (this also reseeds torch's global
    generator); training batches come from ``numpy.random.default_rng(seed)``.
    """
    _check_cell(cell)
    torch.manual_seed(seed)
    model = LongLagNet(cell, p, hidden, memory_bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    run = LongLagRun(cell, p, model)
    streak = 0
    start = time.process_time()
    for _ in range(steps):
        data = longlag_batch(batch, p, rng, random_distractors, dtype=np.float32)
        logits = model(torch.from_numpy(data.x))
        target = torch.from_numpy(data.y)
        loss = torch.nn.functional.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.losses.append(loss.item())
        run.steps += 1
        streak = streak + 1 if bool((logits.argmax(1) == target).all()) else 0
        if streak >= patience:
            run.solved = True
            break
    run.seconds = time.process_time() - start
    model.eval()
    return run


def longlag_accuracy(model: LongLagNet, p: int, n: int = 1000, seed: int = 2024,
                     random_distractors: bool = True) -> float:
    """Fraction of ``n`` fresh sequences (drawn from ``seed``) whose key ``model`` predicts."""
    data = longlag_batch(n, p, seed, random_distractors, dtype=np.float32)
    with torch.no_grad():
        pred = model(torch.from_numpy(data.x)).argmax(1).numpy()
    return float((pred == data.y).mean())
