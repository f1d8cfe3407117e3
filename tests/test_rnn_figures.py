"""The figures of 08_rnns and its two explorers: titles and legends computed from the results,
axes that follow the controls, and changes drawn over the cached background."""

from types import SimpleNamespace

import numpy as np
import pytest

from lecture_lib.plots import rnn as plots
from lecture_lib.widgets import gradient_through_time


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in [*ax.texts, ax.title]) + " ".join(
        t.get_text() for t in fig.texts)


def _memory(accuracy_at_longest):
    models = ("vanilla RNN", "LSTM, forget bias 1", "LSTM, forget bias 4")
    return SimpleNamespace(models=models, lengths=(10, 50), steps=120, seeds=1,
                           accuracy={m: (1.0, a) for m, a in zip(models, accuracy_at_longest, strict=True)})


def test_recall_title_names_the_models_that_still_recall():
    fig = plots.plot_long_range(_memory((0.27, 0.26, 1.0)))
    assert "At T = 50 only the LSTM with forget bias 4 still recalls" in fig.axes[0].get_title()
    fig = plots.plot_long_range(_memory((0.3, 0.3, 0.3)))          # the opposite: nobody recalls
    assert "no model recalls" in fig.axes[0].get_title()


def test_cell_gradient_reference_curves_are_the_only_dotted_ones():
    result = SimpleNamespace(length=20, rnn_h=0.5 ** np.arange(20),
                             lstm_c={0.0: 0.6 ** np.arange(20), 3.0: 0.97 ** np.arange(20)},
                             forget_gate_mean={0.0: 0.5, 3.0: 0.95})
    ax = plots.plot_cell_gradient(result).axes[0]
    measured = [line for line in ax.get_lines() if line.get_marker() not in ("None", "", None)]
    assert len(measured) == 3 and all(line.get_linestyle() != ":" for line in measured)
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":" and len(line.get_xdata())]
    assert len(dotted) == 2


def test_gradient_explorer_time_axes_end_at_the_length_without_a_new_rendering():
    ex = gradient_through_time.gradient_through_time_explorer(length=60)
    ex.controls["radius"].value = 1.2                           # the first change renders the frozen layout
    background = ex._background
    ylim = ex.ax_grad.get_ylim()
    ex.controls["length"].value = 137
    assert ex.ax_grad.get_xlim() == (0, 137) and ex.ax_state.get_xlim() == (0, 137)
    shown = [t.get_text() for t in ex.time_ticks[ex.ax_grad] if t.get_visible()]
    assert shown[0] == "0" and int(shown[-1]) <= 137 < int(shown[-1]) + 40
    ex.controls["radius"].value = 0.6
    assert ex._background is background and ex.ax_grad.get_ylim() == ylim    # nothing static changed
    ex.controls["nonlinearity"].value = "linear"                # the opposite: a new range of the log axes
    assert ex.ax_grad.get_ylim() != ylim and ex._background is not background
    ex.close()


@pytest.mark.parametrize("nonlinearity", ["tanh", "linear"])
def test_gradient_explorer_log_axes_hold_what_the_radius_slider_reaches(nonlinearity):
    ex = gradient_through_time.gradient_through_time_explorer(nonlinearity=nonlinearity, length=200)
    lo, hi = ex.ax_grad.get_ylim()
    for radius in (0.5, 1.0, 1.5):
        ex.controls["radius"].value = radius
        norms = ex.grad_line.get_ydata()
        finite = norms[np.isfinite(norms)]
        floor, ceiling = gradient_through_time._GRAD_LIM
        assert finite.max() <= hi or hi == ceiling        # only beyond the axis' limit of limits
        assert finite.min() >= lo or lo == floor
    if nonlinearity == "tanh":
        assert hi < 100                                   # tanh only shrinks: no empty decades above
    ex.close()


def test_sampling_explorer_redraws_the_characters_for_a_new_prefix(monkeypatch):
    from lecture_lib.widgets import char_sampling

    ex = char_sampling.char_sampling_explorer()
    before, pixels = [t.get_text() for t in ex.chars], ex.pixels()
    renders = []
    monkeypatch.setattr(ex.figure.canvas, "draw", lambda *a, **k: renders.append(1))
    ex.controls["prefix"].value = "import "
    after = [t.get_text() for t in ex.chars]
    assert after != before and not np.array_equal(pixels, ex.pixels())
    assert not renders, "every prefix's background is rendered when the explorer is made, not on a change"
    scores = ex._scores["import "]
    top = np.argsort(scores)[::-1][:char_sampling.TOP]
    assert after == [char_sampling._shown(ex.model.vocab.chars[i]) for i in top]
    ex.close()
