"""The torch model families: parameter counts equal to torchvision's (hard-coded: torchvision does not
install beside our torch pin; each from its model metadata ``num_params``) and to the papers'
CIFAR networks, layer counts and depth from the modules, FLOPs from torch's FlopCounterMode, the
forward pass of the small networks, and clear errors for bad input."""

import inspect

import pytest
import torch

from lecture_lib import models
from lecture_lib.models import anatomy
from lecture_lib.models.cifar_resnet import cifar_resnet

# torchvision's ImageNet models at 1000 classes: parameters (torchvision's weight metadata) and
# GFLOPS as torchvision reports them (multiply-adds, 224x224).
TORCHVISION = {
    "alexnet": (61_100_840, 0.71),
    "vgg11": (132_863_336, 7.61), "vgg11_bn": (132_868_840, 7.61),
    "vgg13": (133_047_848, 11.31), "vgg13_bn": (133_053_736, 11.31),
    "vgg16": (138_357_544, 15.47), "vgg16_bn": (138_365_992, 15.47),
    "vgg19": (143_667_240, 19.63), "vgg19_bn": (143_678_248, 19.63),
    "resnet18": (11_689_512, 1.81), "resnet34": (21_797_672, 3.66), "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80), "resnet152": (60_192_808, 11.51),
    "wide_resnet50_2": (68_883_240, 11.40), "wide_resnet101_2": (126_886_696, 22.75),
    "resnext50_32x4d": (25_028_904, 4.23), "resnext101_32x8d": (88_791_336, 16.41),
    "resnext101_64x4d": (83_455_272, 15.46),
    "densenet121": (7_978_856, 2.83), "densenet161": (28_681_000, 7.73),
    "densenet169": (14_149_480, 3.36), "densenet201": (20_013_928, 4.29),
    "squeezenet1_0": (1_248_424, 0.82), "squeezenet1_1": (1_235_496, 0.35),
}
# The ResNet paper's CIFAR-10 nets (section 4.2, option A): 0.27M ... 1.7M
CIFAR_RESNETS = {"resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
                 "resnet110": 1_727_962}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Small models on a shared 2-core machine: a second thread only waits (and, under load, a lot)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _meta(arch, **kwargs):
    with torch.device("meta"):
        return models.build(arch, **kwargs)


@pytest.mark.parametrize("arch", sorted(TORCHVISION))
def test_imagenet_parameter_counts_equal_torchvision(arch):
    assert anatomy.parameter_count(_meta(arch)) == TORCHVISION[arch][0]


def test_googlenet_with_and_without_auxiliary_classifiers():
    assert anatomy.parameter_count(_meta("googlenet", aux_logits=False)) == 6_624_904
    assert anatomy.parameter_count(_meta("googlenet")) == 13_004_888       # torchvision's untrained default
    model = models.googlenet(num_classes=7).train()
    logits, aux2, aux1 = model(torch.zeros(2, 3, 96, 96))
    assert logits.shape == aux1.shape == aux2.shape == (2, 7)
    assert model.eval()(torch.zeros(1, 3, 96, 96)).shape == (1, 7)


@pytest.mark.parametrize("arch", sorted(CIFAR_RESNETS))
def test_cifar_resnets_and_their_plain_twins(arch):
    depth = int(arch.removeprefix("resnet"))
    assert anatomy.parameter_count(models.build(arch)) == CIFAR_RESNETS[arch]
    assert anatomy.parameter_count(models.build(f"plain{depth}")) == CIFAR_RESNETS[arch]   # option A is free
    assert anatomy.parameter_count(models.build(f"preact_resnet{depth}")) == CIFAR_RESNETS[arch]


def test_wide_resnets_match_the_paper():
    # Zagoruyko and Komodakis (2016), table: WRN-40-4 8.9M, WRN-16-8 11.0M, WRN-28-10 36.5M
    for (depth, k), millions in {(40, 4): 8.9, (16, 8): 11.0, (28, 10): 36.5}.items():
        with torch.device("meta"):
            count = anatomy.parameter_count(models.wrn(depth=depth, widen_factor=k))
        assert round(count / 1e6, 1) == millions


def test_small_networks_of_the_papers():
    assert anatomy.parameter_count(models.lenet5()) == 61_706
    assert anatomy.parameter_count(models.nin()) == 966_986
    assert round(anatomy.parameter_count(models.densenet_cifar(depth=100)) / 1e6, 1) == 0.8   # DenseNet-BC
    assert round(anatomy.parameter_count(models.densenet_cifar(depth=40, bottleneck=False)) / 1e6, 1) == 1.0


