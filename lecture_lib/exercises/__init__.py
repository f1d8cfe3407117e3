"""Checkers for the "Your turn" cells.

A notebook's exercise cell defines a function whose stub raises ``NotImplementedError``, then calls
``check("name", function)``. The checker runs it on prepared inputs and answers with a
:class:`Feedback`: *not attempted* (the stub; no failure), *correct*, or *wrong* with a specific
diagnosis: wrong shape, transposed, wrong sign, off by a factor, NaN, complex numbers, an answer
that cannot be read as an array, a named known mistake (a missing term, a typo from the notes...),
the exception it raised, or a run stopped at the time limit.

The time limit (``TIME_LIMIT_S`` per call, ``check(..., time_limit=...)``) stops an infinite loop.
Python code cannot be killed from another thread, so the limit is enforced in the thread that runs
the answer: in the main thread on POSIX systems (a Jupyter kernel runs cells there) by a
``SIGALRM`` timer whose handler raises :class:`TimeLimitExceeded` (a ``BaseException``, which an
``except Exception`` does not catch) inside the answer, re-firing every 50 ms until the answer
returns, so that a bare ``except:`` that swallows one stop meets the next; elsewhere (another
thread, Windows) by a ``sys.settrace`` hook that checks the clock on every line (slower, and it
cannot stop a long call into C, but it needs no signal). An answer that catches every stop inside
its own endless loop can still run on: then the kernel's interrupt button is the way out.

Each topic registers its exercises in a module of this package; reference solutions live in
``solutions/`` at the repository root, and the tests run every checker against them and against
canned wrong answers, each of which must get its own diagnosis.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import pkgutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

NOT_ATTEMPTED, CORRECT, WRONG = "not attempted", "correct", "wrong"
TIME_LIMIT_S = 10.0  # per call of the student's function; teaching sizes run in well under a second


@dataclass
class Feedback:
    exercise: str
    status: str
    diagnosis: str | None = None  # a short tag: "shape", "transposed", "sign", "factor", "nan", ...
    message: str = ""

    def __bool__(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        mark = {CORRECT: "✓", WRONG: "✗", NOT_ATTEMPTED: "…"}[self.status]
        return f"{mark} {self.exercise}: {self.status}" + (f" ({self.diagnosis})" if self.diagnosis else "") + \
            (f"\n  {self.message}" if self.message else "")

    def _repr_markdown_(self) -> str:
        """The feedback as Markdown; every text in it is HTML-escaped (the message may quote the
        student's exception, which is theirs to write, markup included)."""
        colour = {CORRECT: "#009E73", WRONG: "#D55E00", NOT_ATTEMPTED: "#0072B2"}[self.status]
        head = f"<b style='color:{colour}'>{html.escape(self.exercise)}: {self.status}</b>"
        if self.diagnosis:
            head += f" · <code>{html.escape(self.diagnosis)}</code>"
        return head + (f"<br>{html.escape(self.message)}" if self.message else "")


@dataclass
class Case:
    """One input to try and the reference output, plus what known mistakes would return."""

    args: tuple
    expected: object
    mistakes: dict = field(default_factory=dict)  # diagnosis tag -> (message, wrong output)
    label: str = ""


@dataclass
class Exercise:
    name: str
    task: str
    make_cases: Callable[[], list]
    compare: Callable | None = None  # (got, case) -> Feedback-ish tuple or None; default: arrays
    rtol: float = 1e-6
    atol: float = 1e-9


REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is registered twice")
    REGISTRY[exercise.name] = exercise
    return exercise


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def exercises() -> dict[str, Exercise]:
    _load_all()
    return dict(REGISTRY)


def _close(a, b, rtol, atol) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _as_real_array(got) -> tuple[np.ndarray | None, tuple[str, str] | None]:
    """The answer as a float64 array, or a diagnosis saying why it is not one."""
    try:
        array = np.asarray(got)
    except Exception as err:  # noqa: BLE001 - __array__ is the student's (or torch's) code
        hint = (": return a NumPy array (for a torch tensor, tensor.detach().numpy())"
                if type(got).__module__.startswith("torch") else "; return a NumPy array")
        first = str(err).splitlines()[0] if str(err) else ""
        return None, ("type", f"your answer, a {type(got).__name__}, cannot be read as an array "
                              f"({type(err).__name__}: {first}){hint}")
    if array.dtype.kind == "c":
        nonreal = np.argwhere(np.imag(array) != 0)
        where = (f", e.g. {array[tuple(nonreal[0])]} at index {tuple(int(i) for i in nonreal[0])}"
                 if nonreal.size else " (all with a zero imaginary part)")
        return None, ("complex", f"your answer holds complex numbers{where}; expected real numbers: a "
                                 "square root or a power of a negative number?")
    if array.dtype.kind not in "biuf":
        return None, ("type", f"expected an array of numbers, got {type(got).__name__}"
                              + (f" of dtype {array.dtype}" if isinstance(got, np.ndarray) else ""))
    return array.astype(np.float64), None


def diagnose_array(got, expected, *, mistakes=None, rtol=1e-6, atol=1e-9) -> tuple[str | None, str]:
    """Compare an answer with the reference and name the mistake. Returns (diagnosis, message);
    diagnosis None means correct."""
    if got is None:
        return "none", "your function returned None; did you forget `return`?"
    got, problem = _as_real_array(got)
    if problem is not None:
        return problem
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        if got.ndim == 2 and got.shape == expected.T.shape and _close(got, expected.T, rtol, atol):
            return "transposed", (f"shape {got.shape} where {expected.shape} was expected, and the "
                                  "values are the transpose of the answer: swap the order of a product "
                                  "or transpose the result")
        return "shape", f"shape {got.shape}; expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        where = np.argwhere(~np.isfinite(got))[0]
        return "nan", (f"{int(np.sum(~np.isfinite(got)))} NaN or infinite value(s), first at index "
                       f"{tuple(int(i) for i in where)}: look for a division by zero or an overflow")
    if _close(got, expected, rtol, atol):
        return None, "matches the reference"
    for tag, (message, wrong) in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if _close(got, wrong, rtol, atol):
            return tag, message
    if np.any(expected != 0) and _close(got, -expected, rtol, atol):
        return "sign", "every value has the wrong sign: check the direction of a subtraction or a minus"
    mask = np.abs(expected) > atol
    if np.count_nonzero(mask) >= 2:  # one number's ratio to another says nothing about a factor
        ratios = got[mask] / expected[mask]
        r = float(np.median(ratios))
        if np.allclose(ratios, r, rtol=1e-6) and np.isfinite(r) and r not in (0.0,):
            return "factor", (f"off by a constant factor: your values are {r:.6g} x the answer "
                              "(a missing or extra division by N, 2 or a scale?)")
    err = np.abs(got - expected)
    i = tuple(int(k) for k in np.unravel_index(np.argmax(err), err.shape))
    return "values", (f"values differ from the answer (largest difference {err[i]:.3g} at index {i}: "
                      f"got {got[i]:.6g}, expected {expected[i]:.6g})")


def compare_parts(names):
    """A ``compare`` for answers made of named parts (a tuple such as ``(dx, dw, db)`` or Adam's
    ``(x, m, v)``): each part is compared on its own and the message names the wrong one.

    ``Case.expected`` is the tuple of reference parts; ``Case.mistakes`` maps a tag to
    ``(message, {part name: wrong value})``, matched on the parts it names."""
    names = tuple(names)

    def compare(got, case):
        if got is None:
            return "none", f"your function returned None; did you forget `return ({', '.join(names)})`?"
        if not isinstance(got, (tuple, list)) or len(got) != len(names):
            kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) \
                else type(got).__name__
            return "type", f"expected a tuple ({', '.join(names)}), got {kind}"
        if all(diagnose_array(part, value)[0] is None for part, value in zip(got, case.expected, strict=True)):
            return None, "matches the reference"  # a mistake that coincides with the answer here is no mistake
        for tag, (message, wrong) in case.mistakes.items():  # a mistake that spans several parts
            if len(wrong) > 1 and all(
                    diagnose_array(got[names.index(part)], value)[0] is None for part, value in wrong.items()):
                return tag, message
        for i, name in enumerate(names):
            mistakes = {tag: (message, wrong[name]) for tag, (message, wrong) in case.mistakes.items()
                        if set(wrong) == {name}}
            diagnosis, message = diagnose_array(got[i], case.expected[i], mistakes=mistakes)
            if diagnosis is not None:
                return diagnosis, f"{name} is wrong: {message}"
        return None, "matches the reference"
    return compare


