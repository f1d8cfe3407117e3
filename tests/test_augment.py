"""lecture_lib.augment: each batched augmentation does what its name says (geometry checked
exactly where it can be), strength 0 is the identity, the draws are per image and reproducible,
the nn.Module augments in training only, and bad input gets a clear error."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_lib import augment
from lecture_lib.config import choose_device


def _images(n=4, c=3, h=12, w=12, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", augment.NAMES)
def test_shape_dtype_device_kept_and_strength_zero_is_the_identity(name):
    device = choose_device()
    x = _images(h=10, w=14).to(device)
    out = augment.apply(name, x, 0.7, generator=_gen())
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    same = augment.apply(name, x, 0.0, generator=_gen())
    assert torch.allclose(same, x, atol=1e-5), name
    assert not torch.allclose(augment.apply(name, x, 1.0, generator=_gen(1)), x, atol=1e-3), name


@pytest.mark.parametrize("name", augment.NAMES)
def test_draws_are_per_image_and_reproducible(name):
    x = _images(n=1).repeat(20, 1, 1, 1)                # twenty copies of one image
    a = augment.apply(name, x, 0.6, generator=_gen(3))
    b = augment.apply(name, x, 0.6, generator=_gen(3))
    assert torch.equal(a, b)
    distinct = {tuple(np.round(a[i].flatten().numpy(), 4)) for i in range(20)}
    assert len(distinct) > 1, f"{name}: every copy got the same draw"


def test_flip_mirrors_with_probability_p():
    x = _images(n=400, h=3, w=5)
    out = augment.flip(x, 0.3, generator=_gen())
    flipped = torch.all(out == x.flip(-1), dim=(1, 2, 3))
    assert torch.equal(augment.flip(x, 1.0), x.flip(-1))
    assert torch.all(flipped | torch.all(out == x, dim=(1, 2, 3)))
    assert abs(flipped.float().mean().item() - 0.3) < 0.07


def test_crop_is_an_integer_shift_with_zero_fill():
    x = _images(n=20, c=2, h=6, w=7)
    out = augment.crop(x, 2, generator=_gen())
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(out[i], padded[i, :, dy:dy + 6, dx:dx + 7])]
        assert windows, f"image {i} is not a crop of the padded image"


def test_affine_theta_rotates_a_square_image_by_a_quarter_turn_exactly():
    x = _images(n=1, c=1, h=8, w=8)
    one = torch.ones(1)
    theta = augment.affine_theta(torch.full((1,), 90.0), torch.zeros(1), one, one, (8, 8))
    out = F.grid_sample(x, F.affine_grid(theta, [1, 1, 8, 8], align_corners=False), align_corners=False)
    assert any(torch.allclose(out, torch.rot90(x, k, dims=(2, 3)), atol=1e-5) for k in (1, 3))


def test_affine_theta_stretch_and_shear_move_pixels_as_stated():
    one, zero = torch.ones(1), torch.zeros(1)
    theta = augment.affine_theta(zero, zero, torch.full((1,), 2.0), one, (4, 6))
    assert torch.allclose(theta[0, :, :2], torch.tensor([[0.5, 0.0], [0.0, 1.0]]))   # twice as wide: sample half as far
    theta = augment.affine_theta(zero, torch.full((1,), 45.0), one, one, (6, 6))
    assert torch.allclose(theta[0, :, :2], torch.tensor([[1.0, -1.0], [0.0, 1.0]]), atol=1e-6)


def test_resized_crop_at_full_scale_and_unit_ratio_is_the_identity_and_zooms_otherwise():
    x = _images(n=3, h=9, w=13)
    same = augment.resized_crop(x, scale=(1.0, 1.0), ratio=(1.0, 1.0), generator=_gen())
    assert torch.allclose(same, x, atol=1e-5)
    zoomed = augment.resized_crop(x, scale=(0.25, 0.25), ratio=(1.0, 1.0), generator=_gen())
    assert not torch.allclose(zoomed, x, atol=1e-2)


def test_brightness_contrast_factors_and_range():
    x = torch.full((2, 3, 4, 4), 0.4)
    x[:, :, :2] = 0.6
    out = augment.brightness_contrast(x, brightness=0.5, contrast=0.0, generator=_gen())
    ratios = (out / x).flatten(1)
    assert torch.allclose(ratios, ratios[:, :1].expand_as(ratios), atol=1e-6)        # one factor per image
    assert torch.all((ratios[:, 0] >= 0.5) & (ratios[:, 0] <= 1.5))
    out = augment.brightness_contrast(x, brightness=0.0, contrast=0.9, generator=_gen())
    assert torch.allclose(out.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=1e-6)  # contrast keeps the mean
    assert out.min() >= 0 and out.max() <= 1


def test_color_pca_matches_numpy_and_the_jitter_is_one_colour_shift_per_image():
    x = 0.3 + 0.4 * _images(n=5, h=6, w=6)
    values, vectors = augment.color_pca(x)
    pixels = x.permute(1, 0, 2, 3).reshape(3, -1).double().numpy()
    ref_values, ref_vectors = np.linalg.eigh(np.cov(pixels))
    assert np.allclose(values.numpy(), ref_values, rtol=1e-4, atol=1e-7)
    assert np.allclose(np.abs(vectors.numpy().T @ ref_vectors), np.eye(3), atol=1e-4)
    out = augment.pca_color(x, sigma=0.1, generator=_gen())
    shift = (out - x).flatten(2)                                # (N, C, pixels)
    assert torch.allclose(shift, shift[:, :, :1].expand_as(shift), atol=1e-6)
    many = 0.4 + 0.2 * _images(n=3000, h=2, w=2, seed=1)       # alpha_i = (V^T shift)_i / lambda_i ~ N(0, sigma)
    values, vectors = augment.color_pca(many)
    shift = (augment.pca_color(many, sigma=0.1, pca=(values, vectors), generator=_gen()) - many)[:, :, 0, 0]
    alpha = (shift.double() @ vectors.double()) / values.double()
    assert torch.allclose(alpha.std(0), torch.full((3,), 0.1, dtype=torch.float64), rtol=0.1)


def test_barrel_magnifies_the_centre_and_keeps_it_in_place():
    x = torch.zeros(1, 1, 21, 21)
    x[0, 0, 8:13, 8:13] = 1.0                                   # a central square
    out = augment.barrel(x, 1.0, generator=_gen())
    assert out[0, 0, 10, 10] == pytest.approx(1.0, abs=1e-5)
    assert out.sum() > x.sum()                                  # magnified


def test_augment_module_trains_augmented_and_evaluates_the_originals():
    model = augment.Augment([("affine", 0.5), ("flip", 0.5)], seed=3)
    x = _images()
    assert not torch.allclose(model.train()(x), x)
    assert torch.equal(model.eval()(x), x)
    again = augment.Augment([("affine", 0.5), ("flip", 0.5)], seed=3).train()
    assert torch.equal(again(x), augment.Augment([("affine", 0.5), ("flip", 0.5)], seed=3).train()(x))
    assert "affine=0.5" in repr(model)


def test_sample_photos_are_two_real_photographs():
    photos = augment.sample_photos(60)
    assert photos.shape == (2, 3, 60, 90) and photos.dtype == torch.float32
    assert 0 <= float(photos.min()) and float(photos.max()) <= 1 and float(photos.std()) > 0.1


@pytest.mark.parametrize("call, error, message", [
    (lambda: augment.flip(torch.rand(3, 8, 8)), ValueError, r"images has shape \(3, 8, 8\); expected 4 dimensions"),
    (lambda: augment.flip(torch.zeros(1, 1, 4, 4, dtype=torch.uint8)), TypeError, "images has dtype torch.uint8"),
    (lambda: augment.flip(np.zeros((1, 1, 4, 4))), TypeError, "expected a torch tensor"),
    (lambda: augment.flip(torch.rand(1, 1, 4, 4), 1.5), ValueError, "p=1.5 is not valid"),
    (lambda: augment.apply("blur", torch.rand(1, 1, 4, 4), 0.5), ValueError, "name='blur' is not known"),
    (lambda: augment.apply("crop", torch.rand(1, 1, 4, 4), 2.0), ValueError, "strength=2.0 is not valid"),
    (lambda: augment.apply("crop", torch.rand(1, 1, 4, 4), "high"), TypeError, "strength='high'"),
    (lambda: augment.crop(torch.rand(1, 1, 4, 4), 9), ValueError, "padding=9 is not valid"),
    (lambda: augment.affine(torch.rand(1, 1, 4, 4), degrees=-5), ValueError, "degrees=-5"),
    (lambda: augment.resized_crop(torch.rand(1, 1, 4, 4), scale=(0.9, 0.1)), ValueError, "expected min <= max"),
    (lambda: augment.barrel(torch.rand(1, 1, 4, 4), generator=3), TypeError, "expected a CPU torch.Generator"),
    (lambda: augment.Augment([("flip",)]), TypeError, r"steps\[0\]"),
    (lambda: augment.pca_color(torch.rand(2, 3, 4, 4), pca=(torch.ones(2), torch.eye(2))), ValueError,
     "pca has shapes"),
])
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
