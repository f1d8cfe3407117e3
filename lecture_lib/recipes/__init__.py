"""Full training runs with a command line, also run under ``torchrun`` on several processes.

- :mod:`lecture_lib.recipes.cifar10`: CIFAR-10 (or its synthetic stand-in) with the fast ResNet-9
  or any model of :mod:`lecture_lib.models`: ``python -m lecture_lib.recipes.cifar10 --help``;
- :mod:`lecture_lib.recipes.comparisons`: the CIFAR-10 comparisons notebooks 05, 06 and 07 show
  (batch norm, augmentation, degradation), each a few recipe runs, trained by
  ``python -m lecture_lib.recipes.comparisons NAME`` and read back from the cache.

The parts: :mod:`.settings` (hyperparameters, the record of a finished run), :mod:`.trainer` (the
training loop), :mod:`.fast_training` (on-device data and augmentation, schedule, weight
averaging, test-time augmentation), :mod:`.distributed` (the process group torchrun sets up),
:mod:`.checkpoint` (atomic, pickle-free checkpoints).
"""