class TimeLimitExceeded(BaseException):
    """Raised inside the student's function when it runs past the time limit. A BaseException, so
    that an ``except Exception`` in the answer does not swallow it."""


@contextlib.contextmanager
def limited_time(seconds: float | None):
    """Stop the code run inside the block after ``seconds`` by raising :class:`TimeLimitExceeded`
    in it (see the module's docstring for how); None: no limit."""
    if seconds is None:
        yield
        return
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _traced_deadline(seconds):
            yield


@contextlib.contextmanager
def _alarm(seconds: float):
    armed = [True]

    def on_alarm(signum, frame):
        if armed[0]:
            raise TimeLimitExceeded(seconds)

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        try:
            armed[0] = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_timer[0] > 0:  # someone else's timer was running: give back what is left
                left = max(previous_timer[0] - (time.monotonic() - start), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, left, previous_timer[1])


@contextlib.contextmanager
def _traced_deadline(seconds: float):
    deadline = time.monotonic() + seconds
    previous = sys.gettrace()

    def tracer(frame, event, arg):
        if time.monotonic() > deadline:
            raise TimeLimitExceeded(seconds)
        return tracer

    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


def check(name: str, function: Callable, *, quiet: bool = False,
          time_limit: float | None = TIME_LIMIT_S) -> Feedback:
    """Run the exercise ``name`` on ``function`` and say what is right or wrong. Each call of
    ``function`` may run ``time_limit`` seconds (None: no limit) before it is stopped."""
    from .._checks import check_bool, check_positive

    catalogue = exercises()
    if not isinstance(name, str):
        raise TypeError(f"name={name!r} is not valid; expected the name of an exercise, one of {sorted(catalogue)}")
    if name not in catalogue:
        raise ValueError(f"name={name!r} is not an exercise; expected one of {sorted(catalogue)}")
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    quiet = check_bool(quiet, "quiet")
    if time_limit is not None:
        time_limit = check_positive(time_limit, "time_limit")
    ex = catalogue[name]
    feedback = None
    for i, case in enumerate(ex.make_cases()):
        args = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args)
        label = f" (case {i + 1}{': ' + case.label if case.label else ''})"
        try:
            with limited_time(time_limit):
                got = function(*args)
        except NotImplementedError:
            feedback = Feedback(name, NOT_ATTEMPTED, None,
                                "the stub still raises NotImplementedError: replace it with your code")
            break
        except TimeLimitExceeded:
            feedback = Feedback(name, WRONG, "timeout",
                                f"stopped after {time_limit:g} s without an answer{label}: an infinite loop? "
                                "Check that every loop's condition changes and ends")
            break
        except (Exception, SystemExit) as err:  # noqa: BLE001 - reported to the student, with where it happened
            frames = traceback.extract_tb(err.__traceback__)
            mine = [f for f in frames if f.filename not in (__file__, contextlib.__file__)]
            frame = mine[0] if mine else frames[-1]  # the first frame of the answer
            feedback = Feedback(name, WRONG, "exception",
                                f"raised {type(err).__name__}: {err} (line {frame.lineno}){label}")
            break
        try:
            if ex.compare is not None:
                diagnosis, message = ex.compare(got, case)
            else:
                diagnosis, message = diagnose_array(got, case.expected, mistakes=case.mistakes,
                                                    rtol=ex.rtol, atol=ex.atol)
        except Exception as err:  # noqa: BLE001 - an answer so odd that the comparison itself failed
            diagnosis, message = "type", (f"your answer, a {type(got).__name__}, could not be compared with "
                                          f"the reference ({type(err).__name__}: {err})")
        if diagnosis is not None:
            feedback = Feedback(name, WRONG, diagnosis, message + label)
            break
    if feedback is None:
        feedback = Feedback(name, CORRECT, None, "matches the reference on every test case")
    if not quiet:
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display

            if get_ipython() is not None:
                display(Markdown(feedback._repr_markdown_()))
                return feedback
        except ImportError:
            pass
        print(feedback)
    return feedback
