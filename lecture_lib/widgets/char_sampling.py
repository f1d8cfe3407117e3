"""Sampling from the character-level LSTM, live: a prefix, a temperature, a seed and a length; the
distribution over the next character after the prefix, and a sample drawn one character at a time.

The model is the torch LSTM of 08_rnns (``torch_rnn.trained_char_lstm``), read from the disk cache
(or trained once when the cache is empty) and run here on the NumPy gates, gates reordered to i, f, o, g.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.transforms import offset_copy

from .. import charlm
from ..style import COLORS, font_pt
from .base import Explorer, dropdown, int_slider, log_slider

PREFIXES = ("The ", "def ", "import ", "class ", "If the ", "for x in ", "return ", "A module ")
TOP = 15
WRAP = 40
MAX_LINES = 14
P_FLOOR = 1e-4  # the bottom of the probability axis


def _shown(ch: str) -> str:
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(ch, ch)


class CharSampling(Explorer):
    title = "Sampling a character-level LSTM"
    max_backgrounds = 32  # a background per prefix and a layer per (prefix, temperature) seen: 0.9 MB each

    def __init__(self, model: charlm.CharModel | None = None, **initial_values):
        if model is None:
            from ..torch_rnn import trained_char_lstm

            model = trained_char_lstm()[0]
        self.model = model
        controls = {
            "temperature": log_slider(1.0, -1, 0.5, "temperature", fmt=".2f"),
            "prefix": dropdown(PREFIXES[0], PREFIXES, "prefix"),
            "seed": int_slider(0, 0, 50, "seed"),
            "length": int_slider(100, 20, 240, "characters"),
        }
        self._scores: dict[str, np.ndarray] = {}
        super().__init__(controls, initial_values, figsize=(10.0, 3.6))
        # The background of every prefix is rendered now, so that no change of prefix pays for it.
        for prefix in PREFIXES:
            self._top_characters(prefix)
            self.prerender(prefix)
        self._top_characters(self.controls["prefix"].value)

    def _top_characters(self, prefix: str) -> tuple:
        """The scores after ``prefix`` and the indices of the most likely next characters, written
        under the bars (the order does not depend on the temperature)."""
        if prefix not in self._scores:
            self._scores[prefix] = charlm.read_prefix(self.model, prefix)[2]
        scores = self._scores[prefix]
        top = np.argsort(scores)[::-1][:TOP]
        for label, i in zip(self.chars, top, strict=True):
            label.set_text(_shown(self.model.vocab.chars[i]))
        return scores, top

    def build(self, figure):
        self.ax_p, self.ax_text = figure.subplots(1, 2, width_ratios=[1, 1.25])
        # A log axis shows every temperature in full, from one sure character to a flat spread.
        self.bars = self.ax_p.bar(np.arange(TOP), np.zeros(TOP), bottom=P_FLOOR, color=COLORS[0])
        self.ax_p.set(xlim=(-0.6, TOP - 0.4), yscale="log", ylim=(P_FLOOR, 1.0), ylabel="probability (log scale)",
                      xlabel=f"the {TOP} most likely next characters (⏎ newline, ␣ space)")
        # The characters under the bars change with the prefix: drawn as text artists over the
        # cached background, not as tick labels (which would render the whole axes again).
        # Invisible tick labels keep their room in the layout; the characters are drawn there.
        self.ax_p.set_xticks(np.arange(TOP), ["M"] * TOP)
        self.ax_p.tick_params(axis="x", labelcolor="none", labelsize=font_pt(12))
        under = offset_copy(self.ax_p.get_xaxis_transform(), fig=figure, y=-self.ax_p.xaxis.get_tick_padding() - 3.5,
                            units="points")
        self.chars = [self.ax_p.text(i, 0, " ", transform=under, ha="center", va="top", fontsize=font_pt(12),
                                     family="monospace") for i in range(TOP)]
        self.ax_p.grid(axis="x", visible=False)
        self.p_title = self.ax_p.set_title(" ", fontsize="medium")
        self.ax_text.set_axis_off()
        self.text = self.ax_text.text(0.0, 1.0, "", ha="left", va="top", family="monospace", fontsize=font_pt(12),
                                      transform=self.ax_text.transAxes)
        self.ax_text.set_title("a sample, drawn one character at a time (the prefix first)", fontsize="medium")
        # Three speeds: the characters under the bars follow the prefix only (static, kept per
        # prefix); the bars and their title follow the temperature too (a cached layer); the sample
        # follows every control.
        self.layered(*self.bars, self.p_title)
        self.dynamic(self.text)

    def draw(self, temperature, prefix, seed, length):
        scores, top = self._top_characters(prefix)
        p = charlm.softmax_with_temperature(scores, temperature)
        for bar, i in zip(self.bars, top, strict=True):
            bar.set_height(max(p[i] - P_FLOOR, 0.0))
        entropy = float(-(p * np.log2(np.maximum(p, 1e-300))).sum())
        self.p_title.set_text(f"p(next | {prefix!r}) at T = {temperature:.2f}: entropy {entropy:.2f} bits")
        sample = charlm.sample(self.model, prefix, length, temperature, np.random.default_rng(seed))
        lines = [textwrap.fill(part, WRAP, drop_whitespace=False) for part in (prefix + sample).split("\n")]
        self.text.set_text("\n".join(lines[:MAX_LINES]))
        self.invalidate(key=prefix, layer=(prefix, temperature))


def char_sampling_explorer(**initial_values) -> CharSampling:
    """Controls: ``temperature`` (0.1..3.2: the scores are divided by it before the softmax),
    ``prefix`` (a few openings of Python's documentation), ``seed`` (0..50) and ``length``
    (20..240 characters).

    Interactive problem size: the LSTM of the profile (fast: 64 hidden units; full: 256 on a
    CPU, 512 on a GPU), read from the disk cache; each change reads the prefix once (cached per
    prefix) and draws at most 240 characters one step at a time on the NumPy gates (100 by
    default, about 4 ms). The characters under the bars are kept in a background per prefix, the bars
    in a layer per temperature: a change redraws the sample, and the bars when the temperature or
    the prefix moves (about 25 ms of CPU); the background of each prefix is rendered when the explorer is made."""
    return CharSampling(**initial_values)
