"""The CIFAR-10 recipe on the CPU: its parts, one epoch, resuming, two gloo processes, bad arguments.

Runs use the fast ResNet-9 at width 8 on a few hundred synthetic images, on one thread (on a busy
2-core machine a second thread mostly waits)."""

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_lib import cache, data
from lecture_lib.config import single_thread
from lecture_lib.models import fast_resnet9
from lecture_lib.recipes import checkpoint, cifar10, distributed
from lecture_lib.recipes.fast_training import DeviceImages, WeightAverage, lr_factor, reflect
from lecture_lib.recipes.settings import CifarRun, Hyperparameters
from lecture_lib.recipes.trainer import param_groups
from lecture_lib.train import TrainingDiverged

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(device="cpu", width=8, progress=False, log=lambda line: None)
SMALL_HYPER = Hyperparameters.for_arch("fast_resnet9", batch_size=64, lr=0.4)
SMALL_ARGS = ["--data", "synthetic", "--device", "cpu", "--width", "8", "--batch-size", "64", "--no-progress"]


@pytest.fixture(autouse=True)
def one_thread():
    with single_thread():
        yield


# --------------------------------------------------------------------------- data
def test_synthetic_cifar10_is_cifar_shaped_seeded_and_prefix_stable():
    X, y, Xt, yt = data.synthetic_cifar10(1500, 300, seed=3)
    assert X.shape == (1500, 3, 32, 32) and X.dtype == np.uint8 and y.dtype == np.int64
    assert Xt.shape == (300, 3, 32, 32) and set(np.unique(y)) == set(range(10))
    assert np.bincount(y[:1000]).tolist() == [100] * 10  # balanced in each block of 1000
    assert 20 < X.std() < 80 and 100 < X.mean() < 155  # spread over the byte range, not clipped flat
    X2, y2, Xt2, _ = data.synthetic_cifar10(700, 50, seed=3)
    assert np.array_equal(X2, X[:700]) and np.array_equal(y2, y[:700]) and np.array_equal(Xt2, Xt[:50])
    assert not np.array_equal(data.synthetic_cifar10(10, 10, seed=4)[0], X[:10])
    with pytest.raises(ValueError, match="n_train=0"):
        data.synthetic_cifar10(0, 10)


def test_synthetic_classes_are_told_apart_by_their_texture():
    # The class is in the stripes, not in a pixel: the mean image is the same grey for every class
    # (random phases), while the power spectrum differs.
    X, y, _, _ = data.synthetic_cifar10(2000, 10, seed=0)
    gray = X.astype(np.float64).mean(axis=1)
    spectra = np.abs(np.fft.fft2(gray - gray.mean(axis=(1, 2), keepdims=True))) ** 2
    centroids = np.stack([spectra[y == k].mean(axis=0) for k in range(10)])
    distance = ((spectra[:, None] - centroids[None]) ** 2).sum(axis=(2, 3))
    assert (distance.argmin(axis=1) == y).mean() > 0.5  # nearest class spectrum: far above chance (0.1)
    mean_images = np.stack([gray[y == k].mean(axis=0) for k in range(10)])
    assert np.abs(mean_images - mean_images.mean(axis=0)).max() < 25


def write_cifar_folder(folder, records=2):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in (*data.CIFAR10_TRAIN_FILES, data.CIFAR10_TEST_FILE):
        table = rng.integers(0, 256, (records, data.CIFAR10_RECORD), dtype=np.uint8)
        table[:, 0] %= 10
        table.tofile(folder / name)
    return folder


def test_cifar10_folder_errors_name_the_folder_and_the_variable(tmp_path):
    with pytest.raises(data.DatasetError, match=r"does not exist.*LECTURE_CIFAR10_DIR") as err:
        data.load_cifar10(tmp_path / "nowhere")
    assert "nowhere" in str(err.value)
    folder = write_cifar_folder(tmp_path / "cifar", records=2)  # whole records, but not 10000 of them
    with pytest.raises(data.DatasetError, match=r"folder .*cifar.* is corrupt: .*holds 2 records.*LECTURE_CIFAR10_DIR"):
        data.load_cifar10(folder)


# --------------------------------------------------------------------------- the model
def test_fast_resnet9_shape_parameters_and_frozen_norm_scales():
    model = fast_resnet9()
    assert sum(p.numel() for p in model.parameters()) == 6_573_849
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert "whiten.weight" in frozen and all(n.endswith("weight") for n in frozen) and len(frozen) == 9
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    plain = fast_resnet9(width=4, whiten=False)
    assert plain.whiten.weight.requires_grad and plain.init_whitening(torch.zeros(4, 3, 32, 32)) is False
    with pytest.raises(TypeError, match="width=2.5"):
        fast_resnet9(width=2.5)


