"""Checkpoints that survive a kill: written whole or not at all, read without unpickling code.

- :func:`save` writes to a temporary file in the same folder, flushes it to the disk, then renames
  it over the old checkpoint (``os.replace`` is atomic on one file system): a process killed while
  writing leaves the previous checkpoint intact, never half a file.
- :func:`load` reads with ``torch.load(..., weights_only=True)``, which rebuilds tensors, numbers,
  strings, lists and dicts only, so a checkpoint from elsewhere cannot run code. A checkpoint
  therefore holds only such values.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

FORMAT = 1  # bumped when the layout of a checkpoint changes


class CheckpointError(ValueError):
    """A checkpoint is unreadable or belongs to another run; the message names the file."""


def save(path, state: dict) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"format": FORMAT, **state}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(path) -> dict:
    """The state saved by :func:`save`, on the CPU; a CheckpointError names the file and the fault."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - truncated zip, foreign pickle, wrong file: all one answer
        raise CheckpointError(
            f"checkpoint {str(path)!r} cannot be read ({type(err).__name__}): it is truncated, not a torch file, "
            "or holds objects other than tensors, numbers, strings, lists and dicts (which are never "
            "unpickled here); delete it to start afresh") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {str(path)!r} is not a checkpoint of this recipe (format "
                              f"{state.get('format') if isinstance(state, dict) else type(state).__name__!r}, "
                              f"expected {FORMAT})")
    return state
