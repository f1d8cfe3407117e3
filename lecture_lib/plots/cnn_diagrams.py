"""The notes' architecture pictures (``vgg``, ``resnet``, ``resnext``, ``fractalnet``, ``densenet``),
drawn by walking the modules of ``lecture_lib.models``: every box is a layer found in a model,
every label and parameter count is read from it, so a picture cannot drift from the code."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..figures import figure
from ..style import COLORS, new_figure

KIND_COLOR = {"conv": COLORS[4], "pool": COLORS[1], "fc": COLORS[2], "join": COLORS[6], "add": COLORS[6],
              "input": "0.85", "norm": "0.93"}


def _build(arch: str, **kwargs):
    from ..models.anatomy import meta

    return meta(arch, **kwargs)


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv_params(module) -> int:
    """Parameters of the conv layers only (what a block diagram's boxes hold)."""
    import torch.nn as nn

    return sum(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0)
               for m in module.modules() if isinstance(m, nn.Conv2d))


def _box(ax, x, y, w, h, text, kind, fontsize=8, **kwargs):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                facecolor=KIND_COLOR[kind], edgecolor="black", linewidth=0.7, **kwargs))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=5)


def _arrow(ax, start, end, style="-|>", connection="arc3", **kwargs):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=9, connectionstyle=connection,
                                 linewidth=kwargs.pop("linewidth", 0.9), color=kwargs.pop("color", "black"),
                                 shrinkA=0, shrinkB=0, **kwargs))


def _around(ax, start, x_out, end):
    """An identity shortcut drawn around a block: right from ``start`` to ``x_out``, down to the
    height of ``end``, and left into it."""
    (x0, y0), (x1, y1) = start, end
    ax.plot([x0, x_out, x_out], [y0, y0, y1], color=COLORS[0], linewidth=1.4)
    _arrow(ax, (x_out, y1), (x1, y1), color=COLORS[0], linewidth=1.4)
    ax.text(x_out + 0.05, (y0 + y1) / 2, "identity", rotation=90, va="center", ha="left", color=COLORS[0],
            fontsize=9)


def _blank(ax):
    ax.set_axis_off()
    ax.set_aspect("auto")


# --------------------------------------------------------------------------- VGG
def layer_sequence(model) -> list[tuple[str, str]]:
    """The layers a plain feed-forward model (features, then classifier) applies, as (kind,
    label) pairs: convs with kernel, stride and filters, pools, fc layers with their width."""
    import torch.nn as nn

    layers = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            k, s = m.kernel_size[0], m.stride[0]
            layers.append(("conv", f"{k}x{k} conv{'/' + str(s) if s > 1 else ''}, {m.out_channels}"))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            layers.append(("pool", "pool"))
        elif isinstance(m, nn.Linear):
            layers.append(("fc", f"fc {m.out_features}"))
    return layers


@figure("vgg", notebook="07_cnn_architectures")
def plot_vgg():
    """AlexNet, VGG16 and VGG19 side by side, every layer read from the models."""
    import torch.nn as nn

    from ..models.anatomy import depth

    archs = (("AlexNet", "alexnet"), ("VGG16", "vgg16"), ("VGG19", "vgg19"))
    fig = new_figure(11, 9)
    ax = fig.subplots()
    _blank(ax)
    columns = []
    for title, arch in archs:
        model = _build(arch)
        fc = sum(_params(m) for m in model.classifier.modules() if isinstance(m, nn.Linear))
        columns.append((title, layer_sequence(model), _params(model), depth(model), fc))
    height = max(len(c[1]) for c in columns) + 2
    for col, (title, layers, params, layers_deep, fc) in enumerate(columns):
        x = col * 1.4
        _box(ax, x, 0, 1.1, 0.7, "input 224x224x3", "input")
        for row, (kind, label) in enumerate(layers, start=1):
            _box(ax, x, row, 1.1, 0.7, label, kind)
        _box(ax, x, len(layers) + 1, 1.1, 0.7, "softmax", "input")
        ax.text(x, height + 0.1, f"{title}\n{params / 1e6:.1f}M parameters ({fc / params:.0%} in fc)\n"
                f"{layers_deep} weight layers", ha="center", va="bottom", fontsize=10)
    ax.set_xlim(-0.8, 1.4 * (len(archs) - 1) + 0.8)
    ax.set_ylim(-0.6, height + 1.6)
    for kind, label in (("conv", "conv"), ("pool", "max pool"), ("fc", "fully connected")):
        ax.scatter([], [], marker="s", s=80, color=KIND_COLOR[kind], edgecolors="black", label=label)
    ax.legend(loc="upper left", fontsize=9)
    fig.suptitle("VGG: only 3x3 convolutions, stacked between pools; the fc layers hold most parameters")
    return fig