def test_patch_whitening_gives_patches_an_identity_covariance():
    rng = np.random.default_rng(0)
    mixing = torch.tensor(rng.normal(size=(3, 3)), dtype=torch.float32)
    smooth = F.avg_pool2d(torch.tensor(rng.normal(size=(64, 3, 34, 34)), dtype=torch.float32), 3, 1)
    images = torch.einsum("ij,njhw->nihw", mixing, smooth)  # correlated colours and neighbours
    model = fast_resnet9(width=4)
    assert model.init_whitening(images, eps=1e-6) is True
    before = F.unfold(images, 3).transpose(1, 2).reshape(-1, 27)
    after = model.whiten(images)[:, :, 1:-1, 1:-1].permute(0, 2, 3, 1).reshape(-1, 27)  # unpadded pixels
    cov_before = before.T @ before / len(before)
    cov_after = after.T @ after / len(after)
    assert torch.linalg.cond(cov_before) > 100
    assert torch.allclose(cov_after, torch.eye(27), atol=2e-3)


# --------------------------------------------------------------------------- the parts
def test_batches_are_gathered_mirrored_and_shifted_on_the_device():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    mean, std = torch.tensor([10.0, 20.0, 30.0]), torch.tensor([2.0, 4.0, 5.0])
    store = DeviceImages(images, np.arange(6), "cpu", mean, std)
    index, flip = torch.tensor([4, 0, 4, 2]), torch.tensor([False, True, True, False])
    shift = torch.tensor([[2, -1], [0, 0], [-2, 2], [1, 1]])
    got = store.batch(index, flip, shift, translate=2)
    padded = F.pad(torch.tensor(images, dtype=torch.float32), (2, 2, 2, 2), mode="reflect")
    for row, (i, f, (dy, dx)) in enumerate(zip(index, flip, shift.tolist(), strict=True)):
        crop = padded[i, :, 2 + dy:34 + dy, 2 + dx:34 + dx]
        crop = crop.flip(-1) if f else crop
        assert torch.equal(got[row], (crop - mean[:, None, None]) / std[:, None, None])
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert reflect(torch.tensor([-2, -1, 0, 31, 32, 33]), 32).tolist() == [2, 1, 0, 31, 30, 29]


def test_schedule_warms_up_decays_linearly_then_stays():
    factors = [lr_factor(s, 100, 0.2, 0.8, 0.1) for s in range(101)]
    assert factors[0] == 0 and factors[10] == pytest.approx(0.5) and factors[20] == 1
    assert factors[50] == pytest.approx(0.55) and factors[80] == pytest.approx(0.1)
    assert factors[100] == pytest.approx(0.1)
    assert np.all(np.diff(factors[:21]) > 0) and np.all(np.diff(factors[20:81]) < 0)


def test_weight_average_is_a_debiased_exponential_average():
    model = torch.nn.Linear(2, 1)
    average = WeightAverage(model, decay=0.5)
    seen = []
    for value in (1.0, 3.0, 7.0):
        with torch.no_grad():
            model.weight.fill_(value)
        seen.append(value)
        average.update()
    weights = 0.5 ** np.arange(len(seen))[::-1]  # newest weighted most, no pull towards the start
    assert average.model.weight[0, 0].item() == pytest.approx(np.dot(weights, seen) / weights.sum())
    assert average.count == 3


def test_norm_biases_learn_faster_with_weight_decay_scaled_down():
    net = fast_resnet9(width=4)
    groups = param_groups(net, Hyperparameters())
    plain, boosted = groups
    assert boosted["lr"] == 64.0 and boosted["weight_decay"] == pytest.approx(5e-4 / 64)
    assert all(p.dim() == 1 for p in boosted["params"]) and all(p.dim() > 1 for p in plain["params"])
    assert len(param_groups(net, Hyperparameters(bias_lr_scale=1.0))) == 1


def test_hyperparameters_are_checked():
    with pytest.raises(ValueError, match="lr=-1"):
        Hyperparameters(lr=-1)
    with pytest.raises(ValueError, match="tta=3 is not known"):
        Hyperparameters(tta=3)
    assert Hyperparameters.for_arch("resnet20").bias_lr_scale == 1.0


