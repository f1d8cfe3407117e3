"""The claims ledger: its format, decide()'s behaviour, and that every claim of an existing notebook
is decided there exactly once, by an executed assert, with the ledger's verdict."""

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from lecture_lib import claims as C
from lecture_lib.course import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
DECIDE = re.compile(r"""\bdecide\(\s*["']([A-Za-z0-9_.\-]+)["']\s*,\s*["']([a-z\-]+)["']""")
KNOWN_NOTEBOOKS = {name for name, _, _ in NOTEBOOKS}


def notebook_decisions(stem):
    nb = nbformat.read(NB_DIR / f"{stem}.ipynb", as_version=4)
    return [m.groups() for cell in nb.cells if cell.cell_type == "code"
            for m in DECIDE.finditer(cell.source)]


def existing_notebooks():
    return sorted(p.stem for p in NB_DIR.glob("*.ipynb"))


# ------------------------------------------------------------------ the ledger itself
def test_ledger_parses_and_names_known_notebooks():
    ledger = C.ledger()
    assert len(ledger) >= 90, "the ledger must list every claim of the notes"
    for claim in ledger.values():
        assert claim.notebook in KNOWN_NOTEBOOKS, f"{claim.id}: unknown notebook {claim.notebook}"
        assert set(claim.see_also) <= KNOWN_NOTEBOOKS, f"{claim.id}: unknown see_also {claim.see_also}"
        assert claim.claim.strip() and claim.section.strip()


def test_every_section_of_the_notes_has_claims():
    sections = " ".join(c.section for c in C.ledger().values()).lower()
    for heading in ("activation functions", "preprocessing", "initialization", "autodifferentiation",
                    "gradient descent", "problems with sgd", "momentum", "adagrad", "rmsprop", "adam",
                    "learning rate decay", "second-order", "batch normalization", "regularization",
                    "cnn architectures", "rnns", "hyperparameter search", "cross validation",
                    "model ensembles"):
        assert heading in sections, f"no claim from the notes' section {heading!r}"


@pytest.mark.parametrize("bad, message", [
    ([{"id": "a"}], "expected exactly"),
    ([dict(id="a", section="s", claim="c", notebook="n", see_also=[], experiment=None, verdict="maybe")],
     "not one of"),
    ([dict(id="a", section="s", claim="c", notebook="n", see_also=[], experiment=None, verdict=None)] * 2,
     "listed twice"),
    ([dict(id="a", section="s", claim="c", notebook="n", see_also="x", experiment=None, verdict=None)],
     "see_also"),
    ([dict(id="a", section="s", claim="c", notebook="n", see_also=[], experiment="measure_x", verdict=None)],
     "module.function"),
])
def test_parse_ledger_rejects_malformed_entries(bad, message):
    with pytest.raises(ValueError, match=message):
        C.parse_ledger(bad)


def test_ledger_file_is_plain_yaml_list():
    raw = yaml.safe_load(C.LEDGER_PATH.read_text())
    assert isinstance(raw, list) and all(set(e) == set(C.FIELDS) for e in raw)


# ------------------------------------------------------------------ decide()
def test_decide_prints_and_records(tmp_path, monkeypatch, capsys):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(C.LOG_ENV, str(log))
    v = C.decide("course.widgets-react", "confirmed", evidence="42% changed", checks={"changed": True})
    out = capsys.readouterr().out
    assert "✓ CONFIRMED course.widgets-react: " + C.get_claim("course.widgets-react").claim in out
    assert "measured: 42% changed" in out
    assert v.verdict == "confirmed"
    assert json.loads(log.read_text())["id"] == "course.widgets-react"


def test_decide_fails_when_a_check_fails():
    with pytest.raises(C.ClaimFailed, match="failed check"):
        C.decide("course.widgets-react", "confirmed", evidence="0% changed",
                 checks={"changed": False, "no error": True})


def test_decide_fails_on_a_verdict_other_than_the_ledgers():
    with pytest.raises(C.ClaimFailed, match="ledger records"):
        C.decide("course.widgets-react", "refuted", evidence="x", checks={"ok": True})


def test_decide_fails_when_the_ledger_has_no_verdict_yet(monkeypatch):
    entry = dict(id="x.open", section="s", claim="c", notebook="00_start_here", see_also=[], experiment=None,
                 verdict=None)
    monkeypatch.setattr(C, "ledger", lambda: C.parse_ledger([entry]))
    with pytest.raises(C.ClaimFailed, match="no verdict yet"):
        C.decide("x.open", "confirmed", evidence="x", checks={"ok": True})


def test_each_verdict_has_its_own_mark():
    assert len(set(C.MARKS.values()) | {C.UNSUPPORTED_MARK}) == len(C.VERDICTS) + 1
    assert set(C.MARKS) == set(C.VERDICTS)