# --------------------------------------------------------------------------- ResNet
def _block_stack(model):
    """(stage, block, convs as labels, has projection) for every residual block of a ResNet."""
    import torch.nn as nn

    blocks = []
    for stage in range(1, 5):
        for i, block in enumerate(getattr(model, f"layer{stage}")):
            convs = [m for m in block.children() if isinstance(m, nn.Conv2d)]
            labels = [f"{c.kernel_size[0]}x{c.kernel_size[0]} conv{'/2' if c.stride[0] > 1 else ''}, {c.out_channels}"
                      for c in convs]
            blocks.append((stage, i, labels, block.downsample is not None))
    return blocks


@figure("resnet", notebook="07_cnn_architectures")
def plot_resnet():
    """A residual block (read from ResNet-34's first block) and the whole ResNet-34, every block
    with its shortcut (solid: identity, dashed: 1x1 projection where the shape changes)."""
    from ..models.anatomy import depth

    model = _build("resnet34")
    fig = new_figure(12, 10)
    ax_block, ax_net = fig.subplots(1, 2, width_ratios=[1, 1.4])
    for ax in (ax_block, ax_net):
        _blank(ax)
    block = model.layer1[0]
    steps = [("input", "x"), ("conv", f"3x3 conv, {block.conv1.out_channels}"), ("norm", "batch norm, ReLU"),
             ("conv", f"3x3 conv, {block.conv2.out_channels}"), ("norm", "batch norm"), ("add", "+"),
             ("norm", "ReLU")]
    for y, (kind, label) in enumerate(steps):
        _box(ax_block, 0, y, 1.2, 0.55, label, kind, fontsize=10)
        if y:
            _arrow(ax_block, (0, y - 0.72), (0, y - 0.3))
    _arrow(ax_block, (0.6, 0), (0.6, 5), connection="arc3,rad=0.45", linewidth=1.6, color=COLORS[0])
    ax_block.text(1.35, 2.5, "identity x", color=COLORS[0], fontsize=11, ha="left")
    ax_block.text(-0.75, 2.0, "F(x)", fontsize=12, ha="right")
    ax_block.text(0, 6.6, f"residual block: F(x) + x\n{_params(block):,} parameters", ha="center", fontsize=11)
    ax_block.set_xlim(-1.4, 2.2)
    ax_block.set_ylim(-0.8, 7.4)

    rows = [("conv", "7x7 conv/2, 64"), ("pool", "pool/2")]
    blocks = _block_stack(model)
    for _, _, labels, _ in blocks:
        rows += [("conv", label) for label in labels]
    rows += [("pool", "avg pool"), ("fc", f"fc {model.fc.out_features}")]
    h = 0.8
    for y, (kind, label) in enumerate(rows):
        _box(ax_net, 0, y * h, 1.3, 0.6 * h, label, kind, fontsize=7)
    for k, (_, _, labels, projection) in enumerate(blocks):
        first = 2 + sum(len(b[2]) for b in blocks[:k])
        start, end = (first - 0.45) * h, (first + len(labels) - 0.55) * h
        _arrow(ax_net, (0.66, start), (0.66, end), connection="arc3,rad=0.6", color=COLORS[0],
               linestyle="--" if projection else "-", linewidth=1.0)
    ax_net.text(0, (len(rows) + 0.3) * h, f"ResNet-34: {depth(model)} weight layers on the longest path,\n"
                f"{_params(model) / 1e6:.1f}M parameters", ha="center", va="bottom", fontsize=11)
    ax_block.plot([], [], color=COLORS[0], label="identity shortcut")
    ax_block.plot([], [], color=COLORS[0], linestyle="--", label="1x1 conv shortcut\n(where the shape changes)")
    ax_block.legend(loc="lower right", fontsize=9)
    ax_net.set_xlim(-1.2, 1.6)
    ax_net.set_ylim(-0.6, (len(rows) + 2.2) * h)
    fig.suptitle("ResNet: each block learns a residual F(x) and adds its input back")
    return fig


