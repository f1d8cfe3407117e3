"""The notebooks' CIFAR-10 comparisons on the CPU: their definitions build, a tiny run on synthetic
data caches every variant and is read back without training, the sentences and the figure come from
the runs, the command line's bad arguments exit with 2, and the CIFAR ResNets lose their batch
norm with ``norm=False``."""

import os
import re

import numpy as np
import pytest
import torch
from torch import nn

from lecture_lib import models
from lecture_lib.config import single_thread
from lecture_lib.plots.cifar import plot_comparison
from lecture_lib.recipes import cifar10, comparisons
from lecture_lib.recipes.settings import CifarRun, Hyperparameters
from lecture_lib.style import figure_png
from lecture_lib.train import History

TINY = dict(epochs=1, limit=64, width=4, batch_size=32)
QUIET = dict(device="cpu", progress=False, log=lambda line: None)


@pytest.fixture(autouse=True)
def one_thread_and_an_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path / "cache"))
    with single_thread():
        yield


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- the networks
@pytest.mark.parametrize("arch", ["resnet20", "plain56", "preact_resnet20"])
def test_norm_false_leaves_out_every_batch_norm_and_gives_the_convs_biases(arch):
    with_bn, without = models.build(arch), models.build(arch, norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in without.modules())
    convs = [m for m in without.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(m.bias is not None for m in convs)
    assert all(m.bias is None for m in with_bn.modules() if isinstance(m, nn.Conv2d))
    bn_parameters = sum(count(m) for m in with_bn.modules() if isinstance(m, nn.BatchNorm2d))
    assert count(without) == count(with_bn) - bn_parameters + sum(m.out_channels for m in convs)
    assert without(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_the_default_networks_keep_their_batch_norm_and_parameter_counts():
    assert count(models.resnet20()) == count(models.resnet20(norm=True)) == 269_722
    assert count(models.plain56()) == 853_018
    assert not any(isinstance(m, nn.BatchNorm2d) for m in models.wrn(depth=10, widen_factor=1, norm=False).modules())
    with pytest.raises(TypeError, match="norm=1 is not valid"):
        models.resnet20(norm=1)


# --------------------------------------------------------------------------- the definitions
@pytest.mark.parametrize("name", sorted(comparisons.COMPARISONS))
def test_every_variant_of_every_comparison_builds(name):
    d = comparisons.definition(name)
    assert d.name == name and len(set(d.labels)) == len(d.labels) >= 2
    for variant in d.variants:
        assert variant.arch in models.architectures()
        net = cifar10.build_model(variant.arch, 4, variant.model_options)
        has_bn = any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
        assert has_bn == variant.model_options.get("norm", True), variant.label
        assert isinstance(variant.hyper(), Hyperparameters)


def test_the_comparisons_differ_in_what_they_compare():
    bn = comparisons.definition("batchnorm").variants
    assert [v.model_options.get("norm", True) for v in bn] == [False, True, True]
    assert [v.hyper().lr for v in bn] == pytest.approx([0.02, 0.02, 0.4])
    assert bn[2].hyper() == Hyperparameters.for_arch("resnet20")  # the recipe's own ResNet-20 run
    none, augmented = comparisons.definition("augmentation").variants
    assert (none.hyper().flip, none.hyper().translate) == (False, 0)
    assert augmented.hyper() == Hyperparameters()  # the recipe's own run
    assert [v.arch for v in comparisons.definition("degradation").variants] == ["plain20", "plain56", "resnet20",
                                                                                "resnet56"]
    with pytest.raises(ValueError, match="name='dropout' is not known"):
        comparisons.definition("dropout")


def test_model_options_and_hyperparameters_are_part_of_the_cache_key():
    hyper = Hyperparameters.for_arch("resnet20")
    config = cifar10.experiment_config
    plain = config("cifar10", 30, None, "resnet20", None, 0, hyper)
    assert config("cifar10", 30, None, "resnet20", None, 0, hyper, {"norm": True}) == plain  # the default
    without = config("cifar10", 30, None, "resnet20", None, 0, hyper, {"norm": False})
    assert without["model"] == {"norm": False} and cifar10.cache_key(without) != cifar10.cache_key(plain)
    faster = config("cifar10", 30, None, "resnet20", None, 0, Hyperparameters.for_arch("resnet20", lr=0.08))
    assert cifar10.cache_key(faster) != cifar10.cache_key(plain)
    with pytest.raises(ValueError, match="model option depth=3 is not valid for arch='resnet20'.*norm"):
        cifar10.build_model("resnet20", None, {"depth": 3})
    with pytest.raises(ValueError, match="width has an argument of its own"):
        cifar10.build_model("resnet20", None, {"width": 8})


def test_the_recipe_key_is_the_same_in_both_profiles(monkeypatch):
    config = cifar10.experiment_config("cifar10", 10, None, "fast_resnet9", None, 0, Hyperparameters())
    keys = set()
    for profile in ("fast", "full"):
        monkeypatch.setenv("LECTURE_PROFILE", profile)
        keys.add(cifar10.cache_key(config))
        assert os.environ["LECTURE_PROFILE"] == profile  # put back as it was
    assert len(keys) == 1


# --------------------------------------------------------------------------- runs and the cache
@pytest.mark.parametrize("name", ["batchnorm", "degradation"])  # augmentation: through the command line below
def test_a_tiny_run_caches_every_variant_and_is_read_back_without_training(name, monkeypatch):
    assert comparisons.cached(name, data="synthetic", **TINY) is None
    done = comparisons.run(name, "synthetic", **TINY, **QUIET)
    assert [r.config["arch"] for r in done.runs] == [v.arch for v in done.definition.variants]
    assert all(r.history.epochs == 1 and r.config["width"] == 4 and r.config["hyper"]["batch_size"] == 32
               for r in done.runs)
    assert_read_back_without_training(name, done, monkeypatch)


def assert_read_back_without_training(name, done, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of reading the cache")

    monkeypatch.setattr(cifar10, "train", no_training)
    latest = comparisons.cached(name, data="synthetic")  # the settings of the latest run, found without giving them
    exact = comparisons.cached(name, data="synthetic", **TINY)
    again = comparisons.run(name, "synthetic", **TINY, **QUIET)
    assert latest.runs == exact.runs == again.runs == tuple(dataclass_without_model(r) for r in done.runs)
    assert latest.settings == comparisons.Settings(**TINY)
    assert latest.where.startswith("cpu") and re.search(r"\d{4}-\d{2}-\d{2}", latest.where)
    assert comparisons.cached(name) is None                        # nothing on CIFAR-10 itself
    assert comparisons.cached(name, data="synthetic", epochs=2, limit=64, width=4, batch_size=32) is None
    assert latest.finding().startswith("On the first 64 training images of synthetic CIFAR-shaped data (cpu")
    png = figure_png(plot_comparison(latest))
    assert png.startswith(b"\x89PNG")


def dataclass_without_model(run: CifarRun) -> CifarRun:
    return CifarRun.from_dict(run.to_dict())


# --------------------------------------------------------------------------- what the runs show
def fake_comparison(name, curves, train_curves=None, device="NVIDIA H200", seconds=2.0):
    """A comparison of made-up runs: ``curves[i]`` the test accuracy per epoch of variant i."""
    d = comparisons.definition(name)
    runs = []
    for i, variant in enumerate(d.variants):
        acc = list(curves[i])
        train = list(train_curves[i]) if train_curves else [min(1.0, a + 0.02) for a in acc]
        config = cifar10.experiment_config("cifar10", len(acc), None, variant.arch, None, 0, variant.hyper(),
                                           variant.model_options)
        history = History(train_loss=[1.0] * len(acc), train_acc=train, val_loss=[1.0] * len(acc), val_acc=acc,
                          lr=[0.1] * len(acc))
        runs.append(CifarRun(config=config, history=history, accuracy=acc[-1], images_per_second=1e4,
                             images_per_epoch=49_664, train_seconds=seconds * (i + 1) * len(acc),
                             epoch_seconds=(seconds * (i + 1),) * len(acc), time_to_target=None, target=0.94,
                             device=device if isinstance(device, str) else device[i], precision="bf16 autocast",
                             compiled=False, world_size=1, date="2026-11-30T10:00:00+00:00",
                             weights_checksum="0" * 16))
    return comparisons.Comparison(d, "cifar10", comparisons.Settings(), tuple(runs))


def test_batchnorm_counts_steps_to_the_best_accuracy_without_it():
    ramp = np.linspace(0.5, 0.85, 10)
    c = fake_comparison("batchnorm", [ramp, np.r_[np.linspace(0.6, 0.85, 5), [0.87] * 5],
                                      np.r_[[0.7, 0.86], [0.9] * 8]])
    assert comparisons.batchnorm_target(c) == pytest.approx(0.85)
    assert comparisons.batchnorm_speedups(c) == pytest.approx({"BN, lr 0.02": 2.0, "BN, lr 0.4 (20x)": 5.0})
    assert c.steps_to("BN, lr 0.4 (20x)", 0.85) == 2 * (49_664 // 512)
    text = c.finding()
    assert "On CIFAR-10 (NVIDIA H200, 2026-11-30)" in text and "85.0%, after epoch 10 of 10" in text
    assert "BN, lr 0.02 after epoch 5, 2.0x fewer steps" in text and "5.0x fewer steps" in text
    assert c.title() == "BN, lr 0.4 (20x): the no-BN net's best accuracy in 5.0x fewer steps"
    slower = fake_comparison("batchnorm", [ramp, np.linspace(0.4, 0.80, 10), np.r_[[0.5] * 9, [0.86]]])
    assert "never did in 10 epochs (best 80.0%)" in slower.finding() and "1.0x fewer steps" in slower.finding()
    stalled = fake_comparison("batchnorm", [[0.1, 0.12, 0.11], [0.3, 0.5, 0.6], [0.5, 0.7, 0.8]])
    assert "did not learn: its best test accuracy was 12.0% (chance: 10%)" in stalled.finding()
    assert stalled.title() == "Without batch norm the network did not learn at this rate"


def test_degradation_and_augmentation_say_what_their_numbers_say():
    epochs = 6
    error = {"plain-20": 0.10, "plain-56": 0.20, "ResNet-20": 0.08, "ResNet-56": 0.05}
    train = [np.linspace(0.5, 1 - e, epochs) for e in error.values()]
    c = fake_comparison("degradation", [t - 0.03 for t in train], train)
    text = c.finding()
    assert "plain-56 ends with a higher training error than plain-20, 20.0% against 10.0%" in text
    assert "ResNet-56 ends with a lower training error than ResNet-20, 5.0% against 8.0%" in text
    assert c.title() == "Deeper plain net trains worse; the deeper ResNet does not"
    aug = fake_comparison("augmentation", [np.linspace(0.8, 0.91, 10), np.linspace(0.8, 0.94, 10)],
                          [np.linspace(0.8, 0.999, 10), np.linspace(0.8, 0.96, 10)])
    assert "flip + translate 2 px gave 94.0% test accuracy and no augmentation 91.0% (+3.0 points)" in aug.finding()
    assert "by 8.9 points without augmentation and by 2.0 with it" in aug.finding()


def test_the_figure_draws_every_variant_against_epochs_and_time_with_device_and_date():
    c = fake_comparison("degradation", [np.linspace(0.3, 0.9, 8)] * 4,
                        [np.linspace(0.3, 1 - e, 8) for e in (0.1, 0.2, 0.08, 0.05)])
    fig = plot_comparison(c)
    left, right = fig.axes
    assert fig._suptitle.get_text().endswith("CIFAR-10 · NVIDIA H200, 2026-11-30 · 8 epochs")
    assert left.get_yscale() == "log" and left.get_ylabel() == "error (log scale)"  # training and test
    assert len(left.get_lines()) == len(right.get_lines()) == 8  # training and test error per variant
    assert right.get_lines()[-2].get_xdata()[-1] == pytest.approx(4 * 2.0 * 8)  # ResNet-56: its own seconds
    low, high = left.get_ylim()
    assert low <= 0.05 and high >= 0.7
    mixed = fake_comparison("augmentation", [np.linspace(0.8, 0.9, 4)] * 2, device=("NVIDIA H200", "cpu"))
    fig = plot_comparison(mixed)
    assert "not comparable" in fig.axes[1].get_title()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2] == [
        "no augmentation (NVIDIA H200)", "flip + translate 2 px (cpu)"]
    with pytest.raises(ValueError, match="ax holds 1 Axes; expected two"):
        plot_comparison(mixed, ax=[fig.axes[0]])


def test_the_note_gives_the_exact_command():
    note = comparisons.how_to_run("degradation")
    assert "python -m lecture_lib.recipes.comparisons degradation --data $LECTURE_CIFAR10_DIR" in note
    assert "\n- plain-56 (`plain56`)\n" in note and "30 epochs" in note and "LECTURE_CIFAR10_DIR" in note


# --------------------------------------------------------------------------- the command line
def test_the_command_line_trains_caches_and_says_what_it_found(capsys, monkeypatch):
    args = ["augmentation", "--data", "synthetic", "--device", "cpu", "--no-progress", "--epochs", "1",
            "--limit", "64", "--width", "4", "--batch-size", "32"]
    assert comparisons.main(args) == 0
    out = capsys.readouterr().out
    assert "[1/2] no augmentation: training fast_resnet9 for 1 epochs" in out
    assert "flip + translate 2 px gave" in out and "06_regularization shows it" in out
    done = comparisons.cached("augmentation", data="synthetic", **TINY)
    assert [r.config["hyper"]["flip"] for r in done.runs] == [False, True]
    assert comparisons.main(args) == 0
    assert "[2/2] flip + translate 2 px: in the cache" in capsys.readouterr().out
    assert_read_back_without_training("augmentation", done, monkeypatch)


@pytest.mark.parametrize("args, message", [
    (["batchnorm", "--data", "synthetic", "--epochs", "0"], "epochs=0 is not valid"),
    (["batchnorm", "--data", "synthetic", "--limit", "100000"], "limit=100000 is not valid"),
    (["degradation", "--data", "synthetic", "--limit", "64", "--device",
      "cuda:64" if torch.cuda.is_available() else "cuda"], "device='cuda.*'"),
    (["augmentation", "--data", "/nonexistent/cifar"], "/nonexistent/cifar.*LECTURE_CIFAR10_DIR"),
])
def test_bad_arguments_get_a_message_and_exit_code_2(capsys, args, message):
    code = comparisons.main(args)
    out, err = capsys.readouterr()
    assert code == 2 and re.search(message, err) and "Traceback" not in err, err
    assert "training" not in out  # the data is checked before the first run begins


@pytest.mark.parametrize("args, message", [
    (["dropout"], "invalid choice: 'dropout'"),
    (["batchnorm", "--epochs", "two"], "invalid int value: 'two'"),
    ([], "the following arguments are required: NAME"),
])
def test_malformed_command_lines_exit_with_2(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        comparisons.main(args)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