def test_checkpoints_are_atomic_and_loaded_without_code(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    checkpoint.save(path, {"epoch": 1, "weights": torch.ones(3)})

    def dies_half_way(obj, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {"epoch": 2, "weights": torch.zeros(3)})
    monkeypatch.undo()
    assert checkpoint.load(path)["epoch"] == 1 and os.listdir(tmp_path) == ["run.pt"]

    class Payload:  # an object whose unpickling would run code
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"format": 1, "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(checkpoint.CheckpointError, match="evil.pt.* cannot be read"):
        checkpoint.load(tmp_path / "evil.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip")
    with pytest.raises(checkpoint.CheckpointError, match="garbage.pt.* cannot be read"):
        checkpoint.load(tmp_path / "garbage.pt")


def test_checksum_sees_a_one_bit_change():
    model = fast_resnet9(width=4)
    same = fast_resnet9(width=4)
    same.load_state_dict(model.state_dict())
    assert distributed.weights_checksum(model) == distributed.weights_checksum(same)
    with torch.no_grad():
        same.head[2].weight.view(torch.int32)[0, 0] ^= 1
    assert distributed.weights_checksum(model) != distributed.weights_checksum(same)


# --------------------------------------------------------------------------- whole runs
def test_one_epoch_on_a_small_synthetic_set_learns_and_goes_to_the_cache(monkeypatch):
    run = cifar10.train("synthetic", epochs=1, limit=1024, hyper=SMALL_HYPER, **SMALL)
    assert run.history.epochs == 1 and len(run.epoch_seconds) == 1 and run.world_size == 1
    # Chance is 0.1 (a loss of ln 10); 16 steps of a width-8 network are enough to beat it clearly.
    assert run.history.train_acc[0] > 0.18 and run.history.train_loss[0] < np.log(10) - 0.1
    assert run.accuracy > 0.12
    assert run.images_per_second > 0 and run.device.startswith("cpu") and run.precision == "float32"
    assert datetime.fromisoformat(run.date).tzinfo is not None
    assert re.fullmatch(r"[0-9a-f]{16}", run.weights_checksum)
    assert run.weights_checksum == distributed.weights_checksum(run.model)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of reading the cache")

    monkeypatch.setattr(cifar10, "train", no_training)
    again = cifar10.cached_run("synthetic", epochs=1, limit=1024, width=8, hyper=SMALL_HYPER)
    assert again == run and again.model is None and again.date == run.date
    assert CifarRun.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    assert run.config["width"] == 8
    key = cifar10.cache_key(run.config)
    default = cifar10.experiment_config("synthetic", 1, 1024, "fast_resnet9", None, 0, SMALL_HYPER)
    assert default["width"] == 64 == cifar10.experiment_config("synthetic", 1, 1024, "fast_resnet9", 64, 0,
                                                                 SMALL_HYPER)["width"]
    assert cache.load(key)["history"]["val_acc"] == run.history.val_acc


def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path):
    config = dict(epochs=2, limit=256, hyper=SMALL_HYPER, cache=False, **SMALL)
    path = tmp_path / "run.pt"

    class Killed(Exception):
        pass

    def kill_after_first_epoch(epoch, history):
        raise Killed

    whole = cifar10.train("synthetic", **config)
    with pytest.raises(Killed):
        cifar10.train("synthetic", checkpoint_path=path, callback=kill_after_first_epoch, **config)
    assert checkpoint.load(path)["epoch"] == 1
    torch.manual_seed(12345)  # the killed process's random state is gone; the checkpoint has it
    resumed = cifar10.train("synthetic", checkpoint_path=path, resume=True, **config)
    assert resumed.weights_checksum == whole.weights_checksum
    assert resumed.history == whole.history
    other = dict(config, epochs=3)
    with pytest.raises(checkpoint.CheckpointError, match="belongs to another run .*epochs"):
        cifar10.train("synthetic", checkpoint_path=path, resume=True, **other)


def _why_a_rank_failed(stderr: str) -> str:
    """The lines of torchrun's output that say why a process died (a Python traceback's last
    lines, a C++ exception's what()), then its summary: the summary alone names only a signal."""
    lines = stderr.splitlines()
    cause = re.compile(r"error|exception|what\(\)|terminate called|enforce|abort", re.IGNORECASE)
    causes = [line for line in lines if cause.search(line) and "torch/distributed/elastic" not in line]
    return "\n".join(causes[:30]) + "\n...\n" + "\n".join(lines[-25:])


