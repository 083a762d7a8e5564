"""Plotting helpers used by the book: computational graphs, hidden states, attention maps."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .diagrams import (OKABE_ITO, attention_diagram, bidirectional_diagram, encoder_decoder_diagram,
                       gru_cell_diagram, lstm_cell_diagram, svg, unfolded_graph)

__all__ = ["draw_unfolded", "plot_hidden_states", "plot_state_trajectories", "plot_heatmap",
           "unfolded_graph", "lstm_cell_diagram", "gru_cell_diagram", "bidirectional_diagram",
           "encoder_decoder_diagram", "attention_diagram", "svg", "OKABE_ITO"]

_PATTERNS = ("hidden", "output", "single")


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


_R = 0.3  # node radius in data units


def _node(ax, xy, text, color):
    from matplotlib.patches import Circle

    ax.add_patch(Circle(xy, _R, fc=color, ec="black", lw=1, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=10, zorder=4)


def _edge(ax, a, b, label=None, rad=0.0, offset=(0.08, 0.0), dashed=False):
    """Arrow from node centre ``a`` to node centre ``b``, starting and ending on the circles."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = (b - a) / max(np.linalg.norm(b - a), 1e-9)
    start, end = a + _R * d, b - _R * d
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops=dict(arrowstyle="-|>", lw=1.3, shrinkA=0, shrinkB=0,
                                linestyle="--" if dashed else "-",
                                connectionstyle=f"arc3,rad={rad}"))
    if label:
        mx, my = (start + end) / 2 + np.asarray(offset)
        ax.text(mx, my, label, fontsize=10, style="italic", color="#8b0000", zorder=4)


_COLORS = dict(x="#cfe2f3", h="#fff2cc", o="#d9ead3", L="#f4cccc", y="#eeeeee")


