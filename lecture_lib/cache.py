"""A disk cache for heavy results, keyed by the experiment's configuration.

A result is a flat dict of NumPy arrays and JSON values (numbers, strings, lists, dicts). An entry
is two files: ``<key>.npz`` holds the arrays (written without pickle, read with
``allow_pickle=False``) and ``<key>.json`` the other values with the digest of the ``.npz``, so
nothing is ever unpickled and an entry whose two files do not belong together is noticed.

The key hashes the experiment's name, its configuration (with the type of every value: ``{1: "a"}``
and ``{"1": "a"}`` are different configurations, and NumPy scalars count as the numbers they
are), the profile and lecture_lib's version, so a cached result is only ever reused for exactly
the experiment that made it.

Safe with several processes at once (two Voila pages, two notebooks, ``make site`` beside a
kernel): each file is written under a fresh temporary name in the cache folder and published
with ``os.replace``, the ``.json`` last, so a reader sees a complete entry or none. A damaged or
foreign entry (truncated, not ours, a symbolic link) is a miss: it is recomputed and overwritten,
and one line says so. Links are never followed, and keys cannot name a path outside the folder.

The folder is ``$LECTURE_CACHE_DIR`` or ``.cache/lecture_lib`` at the repository root; set
``LECTURE_CACHE=off`` to always recompute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import numbers
import os
import re
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._checks import check_bool
from .config import profile

FORMAT = 2                      # the layout of an entry; older entries are simply misses
MAX_DEPTH = 32                  # nesting allowed in a configuration or a cached value
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}-[0-9a-f]{16}")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
STALE_SECONDS = 3600            # a temporary file this old belongs to a writer that was killed
_RETRIES = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)  # re-reads while another process publishes the same key


class DamagedEntry(Exception):
    """An entry on disk that cannot be trusted (truncated, foreign, a link...)."""


def say(message: str) -> None:
    """One line on stderr: what the cache did and why."""
    print(f"lecture_lib cache: {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    env = os.environ.get("LECTURE_CACHE_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".cache" / "lecture_lib"


def enabled() -> bool:
    return os.environ.get("LECTURE_CACHE", "on").strip().lower() != "off"


# -- the key -------------------------------------------------------------------------------------
def _typed(value, where: str, depth: int = 0):
    """``value`` as JSON that also records each value's type, so that equal JSON texts of
    different values (1 and "1", 1 and 1.0, True and 1) give different keys."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where} is nested more than {MAX_DEPTH} levels deep; expected a flat "
                         "configuration")
    if value is None:
        return ["none"]
    if isinstance(value, (bool, np.bool_)):
        return ["bool", bool(value)]
    if isinstance(value, numbers.Integral):
        return ["int", int(value)]
    if isinstance(value, numbers.Real):
        return ["float", repr(float(value))]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (list, tuple)):
        return ["seq", [_typed(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]]
    if isinstance(value, dict):
        items = [(_typed(k, f"{where} key {k!r}", depth + 1), _typed(v, f"{where}[{k!r}]", depth + 1))
                 for k, v in value.items()]
        return ["dict", sorted(items, key=lambda kv: json.dumps(kv[0]))]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 10_000:
        data = np.ascontiguousarray(value)
        return ["array", data.dtype.str, list(data.shape), hashlib.sha256(data.tobytes()).hexdigest()]
    raise TypeError(f"{where}={_show(value)} of type {type(value).__name__} cannot be part of a "
                    "cache key; expected JSON values (numbers, NumPy scalars included, strings, "
                    "booleans, None, lists, tuples, dicts) or small numeric arrays")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name={_show(name)} is not valid; expected a string of letters, digits, '-' or '_'")
    if not _NAME.fullmatch(name):
        raise ValueError(f"name={_show(name)} is not valid; expected 1 to 80 ASCII letters, digits, "
                         "'-' or '_', starting with a letter or digit")
    return name


def check_key(key) -> str:
    """A key made by :func:`cache_key`: it names two files inside the cache folder, nothing else."""
    if not isinstance(key, str):
        raise TypeError(f"key={_show(key)} is not valid; expected a key made by cache_key()")
    if not _KEY.fullmatch(key):
        raise ValueError(f"key={_show(key)} is not valid; expected a key made by cache_key(), "
                         "such as 'name-0123456789abcdef'")
    return key


def cache_key(name: str, config: dict, *, profile_bound: bool = True) -> str:
    """``<name>-<16 hex digits>``: the digits hash the name, the typed configuration, lecture_lib's
    version and, unless ``profile_bound=False``, the profile (a result whose configuration already
    says everything, such as a CIFAR-10 recipe run, is shared by both profiles)."""
    from . import __version__

    check_name(name)
    check_bool(profile_bound, "profile_bound")
    if not isinstance(config, dict):
        raise TypeError(f"config={_show(config)} is not valid; expected a dict")
    typed = _typed(config, "config")
    blob = json.dumps([FORMAT, name, typed, profile() if profile_bound else "full", __version__],
                      separators=(",", ":"))
    return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


# -- a result: arrays and JSON values --------------------------------------------------------------
def _plain(value, where: str, depth: int = 0):
    """A cached value as plain JSON (NumPy scalars become numbers, tuples lists); anything that
    would not come back from the disk as it went in is refused, naming where it is."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {_show(k)}; a cached dict needs string keys "
                                "(JSON turns any other key into a string)")
        return {k: _plain(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}
    raise TypeError(f"{where}={_show(value)} of type {type(value).__name__} cannot be cached; "
                    "expected a NumPy array or JSON values (numbers, strings, booleans, None, lists, "
                    "dicts)")


def _split(result) -> tuple[dict, dict]:
    if not isinstance(result, dict):
        raise TypeError(f"a cached result must be a dict, got {type(result).__name__}")
    arrays, values = {}, {}
    for k, v in result.items():
        if not isinstance(k, str):
            raise TypeError(f"result key {_show(k)} is not valid; expected a string")
        if not k:
            raise ValueError("result key '' is not valid; expected a non-empty string")
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                raise TypeError(f"result[{k!r}] is an object array; only numeric arrays are cached")
            arrays[k] = np.asarray(v)
        else:
            values[k] = _plain(v, f"result[{k!r}]")
    return arrays, values


def _npz_bytes(arrays: dict) -> bytes:
    """The arrays as an ``.npz`` (what ``np.savez`` writes), built here so that any name works,
    ``file`` and ``allow_pickle`` included."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return buffer.getvalue()


def _read_npz(blob: bytes, names: list) -> dict:
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        members = archive.namelist()
        if sorted(members) != sorted(n + ".npy" for n in names):
            raise DamagedEntry("its arrays are not those its metadata lists")
        for name in names:
            with archive.open(name + ".npy") as member:
                arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


# -- files ----------------------------------------------------------------------------------------
def _paths(key: str) -> tuple[Path, Path, Path]:
    folder = cache_dir()
    meta, blob = folder / f"{key}.json", folder / f"{key}.npz"
    assert meta.parent == folder and blob.parent == folder  # guaranteed by check_key
    return folder, meta, blob


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes; None when it does not exist. A symbolic link is never followed."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as err:
        if path.is_symlink():
            raise DamagedEntry(f"{path.name} is a symbolic link, which the cache never follows") from None
        raise DamagedEntry(f"{path.name} cannot be read ({err})") from None
    with os.fdopen(fd, "rb") as f:
        if not _NOFOLLOW and path.is_symlink():  # pragma: no cover - systems without O_NOFOLLOW
            raise DamagedEntry(f"{path.name} is a symbolic link, which the cache never follows")
        try:
            return f.read()
        except OSError as err:  # e.g. a folder where the file should be
            raise DamagedEntry(f"{path.name} cannot be read ({err.strerror or err})") from None


def _write_temporary(folder: Path, target: Path, data: bytes) -> str:
    """``data`` in a fresh file of ``folder`` (created exclusively: never a link), to be renamed
    over ``target``."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _remove_stale_temporaries(folder: Path, target: Path) -> None:
    """Delete the temporaries of ``target`` left by writers killed before they published (a kernel
    interrupted twice, a machine switched off): a live writer renames its own within seconds."""
    now = time.time()
    for tmp in folder.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink() and now - tmp.lstat().st_mtime > STALE_SECONDS:
                tmp.unlink()


@contextlib.contextmanager
def _entry_lock(folder: Path, key: str, exclusive: bool):
    """A lock on ``.<key>.lock`` (where ``fcntl`` exists): exclusive while a writer publishes its
    two files, shared while a reader reads them, so that a reader never meets the arrays of one
    result beside the values of another. A reader that cannot take it (a read-only folder) reads
    without it and relies on the digest and a few re-reads."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the digest and the re-reads remain
        yield
        return
    try:
        fd = os.open(folder / f".{key}.lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
    except OSError:
        if exclusive:
            raise
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def save(key: str, result: dict) -> None:
    """Store ``result`` under ``key``: the arrays first, the metadata last."""
    check_key(key)
    arrays, values = _split(result)
    blob = _npz_bytes(arrays)
    meta = json.dumps({"format": FORMAT, "key": key, "npz_sha256": hashlib.sha256(blob).hexdigest(),
                       "arrays": list(arrays), "values": values})
    folder, meta_path, blob_path = _paths(key)
    folder.mkdir(parents=True, exist_ok=True)
    for target in (blob_path, meta_path):
        _remove_stale_temporaries(folder, target)
    written = []
    try:
        written.append(_write_temporary(folder, blob_path, blob))
        written.append(_write_temporary(folder, meta_path, meta.encode()))
        # Both files are complete: publish them back to back, the metadata last, one writer at
        # a time (two writers interleaving would leave one's arrays beside the other's values).
        # os.replace renames over a link at the target, it never writes through one.
        with _entry_lock(folder, key, exclusive=True):
            os.replace(written[0], blob_path)
            os.replace(written[1], meta_path)
    finally:
        for tmp in written:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _parse_meta(raw: bytes, key: str) -> dict:
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        raise DamagedEntry(f"{key}.json is not valid JSON") from None
    if not (isinstance(meta, dict) and meta.get("format") == FORMAT and meta.get("key") == key
            and isinstance(meta.get("npz_sha256"), str) and isinstance(meta.get("values"), dict)
            and isinstance(meta.get("arrays"), list) and all(isinstance(n, str) for n in meta["arrays"])):
        raise DamagedEntry(f"{key}.json is not an entry of this cache")
    return meta


def _load(key: str) -> dict | None:
    """The entry, None when there is none; raises DamagedEntry for one that cannot be trusted."""
    folder, meta_path, blob_path = _paths(key)
    if not os.path.lexists(meta_path):
        return None  # no metadata: no entry (or one still being written)
    for pause in _RETRIES:
        time.sleep(pause)
        with _entry_lock(folder, key, exclusive=False):
            raw = _read_bytes(meta_path)
            blob = _read_bytes(blob_path)
        if raw is None:
            return None
        meta = _parse_meta(raw, key)
        if blob is None:
            raise DamagedEntry(f"{key}.npz is missing")
        if hashlib.sha256(blob).hexdigest() == meta["npz_sha256"]:
            break
        # Without the lock, another process may be publishing this key: read again.
    else:
        raise DamagedEntry(f"{key}.npz does not match its metadata (truncated or replaced)")
    try:
        arrays = _read_npz(blob, meta["arrays"])
    except DamagedEntry as err:
        raise DamagedEntry(f"{key}.npz: {err}") from None
    except Exception as err:  # noqa: BLE001 - any parse failure of a matching file means damage
        raise DamagedEntry(f"{key}.npz cannot be read ({type(err).__name__})") from None
    if set(arrays) & set(meta["values"]):
        raise DamagedEntry(f"{key}.json repeats a name of its arrays")
    return {**meta["values"], **arrays}


def load(key: str) -> dict | None:
    """The stored result, or None when there is none or it cannot be trusted (said in one line)."""
    check_key(key)
    try:
        return _load(key)
    except DamagedEntry as err:
        say(f"ignoring a damaged entry: {err}; it will be recomputed")
        return None


def cached(name: str, config: dict, compute: Callable[[], dict]) -> dict:
    """``compute()`` once per (name, config); later calls read the disk. A result that cannot be
    written (a full or read-only disk) is still returned, and one line says it was not kept."""
    key = cache_key(name, config)
    if not callable(compute):
        raise TypeError(f"compute={_show(compute)} is not valid; expected a function of no arguments")
    if enabled():
        hit = load(key)
        if hit is not None:
            return hit
    result = compute()
    _split(result)  # a result that cannot be cached is an error, also with the cache off
    if enabled():
        try:
            save(key, result)
        except OSError as err:
            say(f"could not store {key} in {cache_dir()} ({err}); it will be recomputed next time")
    return result


# -- a frozen dataclass of arrays, numbers, strings, tuples and dicts --------------------------------
def _encode(value, path: str, arrays: dict, depth: int = 0):
    """``value`` as JSON, its arrays moved to ``arrays`` under their path; tuples and dict keys that
    are not strings are tagged, so that :func:`_decode` gives back exactly what went in."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{path} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"{path} is an object array; only numeric arrays are cached")
        arrays[path] = value
        return {"array": path}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{path}[{i}]", arrays, depth + 1) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return {"list": [_encode(v, f"{path}[{i}]", arrays, depth + 1) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"dict": [[_plain(k, f"a key of {path}"), _encode(v, f"{path}[{k!r}]", arrays, depth + 1)]
                         for k, v in value.items()]}
    return {"value": _plain(value, path)}


def _decode(tagged, arrays: dict):
    (kind, content), = tagged.items()
    if kind == "array":
        return arrays[content]
    if kind in ("tuple", "list"):
        items = [_decode(v, arrays) for v in content]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {(tuple(k) if isinstance(k, list) else k): _decode(v, arrays) for k, v in content}
    return content


def cached_result(name: str, config: dict, rng: np.random.Generator, cls: type, compute: Callable[[], object]):
    """``compute()``, a frozen dataclass ``cls`` made with ``rng``, once per configuration and
    generator state; later calls read it from the disk and leave ``rng`` where ``compute`` left it,
    so the cells that draw from the same generator afterwards get the same numbers, hit or miss."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"cls={_show(cls)} is not valid; expected a dataclass")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng={_show(rng)} is not valid; expected a numpy.random.Generator")
    config = {**config, "rng": rng.bit_generator.state}

    def as_dict():
        result = compute()
        if type(result) is not cls:
            raise TypeError(f"{name}: compute() returned a {type(result).__name__}; expected a {cls.__name__}")
        arrays = {}
        fields = {f.name: _encode(getattr(result, f.name), f.name, arrays) for f in dataclasses.fields(result)}
        return {**{f"a{i}": a for i, a in enumerate(arrays.values())},
                "fields": fields, "array_paths": list(arrays), "rng_after": rng.bit_generator.state}

    stored = cached(name, config, as_dict)
    arrays = {path: stored[f"a{i}"] for i, path in enumerate(stored["array_paths"])}
    rng.bit_generator.state = stored["rng_after"]
    return cls(**{field: _decode(tagged, arrays) for field, tagged in stored["fields"].items()})
