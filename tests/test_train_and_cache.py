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


# ------------------------------------------------------------------ divergence and bad data
def test_a_loss_that_explodes_stops_the_run():
    """lr=1e4 sends the loss to about 1e12 at chance accuracy without ever making it infinite."""
    s = small_digits(n=200)
    with pytest.raises(TrainingDiverged, match=r"loss exploded to .* at epoch 1, step \d+ \(lr=10000\)"):
        fit(mlp(), s.X_train, s.y_train, s.X_val, s.y_val, epochs=2, lr=1e4, progress=False, device="cpu")


def test_weights_made_infinite_by_the_last_step_stop_the_run():
    s = small_digits(n=100)

    def huge(out, y, **kwargs):  # finite loss, gradients of order 1e29: one SGD step overflows
        return torch.nn.functional.cross_entropy(out, y, **kwargs) * 1e30

    with pytest.raises(TrainingDiverged, match=r"weights became NaN or infinite .* at epoch 1, step 1 \(lr=1e\+10\)"):
        fit(mlp(), s.X_train, s.y_train, s.X_val, s.y_val, epochs=1, lr=1e10, batch_size=100,
            loss_fn=huge, progress=False, device="cpu")


def test_a_sound_run_at_a_high_learning_rate_is_not_called_diverged():
    s = small_digits(n=512)
    hist = fit(mlp(), s.X_train, s.y_train, epochs=1, lr=2.0, batch_size=64, progress=False, device="cpu")
    assert np.isfinite(hist.train_loss[0])


@pytest.mark.parametrize("which", ["X_train", "X_val"])
def test_nan_in_the_inputs_is_named_before_training(which):
    s = small_digits(n=100)
    X_train, X_val = s.X_train.copy(), s.X_val.copy()
    (X_train if which == "X_train" else X_val)[3, 5] = np.nan
    with pytest.raises(ValueError, match=rf"{which} holds NaN or infinity \(first at index \(3, 5\)\)"):
        fit(mlp(), X_train, s.y_train, X_val, s.y_val, epochs=1, progress=False, device="cpu")
    X_t = torch.as_tensor(X_train)
    X_t[0, 1] = float("inf")
    with pytest.raises(ValueError, match=r"X_train holds NaN or infinity \(first at index \(0, 1\)\)"):
        fit(mlp(), X_t, s.y_train, epochs=1, progress=False, device="cpu")


def _bad_data(s):
    X, y = s.X_train[:50], s.y_train[:50]
    y_high, y_neg = y.copy(), y.copy()
    y_high[7], y_neg[2] = 10, -1
    return {
        "features": ((X[:, :63], y), ValueError, r"X_train has shape \(50, 63\), which the model cannot take"),
        "label too high": ((X, y_high), ValueError,
                           r"y_train holds 10 \(at index 7\) but the model outputs 10 classes"),
        "negative label": ((X, y_neg), ValueError, r"y_train holds -1 \(at index 2\)"),
        "float labels": ((X, y.astype(np.float32)), TypeError, r"y_train has dtype float32"),
        "float label tensor": ((X, torch.as_tensor(y, dtype=torch.float32)), TypeError,
                               "y_train has dtype torch.float32"),
        "labels 2-D": ((X, y[:, None]), ValueError, r"y_train has shape \(50, 1\)"),
        "empty": ((X[:0], y[:0]), ValueError, "X_train is empty"),
        "1-D inputs": ((X[:, 0], y), ValueError, r"X_train has shape \(50,\)"),
        "complex inputs": ((X.astype(np.complex64), y), TypeError, "X_train has dtype complex64"),
        "text": (("pixels", y), TypeError, "X_train="),
        "no labels": ((X, None), ValueError, "y_train=None"),
    }


@pytest.mark.parametrize("case", sorted(_bad_data(small_digits(n=60))))
def test_bad_data_is_named(case):
    (X, y), kind, message = _bad_data(small_digits(n=60))[case]
    with pytest.raises(kind, match=message):
        fit(mlp(), X, y, epochs=1, progress=False, device="cpu")


