"""The pictures of the notes' section "Regularization", drawn from the course's own code: a dropout
network from a real mask of ``layers.dropout_forward``, the pooling regions of
``torch.nn.FractionalMaxPool2d`` read back from torch itself on a real photograph, and a residual
stack with the blocks that a real draw of ``models.stochastic_depth`` dropped; and the grid of every
augmentation of ``lecture_lib.augment`` on the two photographs and on digits."""

from __future__ import annotations

import numpy as np

from .. import layers
from ..figures import figure
from ..style import COLORS, font_pt, new_figure

GREY = "#BBBBBB"


# --------------------------------------------------------------------------- dropout
def network_layout(sizes) -> list[np.ndarray]:
    """(x, y) positions of the units of each layer: layers left to right, units centred vertically."""
    top = max(sizes)
    return [np.c_[np.full(n, i), (top - n) / 2 + np.arange(n)] for i, n in enumerate(sizes)]


@figure("dropout", notebook="06_regularization")
def dropout_network(keep: float = 0.5, sizes=(4, 7, 7, 3), seed: int = 4):
    """Left, a fully connected network; right, the thinned network of one training step: the hidden
    units that the mask of ``layers.dropout_forward`` (keep probability ``keep``, ``seed``) drops,
    with every connection to and from them."""
    sizes = tuple(sizes)
    masks = [np.ones(sizes[0], bool)]
    for i, n in enumerate(sizes[1:-1]):
        _, (_, mask) = layers.dropout_forward(np.ones((1, n)), {"p": keep, "mode": "train", "seed": seed + i})
        masks.append(mask[0] > 0)
    masks.append(np.ones(sizes[-1], bool))
    positions = network_layout(sizes)
    fig = new_figure(10, 4.6)
    axes = fig.subplots(1, 2)
    dropped = sum(int((~m).sum()) for m in masks)
    hidden = sum(sizes[1:-1])
    for ax, thinned in zip(axes, (False, True), strict=True):
        for k in range(len(sizes) - 1):
            for a, pa in enumerate(positions[k]):
                for b, pb in enumerate(positions[k + 1]):
                    alive = not thinned or (masks[k][a] and masks[k + 1][b])
                    if alive:
                        ax.plot([pa[0], pb[0]], [pa[1], pb[1]], color=COLORS[0], lw=0.8, alpha=0.6, zorder=1,
                                linestyle="-")
        for k, pos in enumerate(positions):
            kept = masks[k] if thinned else np.ones(len(pos), bool)
            ax.scatter(pos[kept, 0], pos[kept, 1], s=260, color=COLORS[1] if 0 < k < len(sizes) - 1 else COLORS[2],
                       edgecolor="black", zorder=3, marker="o")
            ax.scatter(pos[~kept, 0], pos[~kept, 1], s=260, facecolor="white", edgecolor=GREY, zorder=3)
            ax.scatter(pos[~kept, 0], pos[~kept, 1], s=120, color=COLORS[3], marker="x", zorder=4, lw=2.5)
        ax.set_xticks(range(len(sizes)), ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_xlim(-0.4, len(sizes) - 0.6)
        ax.set_ylim(-0.8, max(sizes) - 0.2)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    axes[0].set_title("the whole network (used at test time)")
    axes[1].set_title(f"one training step: {dropped} of {hidden} hidden units dropped (✕)\n"
                      f"(the mask of layers.dropout_forward, seed {seed})")
    fig.suptitle(f"Dropout, keep probability p = {keep:g}: every training step trains a thinned network")
    return fig


# --------------------------------------------------------------------------- fractional max pooling
def pooling_regions(size: int, output: int, random_sample=(0.5, 0.5), kind: str = "fractional") -> tuple[list, list]:
    """The row and column ranges that each output of a pooling layer reads, found by asking torch:
    a batch of one-hot images goes through the layer, and an output is 1 exactly when its region
    holds the hot pixel. ``kind``: ``"fractional"`` (FractionalMaxPool2d, 2x2 regions placed by
    ``random_sample``, torch's two uniform draws) or ``"max"`` (MaxPool2d(2))."""
    import torch
    import torch.nn.functional as F

    probe = torch.eye(size * size).reshape(size * size, 1, size, size)
    if kind == "max":
        out = F.max_pool2d(probe, 2)
    else:
        u = torch.tensor(random_sample, dtype=probe.dtype).expand(size * size, 1, 2).contiguous()
        out = F.fractional_max_pool2d(probe, 2, output_size=(output, output), _random_samples=u)
    reads = out.reshape(size, size, *out.shape[-2:]) > 0
    rows = [torch.nonzero(reads[:, :, i, 0].any(1)).flatten().tolist() for i in range(out.shape[-2])]
    cols = [torch.nonzero(reads[:, :, 0, j].any(0)).flatten().tolist() for j in range(out.shape[-1])]
    return rows, cols


def _gray_patch(size: int):
    from ..augment import sample_photos

    photo = sample_photos(120)[1].mean(0)                    # the flower, grey levels
    h, w = photo.shape
    top, left = h // 2 - 40, w // 2 - 40
    patch = photo[top:top + 80, left:left + 80][None, None]
    import torch.nn.functional as F

    return F.adaptive_avg_pool2d(patch, size)[0, 0]


@figure("fracmaxpool", notebook="06_regularization")
def fractional_pooling_regions(size: int = 12, output: int = 8, draws=((0.5, 0.5), (0.15, 0.85))):
    """Top: the regions each output reads, on a real photograph (scikit-learn's flower, in grey,
    ``size`` x ``size``): max pooling's fixed 2x2 grid, and fractional max pooling to ``output`` x
    ``output`` for two random draws; bottom: the pooled images."""
    import torch
    import torch.nn.functional as F
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    image = _gray_patch(size)
    fig = new_figure(12, 7.4)
    axes = fig.subplots(2, 1 + len(draws))
    panels = [("max", None, f"max pooling 2x2: {size} → {size // 2}, fixed grid")]
    panels += [("fractional", u, f"fractional, draw {i + 1}: {size} → {output}") for i, u in enumerate(draws)]
    for col, (kind, u, title) in enumerate(panels):
        rows, cols = pooling_regions(size, output, u if u is not None else (0.5, 0.5), kind)
        ax = axes[0, col]
        ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        for parity in (0, 1):                  # neighbouring regions in two colours and line styles
            boxes = [Rectangle((c[0] - 0.42, r[0] - 0.42), len(c) - 0.16, len(r) - 0.16)
                     for i, r in enumerate(rows) for j, c in enumerate(cols) if (i + j) % 2 == parity]
            ax.add_collection(PatchCollection(boxes, facecolor="none", edgecolor=COLORS[2 * parity],
                                              linewidth=2, linestyle="--" if parity else "-"))
        ax.set_title(title, fontsize="medium")
        ax.set(xlabel="column (pixel)", ylabel="row (pixel)")
        ax.grid(False)
        x = image[None, None]
        if kind == "max":
            pooled = F.max_pool2d(x, 2)[0, 0]
        else:
            pooled = F.fractional_max_pool2d(x, 2, output_size=(output, output),
                                             _random_samples=torch.tensor([[u]], dtype=x.dtype))[0, 0]
        axes[1, col].imshow(pooled.numpy(), cmap="gray", vmin=0, vmax=1)
        axes[1, col].set_title(f"pooled: {pooled.shape[0]} x {pooled.shape[1]}", fontsize="medium")
        axes[1, col].set(xlabel="output column", ylabel="output row")
        axes[1, col].grid(False)
    fig.suptitle("Fractional max pooling: 2x2 regions at pseudo-random places, a new arrangement every pass\n"
                 "(the regions read back from torch's fractional_max_pool2d on a photograph)")
    return fig


# --------------------------------------------------------------------------- stochastic depth
@figure("stochdepth", notebook="06_regularization")
def stochastic_depth_stack(depth: int = 20, survival_last: float = 0.5, draws: int = 5, seed: int = 3):
    """Columns: the residual blocks of ``models.stochastic_depth_resnet(depth)`` in ``draws``
    training mini-batches (the model's own draw of survival, ``seed``), and the test-time network,
    whose branches are scaled by their survival probability."""
    from ..models.stochastic_depth import stochastic_depth_resnet

    model = stochastic_depth_resnet(depth, 10, survival_last, seed=seed)
    runs = [model.draw_survival() for _ in range(draws)]      # what each training forward pass draws
    n = len(model.blocks)
    fig = new_figure(11, 6.2)
    ax = fig.subplots()
    for col in range(draws + 1):
        x = col * 1.6
        for level, label in ((-1, "stem"), (n, "classifier")):
            ax.add_patch(_box(x, level, COLORS[7], alpha=0.15))
            ax.text(x + 0.6, level + 0.4, label, ha="center", va="center")
        for l in range(n):
            kept = runs[col][l] if col < draws else True
            ax.add_patch(_box(x, l, COLORS[0] if kept else "white", alpha=0.85 if kept else 1.0,
                              edge=COLORS[0] if kept else GREY, hatch=None if kept else "//"))
            text = "" if kept else "skipped"
            if col == draws:
                text = f"x {model.survival[l]:.2f}"
            ax.text(x + 0.6, l + 0.4, text, ha="center", va="center",
                    color="white" if kept and col < draws else "black")
        used = n if col == draws else sum(runs[col])
        ax.text(x + 0.6, n + 1.2, "test time" if col == draws else f"mini-batch {col + 1}",
                ha="center", weight="bold")
        ax.text(x + 0.6, -1.9, f"{used} of {n} blocks", ha="center")
    for l in range(n):
        ax.text(-0.15, l + 0.4, f"p = {model.survival[l]:.2f}", ha="right", va="center")
    ax.set_xlim(-1.3, (draws + 1) * 1.6)
    ax.set_ylim(n + 1.8, -2.3)
    ax.axis("off")
    ax.set_title(f"Stochastic depth, ResNet-{depth}: block l survives a mini-batch with p_l = 1 − (l/L)(1 − "
                 f"{survival_last:g}); expected {model.expected_blocks():.2f} of {n} blocks run", fontsize=font_pt(12))
    return fig


def _box(x, level, colour, alpha=1.0, edge="black", hatch=None):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, level + 0.08), 1.2, 0.64, boxstyle="round,pad=0.02", facecolor=colour,
                          alpha=alpha, edgecolor=edge, hatch=hatch, lw=1.2)


