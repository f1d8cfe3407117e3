"""Figures, one module per notebook topic (the same stems as ``experiments/``).

A figure function is ``plot_<what>(result, ax=None) -> Figure``: it takes the frozen result of a
``measure_<what>`` experiment and draws it (into ``ax`` when given, else into a new pyplot-free
Figure from :func:`lecture_lib.style.new_figure`), so that a notebook's figure cell is one or two
lines. Axis limits come from the data and the controls; titles say what to see. The notes' own
pictures are registered here too, with :func:`lecture_lib.figures.figure`.
"""
