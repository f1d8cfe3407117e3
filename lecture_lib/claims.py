"""The claims ledger: every claim of the lecture notes, and the verdict our experiments reach.

A notebook decides a claim with one call that asserts on measured numbers::

    decide("init.he-relu", "confirmed",
           evidence=f"layer-10 std {he_std:.2f} (lecun: {lecun_std:.3f})",
           checks={"he std stays within 2x of layer 1": 0.5 < he_std / first_std < 2})

It raises ``ClaimFailed`` when a check is false (the measurement no longer supports the verdict)
or when the verdict differs from the one recorded in ``claims.yaml``, and prints one line:
``✓ init.he-relu confirmed: layer-10 std 0.81 (lecun: 0.026)``.
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
FIELDS = ("id", "section", "claim", "notebook", "see_also", "verdict")
LOG_ENV = "LECTURE_CLAIMS_LOG"


class ClaimFailed(AssertionError):
    """A claim's measurement does not support the verdict, or contradicts the ledger."""


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    claim: str
    notebook: str
    see_also: tuple
    verdict: str | None


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str
    evidence: str

    def __str__(self) -> str:
        return f"✓ {self.claim.id} {self.verdict}: {self.evidence}"

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
        claims[cid] = Claim(cid, entry["section"], entry["claim"], entry["notebook"],
                            tuple(entry["see_also"]), entry["verdict"])
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
    bool). Every check must hold, and ``verdict`` must be the one recorded in the ledger."""
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
    if failed:
        raise ClaimFailed(f"✗ {claim_id} {verdict}: failed check(s) {failed}; evidence: {evidence}")
    if claim.verdict is None:
        raise ClaimFailed(f"✗ {claim_id}: the ledger records no verdict yet; measured {verdict!r} "
                          f"({evidence}); record it in claims.yaml")
    if claim.verdict != verdict:
        raise ClaimFailed(f"✗ {claim_id}: measured {verdict!r} but the ledger records "
                          f"{claim.verdict!r} ({evidence})")
    result = Verdict(claim, verdict, evidence)
    _record(result)
    if not quiet:
        print(result)
    return result


def summary(notebook: str | None = None) -> list[dict]:
    """Rows of the ledger (optionally of one notebook), for a table in a notebook."""
    return [{"id": c.id, "notebook": c.notebook, "verdict": c.verdict or "open", "claim": c.claim}
            for c in ledger().values() if notebook is None or c.notebook == notebook]