def draw_unfolded(pattern: str = "hidden", T: int = 3, ax=None, folded: bool = True):
    """Draw an RNN as a folded circuit and as its unfolded computational graph.

    Args:
        pattern: ``"hidden"`` (hidden-to-hidden recurrence, an output at every step),
            ``"output"`` (output-to-hidden recurrence, trained with teacher forcing) or
            ``"single"`` (hidden-to-hidden recurrence, one output after the whole sequence).
        T: number of unfolded time steps drawn (>= 1).
        ax: matplotlib axes to draw into (a new figure if None).
        folded: also draw the folded graph on the left, with the time-delay loop.

    Returns:
        The axes.
    """
    if pattern not in _PATTERNS:
        raise ValueError(f"pattern: expected one of {_PATTERNS}, got {pattern!r}")
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T: expected a positive integer, got {T!r}")
    ax = _axes(ax, (2.2 * T + (2.5 if folded else 0.5), 4.6))
    x0 = 0.0
    if folded:
        _draw_folded(ax, pattern)
        ax.annotate("", xy=(1.75, 1.5), xytext=(1.05, 1.5),
                    arrowprops=dict(arrowstyle="-|>", lw=2, color="gray"))
        ax.text(1.4, 1.7, "unfold", ha="center", color="gray", fontsize=10)
        x0 = 3.2
    cols = [x0 + 1.6 * k for k in range(T)]
    steps = [f"t-1", "t", "t+1"] if T == 3 else [str(k + 1) for k in range(T)]
    for k, (cx, s) in enumerate(zip(cols, steps)):
        last = k == T - 1
        with_output = pattern != "single" or last
        _node(ax, (cx, 0), f"$x^{{({s})}}$", _COLORS["x"])
        _node(ax, (cx, 1), f"$h^{{({s})}}$", _COLORS["h"])
        _edge(ax, (cx, 0), (cx, 1), "U" if k == 0 else None)
        if with_output:
            _node(ax, (cx, 2), f"$o^{{({s})}}$", _COLORS["o"])
            _node(ax, (cx, 3), f"$L^{{({s})}}$", _COLORS["L"])
            _node(ax, (cx + 0.7, 3.6), f"$y^{{({s})}}$", _COLORS["y"])
            _edge(ax, (cx, 1), (cx, 2), "V" if k == 0 or pattern == "single" else None)
            _edge(ax, (cx, 2), (cx, 3))
            _edge(ax, (cx + 0.7, 3.6), (cx, 3))
        if k > 0:
            prev = cols[k - 1]
            if pattern == "output":
                _edge(ax, (prev, 2), (cx, 1), "W" if k == 1 else None, offset=(0.0, 0.12))
            else:
                _edge(ax, (prev, 1), (cx, 1), "W" if k == 1 else None, offset=(-0.05, 0.1))
    # dangling edges into the first and out of the last step: the graph goes on
    src_y = 2 if pattern == "output" else 1
    _edge(ax, (cols[0] - 1.1, src_y), (cols[0], 1), dashed=True)
    if pattern != "single":
        _edge(ax, (cols[-1], src_y), (cols[-1] + 1.1, 1), dashed=True)
    ax.set_xlim(-1.3 if folded else cols[0] - 1.3, cols[-1] + 1.4)
    ax.set_ylim(-0.6, 4.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _draw_folded(ax, pattern):
    from matplotlib.patches import Rectangle

    cx = 0.0
    for y, name in enumerate("xhoL"):
        _node(ax, (cx, y), f"${name}$", _COLORS[name])
    _node(ax, (cx + 0.7, 3.6), "$y$", _COLORS["y"])
    _edge(ax, (cx, 0), (cx, 1), "U")
    _edge(ax, (cx, 1), (cx, 2), "V")
    _edge(ax, (cx, 2), (cx, 3))
    _edge(ax, (cx + 0.7, 3.6), (cx, 3))
    # the recurrent loop through a one-step delay (the black square of Goodfellow et al., fig. 10.2)
    top, bottom = (2.0, 1.0) if pattern == "output" else (1.45, 0.55)
    xs = [cx - _R * 0.7 if pattern != "output" else cx - _R, cx - 0.8, cx - 0.8]
    ys = [top if pattern == "output" else 1 + _R * 0.7, top, bottom]
    if pattern != "output":
        ys[0] = 1 + _R * 0.7
    ax.plot(xs, ys, color="black", lw=1.3, zorder=2)
    end = (cx - _R * 0.7, 1 - _R * 0.7) if pattern != "output" else (cx - _R, 1.0)
    ax.annotate("", xy=end, xytext=(cx - 0.8, bottom), zorder=2,
                arrowprops=dict(arrowstyle="-|>", lw=1.3, shrinkA=0, shrinkB=0))
    mid = (top + bottom) / 2
    ax.add_patch(Rectangle((cx - 0.87, mid - 0.07), 0.14, 0.14, color="black", zorder=4))
    ax.text(cx - 1.15, mid - 0.05, "W", fontsize=10, style="italic", color="#8b0000")


def plot_hidden_states(h: np.ndarray, tokens: Sequence[str] | None = None, ax=None,
                       title: str | None = None):
    """Heat map of one sequence's hidden states: units down, time across.

    Args:
        h: hidden states of one sequence, (T, H).
        tokens: optional labels of the T time steps (e.g. the input characters).
    """
    h = np.asarray(h)
    if h.ndim != 2:
        raise ValueError(f"h: expected shape (T, H), got {h.shape}")
    T, H = h.shape
    if tokens is not None and len(tokens) != T:
        raise ValueError(f"tokens: expected {T} labels (one per step), got {len(tokens)}")
    ax = _axes(ax, (max(4, 0.45 * T + 1.5), max(2.5, 0.28 * H + 1)))
    im = ax.imshow(h.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    ax.set_xlabel("time step t")
    ax.set_ylabel("hidden unit")
    if tokens is not None:
        ax.set_xticks(range(T))
        ax.set_xticklabels(list(tokens))
    if title:
        ax.set_title(title)
    return ax


def plot_state_trajectories(hs: Sequence[np.ndarray], labels: Sequence[str] | None = None, ax=None,
                            title: str | None = None):
    """Hidden-state trajectories of several sequences projected on the first two principal axes.

    Args:
        hs: a list of arrays (T_k, H), one per sequence (lengths may differ).
        labels: optional legend entry per sequence.
    """
    if len(hs) == 0:
        raise ValueError("hs: expected at least one trajectory")
    arrays = [np.asarray(h, dtype=np.float64) for h in hs]
    dims = {a.shape[1] for a in arrays if a.ndim == 2}
    if any(a.ndim != 2 for a in arrays) or len(dims) != 1:
        raise ValueError("hs: expected 2-d arrays (T_k, H) with the same H")
    allh = np.concatenate(arrays)
    mean = allh.mean(0)
    _, _, vt = np.linalg.svd(allh - mean, full_matrices=False)
    proj = vt[:2].T if vt.shape[0] >= 2 else np.eye(allh.shape[1], 2)
    ax = _axes(ax, (5, 4.2))
    for k, a in enumerate(arrays):
        p = (a - mean) @ proj
        line, = ax.plot(p[:, 0], p[:, 1], "-o", ms=3, lw=1.2,
                        label=labels[k] if labels is not None else None)
        ax.plot(p[0, 0], p[0, 1], "s", color=line.get_color(), ms=6)
        ax.plot(p[-1, 0], p[-1, 1], "*", color=line.get_color(), ms=10)
    ax.set_xlabel("principal axis 1")
    ax.set_ylabel("principal axis 2")
    if labels is not None:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_heatmap(weights: np.ndarray, xlabels=None, ylabels=None, ax=None, title=None, cmap="viridis"):
    """A labelled heat map (e.g. attention weights, queries down, keys across)."""
    w = np.asarray(weights)
    if w.ndim != 2:
        raise ValueError(f"weights: expected a 2-d array, got shape {w.shape}")
    ax = _axes(ax, (max(3, 0.4 * w.shape[1] + 1.5), max(3, 0.4 * w.shape[0] + 1)))
    im = ax.imshow(w, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)))
        ax.set_xticklabels(list(xlabels), rotation=90)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)))
        ax.set_yticklabels(list(ylabels))
    if title:
        ax.set_title(title)
    return ax
