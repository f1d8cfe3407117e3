"""Run profile, seeding and device choice.

The profile decides how big the experiments are: ``LECTURE_PROFILE=fast`` (set by the test
suite) shrinks data and epochs so a notebook runs in seconds; unset or ``full`` runs the real
experiment. Nothing here imports torch until a torch helper is called.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from ._checks import check_seed

PROFILES = ("fast", "full")


def profile() -> str:
    """The active profile, read from the environment variable ``LECTURE_PROFILE``."""
    value = os.environ.get("LECTURE_PROFILE", "full").strip().lower() or "full"
    if value not in PROFILES:
        raise ValueError(f"LECTURE_PROFILE={value!r} is not a profile; expected one of {PROFILES}")
    return value


def is_fast() -> bool:
    return profile() == "fast"


def by_profile(*, fast, full):
    """Pick a size by profile: ``n = by_profile(fast=200, full=5000)``."""
    return fast if is_fast() else full


def make_rng(seed: int) -> np.random.Generator:
    """A fresh NumPy generator, so that re-running one cell reproduces its numbers."""
    return np.random.default_rng(check_seed(seed))


def seed_torch(seed: int):
    """Seed torch's global generators (CPU and CUDA) and return a seeded ``torch.Generator``."""
    import torch

    seed = check_seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def choose_device(prefer: str | None = None):
    """The best available device: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the environment variable ``LECTURE_DEVICE``) forces one of
    ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for one that is absent is an error.
    """
    import torch

    prefer = prefer if prefer is not None else os.environ.get("LECTURE_DEVICE") or None
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"prefer={prefer!r} is not a device; expected 'cuda', 'mps' or 'cpu'")
        if not available[prefer]:
            raise ValueError(f"prefer={prefer!r} was asked for but is not available here")
        return torch.device(prefer)
    for name in ("cuda", "mps", "cpu"):
        if available[name]:
            return torch.device(name)
    raise AssertionError("unreachable: the CPU is always available")


def device_report(device=None) -> str:
    """One line that says which device trains and why."""
    import torch

    device = device if device is not None else choose_device()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"device: cuda ({name}); training uses bf16 autocast, channels_last"
    if device.type == "mps":
        return "device: mps (Apple GPU); float32 only, gradient checks stay in NumPy float64"
    return f"device: cpu ({torch.get_num_threads()} threads); no GPU found, every notebook still runs"


@contextlib.contextmanager
def single_thread():
    """Run small NumPy and torch work on one thread (BLAS and torch intra-op), then restore the
    previous settings. For small matrices a second thread only adds synchronisation, and on a busy
    2-core machine the waiting costs ten times the work; timings taken this way are repeatable."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")  # only when already in use: NumPy-only code stays light
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):  # scans the loaded libraries: about 1 ms
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)
