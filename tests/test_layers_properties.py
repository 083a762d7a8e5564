"""Property tests over shapes (hypothesis, derandomized): for RNN, LSTM and GRU the backward pass
agrees with centred differences, the sequence equals its steps, examples in a batch do not
interact, and the backward pass is linear in the upstream gradient."""
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, configuration, given, settings
from hypothesis import strategies as st

from rnncourse.gradcheck import gradcheck
from rnncourse.layers import (
    gru_backward, gru_forward, gru_step_forward, lstm_backward, lstm_forward, lstm_step_forward,
    rnn_backward, rnn_forward, rnn_step_forward,
)

# Hypothesis caches the constants of the source files it reads under ./.hypothesis even without an
# example database; pytest's norecursedirs here does not list .hypothesis, and the hypothesis plugin
# then warns on every later collection (an error under filterwarnings = error). Keep the cache
# out of the repository.
configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "rnncourse-hypothesis"))

PROPS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
LAYERS = {
    "rnn": (rnn_forward, rnn_backward),
    "lstm": (lstm_forward, lstm_backward),
    "gru": (gru_forward, gru_backward),
}

dims = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
                 st.integers(0, 2 ** 32 - 1))           # N, T, D, H, seed


def _draw(cell, N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    return [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
            0.5 * rng.standard_normal((D, G * H)), 0.5 * rng.standard_normal((H, G * H)),
            rng.standard_normal(G * H)]


@pytest.mark.parametrize("cell", list(LAYERS))
@PROPS
@given(shape=dims)
def test_backward_matches_centred_differences(cell, shape):
    forward, backward = LAYERS[cell]
    errors = gradcheck(forward, backward, _draw(cell, *shape))
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("cell", list(LAYERS))
@PROPS
@given(shape=dims)
def test_sequence_equals_steps(cell, shape):
    x, h0, Wx, Wh, b = _draw(cell, *shape)
    h, _ = LAYERS[cell][0](x, h0, Wx, Wh, b)
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        if cell == "rnn":
            prev_h, _ = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        elif cell == "gru":
            prev_h, _ = gru_step_forward(x[:, t], prev_h, Wx, Wh, b)
        else:
            prev_h, prev_c, _ = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], prev_h, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cell", list(LAYERS))
@PROPS
@given(shape=dims)
def test_batch_examples_are_independent(cell, shape):
    """Running the batch at once equals running each example alone, forward and backward."""
    forward, backward = LAYERS[cell]
    x, h0, Wx, Wh, b = _draw(cell, *shape)
    h, cache = forward(x, h0, Wx, Wh, b)
    dh = np.random.default_rng(shape[-1] + 1).standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = backward(dh, cache)
    sums = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    for n in range(x.shape[0]):
        hn, cn = forward(x[n:n + 1], h0[n:n + 1], Wx, Wh, b)
        np.testing.assert_allclose(hn[0], h[n], rtol=0, atol=1e-13)
        gx, gh0, *gw = backward(dh[n:n + 1], cn)
        np.testing.assert_allclose(gx[0], dx[n], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(gh0[0], dh0[n], rtol=1e-10, atol=1e-13)
        sums = [s + g for s, g in zip(sums, gw)]
    for s, g in zip(sums, (dWx, dWh, db)):
        np.testing.assert_allclose(s, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", list(LAYERS))
@PROPS
@given(shape=dims, alpha=st.floats(-3, 3))
def test_backward_is_linear_in_upstream(cell, shape, alpha):
    forward, backward = LAYERS[cell]
    x, h0, Wx, Wh, b = _draw(cell, *shape)
    h, cache = forward(x, h0, Wx, Wh, b)
    rng = np.random.default_rng(shape[-1] + 2)
    d1, d2 = rng.standard_normal(h.shape), rng.standard_normal(h.shape)
    combined = backward(alpha * d1 + d2, cache)
    for g, g1, g2 in zip(combined, backward(d1, cache), backward(d2, cache)):
        np.testing.assert_allclose(g, alpha * g1 + g2, rtol=1e-9, atol=1e-12)
