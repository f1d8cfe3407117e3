"""The notes' architecture pictures (``vgg``, ``resnet``, ``resnext``, ``fractalnet``, ``densenet``),
drawn by walking the modules of ``lecture_lib.models``: every box is a layer found in a model,
every label and parameter count is read from it, so a picture cannot drift from the code.

The figures are at most 10.5 inches wide and their labels at least ``BOX_FONT`` points, so that
they stay readable at the width a notebook shows them (tests/test_cnn_figures.py checks that
every label fits inside its box)."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..figures import figure
from ..style import COLORS, font_pt, new_figure

KIND_COLOR = {"conv": COLORS[4], "pool": COLORS[1], "fc": COLORS[2], "join": COLORS[6], "add": COLORS[6],
              "input": "0.85", "norm": "0.93"}
BOX_FONT = 11      # the labels inside boxes
HEAD_FONT = 12     # column headings and panel titles


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


def _conv_label(conv) -> str:
    k, s = conv.kernel_size[0], conv.stride[0]
    return f"{k}x{k} conv{'/' + str(s) if s > 1 else ''}, {conv.out_channels}"


def _box(ax, x, y, w, h, text, kind, fontsize=None, **kwargs):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                facecolor=KIND_COLOR[kind], edgecolor="black", linewidth=0.7, **kwargs))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize or font_pt(BOX_FONT), zorder=5,
            linespacing=1.15)


def _arrow(ax, start, end, style="-|>", connection="arc3", **kwargs):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, connectionstyle=connection,
                                 linewidth=kwargs.pop("linewidth", 1.0), color=kwargs.pop("color", "black"),
                                 shrinkA=0, shrinkB=0, **kwargs))


def _around(ax, start, x_out, end):
    """An identity shortcut drawn around a block: right from ``start`` to ``x_out``, down to the
    height of ``end``, and left into it."""
    (x0, y0), (x1, y1) = start, end
    ax.plot([x0, x_out, x_out], [y0, y0, y1], color=COLORS[0], linewidth=1.6)
    _arrow(ax, (x_out, y1), (x1, y1), color=COLORS[0], linewidth=1.6)
    ax.text(x_out + 0.06, (y0 + y1) / 2, "identity", rotation=90, va="center", ha="left", color=COLORS[0],
            fontsize=font_pt(BOX_FONT))


def _blank(ax):
    ax.set_axis_off()
    ax.set_aspect("auto")


def _legend(ax, kinds, **kwargs):
    names = {"conv": "conv", "pool": "pool", "fc": "fully connected", "norm": "batch norm / ReLU",
             "add": "addition", "join": "join (mean)"}
    for kind in kinds:
        ax.scatter([], [], marker="s", s=110, color=KIND_COLOR[kind], edgecolors="black", label=names[kind])
    ax.legend(fontsize=font_pt(BOX_FONT), **kwargs)


# --------------------------------------------------------------------------- VGG
def layer_sequence(model) -> list[tuple[str, str]]:
    """The layers a plain feed-forward model (features, then classifier) applies, as (kind,
    label) pairs: convs with kernel, stride and filters, pools, fc layers with their width."""
    import torch.nn as nn

    layers = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            layers.append(("conv", _conv_label(m)))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            layers.append(("pool", f"{'max' if isinstance(m, nn.MaxPool2d) else 'average'} pool/{stride}"))
        elif isinstance(m, nn.Linear):
            layers.append(("fc", f"fc {m.out_features}"))
    return layers


@figure("vgg", notebook="07_cnn_architectures")
def plot_vgg():
    """AlexNet, VGG16 and VGG19 side by side, every layer read from the models."""
    import torch.nn as nn

    from ..models.anatomy import depth

    archs = (("AlexNet", "alexnet"), ("VGG16", "vgg16"), ("VGG19", "vgg19"))
    fig = new_figure(10, 9.5)
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
        _box(ax, x, 0, 1.15, 0.72, "input 224x224x3", "input")
        for row, (kind, label) in enumerate(layers, start=1):
            _box(ax, x, row, 1.15, 0.72, label, kind)
        _box(ax, x, len(layers) + 1, 1.15, 0.72, "softmax", "input")
        ax.text(x, len(layers) + 1.6, f"{title}: {layers_deep} weight layers\n{params / 1e6:.1f}M parameters, "
                f"{fc / params:.0%} in fc", ha="center", va="bottom", fontsize=font_pt(HEAD_FONT))
    ax.set_xlim(-0.72, 1.4 * (len(archs) - 1) + 0.72)
    ax.set_ylim(-0.6, height + 1.4)
    _legend(ax, ("conv", "pool", "fc"), loc="upper left", borderaxespad=0.2)
    fig.suptitle("VGG: only 3x3 convolutions between the pools; the fc layers hold most parameters")
    return fig


# --------------------------------------------------------------------------- ResNet
def _block_stack(model):
    """(stage, block, convs as labels, has projection) for every residual block of a ResNet."""
    import torch.nn as nn

    blocks = []
    for stage in range(1, 5):
        for i, block in enumerate(getattr(model, f"layer{stage}")):
            convs = [m for m in block.children() if isinstance(m, nn.Conv2d)]
            blocks.append((stage, i, [_conv_label(c) for c in convs], block.downsample is not None))
    return blocks


def _residual_block(ax, block):
    """One basic block, step by step, with its identity shortcut and the branch F(x) marked."""
    steps = [("input", "x"), ("conv", f"3x3 conv, {block.conv1.out_channels}"), ("norm", "batch norm,\nReLU"),
             ("conv", f"3x3 conv, {block.conv2.out_channels}"), ("norm", "batch norm"), ("add", "+"),
             ("norm", "ReLU")]
    for y, (kind, label) in enumerate(steps):
        _box(ax, 0, y, 1.5, 0.55, label, kind)
        if y:
            _arrow(ax, (0, y - 0.72), (0, y - 0.28))
    _arrow(ax, (0.7, 0), (0.7, 5), connection="arc3,rad=0.4", linewidth=1.8, color=COLORS[0])
    ax.text(2.1, 2.5, "identity:\nx unchanged", color=COLORS[0], fontsize=font_pt(HEAD_FONT), ha="left", va="center")
    ax.plot([-0.82, -0.9, -0.9, -0.82], [0.7, 0.7, 4.3, 4.3], color="0.3", linewidth=1.2, linestyle="-")
    ax.text(-0.96, 2.5, "F(x)", fontsize=font_pt(HEAD_FONT + 1), ha="right", va="center")
    ax.text(0, 6.55, f"one residual block: F(x) + x\n{_params(block):,} parameters", ha="center", va="bottom",
            fontsize=font_pt(HEAD_FONT))
    ax.set_xlim(-1.45, 3.3)
    ax.set_ylim(-1.7, 7.6)


@figure("resnet", notebook="07_cnn_architectures")
def plot_resnet():
    """A residual block (read from ResNet-34's first block) and the whole ResNet-34, one box per
    residual block with its shortcut (solid: identity, dashed: 1x1 projection where the shape
    changes)."""
    from ..models.anatomy import depth

    model = _build("resnet34")
    fig = new_figure(10, 9.5)
    ax_block, ax_net = fig.subplots(1, 2, width_ratios=[1, 1.3])
    for ax in (ax_block, ax_net):
        _blank(ax)
    _residual_block(ax_block, model.layer1[0])
    ax_block.plot([], [], color=COLORS[0], linestyle="-", label="identity shortcut")
    ax_block.plot([], [], color=COLORS[0], linestyle="--", label="1x1 conv shortcut\n(where the shape changes)")
    ax_block.legend(loc="lower right", fontsize=font_pt(BOX_FONT))

    blocks = _block_stack(model)
    rows = [("input", "input 224x224x3"), ("conv", _conv_label(model.conv1)), ("pool", "max pool/2")]
    first_block = len(rows)
    rows += [("conv", "  ·  ".join(labels)) for _, _, labels, _ in blocks]
    rows += [("pool", "average pool"), ("fc", f"fc {model.fc.out_features}")]
    for y, (kind, label) in enumerate(rows):
        _box(ax_net, 0, y, 1.5, 0.66, label, kind)
    for k, (_, _, _, projection) in enumerate(blocks):
        y = first_block + k
        _arrow(ax_net, (0.76, y - 0.5), (0.76, y + 0.5), connection="arc3,rad=0.7", color=COLORS[0],
               linestyle="--" if projection else "-", linewidth=1.3)
    convs_in_blocks = sum(len(b[2]) for b in blocks)
    ax_net.text(0, len(rows) - 0.3, f"ResNet-34: {depth(model)} weight layers on the longest path\n"
                f"(1 conv + {len(blocks)} blocks x 2 convs + 1 fc = {1 + convs_in_blocks + 1}), "
                f"{_params(model) / 1e6:.1f}M parameters", ha="center", va="bottom", fontsize=font_pt(HEAD_FONT))
    ax_net.set_xlim(-0.85, 1.05)
    ax_net.set_ylim(-0.6, len(rows) + 1.2)
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
    fig = new_figure(10.5, 5.4)
    ax_a, ax_b = fig.subplots(1, 2, width_ratios=[1, 2.4])
    for ax in (ax_a, ax_b):
        _blank(ax)
    labels = [f"1x1 conv, {resnet_block.conv1.out_channels}", f"3x3 conv, {resnet_block.conv2.out_channels}",
              f"1x1 conv, {resnet_block.conv3.out_channels}"]
    _box(ax_a, 0, 4, 1.3, 0.5, f"{resnet_block.conv1.in_channels}-d in", "input")
    for y, label in zip((3, 2, 1), labels, strict=True):
        _box(ax_a, 0, y, 1.3, 0.5, label, "conv")
        _arrow(ax_a, (0, y + 0.75), (0, y + 0.25))
    _box(ax_a, 0, 0, 0.45, 0.45, "+", "add", fontsize=font_pt(HEAD_FONT + 1))
    _arrow(ax_a, (0, 0.75), (0, 0.23))
    _around(ax_a, (0.65, 4), 0.95, (0.23, 0))
    ax_a.text(0, 4.45, f"ResNet-50 bottleneck\nconv parameters: {_conv_params(resnet_block):,}", ha="center",
              va="bottom", fontsize=font_pt(HEAD_FONT))
    ax_a.set_xlim(-0.75, 1.3)
    ax_a.set_ylim(-1.5, 5.4)

    shown = [0, 1, None, groups - 1]
    xs = np.arange(len(shown)) * 1.45
    centre = xs.mean()
    _box(ax_b, centre, 4, 1.3, 0.5, f"{width_in}-d in", "input")
    for x, path in zip(xs, shown, strict=True):
        if path is None:
            ax_b.text(x, 2, f"... {groups - 3} more ...", ha="center", va="center", fontsize=font_pt(HEAD_FONT))
            continue
        for y, label in zip((3, 2, 1), (f"1x1 conv, {per_path}", f"3x3 conv, {per_path}", f"1x1 conv, {out}"),
                            strict=True):
            _box(ax_b, x, y, 1.25, 0.48, label, "conv")
        _arrow(ax_b, (centre, 3.75), (x, 3.24))
        _arrow(ax_b, (x, 2.76), (x, 2.24))
        _arrow(ax_b, (x, 1.76), (x, 1.24))
        _arrow(ax_b, (x, 0.76), (centre, 0.23))
    _box(ax_b, centre, 0, 0.45, 0.45, "+", "add", fontsize=font_pt(HEAD_FONT + 1))
    _around(ax_b, (centre + 0.65, 4), xs[-1] + 0.85, (centre + 0.23, 0))
    ax_b.annotate("", (xs[0] - 0.62, -0.5), (xs[-1] + 0.62, -0.5),
                  arrowprops={"arrowstyle": "|-|", "color": COLORS[3], "lw": 1.2})
    ax_b.text(centre, -0.68, f"{groups} paths; in the module: one 1x1 conv to {groups * per_path}, one grouped 3x3 "
              f"conv\n(groups={groups}), one 1x1 conv to {out} compute exactly these paths", ha="center", va="top",
              color=COLORS[3], fontsize=font_pt(BOX_FONT))
    ax_b.text(centre, 4.45, f"ResNeXt-50 (32x4d) block\nconv parameters: {_conv_params(resnext_block):,}",
              ha="center", va="bottom", fontsize=font_pt(HEAD_FONT))
    ax_b.set_xlim(xs[0] - 0.75, xs[-1] + 1.3)
    ax_b.set_ylim(-1.5, 5.4)
    fig.suptitle(f"ResNeXt: the bottleneck's budget split into {groups} parallel paths of {per_path} channels")
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


def _fractal_block(ax, block):
    """One fractal block, input at the top: a conv box per conv of each column, a bar per join."""
    columns = block.columns
    convs, joins = fractal_layout(block)
    total = 2 ** (columns - 1)
    x_of = {c: (columns - 1 - c) * 1.6 for c in range(columns)}     # shallow column on the left
    channels = block.shallow[0].out_channels
    for column, first, span in convs:
        y = -(first + span / 2)
        _box(ax, x_of[column], y, 1.3, 0.5, f"3x3 conv, {channels}\nBN, ReLU", "conv")
        _arrow(ax, (x_of[column], -first), (x_of[column], y + 0.25), style="-")
        _arrow(ax, (x_of[column], y - 0.25), (x_of[column], -(first + span)), style="-")
    for row, width in sorted(set(joins)):
        involved = [x_of[c] for c in range(width)]
        left, right = min(involved) - 0.7, max(involved) + 0.7
        ax.add_patch(FancyBboxPatch((left, -row - 0.1), right - left, 0.2, boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=KIND_COLOR["join"], edgecolor="black", linewidth=0.7, zorder=4))
        ax.text(right + 0.1, -row, f"join of {width}\n(mean)", va="center", fontsize=font_pt(BOX_FONT))
    ax.plot([x_of[columns - 1], x_of[0]], [0, 0], color="black", linewidth=1.0)
    ax.text((x_of[columns - 1] + x_of[0]) / 2, 0.15, "block input", ha="center", va="bottom",
            fontsize=font_pt(HEAD_FONT))
    for c in range(columns):
        n = 2 ** (columns - 1 - c)
        ax.text(x_of[c], -total - 0.35, f"column {columns - c}:\n{n} conv{'s' if n > 1 else ''}", ha="center",
                va="top", fontsize=font_pt(BOX_FONT))
    ax.set_xlim(-0.8, x_of[0] + 1.9)
    ax.set_ylim(-total - 1.3, 0.8)
    return convs


@figure("fractalnet", notebook="07_cnn_architectures")
def plot_fractalnet():
    """``lecture_lib.models.fractalnet``'s first fractal block, walked from its modules (conv
    layers per column, the join layers where columns meet), and the whole network's blocks."""
    from ..models.anatomy import depth
    from ..models.fractal import FractalBlock

    model = _build("fractalnet")
    blocks = [m for m in model.features if isinstance(m, FractalBlock)]
    fig = new_figure(10, 6.6)
    ax_block, ax_net = fig.subplots(1, 2, width_ratios=[1.4, 1])
    for ax in (ax_block, ax_net):
        _blank(ax)
    convs = _fractal_block(ax_block, blocks[0])
    ax_block.set_title(f"one block: {blocks[0].columns} columns, {len(convs)} convs, "
                       f"{_params(blocks[0]):,} parameters", fontsize=font_pt(HEAD_FONT))
    rows = [("input", "input 32x32x3")]
    for m in model.features:
        if isinstance(m, FractalBlock):
            rows.append(("conv", f"fractal block, {m.shallow[0].out_channels} ch"))
        else:
            rows.append(("pool", "max pool/2"))
    rows.append(("fc", f"average pool, fc {model.fc.out_features}"))
    for i, (kind, label) in enumerate(rows):
        y = -i
        _box(ax_net, 0, y, 1.5, 0.6, label, kind)
        if i:
            _arrow(ax_net, (0, y + 0.7), (0, y + 0.3))
    ax_net.set_xlim(-0.9, 0.9)
    ax_net.set_ylim(-len(rows) + 0.4, 0.6)
    ax_net.set_title(f"models.fractalnet:\n{len(blocks)} blocks, {_params(model) / 1e6:.1f}M parameters;\n"
                     f"deepest path {depth(model)} weight layers, shallowest {len(blocks) + 1}",
                     fontsize=font_pt(HEAD_FONT))
    fig.suptitle("FractalNet: f_(C+1)(z) = join(f_C(f_C(z)), conv(z)); deep and shallow paths, no identity path")
    return fig


