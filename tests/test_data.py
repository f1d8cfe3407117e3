import numpy as np
import pytest
import torch

from lecture_lib import data


def test_spiral_shapes_labels_and_reproducibility():
    X, y = data.spiral(n_classes=4, points_per_class=50, noise=0.1, seed=3)
    assert X.shape == (200, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50] * 4
    assert np.abs(X).max() <= 1.5
    X2, _ = data.spiral(n_classes=4, points_per_class=50, noise=0.1, seed=3)
    assert np.array_equal(X, X2)
    assert not np.array_equal(X, data.spiral(4, 50, 0.1, seed=4)[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_classes=0), "n_classes=0"), (dict(points_per_class=2.5), "points_per_class=2.5"),
    (dict(noise=-1), "noise=-1"),
])
def test_spiral_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.spiral(**kwargs)


def test_digits_splits_are_disjoint_stratified_and_scaled():
    s = data.digits(seed=0)
    n = len(s.X_train) + len(s.X_val) + len(s.X_test)
    assert n == 1797 and s.X_train.shape[1] == 64 and s.n_classes == 10
    assert 0 <= s.X_train.min() and s.X_train.max() <= 1
    rows = {r.tobytes() for r in s.X_test}
    assert sum(r.tobytes() in rows for r in s.X_train) < 5  # the dataset has a few exact duplicates
    assert set(np.unique(s.y_val)) == set(range(10))


def test_standardized_uses_train_statistics_and_floors_the_std():
    s = data.digits(seed=0).standardized(std_floor=0.01)
    assert np.allclose(s.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.all(np.isfinite(s.X_test))
    constant = data.digits(seed=0).X_train.std(axis=0) == 0
    assert constant.any()  # blank border pixels: the floor is what keeps them finite


def test_digits_to_torch():
    t = data.digits(seed=0).torch("cpu")
    assert isinstance(t.X_train, torch.Tensor) and t.X_train.dtype == torch.float32 and t.y_train.dtype == torch.int64


def test_split_bad_input():
    with pytest.raises(ValueError, match="val_fraction=1.5"):
        data.digits(val_fraction=1.5)
    with pytest.raises(ValueError, match="must be below 1"):
        data.digits(val_fraction=0.6, test_fraction=0.5)
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        data.split_arrays(np.zeros((3, 2)), np.zeros(2))


def write_batch(path, labels, rng):
    records = np.zeros((len(labels), data.CIFAR10_RECORD), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
    records.tofile(path)
    return records


def test_cifar10_reader_on_small_files(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    written = {}
    for name in (*data.CIFAR10_TRAIN_FILES, data.CIFAR10_TEST_FILE):
        written[name] = write_batch(folder / name, rng.integers(0, 10, size=4), rng)
    X_train, y_train, X_test, y_test = data.load_cifar10(tmp_path, records_per_file=4)
    assert X_train.shape == (20, 3, 32, 32) and X_test.shape == (4, 3, 32, 32)
    first = written["data_batch_1.bin"][0]
    assert y_train[0] == first[0]
    assert np.array_equal(X_train[0, 0].ravel(), first[1:1025])  # red plane first, row-major
    assert np.array_equal(X_train[0, 2].ravel(), first[2049:])
    assert y_test.tolist() == written["test_batch.bin"][:, 0].tolist()


def test_cifar10_errors_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    with pytest.raises(data.DatasetError, match="LECTURE_CIFAR10_DIR"):
        data.load_cifar10()
    with pytest.raises(data.DatasetError, match="does not exist"):
        data.load_cifar10(tmp_path / "nowhere")
    with pytest.raises(data.DatasetError, match="lacks data_batch_1.bin"):
        data.load_cifar10(tmp_path)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(data.DatasetError, match="not a multiple of the 3073-byte record"):
        data.read_cifar10_batch(bad)
    rng = np.random.default_rng(1)
    labels = tmp_path / "labels.bin"
    write_batch(labels, np.array([3, 12]), rng)
    with pytest.raises(data.DatasetError, match="record 1 has label 12"):
        data.read_cifar10_batch(labels, records=None)
    with pytest.raises(data.DatasetError, match="holds 2 records; expected 10000"):
        data.read_cifar10_batch(labels)


def test_cifar10_falls_back_to_digits(tmp_path, capsys):
    name, splits = data.cifar10_or_digits(tmp_path / "missing")
    assert name == "digits" and splits.n_classes == 10
    assert "falling back" in capsys.readouterr().out


def test_text_corpus_ships_with_python():
    text = data.text_corpus()
    assert len(text) > 200_000 and "assert" in text
    assert data.text_corpus(max_chars=100) == text[:100]
    with pytest.raises(ValueError, match="max_chars=0"):
        data.text_corpus(max_chars=0)
