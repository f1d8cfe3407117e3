"""A disk cache for heavy results, keyed by the experiment's configuration.

A result is a flat dict of NumPy arrays and JSON values (numbers, strings, lists, dicts). Arrays go
to an ``.npz`` read with ``allow_pickle=False``, the rest to a ``.json``: nothing is unpickled.
The key hashes the experiment's name, its configuration, the profile and lecture_lib's version, so
a cached result is only ever reused for exactly the experiment that made it.

The folder is ``$LECTURE_CACHE_DIR`` or ``.cache/lecture_lib`` at the repository root; set
``LECTURE_CACHE=off`` to always recompute.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .config import profile


def cache_dir() -> Path:
    env = os.environ.get("LECTURE_CACHE_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".cache" / "lecture_lib"


def cache_key(name: str, config: dict) -> str:
    from . import __version__

    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"name={name!r} is not valid; expected letters, digits, '-' or '_'")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        blob = json.dumps({"name": name, "config": config, "profile": profile(), "version": __version__},
                          sort_keys=True)
    except TypeError as err:
        raise TypeError(f"config must hold only JSON values (numbers, strings, lists, dicts): {err}") from None
    return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _split(result: dict):
    if not isinstance(result, dict):
        raise TypeError(f"a cached result must be a dict, got {type(result).__name__}")
    arrays, values = {}, {}
    for k, v in result.items():
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                raise TypeError(f"result[{k!r}] is an object array; only numeric arrays are cached")
            arrays[k] = v
        else:
            values[k] = v
    json.dumps(values)  # fail early, with the standard message, on a non-JSON value
    return arrays, values


def save(key: str, result: dict) -> None:
    arrays, values = _split(result)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{key}.npz", **arrays)
    tmp = folder / f"{key}.json.tmp"
    tmp.write_text(json.dumps(values))
    tmp.replace(folder / f"{key}.json")  # the .json's presence marks a complete entry


def load(key: str) -> dict | None:
    folder = cache_dir()
    meta, blob = folder / f"{key}.json", folder / f"{key}.npz"
    if not (meta.is_file() and blob.is_file()):
        return None
    try:
        values = json.loads(meta.read_text())
        with np.load(blob, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError):
        return None  # a damaged entry is recomputed, never trusted
    return {**values, **arrays}


def cached(name: str, config: dict, compute: Callable[[], dict]) -> dict:
    """``compute()`` once per (name, config); later calls read the disk."""
    key = cache_key(name, config)
    if os.environ.get("LECTURE_CACHE", "on").lower() != "off":
        hit = load(key)
        if hit is not None:
            return hit
    result = compute()
    save(key, result)
    return result
