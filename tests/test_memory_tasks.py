"""Training helpers of the long-lag experiments (chapters 4 and 5)."""
import numpy as np
import pytest
import torch

from rnncourse.experiments.memory_tasks import (
    LongLagNet, add_memory_bias, longlag_accuracy, train_longlag,
)
from rnncourse.layers.convert import gru_from_torch, lstm_from_torch


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_memory_bias_moves_the_right_gates():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    before = lstm.bias_ih_l0.detach().clone()
    add_memory_bias(lstm, 2.0)
    diff = (lstm.bias_ih_l0.detach() - before).numpy()
    assert np.allclose(diff, np.repeat([-2.0, 2.0, 0.0, 0.0], 4))      # i, f, g, o
    gru = torch.nn.GRU(3, 4, batch_first=True)
    before = gru.bias_ih_l0.detach().clone()
    add_memory_bias(gru, 2.0)
    diff = (gru.bias_ih_l0.detach() - before).numpy()
    assert np.allclose(diff, np.repeat([0.0, 2.0, 0.0], 4))            # r, z, n
    # the numpy layout sees the same shift in b = b_ih + b_hh
    _, _, b = lstm_from_torch(lstm)
    assert b.shape == (16,)
    assert gru_from_torch(gru)[2].shape == (12,)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_short_lag_is_learned_and_runs_are_reproducible(cell):
    a = train_longlag(cell, 4, hidden=8, steps=200, seed=1)
    b = train_longlag(cell, 4, hidden=8, steps=200, seed=1)
    assert a.losses == b.losses and a.steps == b.steps
    assert a.solved and a.steps < 200
    assert longlag_accuracy(a.model, 4) == 1.0
    assert a.model(torch.zeros(5, 4, 5)).shape == (5, 2)


def test_budget_is_respected_without_early_stop():
    run = train_longlag("lstm", 3, hidden=4, steps=5, patience=1000)
    assert run.steps == 5 and not run.solved and len(run.losses) == 5


def test_unknown_cell():
    with pytest.raises(ValueError, match="cell"):
        LongLagNet("transformer", 3)
    with pytest.raises(ValueError, match="cell"):
        train_longlag("lstmx", 3)


def test_recipe_is_the_default_of_train_longlag():
    import inspect

    from rnncourse.experiments.memory_tasks import RECIPE
    params = inspect.signature(train_longlag).parameters
    assert {k: params[k].default for k in RECIPE} == RECIPE
    assert inspect.signature(LongLagNet).parameters["memory_bias"].default == RECIPE["memory_bias"]
    assert inspect.signature(LongLagNet).parameters["hidden"].default == RECIPE["hidden"]