# --------------------------------------------------------------------------- ResNeXt
@figure("resnext", notebook="07_cnn_architectures")
def plot_resnext():
    """ResNet-50's first bottleneck against ResNeXt-50's, drawn as its parallel paths: the
    grouped 3x3 conv of the module is ``groups`` paths of ``width / groups`` channels."""
    resnet_block = _build("resnet50").layer1[1]          # the first block's input has 64 channels
    resnext_block = _build("resnext50_32x4d").layer1[1]
    groups = resnext_block.conv2.groups
    per_path = resnext_block.conv2.out_channels // groups
    out = resnext_block.conv3.out_channels
    width_in = resnext_block.conv1.in_channels
    fig = new_figure(12, 5.4)
    ax_a, ax_b = fig.subplots(1, 2, width_ratios=[1, 2.3])
    for ax in (ax_a, ax_b):
        _blank(ax)
    labels = [f"1x1 conv, {resnet_block.conv1.out_channels}", f"3x3 conv, {resnet_block.conv2.out_channels}",
              f"1x1 conv, {resnet_block.conv3.out_channels}"]
    _box(ax_a, 0, 4, 1.3, 0.5, f"{resnet_block.conv1.in_channels}-d in", "input", fontsize=9)
    for y, label in zip((3, 2, 1), labels, strict=True):
        _box(ax_a, 0, y, 1.3, 0.5, label, "conv", fontsize=9)
        _arrow(ax_a, (0, y + 0.75), (0, y + 0.25))
    _box(ax_a, 0, 0, 0.45, 0.45, "+", "add", fontsize=11)
    _arrow(ax_a, (0, 0.75), (0, 0.23))
    _around(ax_a, (0.65, 4), 1.0, (0.23, 0))
    ax_a.text(0, 4.6, f"ResNet-50 bottleneck\nconv parameters: {_conv_params(resnet_block):,}", ha="center",
              fontsize=10)
    ax_a.set_xlim(-1.0, 1.6)
    ax_a.set_ylim(-1.2, 5.3)

    shown = [0, 1, 2, None, groups - 1]
    xs = np.arange(len(shown)) * 1.25
    centre = xs.mean()
    _box(ax_b, centre, 4, 1.3, 0.5, f"{width_in}-d in", "input", fontsize=9)
    for x, path in zip(xs, shown, strict=True):
        if path is None:
            ax_b.text(x, 2, "...", ha="center", va="center", fontsize=18)
            continue
        for y, label in zip((3, 2, 1), (f"1x1 conv, {per_path}", f"3x3 conv, {per_path}", f"1x1 conv, {out}"),
                            strict=True):
            _box(ax_b, x, y, 1.05, 0.45, label, "conv", fontsize=8)
        _arrow(ax_b, (centre, 3.75), (x, 3.23))
        _arrow(ax_b, (x, 2.77), (x, 2.23))
        _arrow(ax_b, (x, 1.77), (x, 1.23))
        _arrow(ax_b, (x, 0.77), (centre, 0.23))
    _box(ax_b, centre, 0, 0.45, 0.45, "+", "add", fontsize=11)
    _around(ax_b, (centre + 0.65, 4), xs[-1] + 0.75, (centre + 0.23, 0))
    ax_b.annotate("", (xs[0] - 0.55, -0.55), (xs[-1] + 0.55, -0.55),
                  arrowprops={"arrowstyle": "|-|", "color": COLORS[3], "lw": 1})
    ax_b.text(centre, -0.62, f"{groups} paths: in the module, one 1x1 conv to {groups * per_path}, one grouped "
              f"3x3 conv (groups={groups}), one 1x1 conv to {out}", ha="center", va="top", color=COLORS[3],
              fontsize=10)
    ax_b.text(centre, 4.6, f"ResNeXt-50 (32x4d) block\nconv parameters: {_conv_params(resnext_block):,}",
              ha="center", fontsize=10)
    ax_b.set_xlim(xs[0] - 1.0, xs[-1] + 1.2)
    ax_b.set_ylim(-1.2, 5.3)
    fig.suptitle(f"ResNeXt: the same budget split into {groups} parallel paths of {per_path} channels")
    return fig


