"""The claims ledger: every claim of the lecture notes, and the verdict our experiments reach.

A notebook decides a claim with one call that asserts on measured numbers::

    decide("init.he-relu", "confirmed",
           evidence=f"layer-10 std {he_std:.2f} (lecun: {lecun_std:.3f})",
           checks={"he std stays within 2x of layer 1": 0.5 < he_std / first_std < 2})

and prints the verdict with its mark, the claim in words and the measured evidence::

    ✓ CONFIRMED init.he-relu: He's init keeps the activations' scale through ReLU layers ...
      measured: layer-10 std 0.81 (lecun: 0.026)

When a check is false (the measurement no longer supports the verdict) or the verdict differs from
the one recorded in ``claims.yaml``, what happens depends on who runs the notebook:

- **strict** (the test suite, ``make site``, plain Python scripts; ``LECTURE_STRICT=1``): it
  raises ``ClaimFailed``, so a notebook that stops supporting its verdicts fails;
- **exploring** (a student's or a teacher's kernel, Voila; ``LECTURE_STRICT=0``): it shows what no
  longer holds, which check failed and with which numbers, and the notebook runs on, so that a
  student can change any number and see the consequence.

Each claim names the function that measures it (``experiment: optimizers.measure_jitter``, a
function of ``lecture_lib.experiments``).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

LEDGER_PATH = Path(__file__).with_name("claims.yaml")
VERDICTS = ("confirmed", "refuted", "nuanced", "machine-dependent", "untestable")
FIELDS = ("id", "section", "claim", "notebook", "see_also", "experiment", "verdict")
LOG_ENV = "LECTURE_CLAIMS_LOG"
STRICT_ENV = "LECTURE_STRICT"
MARKS = {"confirmed": "✓", "refuted": "✗", "nuanced": "≈", "machine-dependent": "⏱", "untestable": "∅"}
UNSUPPORTED_MARK = "⚠"


class ClaimFailed(AssertionError):
    """A claim's measurement does not support the verdict, or contradicts the ledger."""


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    claim: str
    notebook: str
    see_also: tuple
    experiment: str | None
    verdict: str | None


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str
    evidence: str
    supported: bool = True
    problem: str = ""

    def __str__(self) -> str:
        if not self.supported:
            return (f"{UNSUPPORTED_MARK} NOT SUPPORTED {self.claim.id} {self.verdict}: {self.claim.claim}\n"
                    f"  {self.problem}\n  measured: {self.evidence}")
        return (f"{MARKS[self.verdict]} {self.verdict.upper()} {self.claim.id}: {self.claim.claim}\n"
                f"  measured: {self.evidence}")

    def _ipython_display_(self) -> None:
        """decide() has printed the verdict already; a trailing call shows it once, not twice."""


def parse_ledger(entries) -> dict[str, Claim]:
    """Validate the ledger's entries and index them by id."""
    if not isinstance(entries, list):
        raise ValueError("the claims ledger must be a YAML list of entries")
    claims: dict[str, Claim] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"ledger entry {i} has fields {got}; expected exactly {list(FIELDS)}")
        cid = entry["id"]
        if cid in claims:
            raise ValueError(f"ledger entry {i}: id {cid!r} is listed twice")
        if entry["verdict"] is not None and entry["verdict"] not in VERDICTS:
            raise ValueError(f"ledger entry {cid!r}: verdict {entry['verdict']!r} is not one of {VERDICTS}")
        if not isinstance(entry["see_also"], list):
            raise ValueError(f"ledger entry {cid!r}: see_also must be a list")
        experiment = entry["experiment"]
        if experiment is not None and (not isinstance(experiment, str) or experiment.count(".") != 1):
            raise ValueError(f"ledger entry {cid!r}: experiment {experiment!r} must be 'module.function', "
                             "a function of lecture_lib.experiments")
        claims[cid] = Claim(cid, entry["section"], entry["claim"], entry["notebook"],
                            tuple(entry["see_also"]), experiment, entry["verdict"])
    return claims


@lru_cache(maxsize=1)
def ledger() -> dict[str, Claim]:
    """Every claim, by id, from ``claims.yaml``."""
    return parse_ledger(yaml.safe_load(LEDGER_PATH.read_text(encoding="utf-8")))


