"""Strategies for long-term dependencies (book chapter 3).

* Echo state networks: :func:`scale_spectral_radius` ({eq}`esn-scale`), :func:`esn_reservoir`,
  :func:`esn_states` and a readout trained by ridge regression, :func:`ridge_readout`
  ({eq}`esn-ridge`); :func:`squared_correlation` scores a readout.
* Leaky units: :func:`leaky_rnn_forward` / :func:`leaky_rnn_backward` ({eq}`leaky-h`,
  {eq}`leaky-grad-h`), one leak rate per unit for multiple time scales.
* Skip connections through time: :func:`skip_rnn_forward` and :func:`skip_jacobian_norms`
  ({eq}`skip-h`); ``Wh=None`` removes the length-one connections.
* Explicit memory: :func:`content_read`, content-based addressing ({eq}`mem-weights`,
  {eq}`mem-read`), and :func:`memory_write`, the neural Turing machine's erase-then-add write
  ({eq}`mem-erase`, {eq}`mem-add`).

Row layout as in :mod:`rnncourse.layers.rnn`: ``Wx = U^T (D, H)``, ``Wh = W^T (H, H)``.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_shape

__all__ = [
    "scale_spectral_radius", "esn_reservoir", "esn_states", "ridge_readout", "squared_correlation",
    "leaky_rnn_forward", "leaky_rnn_backward", "skip_rnn_forward", "skip_jacobian_norms",
    "content_read", "memory_write",
]


def scale_spectral_radius(W, rho: float):
    """Return ``W * rho / max_i |lambda_i(W)|``: the same matrix with spectral radius ``rho``.

    Args:
        W: square matrix (H, H) with a non-zero eigenvalue; rho: the target radius, >= 0.
    """
    W = as_array("W", W, 2)
    check_shape("W", W, (W.shape[0], W.shape[0]), "(H, H)")
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho: expected a finite number >= 0, got {rho!r}")
    radius = np.abs(np.linalg.eigvals(W)).max()
    if radius == 0:
        raise ValueError("W: its spectral radius is 0 (nilpotent), it cannot be rescaled")
    return W * (rho / radius)                              # eigenvalues scale with W


def esn_reservoir(D: int, H: int, rho: float = 0.9, input_scale: float = 1.0,
                  density: float = 1.0, seed: int = 0):
    """A random, fixed reservoir: ``Win ~ U(-s, s)`` (D, H) and ``W`` (H, H) of spectral radius rho.

    ``W`` has Gaussian entries, a fraction ``1 - density`` of them set to zero, then rescaled with
    :func:`scale_spectral_radius`. Both are in row layout (``h Wh``), like ``Wx``, ``Wh``.
    """
    if not 0 < density <= 1:
        raise ValueError(f"density: expected a number in (0, 1], got {density!r}")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((H, H))
    if density < 1:
        W *= rng.random((H, H)) < density
    Win = input_scale * rng.uniform(-1.0, 1.0, size=(D, H))
    return Win, scale_spectral_radius(W, rho)


def esn_states(x, Win, W, alpha=0.0, h0=None):
    """Reservoir states ``h(t) = alpha h(t-1) + (1 - alpha) tanh(x(t) Win + h(t-1) W)``.

    A leaky RNN with fixed weights and no bias (:func:`leaky_rnn_forward`); ``alpha = 0`` is the
    plain ESN. x: (N, T, D); h0: (N, H), zeros if None. Returns states (N, T, H).
    """
    x = as_array("x", x, 3)
    H = np.shape(W)[0]
    h0 = np.zeros((x.shape[0], H)) if h0 is None else h0
    h, _ = leaky_rnn_forward(x, h0, Win, W, np.zeros(H), alpha)
    return h


def ridge_readout(S, Y, lam: float):
    """Ridge regression ``W = (S^T S + lam I)^{-1} S^T Y`` (eq. {eq}`esn-ridge`).

    Minimises ``||S W - Y||^2 + lam ||W||^2``. Append a column of ones to ``S`` for a bias (it is
    then penalised too, which does no harm for small ``lam``).

    Args:
        S: states (n, H), one row per time step; Y: targets (n, M) or (n,); lam: >= 0.

    Returns:
        W: (H, M), or (H,) for a 1-d ``Y``.
    """
    S = as_array("S", S, 2)
    Y = as_array("Y", Y)
    if Y.ndim not in (1, 2) or Y.shape[0] != S.shape[0]:
        raise ValueError(f"Y: expected shape ({S.shape[0]},) or ({S.shape[0]}, M), got {Y.shape}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam: expected a finite number >= 0, got {lam!r}")
    A = S.T @ S + lam * np.eye(S.shape[1])                 # normal equations of the penalised loss
    return np.linalg.solve(A, S.T @ Y)                     # solve, never invert


def squared_correlation(Y_hat, Y):
    """Squared correlation coefficient of each column, the memory-capacity score of Jaeger (2002).

    Y_hat, Y: (n, M) or (n,). Returns (M,) (or a float), in [0, 1].
    """
    Y_hat = as_array("Y_hat", Y_hat)
    Y = as_array("Y", Y)
    check_shape("Y", Y, Y_hat.shape)
    a = Y_hat - Y_hat.mean(axis=0)
    b = Y - Y.mean(axis=0)
    r2 = (a * b).sum(axis=0) ** 2 / ((a * a).sum(axis=0) * (b * b).sum(axis=0))
    return float(r2) if np.ndim(r2) == 0 else r2


def _check_alpha(alpha, H):
    alpha = as_array("alpha", alpha)
    if alpha.ndim == 1:
        check_shape("alpha", alpha, (H,), "(H,)")
    elif alpha.ndim != 0:
        raise ValueError(f"alpha: expected a number or shape (H,) = ({H},), got {alpha.shape}")
    if np.any(alpha < 0) or np.any(alpha > 1):
        raise ValueError("alpha: every leak rate must lie in [0, 1]")
    return alpha.astype(np.float64)


def leaky_rnn_forward(x, h0, Wx, Wh, b, alpha):
    """A layer of leaky units: ``h(t) = alpha h(t-1) + (1 - alpha) tanh(a(t))`` (eq. {eq}`leaky-h`).

    ``a(t) = x(t) Wx + h(t-1) Wh + b`` as in the vanilla RNN; ``alpha = 0`` gives the vanilla RNN.

    Args:
        x: inputs (N, T, D); h0: initial state (N, H).
        Wx (D, H), Wh (H, H), b (H,): as in :func:`rnncourse.layers.rnn_forward`.
        alpha: leak rates in [0, 1], a number or one per unit (H,) (multiple time scales).

    Returns:
        h: hidden states (N, T, H); cache for :func:`leaky_rnn_backward`.
    """
    Wx = as_array("Wx", Wx, 2)
    D, H = Wx.shape
    Wh = as_array("Wh", Wh, 2)
    check_shape("Wh", Wh, (H, H), "(H, H)")
    b = as_array("b", b, 1)
    check_shape("b", b, (H,), "(H,)")
    x = as_array("x", x, 3)
    N, T, _ = x.shape
    check_shape("x", x, (N, T, D), "(N, T, D)")
    h0 = as_array("h0", h0, 2)
    check_shape("h0", h0, (N, H), "(N, H)")
    alpha = _check_alpha(alpha, H)
    xs = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=np.float64)   # (T, N, D)
    s = (xs.reshape(T * N, D) @ Wx + b).reshape(T, N, H)               # x(t) Wx + b, all t at once
    hs = np.empty((T, N, H))
    prev = h0
    for t in range(T):
        s[t] = np.tanh(s[t] + prev @ Wh)                   # s(t) = tanh(a(t))
        prev = hs[t] = alpha * prev + (1.0 - alpha) * s[t] # h(t) = alpha h(t-1) + (1 - alpha) s(t)
    cache = (xs, h0, Wx, Wh, alpha, s, hs)
    return hs.transpose(1, 0, 2), cache


def leaky_rnn_backward(dh, cache):
    """Backward pass of :func:`leaky_rnn_forward` (eqs. {eq}`leaky-grad-h`, {eq}`leaky-grad-alpha`).

    With ``g(t) = dL/dh(t)`` (upstream plus what flows back from h(t+1)):
    ``dL/da(t) = g(t) (1 - alpha) (1 - s(t)^2)``, ``dL/dh(t-1) += g(t) alpha + dL/da(t) Wh^T`` and
    ``dL/dalpha = sum_t g(t) (h(t-1) - s(t))``.

    Args:
        dh: upstream gradients dL/dh(t), (N, T, H).
        cache: from :func:`leaky_rnn_forward`.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,), dalpha (shape of alpha).
    """
    xs, h0, Wx, Wh, alpha, s, hs = cache
    T, N, H = hs.shape
    D = xs.shape[2]
    dh = as_array("dh", dh, 3)
    check_shape("dh", dh, (N, T, H), "(N, T, H)")
    dh = dh.transpose(1, 0, 2)
    da = np.empty((T, N, H))
    dalpha = np.zeros(H)
    carry = np.zeros((N, H))                               # dL/dh(t) through h(t+1)
    for t in range(T - 1, -1, -1):
        g = dh[t] + carry
        prev = hs[t - 1] if t > 0 else h0
        da[t] = g * (1.0 - alpha) * (1.0 - s[t] ** 2)     # through s(t) = tanh(a(t))
        dalpha += np.sum(g * (prev - s[t]), axis=0)        # dh(t)/dalpha = h(t-1) - s(t)
        carry = g * alpha + da[t] @ Wh.T                   # leak path + recurrent path
    da2 = da.reshape(T * N, H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = xs.reshape(T * N, D).T @ da2
    hprev = np.concatenate([h0[None], hs[:-1]], axis=0).reshape(T * N, H)
    dWh = hprev.T @ da2
    db = da2.sum(axis=0)
    if alpha.ndim == 0:
        dalpha = np.asarray(dalpha.sum())
    return dx, carry, dWx, dWh, db, dalpha


def skip_rnn_forward(x, Wx, Wh, Wskip, b, delay: int):
    """RNN with skip connections through time: ``h(t) = tanh(b + h(t-1) Wh + h(t-d) Wskip + x(t) Wx)``.

    Eq. {eq}`skip-h` with ``d = delay``; states before t = 1 are zero. ``Wh=None`` removes the
    length-one connections (only the delay-d ones are left).

    Args:
        x: inputs (N, T, D); Wx (D, H); Wh (H, H) or None; Wskip (H, H); b (H,); delay: d >= 1.

    Returns:
        h: (N, T, H).
    """
    if not isinstance(delay, (int, np.integer)) or delay < 1:
        raise ValueError(f"delay: expected an integer >= 1, got {delay!r}")
    x = as_array("x", x, 3)
    Wx = as_array("Wx", Wx, 2)
    N, T, D = x.shape
    H = Wx.shape[1]
    check_shape("x", x, (N, T, Wx.shape[0]), "(N, T, D)")
    Wskip = as_array("Wskip", Wskip, 2)
    check_shape("Wskip", Wskip, (H, H), "(H, H)")
    if Wh is not None:
        Wh = as_array("Wh", Wh, 2)
        check_shape("Wh", Wh, (H, H), "(H, H)")
    h = np.zeros((N, T, H))
    zero = np.zeros((N, H))
    for t in range(T):
        a = x[:, t] @ Wx + b
        if Wh is not None:
            a = a + (h[:, t - 1] if t >= 1 else zero) @ Wh
        a = a + (h[:, t - delay] if t >= delay else zero) @ Wskip
        h[:, t] = np.tanh(a)
    return h


def skip_jacobian_norms(h, Wh, Wskip, delay: int):
    """``||dh(t)/dh(1)||_2`` for t = 1..T in a skip-connection RNN (one sequence).

    ``J(t) = diag(1 - h(t)^2) (W J(t-1) + W_d J(t-d))`` with ``J(1) = I`` and ``J(s) = 0`` for s < 1
    (column convention, ``W = Wh^T``, ``W_d = Wskip^T``). Pass zeros for ``h`` to study the linear
    recurrence; ``Wh=None`` as in :func:`skip_rnn_forward`.

    Args:
        h: hidden states of one sequence, (T, H).

    Returns:
        norms: (T,), ``norms[0] = 1``.
    """
    h = as_array("h", h, 2)
    T, H = h.shape
    W = None if Wh is None else as_array("Wh", Wh, 2).T
    Wd = as_array("Wskip", Wskip, 2).T
    J = [np.eye(H)]
    for t in range(1, T):
        A = np.zeros((H, H))
        if W is not None:
            A += W @ J[t - 1]
        if t - delay >= 0:
            A += Wd @ J[t - delay]
        J.append((1.0 - h[t] ** 2)[:, None] * A)
    return np.array([np.linalg.norm(Jt, 2) for Jt in J])


def content_read(M, key, beta: float):
    """Content-based addressing: ``w = softmax(beta cos(key, M_i))``, ``r = sum_i w_i M_i``.

    Eqs. {eq}`mem-weights` and {eq}`mem-read`.

    Args:
        M: memory, one slot per row, (n, m); key: query (m,) or a batch (B, m); beta: sharpness >= 0.

    Returns:
        r: read vector(s), shape of ``key``; w: weights over the slots, (n,) or (B, n).
    """
    M = as_array("M", M, 2)
    key = as_array("key", key)
    if key.ndim not in (1, 2) or key.shape[-1] != M.shape[1]:
        raise ValueError(f"key: expected shape ({M.shape[1]},) or (B, {M.shape[1]}), got {key.shape}")
    eps = 1e-12
    sim = (key @ M.T) / (np.linalg.norm(key, axis=-1, keepdims=True) * np.linalg.norm(M, axis=1) + eps)
    z = beta * sim
    z = z - z.max(axis=-1, keepdims=True)
    w = np.exp(z)
    w /= w.sum(axis=-1, keepdims=True)
    return w @ M, w


def memory_write(M, w, erase, add):
    """Erase-then-add write of the neural Turing machine: a new memory, ``M`` is not modified.

    Eqs. {eq}`mem-erase` and {eq}`mem-add`, for every slot ``i``::

        M~_i = M_i * (1 - w_i e)        # erase: slot i forgets the fraction w_i e_j of entry j
        M'_i = M~_i + w_i a             # add:   slot i receives w_i times the add vector

    Args:
        M: memory, one slot per row, (n, m); w: write weights over the slots, (n,), each in [0, 1]
        (typically the output of :func:`content_read`, so they sum to 1); erase: erase vector (m,),
        each entry in [0, 1]; add: add vector (m,).

    Returns:
        The written memory, (n, m).
    """
    M = as_array("M", M, 2)
    n, m = M.shape
    w = as_array("w", w, 1)
    check_shape("w", w, (n,), "(n,)")
    erase = as_array("erase", erase, 1)
    check_shape("erase", erase, (m,), "(m,)")
    add = as_array("add", add, 1)
    check_shape("add", add, (m,), "(m,)")
    if np.any(w < 0) or np.any(w > 1):
        raise ValueError("w: write weights must lie in [0, 1]")
    if np.any(erase < 0) or np.any(erase > 1):
        raise ValueError("erase: entries must lie in [0, 1] (a sigmoid output)")
    erased = M * (1.0 - np.outer(w, erase))          # eq. (mem-erase)
    return erased + np.outer(w, add)                 # eq. (mem-add)