def test_torchrun_with_two_gloo_processes_ends_with_identical_weights():
    # Both processes on the loopback interface (one machine). gloo itself can abort a process while
    # the two connect on a loaded machine (a connection that closes as it is accepted); such a
    # start is run once more, and a fault that repeats fails the test with each process's error.
    command = [str(ROOT / ".venv" / "bin" / "torchrun"), "--standalone", "--nproc_per_node=2",
               "-m", "lecture_lib.recipes.cifar10", *SMALL_ARGS, "--epochs", "1", "--limit", "256", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    failures = []
    for _ in range(2):
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
        if done.returncode == 0:
            break
        failures.append(_why_a_rank_failed(done.stderr))
    assert done.returncode == 0, "\n=== next start ===\n".join(failures)
    lines = sorted((json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")),
                   key=lambda line: line["rank"])
    assert [line["rank"] for line in lines] == [0, 1]
    assert all(line["world_size"] == 2 for line in lines)
    assert lines[0]["weights_checksum"] == lines[1]["weights_checksum"]
    assert lines[0]["accuracy"] == lines[1]["accuracy"] and lines[0]["images_per_second"] > 0
    assert "epoch   1/1" in done.stderr  # rank 0's line per epoch (on stderr beside --json)


def test_any_architecture_of_the_catalogue_trains_and_an_unsuitable_one_is_named(monkeypatch):
    def tiny_mlp(num_classes=10):  # no batch norm, no whitening: the recipe's generic path
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 32), torch.nn.ReLU(),
                                   torch.nn.Linear(32, num_classes))

    def needs_224(num_classes=10):
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 224 * 224, num_classes))

    catalogue = {"fast_resnet9": fast_resnet9, "tiny_mlp": tiny_mlp, "needs_224": needs_224}
    monkeypatch.setattr(cifar10.models, "architectures", lambda: catalogue)
    hyper = Hyperparameters.for_arch("tiny_mlp", batch_size=64, lr=0.05)
    assert hyper.bias_lr_scale == 1.0
    run = cifar10.train("synthetic", epochs=1, limit=512, arch="tiny_mlp", hyper=hyper, cache=False,
                        device="cpu", progress=False, log=lambda line: None)
    assert run.config["arch"] == "tiny_mlp" and 0 <= run.accuracy <= 1 and np.isfinite(run.history.train_loss[0])
    with pytest.raises(ValueError, match="arch='needs_224' does not take 32x32 CIFAR-10 images"):
        cifar10.build_model("needs_224", None)
    with pytest.raises(ValueError, match="width=8 is not valid for arch='tiny_mlp'"):
        cifar10.build_model("tiny_mlp", 8)


def test_a_non_finite_loss_stops_with_epoch_step_and_lr():
    hyper = Hyperparameters.for_arch("fast_resnet9", batch_size=64, lr=1e30)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step \d+ \(lr=[0-9.e+]+\)"):
        cifar10.train("synthetic", epochs=1, limit=256, hyper=hyper, cache=False, **SMALL)


# --------------------------------------------------------------------------- the command line
def run_cli(capsys, *args):
    code = cifar10.main([*SMALL_ARGS, "--limit", "128", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "epochs=0 is not valid"),
    (["--arch", "resnet_nonexistent"], r"arch='resnet_nonexistent' is not known; expected one of \[.*fast_resnet9"),
    (["--device", "cuda:64" if torch.cuda.is_available() else "cuda"], "device='cuda.*'"),
    (["--width", "8", "--arch", "fast_resnet9", "--batch-size", "1000"], "batch_size=1000 is larger than the 128"),
])
def test_bad_arguments_get_a_message_and_exit_code_2(capsys, args, message):
    code, err = run_cli(capsys, *args)
    assert code == 2 and re.search(message, err), err


def test_a_missing_or_corrupt_folder_gets_a_message_and_exit_code_2(capsys, tmp_path):
    for folder, problem in ((tmp_path / "absent", "does not exist"),
                            (write_cifar_folder(tmp_path / "corrupt"), "is corrupt")):
        code = cifar10.main(["--data", str(folder), "--epochs", "1"])
        err = capsys.readouterr().err
        assert code == 2 and problem in err and str(folder) in err and "LECTURE_CIFAR10_DIR" in err, err
        assert "Traceback" not in err


def test_the_command_line_prints_one_json_object_last(capsys):
    code = cifar10.main([*SMALL_ARGS, "--epochs", "1", "--limit", "128", "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1
    last = json.loads(out[-1])
    assert {"rank", "world_size", "accuracy", "images_per_second", "weights_checksum"} <= set(last)
    assert last["rank"] == 0 and last["world_size"] == 1 and 0 <= last["accuracy"] <= 1


def test_resume_without_a_file_and_a_damaged_checkpoint_exit_with_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cifar10.main(["--data", "synthetic", "--resume"])
    assert exit_info.value.code == 2 and "--resume needs --checkpoint" in capsys.readouterr().err
    damaged = tmp_path / "run.pt"
    damaged.write_bytes(b"\x00" * 64)
    code, err = run_cli(capsys, "--epochs", "1", "--checkpoint", str(damaged), "--resume")
    assert code == 2 and "run.pt" in err and "cannot be read" in err
