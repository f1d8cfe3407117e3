"""The experiments of 07_cnn_architectures: each predicate a verdict asserts holds on its
experiment and turns false on the opposite one; Deep Compression's arithmetic; the CIFAR-10
cache hook; bad input. Small sizes: the notebook runs the real ones."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from lecture_lib.experiments import cnn
from lecture_lib.experiments.cnn import training as T


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_conv_cost_measures_the_three_versions():
    cost = cnn.measure_conv_cost(np.random.default_rng(0), shape=(2, 2, 6, 6, 3, 3),
                                 memory_shape=(8, 4, 8, 8, 4, 3), repeats=1)
    assert cost.naive_seconds > cost.fast_seconds > 0
    assert cost.full_im2col_bytes == 9 * cost.input_bytes                  # 3x3 taps, stride 1, same size
    assert 0 < cost.fast_peak_bytes and 0 < cost.shifted_peak_bytes
    with pytest.raises(ValueError, match="shape=.*expected \\(N, C, H, W, F, K\\)"):
        cnn.measure_conv_cost(0, shape=(2, 2, 6))


def test_small_filters_and_the_opposite_stack():
    vgg = cnn.measure_small_filters(np.random.default_rng(0), channels=8)
    assert cnn.same_field_fewer_costs(vgg)
    assert vgg.field_stack == vgg.measured_field_stack == 7
    assert vgg.central_share_stack > vgg.central_share_single
    two = cnn.measure_small_filters(np.random.default_rng(0), channels=8, layers=2)   # sees 5x5 only
    assert two.measured_field_stack == 5 and not cnn.same_field_fewer_costs(two)
    with pytest.raises(ValueError, match="small=4 .* odd"):
        cnn.measure_small_filters(0, small=4)


def test_parameter_ratios():
    googlenet = cnn.measure_parameter_ratio("alexnet", "googlenet", aux_logits=False)
    assert googlenet.large_params == 61_100_840 and googlenet.small_params == 6_624_904
    assert not cnn.near(googlenet.ratio, 12)
    squeeze = cnn.measure_parameter_ratio("alexnet", "squeezenet1_0")   # the opposite: a claim that holds
    assert cnn.near(squeeze.ratio, 50)


def test_layer_count_predicates_on_both_kinds_of_model():
    chains = cnn.measure_layer_count(("alexnet", "vgg16"))
    assert cnn.names_count_the_longest_chain(chains) and not cnn.modules_overcount(chains)
    resnet = cnn.measure_layer_count(("resnet18",))
    assert cnn.names_count_the_longest_chain(resnet) and cnn.modules_overcount(resnet)
    with pytest.raises(ValueError, match="archs has \\['lenet5'\\]"):
        cnn.measure_layer_count(("lenet5",))


def test_comparison_counts_and_cites():
    result = cnn.measure_comparison(("alexnet", "squeezenet1_1"))
    assert result.params == (61_100_840, 1_235_496) and result.top1 == (56.522, 58.178)
    assert result.flops[0] > result.flops[1] > 0
    with pytest.raises(ValueError, match="published accuracy"):
        cnn.measure_comparison(("resnet56",))


def test_degradation_and_its_predicates():
    result = cnn.measure_degradation(np.random.default_rng(6), depths=(8, 20), width=4, n_train=512,
                                           epochs=6)
    assert cnn.plain_degrades(result) and cnn.residual_does_not_degrade(result)
    # the opposite: the residual nets' numbers read as plain ones do not show degradation, and
    # the plain nets' numbers read as residual ones do
    assert not cnn.plain_degrades(replace(result, plain_error=result.residual_error))
    assert not cnn.residual_does_not_degrade(replace(result, residual_error=result.plain_error))
    assert len(result.plain_curves[0]) == 6
    with pytest.raises(ValueError, match="shallow < deep"):
        cnn.measure_degradation(0, depths=(20, 8))


def test_additive_gradient_and_the_opposite():
    result = cnn.measure_additive_gradient(np.random.default_rng(7), depth=56, width=4, n=32)
    assert cnn.gradient_is_the_sum(result)
    assert not cnn.gradient_is_the_sum(replace(result, rel_error_sum=result.rel_error_branch_only))
    swapped = replace(result, plain_norms=result.residual_norms, residual_norms=result.plain_norms)
    assert cnn.shortcuts_even_out_gradients(result) and not cnn.shortcuts_even_out_gradients(swapped)


def test_dense_gradient_and_the_opposite():
    result = cnn.measure_dense_gradient(np.random.default_rng(9), depth=40, growth_rate=4, n=32)
    assert len(result.dense_norms) == len(result.plain_norms) == 40 - 1   # the fc layer is not a conv
    assert cnn.dense_evens_out_gradients(result) and result.plain_first_over_last > 1
    swapped = replace(result, plain_norms=result.dense_norms, dense_norms=result.plain_norms)
    assert not cnn.dense_evens_out_gradients(swapped)


def test_width_predicate_reads_parameters_time_and_accuracy():
    """No timing is asserted here (benchmarks measure speed): the predicate's logic only."""
    base = cnn.WidthDepth((40, 8), (10, 22), 100_000, 105_000, 1, 1, 0.4, 0.2, 0.90, 0.91, 2)
    assert cnn.wide_is_more_efficient(base)
    assert not cnn.wide_is_more_efficient(replace(base, wide_seconds=0.35))      # not 1.5x faster
    assert not cnn.wide_is_more_efficient(replace(base, wide_accuracy=0.80))     # much less accurate
    assert not cnn.wide_is_more_efficient(replace(base, wide_params=200_000))    # not equal budgets