# --------------------------------------------------------------------------- DenseNet
@figure("densenet", notebook="07_cnn_architectures")
def plot_densenet(n_layers: int = 4, growth_rate: int = 4, in_channels: int = 6):
    """A dense block walked from lecture_lib.models' DenseBlock: each layer receives every
    earlier feature map (concatenated), and adds ``growth_rate`` channels; below, DenseNet-121's
    blocks and transitions with their channel counts, read from the model."""
    import torch
    import torch.nn as nn

    from ..models.densenet import DenseBlock, Transition

    with torch.device("meta"):
        block = DenseBlock(n_layers, in_channels, growth_rate, bn_size=0)
    layers = list(block.children())
    fig = new_figure(10.5, 7.4)
    ax_block, ax_net = fig.subplots(2, 1, height_ratios=[2.1, 1])
    for ax in (ax_block, ax_net):
        _blank(ax)
    xs = np.arange(n_layers + 1) * 2.2
    widths = [in_channels] + [growth_rate] * n_layers
    for i, x in enumerate(xs):
        height = 0.32 * widths[i] ** 0.5
        _box(ax_block, x, 0, 0.55, height, f"{widths[i]}", "input" if i == 0 else "conv")
        if i == 0:
            ax_block.text(x, -height / 2 - 0.15, "block input", ha="center", va="top", fontsize=font_pt(BOX_FONT))
        else:
            sees = layers[i - 1].conv2.in_channels
            ax_block.text(x, -height / 2 - 0.15, f"layer {i}:\nBN, ReLU,\n3x3 conv\non {sees} channels",
                          ha="center", va="top", fontsize=font_pt(BOX_FONT))
    for source in range(n_layers):
        for target in range(source + 1, n_layers + 1):
            rad = -0.2 - 0.04 * (target - source)
            _arrow(ax_block, (xs[source] + 0.1, 0.45), (xs[target] - 0.1, 0.45), connection=f"arc3,rad={rad}",
                   color=COLORS[source % len(COLORS)], linewidth=1.3)
    ax_block.set_xlim(-0.8, xs[-1] + 0.8)
    ax_block.set_ylim(-2.3, 2.6)
    ax_block.set_title(f"A {n_layers}-layer dense block, growth rate {growth_rate}: each map (colour of its arrows) "
                       f"feeds every later layer;\nlayer i sees {in_channels} + {growth_rate}(i - 1) channels; "
                       f"{_params(block):,} parameters", fontsize=font_pt(HEAD_FONT))

    model = _build("densenet121")
    items = [("conv", f"7x7\nconv/2\n{model.features.conv0.out_channels}"), ("pool", "max\npool/2")]
    for m in model.features.children():
        if isinstance(m, DenseBlock):
            n = len(list(m.children()))
            items.append(("conv", f"dense\nblock,\n{n} layers\n→ {m.out_channels}"))
        elif isinstance(m, Transition):
            items.append(("pool", f"transition\n1x1 conv\n→ {m.conv.out_channels},\navg\npool/2"))
    fc = next(m for m in model.modules() if isinstance(m, nn.Linear))
    items.append(("fc", f"average\npool,\nfc {fc.out_features}"))
    step = 1.15
    for i, (kind, label) in enumerate(items):
        _box(ax_net, i * step, 0, 1.0, 1.4, label, kind)
        if i:
            _arrow(ax_net, (i * step - step + 0.5, 0), (i * step - 0.5, 0))
    ax_net.set_xlim(-0.55, step * (len(items) - 1) + 0.55)
    ax_net.set_ylim(-0.75, 0.75)
    ax_net.set_title(f"DenseNet-121: {_params(model) / 1e6:.2f}M parameters (→ channels out); the transitions "
                     "between blocks halve the channels", fontsize=font_pt(HEAD_FONT))
    fig.suptitle("DenseNet: every layer is connected to every later layer of its block, by concatenation")
    return fig
