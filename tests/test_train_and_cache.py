import numpy as np
import pytest
import torch

from lecture_lib import cache, data
from lecture_lib.train import History, TrainingDiverged, evaluate, fit


def small_digits(n=400):
    s = data.digits(seed=0)
    s.X_train, s.y_train = s.X_train[:n], s.y_train[:n]
    return s


def mlp(seed=0, d=64, h=32, c=10):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c))


def test_fit_learns_digits_and_records_history():
    s = small_digits(n=1077)
    model = mlp()
    hist = fit(model, s.X_train, s.y_train, s.X_val, s.y_val, epochs=8, lr=0.1, batch_size=32,
               progress=False, device="cpu")
    assert hist.epochs == 8 and len(hist.val_acc) == 8 and len(hist.lr) == 8
    assert hist.train_loss[-1] < hist.train_loss[0] / 3
    assert hist.val_acc[-1] > 0.9
    assert hist.epochs_to("val_acc", 0.5) is not None and hist.epochs_to("val_acc", 1.01) is None
    loss, acc = evaluate(model, s.X_test, s.y_test)
    assert acc > 0.85 and np.isfinite(loss)


def test_fit_is_reproducible():
    s = small_digits()
    h1 = fit(mlp(), s.X_train, s.y_train, epochs=2, lr=0.05, progress=False, device="cpu", seed=1)
    h2 = fit(mlp(), s.X_train, s.y_train, epochs=2, lr=0.05, progress=False, device="cpu", seed=1)
    assert h1.train_loss == h2.train_loss


def test_divergence_stops_with_epoch_step_and_lr():
    s = small_digits()
    X = s.X_train * 1e4
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step \d+ \(lr=1e\+06\)"):
        fit(mlp(), X, s.y_train, epochs=3, lr=1e6, progress=False, device="cpu")


def test_early_stopping_restores_the_best_epoch():
    s = small_digits()
    model = mlp()
    # A learning rate so high that validation loss soon stops improving.
    hist = fit(model, s.X_train, s.y_train, s.X_val, s.y_val, epochs=30, lr=2.0, batch_size=32,
               patience=2, progress=False, device="cpu", seed=0)
    assert hist.stopped_early and hist.epochs < 30
    best = hist.val_loss[hist.best_epoch - 1]
    assert evaluate(model, s.X_val, s.y_val)[0] == pytest.approx(best, rel=1e-5)


def test_scheduler_drives_the_learning_rate():
    s = small_digits()
    hist = fit(mlp(), s.X_train, s.y_train, epochs=3, lr=0.1, progress=False, device="cpu",
               scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    assert hist.lr == pytest.approx([0.1, 0.05, 0.025])


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=0), "epochs=0"), (dict(lr=-0.1), "lr=-0.1"), (dict(batch_size=0), "batch_size=0"),
    (dict(optimizer="lion"), "optimizer='lion'"), (dict(patience=2), "patience needs validation data"),
    (dict(lr=float("nan")), "lr=nan"),
])
def test_fit_bad_input(kwargs, message):
    s = small_digits()
    with pytest.raises(ValueError, match=message):
        fit(mlp(), s.X_train, s.y_train, progress=False, device="cpu", **kwargs)


def test_fit_mismatched_data():
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        fit(mlp(), np.zeros((5, 64)), np.zeros(4), progress=False)


def test_history_defaults():
    assert History().epochs == 0


# ------------------------------------------------------------------ cache
def test_cache_computes_once_per_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"curve": np.arange(5.0), "best": 0.93, "name": "he", "per_layer": [1, 2]}

    first = cache.cached("stats", {"depth": 10, "init": "he"}, compute)
    again = cache.cached("stats", {"init": "he", "depth": 10}, compute)
    other = cache.cached("stats", {"depth": 11, "init": "he"}, compute)
    assert len(calls) == 2
    assert np.array_equal(again["curve"], first["curve"]) and again["best"] == 0.93
    assert again["per_layer"] == [1, 2] and other["name"] == "he"


def test_cache_key_depends_on_profile(monkeypatch):
    monkeypatch.setenv("LECTURE_PROFILE", "fast")
    fast = cache.cache_key("x", {"a": 1})
    monkeypatch.setenv("LECTURE_PROFILE", "full")
    assert cache.cache_key("x", {"a": 1}) != fast


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LECTURE_CACHE", "off")
    calls = []
    for _ in range(2):
        cache.cached("x", {}, lambda: calls.append(1) or {"v": 1})
    assert len(calls) == 2


def test_damaged_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    cache.cached("x", {"a": 1}, lambda: {"v": np.ones(3)})
    key = cache.cache_key("x", {"a": 1})
    (tmp_path / f"{key}.npz").write_bytes(b"garbage")
    assert np.array_equal(cache.cached("x", {"a": 1}, lambda: {"v": np.zeros(3)})["v"], np.zeros(3))


def test_cache_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="name='a/b'"):
        cache.cache_key("a/b", {})
    with pytest.raises(TypeError, match="JSON values"):
        cache.cache_key("x", {"f": object()})
    with pytest.raises(TypeError, match="object array"):
        cache.cached("x", {}, lambda: {"v": np.array([object()])})
    with pytest.raises(TypeError, match="must be a dict"):
        cache.cached("y", {}, lambda: [1, 2])
