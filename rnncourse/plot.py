"""Plotting helpers used by the book: computational graphs, hidden states, attention maps, and the
cell diagrams (see the section "Diagrams drawn by code" below)."""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np

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

# ==================================================================================================
# Diagrams drawn by code
#
# Diagrams drawn by code: the unfolded graph, the LSTM and GRU cells, bidirectional, encoder–decoder, attention.
#
# Every function returns a :class:`matplotlib.figure.Figure` sized for a phone-width page (few labels,
# large type) and coloured with the Okabe–Ito palette, which stays distinguishable under the common
# colour-vision deficiencies; highlighted paths also differ in line style, not only in colour. Use
# :func:`svg` to show one as vector graphics in a notebook.
# ==================================================================================================

# Okabe & Ito (2008), "Color Universal Design": safe for protan, deutan and tritan viewers
OKABE_ITO = dict(orange="#E69F00", sky="#56B4E9", green="#009E73", yellow="#F0E442", blue="#0072B2",
                 vermillion="#D55E00", purple="#CC79A7", black="#000000", grey="#999999")
_FS = 17          # label size (points); figures are about 6.5 in wide, so this reads at 420 px
_SMALL = 13.5


def svg(fig):
    """The figure as an inline SVG for a notebook (vector in the built book); closes the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import SVG

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return SVG(buf.getvalue())


def _canvas(width, height, xlim, ylim):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, xy, text, fc, w=0.9, h=0.7, fs=_FS, ec="black", lw=1.2):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=fc, ec=ec, lw=lw, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fs, zorder=4)


def _op(ax, xy, text, r=0.28, fs=_FS):
    from matplotlib.patches import Circle

    ax.add_patch(Circle(xy, r, fc="white", ec="black", lw=1.2, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=fs, zorder=4)


def _arrow(ax, a, b, color="black", lw=1.4, ls="-", rad=0.0, head=True, z=2):
    ax.annotate("", xy=b, xytext=a, zorder=z,
                arrowprops=dict(arrowstyle="-|>" if head else "-", lw=lw, color=color, linestyle=ls,
                                shrinkA=0, shrinkB=0, mutation_scale=14,
                                connectionstyle=f"arc3,rad={rad}"))


def _path(ax, xs, ys, color, lw=7, ls="-", alpha=0.55):
    """A wide translucent band under the wiring: a highlighted path."""
    ax.plot(xs, ys, color=color, lw=lw, ls=ls, alpha=alpha, solid_capstyle="round", zorder=1)


def _legend(ax, entries, loc="lower center", ncol=1, anchor=None):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=6, ls=ls, alpha=0.7) for _, c, ls in entries]
    kw = dict(bbox_to_anchor=anchor) if anchor else {}
    ax.legend(handles, [t for t, _, _ in entries], loc=loc, ncol=ncol, fontsize=_SMALL, frameon=False,
              handlelength=2.2, **kw)


def _check_T(T, low=1, high=8):
    if not isinstance(T, int) or isinstance(T, bool) or not low <= T <= high:
        raise ValueError(f"T: expected an integer in [{low}, {high}], got {T!r}")


# ------------------------------------------------------------------------------------------ unfolded
def unfolded_graph(T: int = 3):
    """The folded RNN (a loop through a one-step delay) and its unfolding over ``T`` steps.

    The same three matrices label every step: ``U`` (input to hidden), ``W`` (hidden to hidden),
    ``V`` (hidden to output), each in its own colour, so the weight sharing is visible.
    """
    _check_T(T, 1, 5)
    C = OKABE_ITO
    colors = dict(U=C["blue"], W=C["vermillion"], V=C["green"])
    x0, dx, R = 3.4, 2.5, 0.6
    xs = [x0 + dx * k for k in range(T)]
    fig, ax = _canvas(2.0 + 1.5 * T, 4.8, (-1.5, xs[-1] + 1.4), (-0.9, 4.7))

    def node(xy, text, fc):
        _op(ax, xy, text, r=R, fs=_SMALL)
        ax.patches[-1].set_facecolor(fc)

    def edge(a, b, name, rad=0.0, label_at=None):
        _arrow(ax, a, b, color=colors[name], lw=2.0, rad=rad)
        if label_at:
            ax.text(*label_at, name, fontsize=_FS, color=colors[name], fontweight="bold", style="italic",
                    ha="center", va="center", zorder=5)

    Y = (0.0, 1.95, 3.9)                    # rows of x, h, o
    # folded
    node((0, Y[0]), "$x$", "#dbe9f6")
    node((0, Y[1]), "$h$", "#fdf0d5")
    node((0, Y[2]), "$o$", "#d6efe6")
    edge((0, Y[0] + R), (0, Y[1] - R), "U", label_at=(0.32, (Y[0] + Y[1]) / 2))
    edge((0, Y[1] + R), (0, Y[2] - R), "V", label_at=(0.32, (Y[1] + Y[2]) / 2))
    ax.annotate("", xy=(-0.5, Y[1] - 0.33), xytext=(-0.5, Y[1] + 0.33), zorder=2,
                arrowprops=dict(arrowstyle="-|>", lw=2.0, color=colors["W"], mutation_scale=14,
                                connectionstyle="arc3,rad=1.6", shrinkA=0, shrinkB=0))
    ax.text(-1.3, Y[1], "W", fontsize=_FS, color=colors["W"], fontweight="bold", style="italic",
            ha="center", va="center")
    ax.text(0, Y[0] - 0.75, "folded", fontsize=_SMALL, ha="center", va="center")
    _arrow(ax, (0.8, Y[1]), (1.9, Y[1]), color=C["grey"], lw=2.5)
    ax.text(1.35, Y[1] + 0.3, "unfold", fontsize=_SMALL, ha="center", color="#555555")
    # unfolded
    steps = ["t-1", "t", "t+1"] if T == 3 else [str(k + 1) for k in range(T)]
    for k, (cx, s) in enumerate(zip(xs, steps)):
        node((cx, Y[0]), f"$x^{{({s})}}$", "#dbe9f6")
        node((cx, Y[1]), f"$h^{{({s})}}$", "#fdf0d5")
        node((cx, Y[2]), f"$o^{{({s})}}$", "#d6efe6")
        edge((cx, Y[0] + R), (cx, Y[1] - R), "U", label_at=(cx + 0.4, (Y[0] + Y[1]) / 2))
        edge((cx, Y[1] + R), (cx, Y[2] - R), "V", label_at=(cx + 0.4, (Y[1] + Y[2]) / 2))
        src = (cx - dx + R, Y[1]) if k else (cx - 1.2, Y[1])
        _arrow(ax, src, (cx - R, Y[1]), color=colors["W"], lw=2.0, ls="-" if k else "--")
        ax.text(cx - dx / 2 if k else cx - 0.85, Y[1] + 0.3, "W", fontsize=_FS, color=colors["W"],
                fontweight="bold", style="italic", ha="center", va="center")
    _arrow(ax, (xs[-1] + R, Y[1]), (xs[-1] + 1.2, Y[1]), color=colors["W"], lw=2.0, ls="--")
    ax.text((xs[0] + xs[-1]) / 2, Y[2] + 0.8, "the same U, W, V at every step", fontsize=_SMALL, ha="center",
            va="center")
    return fig


# ---------------------------------------------------------------------------------------------- LSTM
def lstm_cell_diagram():
    """One LSTM step: the four gate blocks, the cell path ``c`` and the output path ``h``.

    Two paths are highlighted, as in seed 000's reading "the LSTM is a vanilla RNN plus parts":
    the **vanilla-RNN path** (solid orange: ``h(t-1), x(t)`` → ``tanh`` block ``g`` → cell → ``tanh`` →
    ``h(t)``) and the **constant error carousel** (dashed blue: the cell line ``c(t-1)`` → ``c(t)``, on
    which the gradient is only multiplied by the forget gate ``f``). The gates ``f``, ``i``, ``o`` are
    the parts added around the vanilla RNN.
    """
    C = OKABE_ITO
    fig, ax = _canvas(6.8, 5.2, (-1.1, 9.4), (-1.9, 5.3))
    yc, yg, ybus = 4.0, 1.6, 0.5
    gx = dict(f=1.3, i=2.75, g=4.35, o=6.0)
    x_in, x_add, x_out = 3.55, 3.55, 7.45
    # highlighted paths (drawn first, under the wiring)
    _path(ax, [-0.4, 8.5], [yc, yc], C["sky"], lw=12, ls="--", alpha=0.6)                 # CEC
    _path(ax, [0.3, gx["g"], gx["g"], x_in, x_add, x_out, x_out, x_out, 8.3],
          [ybus, ybus, yg + 0.35, 2.8, yc, yc, 3.0, yg, yg], C["orange"], lw=7, alpha=0.75)     # vanilla RNN
    # the cell line
    ax.text(-0.45, yc + 0.45, "$c^{(t-1)}$", fontsize=_FS, ha="center")
    ax.text(8.75, yc + 0.45, "$c^{(t)}$", fontsize=_FS, ha="center")
    _arrow(ax, (-0.5, yc), (gx["f"] - 0.28, yc))
    _op(ax, (gx["f"], yc), "×")
    _arrow(ax, (gx["f"] + 0.28, yc), (x_add - 0.28, yc))
    _op(ax, (x_add, yc), "+")
    _arrow(ax, (x_add + 0.28, yc), (8.9, yc))
    # gate blocks on the bus of [h(t-1), x(t)]
    labels = dict(f="$f$  σ", i="$i$  σ", g="$g$  tanh", o="$o$  σ")
    for name, x in gx.items():
        _box(ax, (x, yg), labels[name], "#f2f2f2" if name != "g" else "#fde7c2", w=1.1 if name != "g" else 1.4)
        _arrow(ax, (x, ybus), (x, yg - 0.35))
    ax.plot([0.3, gx["o"]], [ybus, ybus], color="black", lw=1.4, zorder=2)
    ax.text(-0.1, ybus - 0.05, "$h^{(t-1)}$", fontsize=_FS, ha="right", va="center")
    ax.text(1.0, -0.45, "$x^{(t)}$", fontsize=_FS, ha="center", va="center")
    _arrow(ax, (1.0, -0.2), (1.0, ybus - 0.02))
    # forget gate multiplies the cell; input gate times candidate is added
    _arrow(ax, (gx["f"], yg + 0.35), (gx["f"], yc - 0.28))
    _op(ax, (x_in, 2.8), "×")
    _arrow(ax, (gx["i"], yg + 0.35), (x_in - 0.22, 2.65), rad=-0.25)
    _arrow(ax, (gx["g"], yg + 0.35), (x_in + 0.22, 2.65), rad=0.25)
    _arrow(ax, (x_in, 2.8 + 0.28), (x_add, yc - 0.28))
    # output: h = o * tanh(c)
    ax.plot([x_out, x_out], [yc, 3.0 + 0.3], color="black", lw=1.4, zorder=2)
    _box(ax, (x_out, 3.0), "tanh", "white", w=0.95, h=0.55, fs=_SMALL + 1)
    _op(ax, (x_out, yg), "×")
    _arrow(ax, (x_out, 3.0 - 0.28), (x_out, yg + 0.28))
    _arrow(ax, (gx["o"] + 0.52, yg), (x_out - 0.28, yg))
    _arrow(ax, (x_out + 0.28, yg), (8.5, yg))
    ax.text(8.6, yg, "$h^{(t)}$", fontsize=_FS, ha="left", va="center")
    _legend(ax, [("vanilla RNN path: tanh, then on to h", C["orange"], "-"),
                 ("constant error carousel (cell c)", C["sky"], "--")], loc="lower center",
            anchor=(0.5, -0.07))
    return fig


# ----------------------------------------------------------------------------------------------- GRU
def gru_cell_diagram():
    """One GRU step: reset gate ``r``, update gate ``z``, candidate ``n`` (PyTorch's form).

    ``h(t) = z * h(t-1) + (1 - z) * n``: the top line is the **leak** (dashed blue), on which the
    gradient is multiplied by ``z`` only; the candidate path (solid orange) is the vanilla RNN, with
    the reset gate scaling the recurrent term inside ``tanh``.
    """
    C = OKABE_ITO
    fig, ax = _canvas(6.8, 5.0, (-0.9, 9.3), (-1.9, 5.2))
    yt, yg, ybus = 4.0, 1.6, 0.5
    xz, xr, xn, xmul, xadd, xone = 1.4, 3.6, 5.9, 1.4, 5.9, 3.2
    _path(ax, [-0.4, 8.5], [yt, yt], C["sky"], lw=12, ls="--", alpha=0.6)                 # leak
    _path(ax, [0.3, xn, xn, xadd, 8.5], [ybus, ybus, yg, yt, yt], C["orange"], lw=7, alpha=0.75)
    ax.text(-0.45, yt + 0.45, "$h^{(t-1)}$", fontsize=_FS, ha="center")
    ax.text(8.75, yt + 0.45, "$h^{(t)}$", fontsize=_FS, ha="center")
    _arrow(ax, (-0.5, yt), (xmul - 0.28, yt))
    _op(ax, (xmul, yt), "×")
    _arrow(ax, (xmul + 0.28, yt), (xadd - 0.28, yt))
    _op(ax, (xadd, yt), "+")
    _arrow(ax, (xadd + 0.28, yt), (8.9, yt))
    # h(t-1) also feeds the bus
    ax.plot([-0.5, -0.5, 0.3], [yt, ybus, ybus], color="black", lw=1.4, zorder=2)
    ax.plot([0.3, xn], [ybus, ybus], color="black", lw=1.4, zorder=2)
    ax.text(0.7, -0.45, "$x^{(t)}$", fontsize=_FS, ha="center", va="center")
    _arrow(ax, (0.7, -0.2), (0.7, ybus - 0.02))
    _box(ax, (xz, yg), "$z$  σ", "#f2f2f2", w=1.05)
    _box(ax, (xr, yg), "$r$  σ", "#f2f2f2", w=1.05)
    _box(ax, (xn, yg), "$n$  tanh", "#fde7c2", w=1.5)
    for x in (xr, xz, xn):
        _arrow(ax, (x, ybus), (x, yg - 0.35))
    # the reset gate scales the recurrent term inside the candidate's tanh
    _arrow(ax, (xr + 0.53, yg), (xn - 0.75, yg))
    # update gate: z on the old state, 1 - z on the candidate
    _arrow(ax, (xz, yg + 0.35), (xmul, yt - 0.28))
    _op(ax, (xadd, 2.9), "×")
    _op(ax, (xone, 2.9), "1−", r=0.3, fs=_SMALL)
    _arrow(ax, (xz + 0.3, yg + 0.35), (xone - 0.22, 2.9 - 0.22))
    _arrow(ax, (xone + 0.3, 2.9), (xadd - 0.28, 2.9))
    _arrow(ax, (xn, yg + 0.35), (xadd, 2.9 - 0.28))
    _arrow(ax, (xadd, 2.9 + 0.28), (xadd, yt - 0.28))
    _legend(ax, [("candidate path (vanilla RNN with reset)", C["orange"], "-"),
                 ("leak: gradient times z only", C["sky"], "--")], loc="lower center",
            anchor=(0.5, -0.07))
    return fig


# ----------------------------------------------------------------------------------- bidirectional
def bidirectional_diagram(T: int = 4):
    """A bidirectional RNN over ``T`` steps: a forward chain ``h`` and a backward chain ``g``, both read
    every ``x(t)``; each output ``o(t)`` reads ``h(t)`` and ``g(t)``, so it sees the whole sequence."""
    _check_T(T, 2, 6)
    C = OKABE_ITO
    xs = [1.7 * k for k in range(T)]
    fig, ax = _canvas(2.6 + 1.3 * T, 4.6, (-2.4, xs[-1] + 2.4), (-0.6, 4.3))
    yx, yh, yg, yo = 0.0, 1.3, 2.4, 3.6
    for k, cx in enumerate(xs):
        t = k + 1
        _op(ax, (cx, yx), f"$x^{{({t})}}$", r=0.36, fs=_SMALL)
        _op(ax, (cx, yh), f"$h^{{({t})}}$", r=0.36, fs=_SMALL)
        ax.patches[-1].set_facecolor("#dbe9f6")
        _op(ax, (cx + 0.35, yg), f"$g^{{({t})}}$", r=0.36, fs=_SMALL)
        ax.patches[-1].set_facecolor("#fbe3d3")
        _op(ax, (cx, yo), f"$o^{{({t})}}$", r=0.36, fs=_SMALL)
        ax.patches[-1].set_facecolor("#d6efe6")
        _arrow(ax, (cx, yx + 0.36), (cx, yh - 0.36), color=C["blue"])
        _arrow(ax, (cx + 0.15, yx + 0.33), (cx + 0.3, yg - 0.36), color=C["vermillion"], ls="--", rad=0.25)
        _arrow(ax, (cx - 0.1, yh + 0.36), (cx - 0.05, yo - 0.36), color=C["blue"], rad=0.2)
        _arrow(ax, (cx + 0.3, yg + 0.36), (cx + 0.12, yo - 0.36), color=C["vermillion"], ls="--")
        if k:
            _arrow(ax, (xs[k - 1] + 0.36, yh), (cx - 0.36, yh), color=C["blue"], lw=2.0)
            _arrow(ax, (cx + 0.35 - 0.36, yg), (xs[k - 1] + 0.35 + 0.36, yg), color=C["vermillion"], lw=2.0,
                   ls="--")
    ax.text(xs[0] - 0.5, yh, "forward\nh →", fontsize=_SMALL, color=C["blue"], ha="right", va="center")
    ax.text(xs[-1] + 0.85, yg, "backward\n← g", fontsize=_SMALL, color=C["vermillion"], ha="left",
            va="center")
    return fig


# --------------------------------------------------------------------------------- encoder–decoder
def encoder_decoder_diagram(n_in: int = 3, n_out: int = 3):
    """An RNN encoder–decoder: the encoder reads ``x(1..n_in)``; its last state is the **context c**,
    a fixed-size vector (the bottleneck) that is all the decoder sees of the input while it emits
    ``y(1..n_out)``, each output fed back as the next input."""
    _check_T(n_in, 1, 5)
    _check_T(n_out, 1, 5)
    C = OKABE_ITO
    xe = [1.4 * k for k in range(n_in)]
    xc = xe[-1] + 1.6
    xd = [xc + 1.6 + 1.4 * k for k in range(n_out)]
    fig, ax = _canvas(1.2 + 0.95 * (n_in + n_out + 1), 4.4, (-0.8, xd[-1] + 0.8), (-0.9, 3.6))
    for k, cx in enumerate(xe):
        _op(ax, (cx, 0), f"$x^{{({k + 1})}}$", r=0.34, fs=_SMALL)
        _op(ax, (cx, 1.3), f"$h^{{({k + 1})}}$", r=0.34, fs=_SMALL)
        ax.patches[-1].set_facecolor("#dbe9f6")
        _arrow(ax, (cx, 0.34), (cx, 0.96), color=C["blue"])
        if k:
            _arrow(ax, (xe[k - 1] + 0.34, 1.3), (cx - 0.34, 1.3), color=C["blue"], lw=2.0)
    _box(ax, (xc, 1.3), "$c$", C["yellow"], w=0.75, h=0.75, lw=2.2)
    _arrow(ax, (xe[-1] + 0.34, 1.3), (xc - 0.4, 1.3), color="black", lw=2.0)
    ax.text(xc, 0.45, "context:\nbottleneck", fontsize=_SMALL, ha="center", va="center")
    for k, cx in enumerate(xd):
        _op(ax, (cx, 1.3), f"$s^{{({k + 1})}}$", r=0.34, fs=_SMALL)
        ax.patches[-1].set_facecolor("#fbe3d3")
        _op(ax, (cx, 2.6), f"$y^{{({k + 1})}}$", r=0.34, fs=_SMALL)
        _arrow(ax, (cx, 1.64), (cx, 2.26), color=C["vermillion"])
        prev = (xd[k - 1] + 0.34, 1.3) if k else (xc + 0.4, 1.3)
        _arrow(ax, prev, (cx - 0.34, 1.3), color=C["vermillion"] if k else "black", lw=2.0)
        if k:     # the previous output is the next input
            _arrow(ax, (xd[k - 1] + 0.25, 2.38), (cx - 0.2, 1.55), color=C["grey"], ls=":", lw=1.4)
    ax.text((xe[0] + xe[-1]) / 2, -0.75, "encoder", fontsize=_FS, ha="center", color=C["blue"])
    ax.text((xd[0] + xd[-1]) / 2, -0.75, "decoder", fontsize=_FS, ha="center", color=C["vermillion"])
    return fig


# ---------------------------------------------------------------------------------------- attention
def attention_diagram(weights=(0.1, 0.6, 0.2, 0.1)):
    """One decoder step with attention: scores of the decoder state against every encoder state, a
    softmax into weights ``alpha``, and the context ``c(t) = sum_j alpha_j h(j)``. Line widths are
    proportional to the given (illustrative) weights; they must be non-negative and sum to 1."""
    import numpy as np

    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not 2 <= len(w) <= 6 or (w < 0).any() or not np.isclose(w.sum(), 1.0):
        raise ValueError(f"weights: expected 2 to 6 non-negative numbers summing to 1, got {weights!r}")
    C = OKABE_ITO
    J = len(w)
    xs = [1.5 * j for j in range(J)]
    xc, xs_dec = xs[-1] + 2.2, xs[-1] + 2.2
    fig, ax = _canvas(2.6 + 1.05 * J, 4.8, (-0.8, xc + 1.3), (-0.7, 4.4))
    for j, cx in enumerate(xs):
        _op(ax, (cx, 0.2), f"$h^{{({j + 1})}}$", r=0.36, fs=_SMALL)
        ax.patches[-1].set_facecolor("#dbe9f6")
        ax.text(cx, 1.05, f"{w[j]:.1f}", fontsize=_SMALL, ha="center", va="center", color=C["vermillion"],
                bbox=dict(fc="white", ec="none", pad=0.5), zorder=6)
        ax.plot([cx, xc], [0.56, 2.0 - 0.36], color=C["vermillion"], lw=0.6 + 9 * w[j], alpha=0.85,
                solid_capstyle="round", zorder=1)
        if j:
            _arrow(ax, (xs[j - 1] + 0.36, 0.2), (cx - 0.36, 0.2), color=C["blue"])
    _op(ax, (xc, 2.0), "$c^{(t)}$", r=0.38, fs=_SMALL)
    ax.patches[-1].set_facecolor(C["yellow"])
    _op(ax, (xs_dec + 0.0, 3.6), "$s^{(t)}$", r=0.38, fs=_SMALL)
    ax.patches[-1].set_facecolor("#fbe3d3")
    _op(ax, (xs_dec - 2.2, 3.6), "$s^{(t-1)}$", r=0.45, fs=_SMALL + 1)
    ax.patches[-1].set_facecolor("#fbe3d3")
    _arrow(ax, (xs_dec - 2.2 + 0.45, 3.6), (xs_dec - 0.38, 3.6), color=C["vermillion"], lw=2.0)
    _arrow(ax, (xc, 2.38), (xs_dec, 3.6 - 0.38), color="black", lw=2.0)
    # the scores read the decoder state (dotted: a query, not a weight path)
    _arrow(ax, (xs_dec - 2.2, 3.6 - 0.45), (xs[J // 2] + 0.1, 0.56 + 0.4), color=C["grey"], ls=":", lw=1.4)
    ax.text(xs[J // 2] - 0.9, 2.55, "score(s, h) → softmax", fontsize=_SMALL, ha="center", color="#555555")
    ax.text(xc + 0.55, 1.45, "$\\alpha$-weighted\nsum", fontsize=_SMALL, ha="left", va="center")
    ax.text((xs[0] + xs[-1]) / 2, -0.55, "encoder states", fontsize=_SMALL, ha="center", color=C["blue"])
    return fig