# --------------------------------------------------------------------------- FractalNet
def fractal_layout(block, row: int = 0, rows: int | None = None):
    """Walk a FractalBlock: a list of convs as (column, first row, rows spanned) and of joins as
    (row, columns joined). Column ``c`` (0 = deepest) is the single conv of the sub-blocks with
    c + 1 columns; row boundaries are in units of the deepest column's convs."""
    rows = 2 ** (block.columns - 1) if rows is None else rows
    convs = [(block.columns - 1, row, rows)]
    joins = []
    if block.columns > 1:
        half = rows // 2
        c0, j0 = fractal_layout(block.deep[0], row, half)
        c1, j1 = fractal_layout(block.deep[1], row + half, half)
        convs += c0 + c1
        joins += j0 + [j for j in j1 if j[0] != row + rows]   # the second half's last join merges with ours
        joins.append((row + rows, block.columns))
    return convs, joins


@figure("fractalnet", notebook="07_cnn_architectures")
def plot_fractalnet(columns: int = 4):
    """One fractal block with ``columns`` columns, walked from lecture_lib.models' FractalBlock:
    conv layers per column, and the join layers (element-wise means) where columns meet."""
    import torch

    from ..models.fractal import FractalBlock

    with torch.device("meta"):
        block = FractalBlock(columns, 64, 64)
    convs, joins = fractal_layout(block)
    total = 2 ** (columns - 1)
    fig = new_figure(10, 7)
    ax = fig.subplots()
    _blank(ax)
    x_of = {c: (columns - 1 - c) * 1.5 for c in range(columns)}     # shallow column on the left
    for column, first, span in convs:
        y = -(first + span / 2)
        _box(ax, x_of[column], y, 1.1, 0.6, "3x3 conv\nBN, ReLU", "conv", fontsize=8)
        _arrow(ax, (x_of[column], -first), (x_of[column], y + 0.3), style="-")
        _arrow(ax, (x_of[column], y - 0.3), (x_of[column], -(first + span)), style="-")
    for row, width in sorted(set(joins)):
        involved = [x_of[c] for c in range(width)]
        left, right = min(involved) - 0.6, max(involved) + 0.6
        ax.add_patch(FancyBboxPatch((left, -row - 0.09), right - left, 0.18, boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=KIND_COLOR["join"], edgecolor="black", linewidth=0.7, zorder=4))
        ax.text(right + 0.1, -row, f"join ({width})", va="center", fontsize=8)
    ax.text(x_of[columns - 1] / 2 + x_of[0] / 2, 0.4, "input", ha="center", fontsize=10)
    for c in range(columns):
        n = 2 ** (columns - 1 - c)
        ax.text(x_of[c], -total - 0.6, f"column {columns - c}\n{n} conv{'s' if n > 1 else ''}", ha="center",
                va="top", fontsize=9)
    ax.set_xlim(-1.0, x_of[0] + 1.6)
    ax.set_ylim(-total - 1.5, 1.0)
    fig.suptitle(f"A fractal block ({columns} columns, {len(convs)} convs, {_params(block) / 1e3:.0f}k parameters "
                 "at 64 channels):\nf_(C+1)(z) = join(f_C(f_C(z)), conv(z)); no identity path anywhere")
    return fig