@pytest.mark.parametrize("kwargs, kind, message", [
    (dict(batch_size=-3), ValueError, "batch_size=-3"), (dict(batch_size=2.5), TypeError, "batch_size=2.5"),
    (dict(epochs=True), TypeError, "epochs=True"), (dict(lr=True), TypeError, "lr=True"),
    (dict(batch_size=True), TypeError, "batch_size=True"), (dict(progress=1), TypeError, "progress=1"),
    (dict(lr="0.1"), TypeError, "lr='0.1'"), (dict(seed=-1), ValueError, "seed=-1"),
    (dict(patience=0), ValueError, "patience=0"), (dict(optimizer_kwargs=[1]), TypeError, "optimizer_kwargs"),
    (dict(device="gpu"), ValueError, "device='gpu'"), (dict(device=3.0), TypeError, "device=3.0"),
])
def test_bad_arguments_are_named(kwargs, kind, message):
    s = small_digits(n=50)
    with pytest.raises(kind, match=message):
        fit(mlp(), s.X_train, s.y_train, **{"epochs": 1, "progress": False, "device": "cpu", **kwargs})


def test_an_absent_cuda_device_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    s = small_digits(n=50)
    for device in ("cuda", "cuda:1", torch.device("cuda")):
        with pytest.raises(ValueError, match=r"device=.*cuda.* no CUDA device"):
            fit(mlp(), s.X_train, s.y_train, epochs=1, progress=False, device=device)


def test_numpy_scalars_are_numbers():
    s = small_digits(n=100)
    X_val, y_val = s.X_val[:50], s.y_val[:50]
    hist = fit(mlp(), s.X_train, s.y_train, X_val, y_val, epochs=np.int64(2), lr=np.float32(0.1),
               batch_size=np.int32(32), seed=np.int64(3), patience=np.int64(5), progress=np.bool_(False),
               device="cpu")
    assert hist.epochs == 2 and hist.lr[0] == pytest.approx(0.1)
    loss, acc = evaluate(mlp(), X_val, y_val, batch_size=np.int64(16))
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_evaluate_names_its_arguments():
    s = small_digits(n=50)
    with pytest.raises(ValueError, match=r"X has shape \(50, 10\)"):
        evaluate(mlp(), s.X_train[:, :10], s.y_train)
    with pytest.raises(ValueError, match="batch_size=0"):
        evaluate(mlp(), s.X_train, s.y_train, batch_size=0)
    with pytest.raises(TypeError, match="model"):
        evaluate("not a model", s.X_train, s.y_train)


def test_divergence_factor_sets_or_lifts_the_explosion_check():
    """A loss that grows 100-fold per step (5 steps): 1e8 times its start at the last."""
    s = small_digits(n=100)

    def growing():
        calls = []

        def loss_fn(out, y, **kwargs):
            calls.append(1)
            return torch.nn.functional.cross_entropy(out, y, **kwargs) * 10.0 ** (2 * len(calls))
        return loss_fn

    args = dict(epochs=1, lr=1e-6, batch_size=20, progress=False, device="cpu")
    with pytest.raises(TrainingDiverged, match="more than 1000 times its start"):
        fit(mlp(), s.X_train, s.y_train, loss_fn=growing(), **args)
    with pytest.raises(TrainingDiverged, match=r"more than 1e\+07 times .* step 5"):
        fit(mlp(), s.X_train, s.y_train, loss_fn=growing(), divergence_factor=1e7, **args)
    assert fit(mlp(), s.X_train, s.y_train, loss_fn=growing(), divergence_factor=None, **args).epochs == 1
    with pytest.raises(ValueError, match="divergence_factor=0.5"):
        fit(mlp(), s.X_train, s.y_train, divergence_factor=0.5, **args)
