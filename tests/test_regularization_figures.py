"""The notes' pictures of the section "Regularization": registered under the notes' names, drawn
from real masks, regions and draws, shown by 06_regularization."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from lecture_lib import figures, layers
from lecture_lib.plots.regularization_notes import pooling_regions

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_regularization.ipynb"
NAMES = ("dropout", "fracmaxpool", "stochdepth")


@pytest.mark.parametrize("name", NAMES)
def test_registered_rendered_and_shown_by_the_notebook(name):
    entry = figures.registered()[name]
    assert entry.notebook == "06_regularization"
    fig = figures.show(name)
    assert fig.axes and (fig._suptitle is not None or any(ax.get_title() for ax in fig.axes))
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code")
    assert f'figures.show("{name}")' in source


def test_the_dropout_picture_drops_the_units_of_the_gates_mask():
    fig = figures.show("dropout", keep=0.5, sizes=(3, 6, 6, 2), seed=7)
    masks = [layers.dropout_forward(np.ones((1, 6)), {"p": 0.5, "mode": "train", "seed": 7 + i})[1][1]
             for i in range(2)]
    dropped = int(sum((m == 0).sum() for m in masks))
    assert f"{dropped} of 12 hidden units dropped" in fig.axes[1].get_title()


def test_pooling_regions_are_read_back_from_torch():
    rows, cols = pooling_regions(12, 8, (0.3, 0.7))
    assert len(rows) == len(cols) == 8 and all(len(r) == 2 for r in rows)
    starts = [r[0] for r in rows]
    assert starts[0] == 0 and rows[-1][-1] == 11 and set(np.diff(starts)) <= {1, 2}
    assert pooling_regions(12, 6, kind="max")[0] == [[2 * i, 2 * i + 1] for i in range(6)]


def test_the_stochastic_depth_picture_counts_the_blocks_of_its_draw():
    from lecture_lib.models import stochastic_depth_resnet

    fig = figures.show("stochdepth", depth=20, survival_last=0.5, draws=3, seed=5)
    model = stochastic_depth_resnet(20, 10, 0.5, seed=5)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for count in (sum(model.draw_survival()) for _ in range(3)):
        assert f"{count} of 9 blocks" in texts
