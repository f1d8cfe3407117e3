import matplotlib as mpl
import numpy as np
import pytest
import torch

import lecture_lib
from lecture_lib import config, style


def test_profile_reads_the_environment(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "full")
    assert config.profile() == "full" and not config.is_fast()
    assert config.by_profile(fast=1, full=2) == 2
    monkeypatch.setenv("LECTURE_PROFILE", "fast")
    assert config.is_fast() and config.by_profile(fast=1, full=2) == 1
    monkeypatch.delenv("LECTURE_PROFILE")
    assert config.profile() == "full"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "quick")
    with pytest.raises(ValueError, match="LECTURE_PROFILE='quick'.*'fast', 'full'"):
        config.profile()


def test_rng_reproduces_and_rejects_bad_seeds():
    assert config.make_rng(3).normal() == config.make_rng(3).normal()
    with pytest.raises(ValueError, match="seed=-1"):
        config.make_rng(-1)
    for bad in (1.5, "3", True):   # not an integer at all: a wrong type
        with pytest.raises(TypeError, match="seed="):
            config.make_rng(bad)


def test_seed_torch_reproduces():
    config.seed_torch(5)
    a = torch.randn(3)
    g = config.seed_torch(5)
    assert torch.equal(a, torch.randn(3))
    assert torch.equal(torch.randn(2, generator=g), torch.randn(2, generator=config.seed_torch(5)))


def test_device_choice_and_report(monkeypatch):
    device = config.choose_device()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert device.type == expected
    assert config.device_report(device).startswith(f"device: {expected}")
    assert config.choose_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="prefer='tpu'"):
        config.choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="prefer='cuda' was asked for but is not available"):
            config.choose_device("cuda")
    monkeypatch.setenv("LECTURE_DEVICE", "cpu")
    assert config.choose_device().type == "cpu"


def test_styles_meet_the_font_floors():
    assert style.rc_params("default")["font.size"] >= 11
    pres = style.rc_params("presentation")
    font_keys = [k for k in pres if k.endswith(("font.size", "labelsize", "titlesize", "fontsize"))]
    assert len(font_keys) >= 6 and min(pres[k] for k in font_keys) >= 16
    assert pres["figure.facecolor"] == "white" and not pres["savefig.transparent"]
    with pytest.raises(ValueError, match="style='dark'"):
        style.rc_params("dark")


def test_setup_applies_the_style(capsys):
    lecture_lib.setup(style="presentation")
    assert mpl.rcParams["font.size"] == 16
    assert "profile:" in capsys.readouterr().out
    lecture_lib.setup(quiet=True)
    assert mpl.rcParams["font.size"] == 11


def test_setup_reads_the_style_from_the_environment(monkeypatch):
    monkeypatch.setenv("LECTURE_STYLE", "presentation")
    lecture_lib.setup(quiet=True)
    assert mpl.rcParams["font.size"] == 16
    monkeypatch.setenv("LECTURE_STYLE", "projector")
    with pytest.raises(ValueError, match="style='projector'"):
        lecture_lib.setup(quiet=True)
    monkeypatch.delenv("LECTURE_STYLE")
    lecture_lib.setup(quiet=True)
    assert mpl.rcParams["font.size"] == 11


def test_palette_is_distinct_and_figures_avoid_pyplot():
    import matplotlib.pyplot as plt

    assert len(set(style.COLORS)) == len(style.COLORS) == len(style.LINESTYLES)
    before = plt.get_fignums()
    fig = style.new_figure(3, 2)
    fig.subplots().plot([0, 1], [1, 0])
    png = style.figure_png(fig)
    assert png.startswith(b"\x89PNG") and plt.get_fignums() == before
    with pytest.raises(ValueError, match="must be positive"):
        style.new_figure(0, 2)


def test_presentation_figures_grow_with_their_fonts():
    style.apply_style("presentation")
    try:
        big = style.new_figure(4, 3).get_size_inches()
    finally:
        style.apply_style("default")
    assert np.allclose(big, np.array([4, 3]) * 16 / 11)
    assert np.allclose(style.new_figure(4, 3).get_size_inches(), [4, 3])


def test_style_marker_cycles():
    assert style.style_marker(0) != style.style_marker(1)
    assert style.style_marker(len(style.COLORS)) == style.style_marker(0)
    assert np.all([isinstance(style.style_marker(i)["marker"], str) for i in range(10)])


def test_single_thread_limits_and_restores():
    import scipy.linalg  # noqa: F401 - a BLAS loaded late must be limited too
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with config.single_thread():
        assert torch.get_num_threads() == 1
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)
    assert torch.get_num_threads() == before
