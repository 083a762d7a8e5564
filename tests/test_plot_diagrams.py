"""The diagrams of rnncourse.plot: each is a Figure with its labels, saves as SVG, rejects bad input."""
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from rnncourse import plot  # noqa: E402
from rnncourse.plot import (attention_diagram, bidirectional_diagram, encoder_decoder_diagram,  # noqa: E402
                            gru_cell_diagram, lstm_cell_diagram, unfolded_graph)


def _texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _has(texts, needle):
    return any(needle in t for t in texts)


CASES = [
    (lambda: unfolded_graph(3), ["U", "W", "V", "$x^{(t)}$", "$h^{(t-1)}$", "$o^{(t+1)}$", "unfold",
                                 "same U, W, V"]),
    (lstm_cell_diagram, ["$f$", "$i$", "$g$", "$o$", "tanh", "$c^{(t-1)}$", "$c^{(t)}$", "$h^{(t-1)}$",
                         "$h^{(t)}$", "$x^{(t)}$", "vanilla RNN path", "constant error carousel"]),
    (gru_cell_diagram, ["$r$", "$z$", "$n$", "1−", "$h^{(t-1)}$", "$h^{(t)}$", "$x^{(t)}$", "leak",
                        "candidate path"]),
    (lambda: bidirectional_diagram(4), ["$h^{(1)}$", "$g^{(4)}$", "$o^{(2)}$", "$x^{(3)}$", "forward",
                                        "backward"]),
    (encoder_decoder_diagram, ["encoder", "decoder", "$c$", "bottleneck", "$s^{(1)}$", "$y^{(3)}$",
                               "$x^{(1)}$"]),
    (attention_diagram, ["$c^{(t)}$", "$s^{(t)}$", "$s^{(t-1)}$", "$h^{(1)}$", "$h^{(4)}$", "0.6",
                         "softmax", "encoder states"]),
]


@pytest.mark.parametrize("make, labels", CASES)
def test_diagram_has_its_labels_and_saves_as_svg(make, labels):
    fig = make()
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        texts = _texts(fig)
        missing = [lab for lab in labels if not _has(texts, lab)]
        assert not missing, f"missing labels {missing} in {texts}"
        assert len(texts) <= 45, "too many labels to read at phone width"
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
        assert min(sizes) >= 11, "labels too small for a phone-width page"
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        assert buf.getvalue().lstrip().startswith("<?xml") and "<svg" in buf.getvalue()
    finally:
        plt.close(fig)


def test_svg_helper_returns_inline_svg():
    out = plot.svg(lstm_cell_diagram())
    assert "<svg" in out.data


def test_colours_are_okabe_ito():
    fig = lstm_cell_diagram()
    try:
        from matplotlib.colors import to_hex
        band_colours = {to_hex(line.get_color()) for line in fig.axes[0].lines if line.get_linewidth() >= 6}
        assert band_colours <= {v.lower() for v in plot.OKABE_ITO.values()}, band_colours
        styles = {line.get_linestyle() for line in fig.axes[0].lines if line.get_linewidth() >= 6}
        assert len(styles) == 2, "highlighted paths must differ in line style, not only colour"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("call", [
    lambda: unfolded_graph(0), lambda: unfolded_graph(2.5), lambda: bidirectional_diagram(1),
    lambda: encoder_decoder_diagram(0, 2), lambda: attention_diagram((0.5, 0.6)),
    lambda: attention_diagram((1.0,)), lambda: attention_diagram((-0.5, 1.5)),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_existing_names_still_importable():
    from rnncourse.plot import draw_unfolded, plot_heatmap, plot_hidden_states, plot_state_trajectories  # noqa
    assert callable(draw_unfolded)