def test_width_experiment_builds_equal_budgets():
    result = cnn.measure_width_vs_depth(np.random.default_rng(8), epochs=1, n_train=64)
    assert abs(result.wide_params / result.deep_params - 1) < cnn.PARAM_TOLERANCE
    assert result.deep_seconds > 0 and result.wide_seconds > 0 and 0 <= result.wide_accuracy <= 1


# --------------------------------------------------------------------------- digits CNN, compression
@pytest.fixture(scope="module")
def small_cnn():
    return cnn.measure_digits_cnn(np.random.default_rng(0), width=8, epochs=2)


def test_a_briefly_trained_small_cnn_misses_the_target(small_cnn):
    """The opposite of the notebook's run: 2 epochs at width 8 stay below 98 %."""
    assert 0.5 < small_cnn.accuracy < cnn.DIGITS_TARGET and not cnn.reaches_target(small_cnn)


def test_deep_compression_shrinks_the_model(small_cnn):
    result = cnn.measure_deep_compression(small_cnn.model, np.random.default_rng(1), finetune_epochs=1)
    assert result.compressed_bytes < result.dense_bytes and result.factor > 3
    assert result.squeezenet_params == 1_248_424 and abs(result.squeezenet_megabytes - 4.99) < 0.01
    weights = T.weight_tensors(small_cnn.model)
    assert all(bool((w != 0).all()) for w in weights), "the experiment works on a copy"
    loose = replace(result, compressed_bytes=result.dense_bytes // 2)            # only 2x: not enough
    assert not cnn.compression_reaches_the_title(loose)


def test_kmeans_and_the_byte_count():
    values = np.r_[np.full(50, -1.0), np.full(50, 2.0)] + np.random.default_rng(0).normal(0, 0.01, 100)
    centroids, labels = T.kmeans_1d(values, 2)
    assert np.allclose(centroids, [-1, 2], atol=0.01) and set(labels[:50]) == {0} and set(labels[50:]) == {1}
    model = torch.nn.Sequential(torch.nn.Linear(40, 1, bias=False))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].weight[0, [0, 3, 39]] = 1.0          # gaps 1, 3 and 36: the last needs 2 fillers at 4 bits
    entries = 1 + 1 + 3
    assert T.compressed_bytes(model, bits=2, index_bits=4) == (entries * (2 + 4) + 32 * 4 + 7) // 8
    assert T.dense_bytes(model) == 160


def test_flops_skip_only_layers_the_counter_ignores():
    """Counting on a copy with batch norm and ReLU as identities gives FlopCounterMode's own count
    of the whole model, and leaves the caller's model as it was."""
    from torch.utils.flop_counter import FlopCounterMode

    from lecture_lib.models import anatomy

    model = anatomy.meta("resnet18")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(torch.empty(1, 3, 64, 64, device="meta"))
    assert anatomy.flops(model, (1, 3, 64, 64)) == counter.get_total_flops() > 0
    assert isinstance(model.bn1, torch.nn.BatchNorm2d) and isinstance(model.relu, torch.nn.ReLU)


def test_batch_norm_statistics_recalibrated_after_training():
    """A short run leaves running averages that remember the first steps; train() replaces them
    with the statistics of the training images under the final weights."""
    from lecture_lib.models.cifar_resnet import cifar_resnet

    data = T.standardized_digits()
    X, y = data.X_train[:256], data.y_train[:256]
    torch.manual_seed(0)
    run = T.train(cifar_resnet(8, "plain", width=4, in_channels=1), X, y, epochs=1, lr=1e-2, batch_size=128)
    bn = run.model.bn1                                  # right after the first conv
    with torch.no_grad():
        out = run.model.conv1(torch.as_tensor(X))
    assert np.allclose(bn.running_mean.numpy(), out.mean(dim=(0, 2, 3)).numpy(), atol=1e-5)
    assert np.allclose(bn.running_var.numpy(), out.var(dim=(0, 2, 3)).numpy(), rtol=1e-4)
    assert bn.momentum == 0.1 and not run.model.training
