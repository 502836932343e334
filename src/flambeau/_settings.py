"""Process-wide settings PyTorch scripts set at start-up: thread count and deterministic algorithms.

flambeau's results never depend on either: its own code runs on the calling thread, NumPy's BLAS keeps the thread count
its environment gave it (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``), and every flambeau algorithm is deterministic.
The settings are kept and reported back, so scripts that set and read them run unchanged.

>>> import flambeau as torch
>>> torch.set_num_threads(1); torch.get_num_threads()
1
>>> torch.use_deterministic_algorithms(True); torch.are_deterministic_algorithms_enabled()
True
>>> torch.use_deterministic_algorithms(False)
"""

from __future__ import annotations

import os

__all__ = ["get_num_threads", "set_num_threads", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled"]

_SETTINGS = {"threads": os.cpu_count() or 1, "deterministic": False, "warn_only": False}


def get_num_threads() -> int:
    """The thread count last set with :func:`set_num_threads` (the machine's CPU count until then)."""
    return _SETTINGS["threads"]


def set_num_threads(num: int) -> None:
    """Record the thread count to report; flambeau's own code is single-threaded whatever it is."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _SETTINGS["threads"] = num


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms: flambeau's all are, so this only records the request."""
    _SETTINGS["deterministic"] = bool(mode)
    _SETTINGS["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` was last called with ``True``."""
    return _SETTINGS["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` was last called with ``warn_only=True``."""
    return _SETTINGS["warn_only"]
