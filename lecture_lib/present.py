"""Classroom mode (``make present NB=...``): one notebook served by Voila, code hidden, widgets live.

Voila as it ships sets tornado's ``allow_remote_access=True`` for every server, and, like Jupyter,
skips the origin check of any request that carries the token in its URL. A server meant for one
laptop on a projector needs neither, so this launcher is Voila with two changes:

- the ``Host`` header must name this machine (``localhost`` or a loopback address): a page
  reached under another name (DNS rebinding) gets 403, and loopback needs no exception;
- every cross-origin request, websockets included, is refused even with the token in the URL: a
  page from another site that learned the token cannot drive the kernel.

Everything else is Voila's: ``python -m lecture_lib.present`` takes Voila's arguments.
"""

from __future__ import annotations

import sys

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from traitlets import Type
from voila.app import Voila

LOCAL_HOSTNAMES = ["localhost"]  # loopback IP addresses are always local to jupyter_server


class SameOriginIdentityProvider(PasswordIdentityProvider):
    """Token authentication whose token does not excuse a foreign ``Origin``."""

    def should_check_origin(self, handler) -> bool:
        return True


class Presenter(Voila):
    """Voila serving on loopback only: local ``Host`` names, same-origin requests."""

    identity_provider_class = Type(
        default_value=SameOriginIdentityProvider, klass=IdentityProvider, config=True,
        help="The identity provider class to use (this one checks the origin of every request).")

    def init_settings(self) -> dict:
        settings = super().init_settings()
        settings["allow_remote_access"] = False
        settings["local_hostnames"] = list(LOCAL_HOSTNAMES)
        return settings

    def listen(self):
        # tornado_settings given on the command line are applied after init_settings: keep the
        # two checks whatever they say.
        self.app.settings["allow_remote_access"] = False
        self.app.settings["local_hostnames"] = list(LOCAL_HOSTNAMES)
        super().listen()


def main(argv=None) -> None:
    Presenter.launch_instance(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
