"""Grad mode: whether new operations are recorded into the graph.

The state is thread-local, as in PyTorch: a new thread starts with grad mode on.
Every change goes through :func:`set_mode` (or its ``_switch``), which keep a global count of the threads that have it
off: while there are none, the op hot path knows grad mode is on without reading the thread-local flag
(``not GRAD_OFF or STATE.enabled``).

>>> import flambeau as torch
>>> x = torch.ones(2, requires_grad=True)
>>> with torch.no_grad():
...     print((x * 2).requires_grad)
False
"""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled"]


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.inference = False
        self.saved_hooks = ()  # (pack, unpack) pairs of active ``autograd.graph.saved_tensors_hooks``, innermost last
        self.anomaly = False  # ``autograd.detect_anomaly``: nodes remember the forward stack; NaN gradients raise
        self.anomaly_nan = True
        self.dual = False  # a forward-AD dual level is open: outputs computed only from dual tensors are marked as such
        self.extras = False  # any of the three above is on: ops take their (slower) extra step when recording


#: How many threads have ``STATE.extras`` on. The op hot path reads this plain global first and the thread-local flag only
#: when it is non-zero (a thread that ends with extras on leaves it too high: slower, never wrong).
EXTRAS_ANYWHERE = [0]


def sync_extras() -> None:
    """Refresh ``STATE.extras`` after changing ``saved_hooks``, ``anomaly`` or ``dual`` (the op hot path reads only this flag)."""
    on = bool(STATE.saved_hooks or STATE.anomaly or STATE.dual)
    if on != STATE.extras:
        EXTRAS_ANYWHERE[0] += 1 if on else -1
    STATE.extras = on


STATE = _State()

#: One entry per thread whose grad mode is off (appending and popping a list are atomic: no lock). A thread that ends
#: with grad mode off leaves its entry behind: the hot path then reads the thread-local flag, slower, never wrong.
GRAD_OFF: list = []


def set_mode(on: bool) -> None:
    """Set this thread's grad mode. Every change goes through here or ``_switch`` (see ``GRAD_OFF``)."""
    on = bool(on)
    if STATE.enabled is not on:
        _switch(on)


def _switch(on: bool) -> None:
    """Turn this thread's grad mode to ``on`` (a bool), which it is not now."""
    if on:
        GRAD_OFF.pop()
    else:
        GRAD_OFF.append(None)
    STATE.enabled = on


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd in this thread."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` block is active in this thread."""
    return STATE.inference


class _GradModeContext:
    """Base of the grad-mode context managers; each is also a decorator."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise TypeError(f"{type(self).__name__} cannot decorate a class")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                with self.clone():
                    value = next(gen)
                while True:
                    try:
                        with self.clone():
                            sent = yield value
                            value = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self) -> _GradModeContext:
        return type(self)()

    def __enter__(self) -> None:  # the mode flags are bools: `is not` tells them apart
        prev = self._prev = not GRAD_OFF or STATE.enabled  # no thread-local read while no thread has grad mode off
        if prev is not self._mode:
            _switch(self._mode)

    def __exit__(self, exc_type, exc, tb) -> None:
        if STATE.enabled is not self._prev:
            _switch(self._prev)


class no_grad(_GradModeContext):
    """Context manager and decorator that turns recording off.

    >>> import flambeau as torch
    >>> w = torch.tensor(1.0, requires_grad=True)
    >>> with torch.no_grad():
    ...     w -= 0.1          # allowed: an update outside the graph
    >>> w
    tensor(0.9000, requires_grad=True)
    """

    _mode = False

    def __enter__(self) -> None:  # the base's, with its _switch(False) written out (a call less): loops enter it every step
        self._prev = prev = not GRAD_OFF or STATE.enabled
        if prev:
            GRAD_OFF.append(None)
            STATE.enabled = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns recording back on (e.g. inside ``no_grad``)."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; usable as a function, a context manager or a decorator.

    >>> import flambeau as torch
    >>> _ = torch.set_grad_enabled(False)
    >>> torch.is_grad_enabled()
    False
    >>> _ = torch.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        self._prev = STATE.enabled
        self._mode = bool(mode)
        set_mode(self._mode)

    def __enter__(self) -> None:
        pass

    def __call__(self, func):
        set_mode(self._prev)  # used as a decorator: the mode applies only inside func
        return super().__call__(func)

    def clone(self) -> set_grad_enabled:
        return _Toggle(self._mode)


class _Toggle(_GradModeContext):
    """Grad mode set to ``mode`` inside the block (the engine and custom Functions use it)."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (flambeau has no separate inference tensors); ``inference_mode(False)`` is a no-op."""

    def __init__(self, mode: bool = True) -> None:
        self._on = bool(mode)

    def clone(self) -> inference_mode:
        return inference_mode(self._on)

    def __enter__(self) -> None:
        self._prev = STATE.enabled
        self._prev_inf = STATE.inference
        if self._on:
            set_mode(False)
            STATE.inference = True

    def __exit__(self, *exc) -> None:
        set_mode(self._prev)
        STATE.inference = self._prev_inf
