"""Figures of 08_rnns. The notes' picture ``rnn`` (the recurrence unrolled in time, one set of
weights at every step) is drawn from a real unrolled run: each arrow is labelled with the weight
array that step actually used."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from ..figures import figure
from ..style import COLORS, MARKERS, font_pt, new_figure, style_marker

WEIGHT_COLORS = {"W_xh": COLORS[0], "W_hh": COLORS[3], "W_hy": COLORS[2], "copy": COLORS[7]}
NONLINEARITY_STYLE = {"linear": "-", "tanh": "--"}
BASELINE_COLORS = {"unigram": COLORS[4], "bigram": COLORS[5], "trigram": COLORS[3]}
BASELINE_STYLES = {"unigram": "-.", "bigram": ":", "trigram": (0, (5, 2, 1, 2))}


def _axes(ax, width=8.0, height=4.0):
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(width, height)
    return fig, fig.subplots()


def _log_limits(values, floor=1e-14, ceil=1e14, pad=3.0):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = max(float(v.min()) / pad, floor), min(float(v.max()) * pad, ceil)
    return lo, hi


# --------------------------------------------------------------------------- the notes' picture
def draw_unrolled(ax, weights_per_step, steps: int = 4) -> None:
    """x_t -> h_t -> y_t for the first ``steps`` steps, h_{t-1} -> h_t between them; each arrow
    carries the name of the array the step used, coloured by that name."""
    steps = min(steps, len(weights_per_step))
    box = {"boxstyle": "round,pad=0.35", "fc": "white", "ec": "0.3", "lw": 1.3}

    def arrow(p, q, name):
        ax.annotate("", xy=q, xytext=p, arrowprops={"arrowstyle": "-|>", "lw": 2.2,
                                                    "color": WEIGHT_COLORS.get(name, COLORS[7]),
                                                    "shrinkA": 14, "shrinkB": 14})
        mid = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
        horizontal = p[1] == q[1]
        ax.text(mid[0] + (0.0 if horizontal else 0.08), mid[1] + (0.1 if horizontal else 0.0), name, fontsize="medium",
                color=WEIGHT_COLORS.get(name, COLORS[7]), ha="center" if horizontal else "left",
                va="bottom" if horizontal else "center")

    ax.text(-1.6, 1, "h0", ha="center", va="center", fontsize=font_pt(12), bbox=box)
    for t in range(steps):
        w_xh, w_hh, _, w_hy = weights_per_step[t]
        x = 1.6 * t
        ax.text(x, 0, f"x{t + 1}", ha="center", va="center", fontsize=font_pt(12), bbox=box)
        ax.text(x, 1, f"h{t + 1}", ha="center", va="center", fontsize=font_pt(12), fontweight="bold",
                bbox={**box, "fc": "#F2F2F2"})
        ax.text(x, 2, f"y{t + 1}", ha="center", va="center", fontsize=font_pt(12), bbox=box)
        arrow((x, 0), (x, 1), w_xh)
        arrow((x, 1), (x, 2), w_hy)
        arrow((x - 1.6, 1), (x, 1), w_hh)
    ax.text(1.6 * steps - 0.5, 1, "…", fontsize=font_pt(18), ha="center", va="center")
    ax.set_xlim(-2.0, 1.6 * steps)
    ax.set_ylim(-0.6, 2.6)
    ax.set_axis_off()


@figure("rnn", notebook="08_rnns")
def plot_unrolled_rnn(result=None, steps: int = 4):
    """The notes' picture: the recurrence h_t = tanh(W_hh h_{t-1} + W_xh x_t + b), y_t = W_hy h_t
    unrolled, from a real run (``experiments.rnn.measure_parameter_sharing``), beside what it holds
    as the sequence grows: the same parameters, an ever longer graph."""
    if result is None:
        from ..experiments.rnn import measure_parameter_sharing

        result = measure_parameter_sharing(rng=np.random.default_rng(0))
    fig = new_figure(12, 4.2)
    ax_net, ax_count = fig.subplots(1, 2, width_ratios=[1.7, 1])
    draw_unrolled(ax_net, result.weights_per_step, steps)
    used = sorted({name for step in result.weights_per_step[:steps] for name in step if name != "b"})
    shared = "the same arrays at every step" if used != ["copy"] else "a fresh copy at every step"
    ax_net.set_title(f"h_t = tanh(W_hh h_(t−1) + W_xh x_t + b), y_t = W_hy h_t: {shared}", fontsize="medium")
    T = np.array(result.lengths)
    ax_count.loglog(T, result.parameter_counts, **style_marker(0), label="parameters (our gates)")
    ax_count.loglog(T, result.torch_parameter_counts, color=COLORS[1], linestyle=":", marker=MARKERS[1],
                    label="parameters (nn.RNN: two biases)")
    ax_count.loglog(T, result.graph_nodes, **style_marker(3), label="nodes of the scalar graph")
    ax_count.set(xlabel="sequence length T (steps)", ylabel="count (log scale)",
                 title="counted as T grows")
    ax_count.legend(loc="upper left")
    counts = sorted(set(result.parameter_counts))
    held = (f"{counts[0]} parameters at every length" if len(counts) == 1 else
            f"parameters grow from {result.parameter_counts[0]} to {result.parameter_counts[-1]}")
    fig.suptitle(f"One step function for every step, T = {T[0]} to {T[-1]}: {held}, "
                 f"while the graph grows {result.graph_nodes[-1] / result.graph_nodes[0]:.0f}×")
    return fig


# --------------------------------------------------------------------------- gradients through time
def plot_gradient_through_time(result, ax=None):
    """||dh_T/dh_{T-k}|| against k: one panel per kind of W_hh, a colour (and marker) per spectral
    radius r, solid without a nonlinearity and dashed with tanh."""
    from matplotlib.lines import Line2D

    matrices = sorted({c.matrix for c in result.curves}, key=lambda m: m != "orthogonal")
    fig = new_figure(12, 4.4)
    axes = fig.subplots(1, len(matrices), sharey=True)
    axes = np.atleast_1d(axes)
    radii = sorted({c.radius for c in result.curves})
    lo, hi = _log_limits([v for c in result.curves for v in c.norms])
    for ax, matrix in zip(axes, matrices, strict=True):
        for c in result.curves:
            if c.matrix != matrix:
                continue
            i = radii.index(c.radius)
            ax.semilogy(np.arange(len(c.norms)), c.norms, color=COLORS[i],
                        linestyle=NONLINEARITY_STYLE[c.nonlinearity], marker=MARKERS[i], markevery=10)
        ax.axhline(1.0, color="0.4", linewidth=1, linestyle=":")
        norms = {c.radius: c.sigma_max for c in result.curves if c.matrix == matrix}
        handles = [Line2D([], [], color=COLORS[radii.index(r)], marker=MARKERS[radii.index(r)],
                          label=f"r = {r:g}: ‖W_hh‖₂ = {norms[r]:.2f}") for r in radii]
        handles += [Line2D([], [], color="0.3", linestyle=style, label=name)
                    for name, style in NONLINEARITY_STYLE.items()]
        ax.legend(handles=handles, loc="lower left", ncol=2)
        ratio = np.mean([c.sigma_max / c.radius for c in result.curves if c.matrix == matrix])
        ax.set(xlabel="steps back from T (k)", ylim=(lo, hi),
               title=f"{matrix} W_hh: ‖W_hh‖₂ {'= r' if abs(ratio - 1) < 1e-6 else f'≈ {ratio:.1f} r'}")
    axes[0].set_ylabel("‖∂h_T / ∂h_(T−k)‖ (spectral norm, log)")
    fig.suptitle("Linear (solid): below r = 1 the gradient vanishes, above 1 it explodes (exactly r^k when "
                 "orthogonal); tanh (dashed): it only shrinks")
    return fig


def plot_clipping(result, ax=None):
    """The three training runs' losses, and the gradient norm the unclipped run met, with the threshold."""
    fig = new_figure(12, 4.4)
    ax_loss, ax_norm = fig.subplots(1, 2)
    for i, (name, run) in enumerate(result.runs):
        steps = np.arange(1, len(run.losses) + 1)
        ax_loss.semilogy(steps, run.losses, **style_marker(i), markevery=max(1, len(steps) // 10), label=name)
        ax_norm.semilogy(steps, run.grad_norms, **style_marker(i), markevery=max(1, len(steps) // 10), label=name)
    first = result.runs[0][1].losses[0]
    ax_loss.axhline(first, color="0.4", linestyle=":", linewidth=1, label="first loss")
    lo, hi = _log_limits([x for _, run in result.runs for x in run.losses], pad=1.3)
    ax_loss.set_ylim(lo, hi)
    ax_loss.yaxis.set_major_formatter(ScalarFormatter())
    ax_loss.yaxis.set_minor_formatter(NullFormatter())
    ax_loss.set(xlabel="training step", ylabel="training loss (nats per character, log)",
                title=f"plain SGD at lr {result.lr:g}, W_hh starting at spectral radius {result.radius:g}")
    ax_norm.axhline(result.max_norm, color=COLORS[7], linestyle=":", linewidth=1.5,
                    label=f"norm threshold {result.max_norm:g}")
    ax_norm.set(xlabel="training step", ylabel="gradient norm before clipping (log)",
                title="every run meets gradients far above the threshold")
    # one legend for both panels (the same runs), below them: inside, it would hide the spikes
    handles, labels = ax_loss.get_legend_handles_labels()
    threshold = ax_norm.get_legend_handles_labels()
    fig.legend(handles + threshold[0][-1:], labels + threshold[1][-1:], loc="outside lower center",
               ncols=len(labels) + 1)
    fig.suptitle("Clipping by norm rescales the whole gradient, keeps its direction, and the run trains")
    return fig


def plot_cell_gradient(result, ax=None):
    """The gradient's size k steps before the loss: along h (vanilla RNN), along c (LSTM, each
    forget bias), and thin dotted f^k, the cell path alone."""
    fig, ax = _axes(ax, 8, 5.2)
    k = np.arange(result.length)
    curves = [("vanilla RNN, along h", result.rnn_h)] + [
        (f"LSTM, along c, forget bias {b:g} (mean f {result.forget_gate_mean[b]:.2f})", v)
        for b, v in result.lstm_c.items()]
    lo, hi = _log_limits([x for _, v in curves for x in v])
    measured_styles = ["-", "--", "-.", (0, (6, 2, 1, 2, 1, 2))]      # none of them dotted: dots are f^k
    for i, (label, v) in enumerate(curves):
        ax.semilogy(k, v, color=COLORS[i], marker=MARKERS[i], linestyle=measured_styles[i % len(measured_styles)],
                    markevery=max(1, len(k) // 8), label=label)
    for i, b in enumerate(result.lstm_c, start=1):
        f = result.forget_gate_mean[b]
        ax.semilogy(k, f ** k.astype(float), color=COLORS[i], linestyle=":", linewidth=1.3)
    ax.plot([], [], color="0.3", linestyle=":", linewidth=1.3, label="f^k (colour of its LSTM): the cell path alone")
    ax.set(xlabel="steps back from the loss (k)", ylabel="gradient norm ÷ its value at k = 0 (log)",
           ylim=(lo, hi), title="At initialization the gradient along c outlasts the one along h")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)   # the curves fill the corners
    return fig


def plot_long_range(result, ax=None):
    """Accuracy on fresh sequences against the length to remember, by model; chance as a line;
    the title names the models that still recall at the longest length."""
    from ..experiments.rnn.lstm import learned
    from ..recall_task import SYMBOLS

    fig, ax = _axes(ax, 8, 4.2)
    for i, name in enumerate(result.models):
        ax.plot(result.lengths, result.accuracy[name], **style_marker(i), label=name)
    ax.axhline(1 / SYMBOLS, color="0.4", linestyle=":", label=f"chance (1 in {SYMBOLS})")
    longest = result.lengths[-1]
    recall = ["the " + name.replace(", ", " with ") for name in result.models if learned(result.accuracy[name][-1])]
    seeds = f"{result.seeds} seed{'s' * (result.seeds > 1)}"
    ax.set(xlabel="steps between the symbol and the question (sequence length T)", ylabel="test accuracy",
           ylim=(0, 1.05), xticks=list(result.lengths),
           title=(f"At T = {longest} only {' and '.join(recall)} still recall{'s' * (len(recall) == 1)}"
                  if recall else f"At T = {longest} no model recalls") + f"\n({result.steps} training steps, {seeds})")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def _smooth(values, window):
    values = np.asarray(values, dtype=float)
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_char_lm(result, ax=None):
    """Training loss of both models in bits per character (smoothed), and held-out bits per
    character of every model and baseline."""
    fig = new_figure(12, 4.2)
    ax_train, ax_bits = fig.subplots(1, 2, width_ratios=[1.4, 1])
    ln2 = np.log(2)
    runs = (("vanilla RNN (NumPy)", result.rnn_run.losses, result.rnn_config),
            ("LSTM (torch)", np.asarray(result.lstm_record["losses"]), result.lstm_config))
    top = result.bits["uniform"]
    for i, (name, losses, config) in enumerate(runs):
        window = max(1, len(losses) // 40)
        y = _smooth(losses / ln2, window)
        top = max(top, float(np.max(y)))
        chars = np.arange(window, len(losses) + 1) * config["batch"] * config["seq_len"] / 1e6
        ax_train.plot(chars, y, **style_marker(i), markevery=max(1, len(y) // 8), label=f"{name}, training")
    for name in ("unigram", "bigram", "trigram"):
        ax_train.axhline(result.bits[name], color=BASELINE_COLORS[name], linestyle=BASELINE_STYLES[name],
                         linewidth=1.8, label=f"{name} (held out)")
    ax_train.axhline(result.bits["uniform"], color="0.55", linestyle="--", linewidth=1.5, label="uniform")
    ax_train.set(xlabel="characters read in training (millions)", ylabel="bits per character",
                 ylim=(0, top * 1.05),
                 title=f"training loss (smoothed); one pass is {result.train_chars / 1e6:.2f} M characters")
    ax_train.legend(ncol=2)
    names = ["uniform", "unigram", "bigram", "trigram", "vanilla RNN", "LSTM"]
    values = [result.bits[n] for n in names]
    colors = ["0.55", *(BASELINE_COLORS[n] for n in ("unigram", "bigram", "trigram")), COLORS[0], COLORS[1]]
    bars = ax_bits.barh(names, values, color=colors)
    for bar, v in zip(bars, values, strict=True):
        ax_bits.text(v + 0.05, bar.get_y() + bar.get_height() / 2, f"{v:.2f}", va="center")
    ax_bits.set(xlabel="bits per character on held-out text (lower is better)", xlim=(0, max(values) * 1.18),
                title=f"held-out: the last {result.test_chars:,} characters")
    ax_bits.invert_yaxis()
    ax_bits.grid(axis="y", visible=False)
    best = min(("vanilla RNN", "LSTM"), key=lambda n: result.bits[n])
    trigram = result.bits["trigram"]
    fig.suptitle(f"The {best}: {result.bits[best]:.2f} bits per character (unigram {result.bits['unigram']:.2f}, "
                 f"bigram {result.bits['bigram']:.2f})"
                 + (f"; the trigram ({trigram:.2f}) still does better here" if trigram < result.bits[best] else ""))
    return fig
