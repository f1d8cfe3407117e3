"""Every checker against its reference solution (must pass) and against each canned wrong answer
(each must get its own diagnosis); the stub is "not attempted", never a failure."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lecture_lib.exercises import CORRECT, NOT_ATTEMPTED, WRONG, check, diagnose_array, exercises

SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "solutions"


def load_solution_modules():
    modules = []
    for path in sorted(SOLUTIONS_DIR.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"solutions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


MODULES = load_solution_modules()
SOLUTIONS = {name: fn for m in MODULES for name, fn in m.SOLUTIONS.items()}
MISTAKES = [(name, tag, fn) for m in MODULES for name, by_tag in getattr(m, "MISTAKES", {}).items()
            for tag, fn in by_tag.items()]


def test_every_exercise_has_a_solution_and_canned_mistakes():
    registered = set(exercises())
    assert registered, "no exercises registered"
    assert registered == set(SOLUTIONS), f"exercises without solution: {registered - set(SOLUTIONS)}; " \
                                         f"solutions without exercise: {set(SOLUTIONS) - registered}"
    with_mistakes = {name for name, _, _ in MISTAKES}
    assert registered <= with_mistakes, f"exercises without canned mistakes: {registered - with_mistakes}"


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_reference_solution_is_correct(name):
    feedback = check(name, SOLUTIONS[name], quiet=True)
    assert feedback.status == CORRECT, str(feedback)


@pytest.mark.parametrize("name, tag, fn", MISTAKES, ids=[f"{n}-{t}" for n, t, _ in MISTAKES])
def test_canned_mistake_gets_its_diagnosis(name, tag, fn):
    feedback = check(name, fn, quiet=True)
    assert feedback.status == WRONG and feedback.diagnosis == tag, str(feedback)
    assert feedback.message


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_stub_is_not_attempted(name):
    def stub(*args, **kwargs):
        raise NotImplementedError

    feedback = check(name, stub, quiet=True)
    assert feedback.status == NOT_ATTEMPTED and not feedback


def test_check_bad_input():
    with pytest.raises(ValueError, match="name='nope' is not an exercise"):
        check("nope", lambda x: x)
    with pytest.raises(TypeError, match="callable"):
        check("standardize", 3)


@pytest.mark.parametrize("got, expected, tag", [
    (np.ones((2, 3)), np.ones(4), "shape"),
    (np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(3, 2).T, "transposed"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "nan"),
    (-np.arange(1.0, 4.0), np.arange(1.0, 4.0), "sign"),
    (np.arange(1.0, 4.0) / 8, np.arange(1.0, 4.0), "factor"),
    (np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 3.0]), "values"),
    (None, np.ones(2), "none"),
    (np.arange(1.0, 4.0), np.arange(1.0, 4.0), None),
])
def test_generic_diagnoses(got, expected, tag):
    assert diagnose_array(got, expected)[0] == tag
