"""Classroom mode's server settings, without starting a server (tests/browser/test_voila.py probes a
running one): only local Host names, and the origin checked even for token-carrying requests."""

from pathlib import Path

import pytest

pytest.importorskip("voila")

from lecture_lib.present import LOCAL_HOSTNAMES, Presenter, SameOriginIdentityProvider  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def test_the_presenter_refuses_remote_hosts_and_foreign_origins():
    app = Presenter()
    app.initialize(["--no-browser", "--Voila.ip=127.0.0.1", "--port=1", "--token=abc",
                    str(REPO / "notebooks" / "00_start_here.ipynb")])
    settings = app.init_settings()
    assert settings["allow_remote_access"] is False and settings["local_hostnames"] == LOCAL_HOSTNAMES
    assert isinstance(app.identity_provider, SameOriginIdentityProvider)
    assert app.identity_provider.should_check_origin(handler=None) is True
    assert app.identity_provider.token == "abc"


def test_make_present_runs_the_presenter():
    recipe = (REPO / "Makefile").read_text().split("\npresent:", 1)[1].split("\n\n", 1)[0]
    assert "-m lecture_lib.present" in recipe and "--Voila.ip=127.0.0.1" in recipe
    assert "allow_remote_access" not in recipe