# --------------------------------------------------------------------------- the augmentation grid
def plot_augmentation_grid(strength: float = 0.6, n_digits: int = 2, seed: int = 0):
    """Every augmentation of ``lecture_lib.augment`` at ``strength`` on the two photographs and on
    ``n_digits`` held-out digits; one random draw each (``seed``). Drawn as one mosaic image (one
    axes: fast to render)."""
    import torch

    from .. import augment
    from ..data import digits

    photos = augment.sample_photos(96)
    h, w = photos.shape[-2:]
    digit_images = torch.as_tensor(digits(seed=0).X_test[:n_digits]).reshape(-1, 1, 8, 8)
    generator = torch.Generator().manual_seed(seed)
    columns = ("original", *augment.NAMES)
    batches = {"photo": photos, "digit": digit_images}
    tiles = {kind: [batch] + [augment.apply(name, batch, strength, generator=generator) for name in augment.NAMES]
             for kind, batch in batches.items()}
    gap = 6
    rows = [("photo", i) for i in range(len(photos))] + [("digit", i) for i in range(n_digits)]
    mosaic = np.ones((len(rows) * (h + gap), len(columns) * (w + gap), 3), dtype=np.float32)
    for r, (kind, i) in enumerate(rows):
        for c, batch in enumerate(tiles[kind]):
            image = batch[i].clamp(0, 1)
            if kind == "digit":                 # dark ink on white, enlarged without smoothing
                scale = h // 8
                ink = 1 - image[0].repeat_interleave(scale, 0).repeat_interleave(scale, 1)
                tile = np.ones((h, w, 3), dtype=np.float32)
                tile[:, (w - 8 * scale) // 2:(w - 8 * scale) // 2 + 8 * scale] = ink[..., None].numpy()
            else:
                tile = image.permute(1, 2, 0).numpy()
            y0, x0 = r * (h + gap), c * (w + gap)
            mosaic[y0:y0 + h, x0:x0 + w] = tile
    fig = new_figure(13, 13 * mosaic.shape[0] / mosaic.shape[1] + 0.9)
    ax = fig.subplots()
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([c * (w + gap) + w / 2 for c in range(len(columns))], [c.replace("_", " ") for c in columns])
    ax.set_yticks([r * (h + gap) + h / 2 for r in range(len(rows))], [f"{k} {i + 1}" for k, i in rows])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(f"Every augmentation at strength {strength:g} (of 1), one random draw per image:\n"
                 "the same batched code for photographs (3 channels) and digits (1)")
    return fig
