"""The disk cache under damage, links, odd names and several processes at once.

Run as a script, this file is the worker of the concurrency test: ``python tests/test_cache.py
worker <seconds> <id>`` hammers one key for that long. ``LECTURE_CACHE_HAMMER_S=60`` makes the test
hammer for a minute instead of a few seconds.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lecture_lib import cache

HAMMER_SECONDS = float(os.environ.get("LECTURE_CACHE_HAMMER_S", "1.5"))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("LECTURE_CACHE", raising=False)
    return tmp_path


def counting(result):
    calls = []

    def compute():
        calls.append(1)
        return dict(result)
    return compute, calls


# -- damage: a miss, recomputed, overwritten, said in one line ------------------------------------
DAMAGE = {
    "truncated npz": ("npz", lambda raw: raw[: len(raw) // 2]),
    "empty npz": ("npz", lambda raw: b""),
    "garbage npz": ("npz", lambda raw: b"garbage"),
    "json list": ("json", lambda raw: b"[1, 2]"),
    "json null": ("json", lambda raw: b"null"),
    "json deeply nested": ("json", lambda raw: b"[" * 100_000 + b"]" * 100_000),
    "json truncated": ("json", lambda raw: raw[:10]),
    "json not utf-8": ("json", lambda raw: b"\xff\xfe\x00"),
    "json of another key": ("json", lambda raw: raw.replace(b'"key": "x-', b'"key": "y-')),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_entry_is_recomputed_and_overwritten(folder, capsys, damage):
    suffix, spoil = DAMAGE[damage]
    cache.cached("x", {"a": 1}, lambda: {"v": np.ones(3), "n": 1})
    path = folder / f"{cache.cache_key('x', {'a': 1})}.{suffix}"
    path.write_bytes(spoil(path.read_bytes()))
    capsys.readouterr()
    compute, calls = counting({"v": np.zeros(3), "n": 2})
    got = cache.cached("x", {"a": 1}, compute)
    assert calls == [1] and np.array_equal(got["v"], np.zeros(3))
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "damaged" in said[0], said
    # overwritten: the next call reads the new entry, silently
    again = cache.cached("x", {"a": 1}, compute)
    assert calls == [1] and again["n"] == 2 and np.array_equal(again["v"], np.zeros(3))
    assert capsys.readouterr().err == ""


def test_arrays_of_one_run_never_mix_with_values_of_another(folder, capsys):
    """A writer killed between its two files leaves the arrays of one result beside the values of
    another: the digest in the metadata notices it."""
    key = cache.cache_key("x", {})
    cache.save(key, {"v": np.ones(3), "run": 1})
    first = (folder / f"{key}.json").read_bytes()
    cache.save(key, {"v": np.zeros(3), "run": 2})
    (folder / f"{key}.json").write_bytes(first)
    assert cache.load(key) is None
    assert "does not match" in capsys.readouterr().err


def test_a_half_written_entry_is_a_silent_miss(folder, capsys):
    key = cache.cache_key("x", {})
    cache.save(key, {"v": np.ones(2)})
    (folder / f"{key}.json").unlink()  # the metadata comes last: without it there is no entry
    assert cache.load(key) is None and capsys.readouterr().err == ""


def test_temporaries_of_a_killed_writer_are_removed_once_stale(folder):
    key = cache.cache_key("x", {})
    old, fresh = folder / f".{key}.npz.abc.tmp", folder / f".{key}.json.def.tmp"
    other = folder / ".y-0123456789abcdef.npz.ghi.tmp"     # another key's: not this writer's business
    for path in (old, fresh, other):
        path.write_bytes(b"half")
    hours_ago = time.time() - 2 * cache.STALE_SECONDS
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    cache.save(key, {"v": np.ones(2)})
    assert not old.exists(), "a temporary older than STALE_SECONDS is a killed writer's: removed"
    assert fresh.exists(), "a recent temporary may be a live writer's: kept"
    assert other.exists()
    assert cache.load(key)["v"].tolist() == [1.0, 1.0]


# -- integrity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["npz", "json"])
def test_a_link_in_the_cache_is_never_followed(folder, tmp_path_factory, capsys, suffix):
    outside = tmp_path_factory.mktemp("outside") / "precious.txt"
    outside.write_text("keep me")
    key = cache.cache_key("x", {})
    (folder / f"{key}.{suffix}").symlink_to(outside)
    got = cache.cached("x", {}, lambda: {"v": np.arange(3.0)})
    assert np.array_equal(got["v"], np.arange(3.0))
    assert outside.read_text() == "keep me"
    assert not (folder / f"{key}.{suffix}").is_symlink()
    assert suffix == "npz" or "link" in capsys.readouterr().err
    assert np.array_equal(cache.load(key)["v"], np.arange(3.0))


@pytest.mark.parametrize("key", ["../x-0123456789abcdef", "/tmp/x-0123456789abcdef", "x", "",
                                 "a/b-0123456789abcdef", "x-0123456789ABCDEF", "x-0123456789abcdef\n"])
def test_keys_cannot_leave_the_folder(folder, key):
    with pytest.raises(ValueError, match="key="):
        cache.save(key, {"v": 1})
    with pytest.raises(ValueError, match="key="):
        cache.load(key)
    assert list(folder.parent.glob("x*")) == []


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "é", "x" * 81, "a b"])
def test_names_are_plain(name):
    with pytest.raises(ValueError, match="name="):
        cache.cache_key(name, {})


def test_any_result_key_works(folder):
    """``np.savez(file, **arrays)`` took ``file`` and ``allow_pickle`` as its own arguments."""
    result = {"file": np.ones(2), "allow_pickle": np.arange(3), "args": np.zeros((2, 2)), "kwds": 5,
              "compress": "yes", "with space": np.ones(1), "ünï": [1.5]}
    key = cache.cache_key("names", {})
    cache.save(key, result)
    back = cache.load(key)
    assert set(back) == set(result)
    for name, value in result.items():
        assert np.array_equal(back[name], value) if isinstance(value, np.ndarray) else back[name] == value


def test_every_dtype_comes_back_without_pickle(folder):
    result = {"f32": np.ones(3, np.float32), "i8": np.arange(4, dtype=np.int8), "b": np.array([True]),
              "empty": np.zeros((0, 3)), "scalar": np.float64(2.5), "c": np.array([1 + 2j])}
    key = cache.cache_key("dtypes", {})
    cache.save(key, result)
    back = cache.load(key)
    for name in ("f32", "i8", "b", "empty", "c"):
        assert back[name].dtype == result[name].dtype and np.array_equal(back[name], result[name])
    assert back["scalar"] == 2.5


# -- keys encode types ------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [
    ({1: "a"}, {"1": "a"}), ({"x": 1}, {"x": "1"}), ({"x": 1}, {"x": 1.0}), ({"x": True}, {"x": 1}),
    ({"x": None}, {"x": "None"}), ({"x": [1, 2]}, {"x": "[1, 2]"}), ({"x": {}}, {"x": []}),
])
def test_keys_tell_types_apart(a, b):
    assert cache.cache_key("x", a) != cache.cache_key("x", b)


def test_numpy_scalars_are_numbers_in_a_key():
    assert cache.cache_key("x", {"n": np.int64(3), "lr": np.float64(0.5), "on": np.bool_(True)}) == \
        cache.cache_key("x", {"n": 3, "lr": 0.5, "on": True})
    assert cache.cache_key("x", {"order": ["b", "a"], "t": (1, 2)}) != cache.cache_key("x", {"order": ["a", "b"]})
    assert cache.cache_key("x", {"a": 1, "b": 2}) == cache.cache_key("x", {"b": 2, "a": 1})


def test_a_bad_configuration_names_the_key():
    with pytest.raises(TypeError, match=r"config\['inner'\]\['fn'\]"):
        cache.cache_key("x", {"inner": {"fn": print}})
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        cache.cache_key("x", {"deep": deep})
    with pytest.raises(TypeError, match="config="):
        cache.cache_key("x", [("a", 1)])


def test_a_result_that_would_not_come_back_is_refused(folder):
    with pytest.raises(TypeError, match=r"result\['per_class'\] has the key 1"):
        cache.cached("x", {}, lambda: {"per_class": {1: 0.5}})
    with pytest.raises(TypeError, match=r"result\['fn'\]"):
        cache.cached("y", {}, lambda: {"fn": print})
    back = cache.cached("z", {}, lambda: {"n": np.int64(3), "pair": (1, 2)})
    assert cache.cached("z", {}, lambda: {})["n"] == 3 and back["n"] == 3


def test_a_disk_that_cannot_be_written_still_returns_the_result(folder, monkeypatch, capsys):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(folder / "file"))
    (folder / "file").write_text("a file where the folder should be")
    got = cache.cached("x", {}, lambda: {"v": 1})
    assert got == {"v": 1} and "could not store" in capsys.readouterr().err


# -- several processes at once ------------------------------------------------------------------------
def _result(token: int) -> dict:
    """Arrays and values that all carry the token of the run that made them: a mixed entry shows."""
    return {"big": np.full(50_000, float(token)), "small": np.array([token], dtype=np.int64),
            "token": token, "tokens": [token] * 3}


def _consistent(got: dict) -> bool:
    token = got["token"]
    return (got["tokens"] == [token] * 3 and got["small"].tolist() == [token]
            and got["big"].shape == (50_000,) and bool(np.all(got["big"] == token)))


def worker(seconds: float, ident: int) -> int:
    """Save, load and ``cached`` one key as fast as possible; exit 1 on any inconsistency."""
    rng = np.random.default_rng(ident)
    key = cache.cache_key("hammer", {"k": 1})
    counts = {"save": 0, "load": 0, "hit": 0, "cached": 0}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        token = int(rng.integers(1, 2**40))
        action = rng.integers(3)
        if action == 0:
            cache.save(key, _result(token))
            counts["save"] += 1
        elif action == 1:
            got = cache.load(key)
            counts["load"] += 1
            if got is not None:
                counts["hit"] += 1
                if not _consistent(got):
                    print(f"torn entry: {got['token']}", file=sys.stderr)
                    return 1
        else:
            got = cache.cached("hammer", {"k": 1}, lambda t=token: _result(t))
            counts["cached"] += 1
            if not _consistent(got):
                print("cached() returned a torn entry", file=sys.stderr)
                return 1
    print(json.dumps(counts))
    return 0


def test_two_processes_hammering_one_key(folder):
    env = dict(os.environ, LECTURE_CACHE_DIR=str(folder))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(cache.__file__).parents[1]), env.get("PYTHONPATH", "")])
    procs = [subprocess.Popen([sys.executable, __file__, "worker", str(HAMMER_SECONDS), str(i)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outcomes = [p.communicate(timeout=HAMMER_SECONDS + 60) for p in procs]
    for p, (_out, err) in zip(procs, outcomes, strict=True):
        assert p.returncode == 0, f"a worker failed:\n{err[-3000:]}"
        assert "Traceback" not in err, err[-3000:]
        assert "damaged" not in err, f"a concurrent write was taken for damage:\n{err[-2000:]}"
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outcomes]
    assert all(c["save"] > 5 and c["hit"] > 5 for c in counts), counts  # hundreds in 1.5 s
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == \
        sorted(f"{cache.cache_key('hammer', {'k': 1})}.{s}" for s in ("json", "npz"))
    assert not list(folder.glob(".*.tmp")), "temporary files were left behind"


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    sys.exit(worker(float(sys.argv[2]), int(sys.argv[3])))


def test_a_key_can_be_shared_by_both_profiles(monkeypatch):
    from lecture_lib import cache

    keys = {}
    for value in ("fast", "full"):
        monkeypatch.setenv("LECTURE_PROFILE", value)
        keys[value] = (cache.cache_key("run", {"a": 1}), cache.cache_key("run", {"a": 1}, profile_bound=False))
    assert keys["fast"][0] != keys["full"][0]
    assert keys["fast"][1] == keys["full"][1] == keys["full"][0]
    with pytest.raises(TypeError, match="profile_bound"):
        cache.cache_key("run", {}, profile_bound=1)


# -- a frozen dataclass through the cache -----------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Measured:
    scores: np.ndarray
    names: tuple
    per_decay: dict          # float keys, nested dicts of arrays
    means: dict
    label: str
    count: int
    missing: object


def _measured(rng):
    return _Measured(rng.standard_normal(3), ("a", "b"), {0.0: {"x": np.arange(2)}, 0.03: {"x": np.ones(2)}},
                     {"a": 0.5, "b": 0.25}, "digits", 3, None)


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b) and all(type(k) is type(j) for k, j in zip(a, b, strict=True))
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


def test_a_dataclass_comes_back_as_it_went_in_and_the_generator_moves_on_alike(folder):
    fresh_rng, hit_rng = np.random.default_rng(3), np.random.default_rng(3)
    calls = []

    def compute(rng):
        calls.append(1)
        return _measured(rng)

    fresh = cache.cached_result("m", {"n": 1}, fresh_rng, _Measured, lambda: compute(fresh_rng))
    hit = cache.cached_result("m", {"n": 1}, hit_rng, _Measured, lambda: compute(hit_rng))
    assert len(calls) == 1, "the second call is read from the disk"
    for field in dataclasses.fields(_Measured):
        _same(getattr(fresh, field.name), getattr(hit, field.name))
    assert fresh_rng.random() == hit_rng.random(), "after a hit the generator is where the computation left it"
    other = cache.cached_result("m", {"n": 1}, np.random.default_rng(4), _Measured, lambda: compute(hit_rng))
    assert len(calls) == 2 and other is not None, "another generator state is another measurement"


def test_a_compute_that_returns_something_else_is_named(folder):
    with pytest.raises(TypeError, match="returned a dict; expected a _Measured"):
        cache.cached_result("m", {}, np.random.default_rng(0), _Measured, lambda: {"a": 1})
    with pytest.raises(TypeError, match="rng=0"):
        cache.cached_result("m", {}, 0, _Measured, lambda: None)
