"""claims.expect: a notebook's non-claim check fails hard under the tests and is shown, not
raised, in a student's kernel."""

import numpy as np
import pytest

from lecture_lib import claims


def test_expect_passes_and_fails_strictly(monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    assert claims.expect(True, "one equals one") is True
    assert claims.expect(np.bool_(True), "a NumPy bool is a bool") is True
    with pytest.raises(AssertionError, match="the two forms agree"):
        claims.expect(False, "the two forms agree")


def test_expect_shows_and_goes_on_when_exploring(monkeypatch, capsys):
    monkeypatch.setenv(claims.STRICT_ENV, "0")
    assert claims.expect(False, "the two forms agree") is False
    out = capsys.readouterr().out
    assert "no longer holds: the two forms agree" in out and "goes on" in out


def test_expect_bad_input(monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "0")
    with pytest.raises(TypeError, match="expected a bool"):
        claims.expect(1, "an int is not a check")
    with pytest.raises(ValueError, match="what"):
        claims.expect(True, " ")
