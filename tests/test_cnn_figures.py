"""The pictures of the notes' CNN section, drawn from the models (registered, rendered, with the
numbers read from the modules on them), the plots of 07's experiments, and the convolution
explorer's arithmetic."""

import numpy as np
import pytest

from lecture_lib import figures
from lecture_lib.experiments import cnn
from lecture_lib.models.fractal import FractalBlock
from lecture_lib.plots import cnn as plots
from lecture_lib.plots import cnn_diagrams
from lecture_lib.widgets import convolution

NAMES = ("comparison", "vgg", "resnet", "resnext", "fractalnet", "densenet")


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title]) + \
        " ".join(t.get_text() for t in fig.texts)


def test_the_sections_figures_are_registered_for_this_notebook():
    catalogue = figures.registered()
    for name in NAMES:
        assert catalogue[name].notebook == "07_cnn_architectures"


@pytest.mark.parametrize("name, expected", [
    ("vgg", ["138.4M parameters", "19 weight layers", "3x3 conv, 512", "11x11 conv/4, 64", "max pool/2"]),
    ("resnet", ["ResNet-34: 34 weight layers", "21.8M parameters", "identity", "3x3 conv/2, 128  ·  3x3 conv, 128",
                "16 blocks x 2 convs"]),
    ("resnext", ["32 paths", "conv parameters: 69,632", "conv parameters: 70,144", "3x3 conv, 4", "29 more"]),
    ("fractalnet", ["join of 3", "column 3:\n4 convs", "3 columns, 7 convs", "5 blocks, 33.7M parameters",
                    "deepest path 21 weight layers, shallowest 6"]),
    ("densenet", ["on 18 channels", "7.98M parameters", "24 layers\n→ 1024"]),
])
def test_diagrams_carry_the_numbers_of_the_models(name, expected):
    fig = figures.show(name)
    text = _texts(fig)
    for piece in expected:
        assert piece in text, f"{name}: {piece!r} missing"


@pytest.mark.parametrize("name", ["vgg", "resnet", "resnext", "fractalnet", "densenet"])
def test_diagrams_are_legible_at_notebook_width(name):
    """At most 10.5 inches wide (a notebook shows them nearly at full size), every label at least
    BOX_FONT points, inside its box when it labels one, and no two labels overlapping."""
    from matplotlib.patches import FancyBboxPatch

    fig = figures.show(name)
    assert fig.get_size_inches()[0] <= 10.5
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
        texts = [t for t in ax.texts if t.get_text().strip()]
        extents = [t.get_window_extent(renderer) for t in texts]
        for text, extent in zip(texts, extents, strict=True):
            assert text.get_fontsize() >= cnn_diagrams.BOX_FONT, (name, text.get_text())
            assert fig.bbox.contains(extent.x0, extent.y0) and fig.bbox.contains(extent.x1, extent.y1), \
                (name, text.get_text())
            anchor = ax.transData.transform(text.get_position())
            for box in boxes:
                if box.contains(*anchor):    # and clear of the box's sides, not touching them
                    assert box.x0 + 4 <= extent.x0 and extent.x1 <= box.x1 - 4, (name, text.get_text(), "too wide")
                    assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, (name, text.get_text(), "too tall")
        for i, a in enumerate(extents):
            for j in range(i + 1, len(extents)):
                assert not a.overlaps(extents[j]), (name, texts[i].get_text(), texts[j].get_text())
        if ax.get_title():
            assert ax.title.get_fontsize() >= cnn_diagrams.HEAD_FONT
            extent = ax.title.get_window_extent(renderer)
            assert fig.bbox.contains(extent.x0, extent.y0) and fig.bbox.contains(extent.x1, extent.y1), \
                (name, ax.get_title(), "cut at the figure's edge")


def test_fractal_layout_walks_the_recursion():
    convs, joins = cnn_diagrams.fractal_layout(FractalBlock(3, 1, 1))
    assert sorted(c for c, _, _ in convs) == [0, 0, 0, 0, 1, 1, 2]     # 4 + 2 + 1 convs per column
    assert sorted(joins) == [(2, 2), (4, 3)]                           # a join of 2 midway, of 3 at the end


def test_comparison_plots_a_given_result():
    result = cnn.measure_comparison(("alexnet", "resnet18", "squeezenet1_1"))
    fig = plots.plot_comparison(result)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(label.startswith("alexnet\n61.1M") for label in labels)
    assert len(fig.axes[0].collections) >= 3


