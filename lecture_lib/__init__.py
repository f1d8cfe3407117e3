"""lecture_lib: the tested helpers behind the course's notebooks.

In a notebook, the one setup cell is::

    from lecture_lib import setup; setup()
"""

from __future__ import annotations

from .config import by_profile, choose_device, device_report, is_fast, make_rng, profile, seed_torch

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "by_profile",
    "choose_device",
    "device_report",
    "is_fast",
    "make_rng",
    "profile",
    "seed_torch",
    "setup",
]


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _register_figure_formatter(ip) -> None:
    """Show a pyplot-free Figure as a PNG when it is a cell's value or passed to display()."""
    from matplotlib.figure import Figure

    from .style import figure_png

    ip.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: figure_png(fig, dpi=100))


def setup(style: str | None = None, *, quiet: bool = False) -> None:
    """Prepare a notebook: read the profile, apply the figure style, and inside a kernel make
    ipympl pyplot's backend and render plain Figures as PNG. Prints one line (unless quiet).

    ``style`` is ``"default"`` or ``"presentation"`` (fonts of 16 pt and more, for projectors);
    when not given, the environment variable ``LECTURE_STYLE`` decides (``make present`` sets it),
    so a teacher needs no edit to the setup cell."""
    import os

    from .style import apply_style

    if style is None:
        style = os.environ.get("LECTURE_STYLE", "").strip() or "default"
    active = profile()
    apply_style(style)
    if _in_kernel():
        from IPython import get_ipython

        ip = get_ipython()
        ip.run_line_magic("matplotlib", "widget")
        apply_style(style)  # the backend switch may reset some rcParams
        _register_figure_formatter(ip)
    line = f"lecture_lib {__version__} · profile: {active} · style: {style}"
    if not quiet:
        print(line)
