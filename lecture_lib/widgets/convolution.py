"""Convolution explorer: slide a kernel over a real photograph or a digit, with a stride, padding
and dilation, and see the output feature map, its size by the formula, and the receptive field of
one output unit. The convolution is the course's own gate, ``layers.conv_forward_fast``."""

from __future__ import annotations

from functools import cache

import numpy as np
from matplotlib.patches import Rectangle

from .. import layers
from ..style import COLORS
from .base import Explorer, dropdown, int_slider

SIZE = 64                     # both inputs are SIZE x SIZE grey images
MAX_STRIDE, MAX_PAD, MAX_DILATION = 4, 4, 4
MAX_SPAN = MAX_DILATION * 4 + 1   # a 5x5 kernel at the largest dilation
KERNELS = ("edge (Sobel x)", "edge (Laplacian)", "blur (Gaussian 5x5)", "sharpen", "random 3x3",
           "learned (digits CNN)")


def _fixed_kernels() -> dict:
    g = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
    return {
        "edge (Sobel x)": np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]),
        "edge (Laplacian)": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
        "blur (Gaussian 5x5)": np.outer(g, g) / np.outer(g, g).sum(),
        "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
        "random 3x3": np.random.default_rng(0).standard_normal((3, 3)) / 3,
    }


@cache
def learned_filter() -> np.ndarray:
    """The first-layer filter with the largest weights of a small CNN trained on the digits
    (trained once per session, in under a second on one CPU core)."""
    from ..experiments.cnn import measure_digits_cnn

    result = measure_digits_cnn(np.random.default_rng(0), width=4, epochs=2)
    weights = result.model.features[0].weight.detach().numpy()[:, 0].astype(np.float64)
    return weights[np.argmax(np.abs(weights).sum(axis=(1, 2)))]