@pytest.mark.parametrize("archs", [cnn.CLASSIC, plots.FIGURE_MODELS])
def test_comparison_labels_stay_clear_of_each_other_and_of_the_lines(archs):
    """No two labels overlap, no line (the frontier, a leader) crosses a label, and no leader
    crosses another label: the notebook's models and the notes' picture."""
    from matplotlib.text import Text

    from lecture_lib.plots.cnn import _crosses_box

    fig = plots.plot_comparison(cnn.measure_comparison(archs))
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if "\n" in t.get_text() and t.get_text().split("\n")[0] in archs]
    assert len(labels) == len(archs)
    boxes = [Text.get_window_extent(t) for t in labels]            # the text, without its leader
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:]), labels[i].get_text()
    segments = []
    for line in ax.lines:
        xy = line.get_transform().transform(line.get_xydata())
        segments += list(zip(xy[:-1], xy[1:], strict=True))
    for k, (label, box) in enumerate(zip(labels, boxes, strict=True)):
        assert not any(_crosses_box(a, b, box) for a, b in segments), label.get_text()
        if label.arrow_patch is not None:        # a leader: from its label to its disc, across no other label
            leader = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2), ax.transData.transform(label.xy)
            assert not any(_crosses_box(*leader, other) for j, other in enumerate(boxes) if j != k), \
                label.get_text()


def test_layer_sequence_reads_a_feed_forward_model():
    from lecture_lib.models.anatomy import meta

    kinds = [kind for kind, _ in cnn_diagrams.layer_sequence(meta("vgg16"))]
    assert kinds.count("conv") == 13 and kinds.count("pool") == 5 and kinds.count("fc") == 3


def test_experiment_plots_draw_their_results():
    cost = cnn.measure_conv_cost(np.random.default_rng(0), shape=(2, 2, 6, 6, 3, 3),
                                 memory_shape=(4, 2, 8, 8, 2, 3), repeats=1)
    fig = plots.plot_conv_cost(cost)
    assert "9x the input" in _texts(fig)
    fig = plots.plot_shortcut_gradients([1.0, 0.1, 0.01], [0.2, 0.1, 0.1], "residual")
    assert "100x (plain) against 2x (residual)" in _texts(fig)


# --------------------------------------------------------------------------- the explorer's arithmetic
def test_convolve_drops_unread_rows_like_torch():
    import torch

    image = np.random.default_rng(0).random((64, 64))
    kernel = np.ones((3, 3)) / 9
    out, unread = convolution.convolve(image, kernel, stride=3, pad=0, dilation=1)
    reference = torch.nn.functional.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                                           stride=3)[0, 0].numpy()
    assert out.shape == reference.shape == (21, 21) and unread == 1
    assert np.allclose(out, reference)
    assert convolution.convolve(image, kernel, stride=2, pad=1, dilation=2)[1] == 0


def test_explorer_text_states_the_formula_and_the_unread_rows():
    ex = convolution.convolution_explorer(stride=3, padding=0)
    assert all(ax.get_title() for ax in (ex.ax_in, ex.ax_k, ex.ax_out))          # every panel says what it is
    assert "= 21" in ex.formula.get_text() and "1 row(s)" in ex.note.get_text()
    ex.controls["padding"].value = 1
    assert "every pixel is read" in ex.note.get_text()
    ex.controls["dilation"].value = 4
    assert "receptive field of one output unit: 9x9 px" in ex.formula.get_text()
    ex.close()


def test_learned_kernel_comes_from_a_trained_cnn():
    kernel = convolution.learned_filter()
    assert kernel.shape == (3, 3) and np.abs(kernel).sum() > 0


def test_pareto_front_keeps_the_models_no_other_beats():
    flops, top1 = [1.0, 2.0, 3.0, 4.0, 2.5], [50.0, 60.0, 55.0, 70.0, 60.0]
    assert plots.pareto_front(flops, top1) == [0, 1, 3]      # 2 and 4 are beaten by 1 (fewer FLOPs, as good)
    fig = plots.plot_comparison(cnn.measure_comparison(("googlenet", "resnet18")))   # resnet18: more FLOPs, less top-1
    assert "below the dashed line is beaten" in fig.axes[0].get_title()


def test_degradation_title_and_markers_come_from_the_result():
    from lecture_lib.experiments.cnn import Degradation

    curves = ((0.5, 0.2), (0.6, 0.4))
    degrades = Degradation((8, 20), 4, 100, 2, (0.1, 0.4), (0.05, 0.06), curves, curves, 1.0)
    ax = plots.plot_degradation(degrades).axes[0]
    assert ax.get_title().startswith("The deeper plain net trains worse; the deeper ResNet does not")
    assert "plain-20: 40.0% at the end" in [t.get_text() for t in ax.get_legend().get_texts()]
    opposite = Degradation((8, 20), 4, 100, 2, (0.1, 0.12), (0.05, 0.3), curves, curves, 1.0)
    assert plots.plot_degradation(opposite).axes[0].get_title().startswith(
        "The deeper plain net does not degrade; the deeper ResNet does")