def get_claim(claim_id: str) -> Claim:
    claims = ledger()
    if claim_id not in claims:
        near = difflib.get_close_matches(str(claim_id), list(claims), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ValueError(f"claim_id={claim_id!r} is not in the ledger{hint}")
    return claims[claim_id]


def claims_for(notebook: str) -> list[Claim]:
    """The claims a notebook must decide (those whose primary notebook it is)."""
    return [c for c in ledger().values() if c.notebook == notebook]


def resolve_experiment(claim: Claim):
    """The function named by a claim's ``experiment`` field (``module.function`` in
    ``lecture_lib.experiments``); raises ValueError when it does not exist."""
    import importlib

    if claim.experiment is None:
        raise ValueError(f"claim {claim.id!r} names no experiment")
    module_name, function_name = claim.experiment.split(".")
    try:
        module = importlib.import_module(f"lecture_lib.experiments.{module_name}")
    except ModuleNotFoundError as err:
        raise ValueError(f"claim {claim.id!r}: experiment module {module_name!r} does not exist ({err})") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(f"claim {claim.id!r}: lecture_lib.experiments.{module_name} has no function "
                         f"{function_name!r}")
    return function


def is_strict() -> bool:
    """True when a verdict that the measurement no longer supports must raise: ``LECTURE_STRICT=1``
    (set by the test suite and the site builder), or outside a Jupyter kernel when unset."""
    value = os.environ.get(STRICT_ENV, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    if value:
        raise ValueError(f"{STRICT_ENV}={value!r} is not valid; expected 1 or 0")
    try:
        from IPython import get_ipython
    except ImportError:
        return True
    ip = get_ipython()
    return ip is None or getattr(ip, "kernel", None) is None


def _record(verdict: Verdict) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": verdict.claim.id, "verdict": verdict.verdict,
                                 "pid": os.getpid(), "evidence": verdict.evidence}) + "\n")


def decide(claim_id: str, verdict: str, *, evidence: str, checks: Mapping[str, object] | bool,
           quiet: bool = False) -> Verdict:
    """Assert that the measurements support ``verdict`` for ``claim_id`` and record it.

    ``checks`` maps a short description of each condition to its measured truth value (or is one
    bool). Every check must hold, and ``verdict`` must be the one recorded in the ledger; when one
    does not, a strict run raises ``ClaimFailed`` and an exploring kernel shows what changed (see the
    module's docstring). Mistakes in the call itself (an unknown id, a check that is not a bool)
    always raise."""
    claim = get_claim(claim_id)
    if verdict not in VERDICTS:
        raise ValueError(f"verdict={verdict!r} is not a verdict; expected one of {VERDICTS}")
    if not isinstance(evidence, str) or not evidence.strip():
        raise ValueError("evidence must be a non-empty string with the measured numbers")
    if isinstance(checks, Mapping):
        if not checks:
            raise ValueError("checks is empty: a verdict needs at least one measured condition")
        items = list(checks.items())
    else:
        items = [("measurement supports the verdict", checks)]
    failed = []
    for name, value in items:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"check {name!r} is {type(value).__name__}, expected a bool")
        if not bool(value):
            failed.append(name)
    problem = ""
    if failed:
        problem = f"the measurement no longer supports {verdict!r}: failed check(s) {failed}"
    elif claim.verdict is None:
        problem = f"the ledger records no verdict yet; measured {verdict!r}: record it in claims.yaml"
    elif claim.verdict != verdict:
        problem = f"measured {verdict!r} but the ledger records {claim.verdict!r}"
    if problem:
        if is_strict():
            raise ClaimFailed(f"{UNSUPPORTED_MARK} {claim_id} {verdict}: {problem}; evidence: {evidence}")
        result = Verdict(claim, verdict, evidence, supported=False, problem=problem)
        print(result, "\n  (the notebook goes on; the course's own run records the verdict above with "
              "its numbers: restore them to see it)")
        return result
    result = Verdict(claim, verdict, evidence)
    _record(result)
    if not quiet:
        print(result)
    return result


def expect(condition, what: str) -> bool:
    """A check of a notebook cell that is not a claim of the notes (the code shown equals the
    library's, a measurement is what the prose next to it says). Strict (tests, ``make site``): an
    ``AssertionError`` naming ``what`` when ``condition`` is false. Exploring (a student's kernel):
    the failure is shown and the notebook goes on, like :func:`decide`. Returns the condition."""
    if not isinstance(condition, (bool, np.bool_)):
        raise TypeError(f"condition is {type(condition).__name__}, expected a bool (what: {what!r})")
    if not isinstance(what, str) or not what.strip():
        raise ValueError("what must say in words what is checked")
    if bool(condition):
        return True
    if is_strict():
        raise AssertionError(f"{UNSUPPORTED_MARK} no longer holds: {what}")
    print(f"{UNSUPPORTED_MARK} no longer holds: {what} (the notebook goes on; the course's own numbers "
          "make it hold)")
    return False


def summary(notebook: str | None = None) -> list[dict]:
    """Rows of the ledger (optionally of one notebook), for a table in a notebook."""
    return [{"id": c.id, "notebook": c.notebook, "verdict": c.verdict or "open", "claim": c.claim,
             "mark": MARKS.get(c.verdict, "")}
            for c in ledger().values() if notebook is None or c.notebook == notebook]