@cache
def images() -> dict:
    """A photograph (scikit-learn's "china.jpg", grey, centre square averaged down to SIZE x SIZE)
    and a digit (8x8, each pixel repeated 8 times), both scaled to [0, 1]."""
    from sklearn.datasets import load_digits, load_sample_image

    photo = load_sample_image("china.jpg").mean(axis=2)
    h, w = photo.shape
    side = min(h, w) // SIZE * SIZE
    top, left = (h - side) // 2, (w - side) // 2
    square = photo[top:top + side, left:left + side]
    photo = square.reshape(SIZE, side // SIZE, SIZE, side // SIZE).mean(axis=(1, 3)) / 255.0
    digit = load_digits().images[0] / 16.0
    digit = np.kron(digit, np.ones((SIZE // 8, SIZE // 8)))
    return {"photo": photo, "digit": digit}


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int, pad: int, dilation: int):
    """One channel through the gate. Rows and columns that the stride would never reach are cut
    off first (the gate refuses them; torch drops them silently). Returns (output, unread rows)."""
    size, k = image.shape[0], kernel.shape[0]
    out = layers.conv_output_size(size, k, stride, pad, dilation, exact=False)
    span = dilation * (k - 1) + 1
    unread = max(0, size + 2 * pad - ((out - 1) * stride + span) - pad)
    used = image[:size - unread, :size - unread]
    result, _ = layers.conv_forward_fast(used[None, None], kernel[None, None], np.zeros(1),
                                         {"stride": stride, "pad": pad, "dilation": dilation})
    return result[0, 0], unread


class ConvolutionExplorer(Explorer):
    title = "Convolution: a kernel slid over an image"
    dpi = 72

    def __init__(self, **initial_values):
        controls = {
            "image": dropdown("photo", ("photo", "digit"), "image"),
            "kernel": dropdown(KERNELS[0], KERNELS, "kernel"),
            "stride": int_slider(1, 1, MAX_STRIDE, "stride"),
            "padding": int_slider(1, 0, MAX_PAD, "padding"),
            "dilation": int_slider(1, 1, MAX_DILATION, "dilation"),
        }
        self.kernels = _fixed_kernels()
        super().__init__(controls, initial_values, figsize=(12.0, 5.2))

    def kernel(self, name: str) -> np.ndarray:
        return learned_filter() if name.startswith("learned") else self.kernels[name]

    def build(self, figure):
        axes = figure.subplot_mosaic([["in", "k", "out"], ["text", "text", "text"]], width_ratios=[1.0, 0.55, 1.0],
                                     height_ratios=[1.0, 0.13])
        self.ax_in, self.ax_k, self.ax_out, ax_text = (axes[name] for name in ("in", "k", "out", "text"))
        lim = (-MAX_PAD - 0.5, SIZE + MAX_PAD - 0.5)
        self.image = self.ax_in.imshow(np.zeros((SIZE, SIZE)), cmap="gray", vmin=0, vmax=1,
                                       extent=(-0.5, SIZE - 0.5, SIZE - 0.5, -0.5), interpolation="nearest")
        self.pad_frame = self.ax_in.add_patch(Rectangle((-0.5, -0.5), SIZE, SIZE, fill=False, linestyle=":",
                                                        edgecolor=COLORS[1], linewidth=1.5))
        self.field = self.ax_in.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=COLORS[3], linewidth=2))
        self.taps = self.ax_in.scatter([], [], s=10, color=COLORS[3], zorder=4)
        self.cut = self.ax_in.add_patch(Rectangle((0, 0), 0, 0, facecolor=COLORS[6], alpha=0.45))
        self.cut_rows = self.ax_in.add_patch(Rectangle((0, 0), 0, 0, facecolor=COLORS[6], alpha=0.45))
        self.ax_in.set(xlim=lim, ylim=lim[::-1], xlabel="column (px)", ylabel="row (px)")
        self.ax_in.set_title("input: padding dotted (orange),\none receptive field (red box, tap dots)",
                             fontsize="medium")
        # The kernel's axes follow its span (no ticks: nothing static depends on the limits).
        self.kimage = self.ax_k.imshow(np.zeros((3, 3)), cmap="RdBu_r", vmin=-1, vmax=1,
                                       extent=(-1.5, 1.5, 1.5, -1.5), interpolation="nearest")
        self.ax_k.set(xticks=[], yticks=[])
        self.ax_k.spines[["top", "right"]].set_visible(True)          # a frame around the kernel
        self.ax_k.set_title("the kernel (red +, blue −),\nspread by the dilation", fontsize="medium")
        self.kernel_text = self.ax_k.text(0.5, -0.04, "", transform=self.ax_k.transAxes, ha="center", va="top",
                                          fontsize="medium")
        out_max = SIZE + 2 * MAX_PAD - 2
        self.output = self.ax_out.imshow(np.zeros((2, 2)), cmap="magma", extent=(-0.5, 1.5, 1.5, -0.5),
                                         interpolation="nearest")
        self.ax_out.set(xlim=(-0.5, out_max - 0.5), ylim=(out_max - 0.5, -0.5), xlabel="output column",
                        ylabel="output row")
        self.ax_out.set_title("output feature map\n(to scale: a stride of 2 halves it)", fontsize="medium")
        ax_text.set_axis_off()
        self.formula = ax_text.text(0.0, 0.5, "", transform=ax_text.transAxes, ha="left", va="center",
                                    fontsize="medium")
        self.note = ax_text.text(1.0, 0.5, "", transform=ax_text.transAxes, ha="right", va="center", fontsize="medium")
        for ax in (self.ax_in, self.ax_k, self.ax_out):
            ax.grid(False)
        self.dynamic(self.image, self.pad_frame, self.field, self.taps, self.cut, self.cut_rows, self.kimage,
                     self.kernel_text,
                     self.output, self.formula, self.note)

    def draw(self, image, kernel, stride, padding, dilation):
        picture = images()[image]
        weights = self.kernel(kernel)
        k = weights.shape[0]
        span = dilation * (k - 1) + 1
        if span > SIZE + 2 * padding:
            raise ValueError(f"a {k}x{k} kernel at dilation {dilation} spans {span} px, more than the padded "
                             f"image ({SIZE + 2 * padding} px)")
        out, unread = convolve(picture, weights, stride, padding, dilation)
        self.image.set_data(picture)
        self.pad_frame.set_bounds(-padding - 0.5, -padding - 0.5, SIZE + 2 * padding, SIZE + 2 * padding)
        # the receptive field of the output unit in the middle of the map
        i = (out.shape[0] - 1) // 2
        top = i * stride - padding
        self.field.set_bounds(top - 0.5, top - 0.5, span, span)
        offsets = np.arange(k) * dilation
        rows, cols = np.meshgrid(top + offsets, top + offsets, indexing="ij")
        self.taps.set_offsets(np.c_[cols.ravel(), rows.ravel()])
        self.cut.set_bounds(SIZE - unread - 0.5, -0.5, unread, SIZE)                  # the last columns
        self.cut_rows.set_bounds(-0.5, SIZE - unread - 0.5, SIZE - unread, unread)       # and the last rows
        spread = np.zeros((span, span))
        spread[::dilation, ::dilation] = weights
        self.kimage.set_data(spread)
        self.kimage.set_extent((-span / 2, span / 2, span / 2, -span / 2))
        half = max(span, 5) / 2 + 0.5
        self.ax_k.set(xlim=(-half, half), ylim=(half, -half))
        bound = np.abs(weights).max()
        self.kimage.set_clim(-bound, bound)
        self.kernel_text.set_text(f"{k}x{k} taps over {span}x{span} px")
        self.output.set_data(out)
        self.output.set_extent((-0.5, out.shape[1] - 0.5, out.shape[0] - 0.5, -0.5))
        lo, hi = float(out.min()), float(out.max())
        self.output.set_clim(lo, hi if hi > lo else lo + 1)
        self.formula.set_text(f"output size H' = ⌊({SIZE} + 2·{padding} − {dilation}·({k}−1) − 1) / {stride}⌋ + 1 "
                              f"= {out.shape[0]}\nreceptive field of one output unit: {span}x{span} px, {k * k} taps")
        self.note.set_text(f"{unread} row(s)/column(s) never read (shaded)" if unread else "every pixel is read")


def convolution_explorer(**initial_values) -> ConvolutionExplorer:
    """Controls: ``image`` (photo: scikit-learn's china.jpg in grey; digit: an 8x8 digit blown up),
    ``kernel`` (Sobel and Laplacian edges, a 5x5 Gaussian blur, sharpen, a random 3x3, or the
    largest first-layer filter of a small CNN trained on the digits, trained once on first use),
    ``stride`` (1..4), ``padding`` (0..4) and ``dilation`` (1..4).

    Interactive problem size: one 64x64 grey image, one 3x3 or 5x5 kernel, through the course's
    conv_forward_fast (well under a millisecond); the rest of each change is drawing three images
    over a cached background."""
    return ConvolutionExplorer(**initial_values)
