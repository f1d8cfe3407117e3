"""The experiments that decide the claims of the notes, one module per notebook (the same stems as
``exercises/``, ``plots/`` and the top-level ``solutions/``).

The contract of an experiment:

- a function ``measure_<what>(..., rng)`` that takes a NumPy ``Generator`` (torch seeds derive from
  it, see :func:`lecture_lib._checks.torch_seed_from`) and returns a frozen dataclass, never a dict
  with tuple keys;
- its thresholds are named constants with a named predicate (``vanishes(result) -> bool``), so that
  a unit test can run the opposite experiment and see the predicate turn;
- each claim in ``claims.yaml`` names the function that measures it (``experiment:
  optimizers.measure_jitter``), and a test checks that the name resolves.
"""
