"""The ``check()`` machinery against answers that used to fool it or crash it: complex numbers,
tensors that require grad, arrays that cannot be read, infinite loops, exception texts with markup."""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest
import torch

from lecture_lib.exercises import (
    CORRECT,
    REGISTRY,
    WRONG,
    Case,
    Exercise,
    check,
    diagnose_array,
    exercises,
    limited_time,
)


def reference(X):
    return (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-2)


def test_the_reference_passes():
    assert check("standardize", reference, quiet=True).status == CORRECT


@pytest.mark.parametrize("imag", [0.0, 1e-3])
def test_a_complex_answer_is_wrong_and_named(imag):
    feedback = check("standardize", lambda X: reference(X) + 1j * imag, quiet=True)
    assert feedback.status == WRONG and feedback.diagnosis == "complex", str(feedback)
    assert "complex" in feedback.message


def test_a_tensor_that_requires_grad_gets_a_diagnosis():
    feedback = check("standardize", lambda X: torch.tensor(reference(X), requires_grad=True), quiet=True)
    assert feedback.status == WRONG and feedback.diagnosis == "type", str(feedback)
    assert "detach()" in feedback.message and "Tensor" in feedback.message


def test_a_plain_tensor_is_read_as_an_array():
    assert check("standardize", lambda X: torch.tensor(reference(X)), quiet=True).status == CORRECT


class Unreadable:
    def __array__(self, dtype=None, copy=None):
        raise ZeroDivisionError("no array here")


@pytest.mark.parametrize("answer, tag", [
    (Unreadable(), "type"), (np.array(["a", "b"]), "type"), ({"a": 1}, "type"),
    (np.array([1 + 2j, 3]), "complex"),
])
def test_odd_answers_get_a_diagnosis(answer, tag):
    assert diagnose_array(answer, np.ones(2))[0] == tag
    feedback = check("standardize", lambda X: answer, quiet=True)
    assert feedback.status == WRONG and feedback.diagnosis == tag, str(feedback)


def test_a_comparison_that_fails_on_an_odd_answer_is_a_diagnosis(monkeypatch):
    def compare(got, case):
        return (None, "") if float(got) == case.expected else ("values", "no")

    exercises()  # registered for this test only
    monkeypatch.setitem(REGISTRY, "_odd_compare",
                        Exercise("_odd_compare", "test only", lambda: [Case((1.0,), 1.0)], compare=compare))
    feedback = check("_odd_compare", lambda x: Unreadable(), quiet=True)
    assert feedback.status == WRONG and feedback.diagnosis == "type", str(feedback)


def spin(X):
    while True:
        pass


def spin_past_a_bare_except(X):
    try:
        while True:
            pass
    except BaseException:  # noqa: BLE001 - a student's catch-all swallows the first stop
        pass
    while True:
        time.sleep(0.001)


@pytest.mark.parametrize("answer", [spin, spin_past_a_bare_except])
def test_an_infinite_loop_is_stopped_and_said(answer):
    start = time.monotonic()
    feedback = check("standardize", answer, quiet=True, time_limit=0.3)
    assert time.monotonic() - start < 5
    assert feedback.status == WRONG and feedback.diagnosis == "timeout", str(feedback)
    assert "0.3 s" in feedback.message and "infinite loop" in feedback.message


def test_the_time_limit_also_works_outside_the_main_thread():
    """No SIGALRM there: the trace-based fallback stops the loop."""
    out = {}
    thread = threading.Thread(target=lambda: out.update(f=check("standardize", spin, quiet=True, time_limit=0.3)))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and out["f"].diagnosis == "timeout"


def test_a_timer_already_running_is_given_back():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        assert check("standardize", reference, quiet=True).status == CORRECT
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < left <= 30 and signal.getsignal(signal.SIGALRM) is not None and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_limited_time_leaves_nothing_armed():
    with limited_time(0.2):
        pass
    time.sleep(0.3)  # a stray alarm would raise here
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_exception_text_is_escaped_in_the_markdown():
    def answer(X):
        raise ValueError("<img src=x onerror=alert(1)> & <script>alert(2)</script>")

    feedback = check("standardize", answer, quiet=True)
    assert feedback.diagnosis == "exception"
    markdown = feedback._repr_markdown_()
    assert "<img" not in markdown and "<script" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;" in markdown
    assert f"line {answer.__code__.co_firstlineno + 1}" in feedback.message


def test_exit_in_an_answer_is_an_exception_not_the_end_of_the_kernel():
    def answer(X):
        raise SystemExit(3)

    feedback = check("standardize", answer, quiet=True)
    assert feedback.diagnosis == "exception" and "SystemExit" in feedback.message


@pytest.mark.parametrize("kwargs, kind, message", [
    ({"time_limit": 0}, ValueError, "time_limit=0"), ({"time_limit": True}, TypeError, "time_limit=True"),
    ({"quiet": "yes"}, TypeError, "quiet='yes'"), ({"name": 3}, TypeError, "name=3"),
])
def test_bad_arguments_are_named(kwargs, kind, message):
    args = {"name": "standardize", "function": reference, "quiet": True, **kwargs}
    with pytest.raises(kind, match=message):
        check(**args)