def test_an_exploring_kernel_shows_an_unsupported_verdict_and_goes_on(monkeypatch, capsys, tmp_path):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(C.LOG_ENV, str(log))
    monkeypatch.setenv(C.STRICT_ENV, "0")
    v = C.decide("course.widgets-react", "confirmed", evidence="0% changed",
                 checks={"changed": False, "no error": True})
    out = capsys.readouterr().out
    assert not v.supported and "⚠ NOT SUPPORTED course.widgets-react" in out
    assert "failed check(s) ['changed']" in out and "measured: 0% changed" in out
    assert not log.exists(), "an unsupported verdict is not recorded as decided"
    v = C.decide("course.widgets-react", "refuted", evidence="x", checks={"ok": True})
    assert not v.supported and "ledger records 'confirmed'" in capsys.readouterr().out
    with pytest.raises(TypeError, match="expected a bool"):  # a broken call still raises
        C.decide("course.widgets-react", "confirmed", evidence="x", checks={"ratio": 0.3})


@pytest.mark.parametrize("value, strict", [("1", True), ("0", False), ("", True)])
def test_strictness_comes_from_the_environment_or_the_absence_of_a_kernel(monkeypatch, value, strict):
    monkeypatch.setenv(C.STRICT_ENV, value)
    assert C.is_strict() is strict  # unset: no kernel in pytest, so strict
    monkeypatch.setenv(C.STRICT_ENV, "maybe")
    with pytest.raises(ValueError, match="LECTURE_STRICT"):
        C.is_strict()


def test_the_test_suite_runs_strict():
    assert os.environ.get(C.STRICT_ENV) == "1"


def test_named_experiments_resolve():
    named = [c for c in C.ledger().values() if c.experiment is not None]
    for claim in named:
        assert callable(C.resolve_experiment(claim)), claim.id


@pytest.mark.parametrize("stem", existing_notebooks())
def test_every_claim_of_an_existing_notebook_names_a_measure_function(stem):
    for claim in C.claims_for(stem):
        assert claim.experiment is not None, f"{claim.id} names no experiment"
        function = C.resolve_experiment(claim)
        assert function.__name__.startswith("measure_"), f"{claim.id}: {claim.experiment} is not a measure_<what>"


def test_decide_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="claim_id='init.he-reul'.*init.he-relu"):
        C.decide("init.he-reul", "confirmed", evidence="x", checks=True)
    with pytest.raises(ValueError, match="verdict='true'"):
        C.decide("course.widgets-react", "true", evidence="x", checks=True)
    with pytest.raises(ValueError, match="evidence"):
        C.decide("course.widgets-react", "confirmed", evidence=" ", checks=True)
    with pytest.raises(ValueError, match="checks is empty"):
        C.decide("course.widgets-react", "confirmed", evidence="x", checks={})
    with pytest.raises(TypeError, match="expected a bool"):
        C.decide("course.widgets-react", "confirmed", evidence="x", checks={"ratio": 0.3})


def test_decide_accepts_numpy_bools():
    import numpy as np

    C.decide("course.widgets-react", "confirmed", evidence="x", checks={"np": np.float64(2) > 1},
             quiet=True)


# ------------------------------------------------------------------ notebooks decide their claims
@pytest.mark.parametrize("stem", existing_notebooks())
def test_notebook_decides_each_of_its_claims_once_with_the_ledger_verdict(stem):
    decisions = notebook_decisions(stem)
    ids = [cid for cid, _ in decisions]
    ledger = C.ledger()
    for cid, verdict in decisions:
        assert cid in ledger, f"{stem} decides {cid!r}, which is not in the ledger"
        assert ledger[cid].notebook == stem, f"{cid} belongs to {ledger[cid].notebook}, not {stem}"
        assert ledger[cid].verdict == verdict, f"{stem} decides {cid} {verdict!r}; ledger: {ledger[cid].verdict!r}"
    twice = sorted({cid for cid in ids if ids.count(cid) > 1})
    assert not twice, f"{stem} decides {twice} more than once"
    missing = sorted(c.id for c in C.claims_for(stem) if c.id not in ids)
    assert not missing, f"{stem} does not decide {missing}"
    assert decisions, f"{stem} decides nothing"


@pytest.mark.after_notebooks
def test_every_decide_executed_once_in_the_notebook_run(executed_notebooks, claims_log_path):
    """Reads the log written by decide() in the notebook kernels that nbval ran in this session."""
    if not executed_notebooks:
        pytest.skip("no notebook was executed in this session (run with notebooks/ selected)")
    lines = claims_log_path.read_text().splitlines() if claims_log_path.exists() else []
    # Only the notebook kernels' records: the unit tests above call decide() in this process.
    records = [r for r in map(json.loads, lines) if r["pid"] != os.getpid()]
    # One kernel per notebook run; another test (the site builder) may run a notebook again in
    # a kernel of its own, so counts are per kernel.
    per_kernel = {}
    for r in records:
        assert C.ledger()[r["id"]].verdict == r["verdict"]
        key = (r["pid"], r["id"])
        per_kernel[key] = per_kernel.get(key, 0) + 1
    twice = sorted({cid for (_, cid), n in per_kernel.items() if n > 1})
    assert not twice, f"decided more than once in one notebook run: {twice}"
    decided = {cid for _, cid in per_kernel}
    for stem in executed_notebooks:
        missing = sorted(c.id for c in C.claims_for(stem) if c.id not in decided)
        assert not missing, f"{stem} ran but never executed decide() for {missing}"
