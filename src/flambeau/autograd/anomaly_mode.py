"""Anomaly mode: find the forward operation behind a failing or NaN-producing backward step.

While it is on, every recorded node remembers the stack of the forward call that created it (this
costs nothing when it is off: one flag read when a node is made). During backward, a node whose
gradient contains NaN raises ``RuntimeError("Function 'XBackward0' returned nan values in its 0th output.")``,
and any error in a backward step first warns with that node's forward traceback.

>>> import flambeau as torch
>>> x = torch.tensor([0.0, 1.0], requires_grad=True)
>>> with torch.autograd.detect_anomaly():                                    # doctest: +SKIP
...     (x.sqrt() * 0).sum().backward()
Traceback (most recent call last):
RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .grad_mode import STATE, _GradModeContext, sync_extras

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return STATE.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward results for NaN."""
    return STATE.anomaly_nan


class detect_anomaly(_GradModeContext):
    """Context manager and decorator that turns anomaly detection on (``check_nan``: also raise on NaN gradients).

    >>> import flambeau as torch
    >>> with torch.autograd.detect_anomaly():            # doctest: +SKIP
    ...     torch.is_anomaly_enabled()
    True
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled for "
                      "debugging.", UserWarning, stacklevel=2)

    def clone(self) -> detect_anomaly:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_anomaly(self.check_nan)

    def __enter__(self) -> None:
        self._prev = (STATE.anomaly, STATE.anomaly_nan)
        STATE.anomaly, STATE.anomaly_nan = True, self.check_nan
        sync_extras()

    def __exit__(self, *exc) -> None:
        STATE.anomaly, STATE.anomaly_nan = self._prev
        sync_extras()


class set_detect_anomaly(_GradModeContext):
    """Turn anomaly detection on or off: as a call (stays set) or as a context manager (restored on exit)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (STATE.anomaly, STATE.anomaly_nan)
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        STATE.anomaly, STATE.anomaly_nan = self.mode, self.check_nan
        sync_extras()

    def clone(self) -> set_detect_anomaly:
        return set_detect_anomaly(self.mode, self.check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        STATE.anomaly, STATE.anomaly_nan = self._prev
        sync_extras()


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def remember_stack(node) -> None:
    """Keep the forward stack on ``node`` (called when a node is made while anomaly mode is on), up to the user's call."""
    import traceback  # only in anomaly mode: kept off the import of flambeau
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith(_PKG):
        frames.pop()
    node._trace = traceback.format_list(frames)


def _warn_forward_trace(node) -> None:
    trace = getattr(node, "_trace", None)
    if trace is None:
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{''.join(trace)}",
                  UserWarning, stacklevel=3)


def run_checked(node, run, buf: list, graph: bool) -> list:
    """Run a node in anomaly mode: forward traceback on any error, and a RuntimeError on NaN results."""
    try:
        out = run(node, buf, graph, True)
    except Exception:
        _warn_forward_trace(node)
        raise
    if STATE.anomaly_nan:
        for i, g in enumerate(out):
            if g is not None and np.isnan(g._data if hasattr(g, "_data") else g).any():
                _warn_forward_trace(node)
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    return out