# --------------------------------------------------------------------------- DenseNet
@figure("densenet", notebook="07_cnn_architectures")
def plot_densenet(n_layers: int = 5, growth_rate: int = 4, in_channels: int = 6):
    """A dense block walked from lecture_lib.models' DenseBlock: each layer receives every
    earlier feature map (concatenated), and adds ``growth_rate`` channels; below, DenseNet-121's
    blocks and transitions with their channel counts, read from the model."""
    import torch
    import torch.nn as nn

    from ..models.densenet import DenseBlock, Transition

    with torch.device("meta"):
        block = DenseBlock(n_layers, in_channels, growth_rate, bn_size=0)
    layers = list(block.children())
    fig = new_figure(12, 7.5)
    ax_block, ax_net = fig.subplots(2, 1, height_ratios=[2.2, 1])
    for ax in (ax_block, ax_net):
        _blank(ax)
    xs = np.arange(n_layers + 1) * 2.0
    widths = [in_channels] + [growth_rate] * n_layers
    for i, x in enumerate(xs):
        label = "input" if i == 0 else f"layer {i} output"
        _box(ax_block, x, 0, 0.5, 0.25 * widths[i] ** 0.5 * 2, f"{widths[i]}", "input" if i == 0 else "conv",
             fontsize=9)
        ax_block.text(x, -1.0, label, ha="center", fontsize=9)
        if i < n_layers:
            layer = layers[i]
            sees = layer.conv2.in_channels
            ax_block.text(x + 1.0, 1.55, f"BN-ReLU-\n3x3 conv\nin {sees}", ha="center", fontsize=8, zorder=6,
                          bbox={"boxstyle": "round", "facecolor": KIND_COLOR["norm"], "edgecolor": "0.4"})
    for target in range(1, n_layers + 1):
        for source in range(target):
            rad = -0.25 - 0.05 * (target - source)
            _arrow(ax_block, (xs[source] + 0.1, 0.35), (xs[target] - 0.1, 0.35), connection=f"arc3,rad={rad}",
                   color=COLORS[target % len(COLORS)], linewidth=0.8)
    ax_block.set_xlim(-1, xs[-1] + 1)
    ax_block.set_ylim(-1.4, 3.2)
    ax_block.set_title(f"A {n_layers}-layer dense block, growth rate {growth_rate}: layer i sees "
                       f"{in_channels} + {growth_rate}(i - 1) channels; {_params(block):,} parameters", fontsize=11)

    model = _build("densenet121")
    items = [("conv", f"7x7 conv/2, {model.features.conv0.out_channels}"), ("pool", "pool/2")]
    for m in model.features.children():
        if isinstance(m, DenseBlock):
            n = len(list(m.children()))
            items.append(("conv", f"dense block\n{n} layers\n-> {m.out_channels} ch"))
        elif isinstance(m, Transition):
            items.append(("pool", f"transition\n1x1 conv, {m.conv.out_channels}\navg pool/2"))
    fc = next(m for m in model.modules() if isinstance(m, nn.Linear))
    items.append(("fc", f"pool, fc {fc.out_features}"))
    for i, (kind, label) in enumerate(items):
        _box(ax_net, i * 1.6, 0, 1.35, 0.9, label, kind, fontsize=8)
        if i:
            _arrow(ax_net, (i * 1.6 - 0.93, 0), (i * 1.6 - 0.68, 0))
    ax_net.set_xlim(-0.9, 1.6 * (len(items) - 1) + 0.9)
    ax_net.set_ylim(-0.8, 0.8)
    ax_net.set_title(f"DenseNet-121: {_params(model) / 1e6:.2f}M parameters", fontsize=11)
    fig.suptitle("DenseNet: every layer is connected to every later layer of its block, by concatenation")
    return fig