@pytest.mark.parametrize("arch, shape", [
    ("lenet5", (2, 1, 32, 32)), ("digits_cnn", (2, 1, 8, 8)), ("nin", (2, 3, 32, 32)),
    ("resnet20", (2, 3, 32, 32)), ("plain20", (2, 3, 32, 32)), ("preact_resnet20", (2, 3, 32, 32)),
    ("squeezenet1_1", (1, 3, 64, 64)), ("alexnet", (1, 3, 64, 64)),
])
def test_forward_shapes(arch, shape):
    out = models.build(arch, num_classes=5).eval()(torch.zeros(shape))
    assert out.shape == (shape[0], 5)


def test_small_width_digits_versions():
    for arch in ("resnet56", "plain56", "preact_resnet20"):
        assert models.build(arch, width=4, in_channels=1)(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert models.wrn(depth=10, widen_factor=1, width=8, in_channels=1)(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    net = models.densenet_cifar(depth=40, bottleneck=False, in_channels=1, growth_rate=4)
    plain = models.densenet_cifar(depth=40, bottleneck=False, in_channels=1, growth_rate=4, dense=False)
    x = torch.zeros(2, 1, 8, 8)
    assert net(x).shape == plain(x).shape == (2, 10)
    assert len(anatomy.weight_layers(net)) == len(anatomy.weight_layers(plain)) == 40
    assert anatomy.parameter_count(plain) < anatomy.parameter_count(net)


def test_every_architecture_is_a_function_of_the_package():
    """A family module named like one of its architectures would shadow it (models.alexnet the
    module instead of the function): the names must stay apart."""
    catalogue = models.architectures()
    assert {"lenet5", "alexnet", "googlenet", "vgg16", "resnet50", "fractalnet", "nin", "densenet121",
            "squeezenet1_0", "resnet110", "plain56", "wrn"} <= set(catalogue)
    for name, build in catalogue.items():
        assert getattr(models, name) is build and inspect.isfunction(build), name
        assert "num_classes" in inspect.signature(build).parameters, name


# --------------------------------------------------------------------------- anatomy
@pytest.mark.parametrize("arch, layers, longest", [
    ("alexnet", 8, 8), ("vgg16", 16, 16), ("vgg19", 19, 19), ("resnet18", 21, 18), ("resnet50", 54, 50),
    ("googlenet", 58, 22), ("densenet121", 121, 121),
])
def test_weight_layers_and_depth(arch, layers, longest):
    model = _meta(arch, **({"aux_logits": False} if arch == "googlenet" else {}))
    assert (len(anatomy.weight_layers(model)), anatomy.depth(model)) == (layers, longest)


def test_depth_counts_the_longest_chain_not_the_modules():
    """The opposite case: ResNet-101's four projection shortcuts are weight layers off the longest
    chain, so counting modules overshoots the name."""
    model = _meta("resnet101")
    assert len(anatomy.weight_layers(model)) == 105 and anatomy.depth(model) == 101


@pytest.mark.parametrize("arch", ["alexnet", "vgg16", "resnet50", "squeezenet1_0", "googlenet"])
def test_flops_are_twice_torchvisions_multiply_adds(arch):
    kwargs = {"aux_logits": False} if arch == "googlenet" else {}
    gflops = anatomy.flops_of(arch, **kwargs) / 1e9
    reference = 1.50 if arch == "googlenet" else TORCHVISION[arch][1]
    assert abs(gflops / 2 - reference) / reference < 0.01


def test_fractalnet_columns_and_drop_path():
    net = models.fractalnet(columns=3, channels=(8, 8), in_channels=1, drop_path=0.5)
    summary = anatomy.describe("fractalnet", in_channels=1, columns=3, channels=(8, 8))
    assert summary.depth == 2 * 4 + 1                 # the deepest column: 2^(3-1) convs per block, + fc
    assert summary.weight_layers == 2 * (1 + 2 + 4) + 1
    x = torch.randn(4, 1, 8, 8)
    net.eval()
    full = net(x)
    net.set_column(0)
    shallow = net(x)
    net.set_column(None)
    assert not torch.allclose(full, shallow) and torch.allclose(net(x), full)
    net.train()
    torch.manual_seed(0)
    outs = {tuple(net(x).flatten()[:3].tolist()) for _ in range(6)}
    assert len(outs) > 1, "drop-path draws a different set of paths per batch"


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="arch='resnet51' is not known"):
        models.build("resnet51")
    with pytest.raises(ValueError, match="num_classes=0 is not valid"):
        models.resnet18(num_classes=0)
    with pytest.raises(ValueError, match="num_classes=0 is not valid"):
        models.vgg16(num_classes=0)
    with pytest.raises(TypeError, match="num_classes=2.5"):
        models.alexnet(num_classes=2.5)
    with pytest.raises(ValueError, match=r"depth=21 is not valid; expected 6n \+ 2"):
        cifar_resnet(21)
    with pytest.raises(ValueError, match="depth=27 is not valid"):
        models.wrn(depth=27)
    with pytest.raises(TypeError, match="aux_logits=1"):
        models.googlenet(aux_logits=1)
    with pytest.raises(ValueError, match="input_size=0"):
        anatomy.flops_of("lenet5", input_size=0)
