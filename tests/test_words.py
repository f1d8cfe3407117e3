"""The words the notebooks generate from numbers."""

import math

import pytest

from lecture_lib import words


@pytest.mark.parametrize("n, text", [(1, "1 step"), (12, "12 steps"), (None, "not reached"),
                                     (math.inf, "not reached"), (float("nan"), "not reached"), (2.5, "2.5 steps")])
def test_count(n, text):
    assert words.count(n, "step") == text


def test_count_with_its_own_words():
    assert words.count(None, "epoch", none="never") == "never"
    assert words.count(3, "unit", plural="units of 64") == "3 units of 64"


@pytest.mark.parametrize("ratio, text", [(1.0, "stays roughly constant (1.00x)"), (0.37, "falls to 0.37x"),
                                         (3.2, "grows 3.2x"), (0.0, "vanishes"),
                                         (1.2, "stays roughly constant (1.20x)"), (1.3, "grows 1.3x")])
def test_factor(ratio, text):
    assert words.factor(ratio) == text


def test_factor_refuses_a_negative_ratio():
    with pytest.raises(ValueError, match="ratio"):
        words.factor(-1.0)
