"""Tensor printing, character for character as PyTorch prints.

The layout rules follow PyTorch's ``torch/_tensor_str.py``: one formatter is
built over every element that will be shown (so all columns share one width),
floats print with ``precision`` digits, integral floats as ``1.``, scientific
notation kicks in for wide or extreme magnitudes, large tensors are summarised
with ``...``, and the ``dtype=``/``requires_grad=``/``grad_fn=`` suffixes wrap
onto a new line when the last line would pass ``linewidth``.

>>> import flambeau as torch
>>> torch.tensor([1.0, 2.5, 1e-5])
tensor([1.0000e+00, 2.5000e+00, 1.0000e-05])
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._dtype import get_default_dtype

__all__ = ["PrintOptions", "PRINT_OPTS", "set_printoptions", "get_printoptions", "printoptions", "tensor_repr", "parameter_repr"]


class PrintOptions:
    """The printing options, with PyTorch's defaults."""

    def __init__(self) -> None:
        self.precision: int = 4
        self.threshold: float = 1000
        self.edgeitems: int = 3
        self.linewidth: int = 80
        self.sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the printing options (as ``torch.set_printoptions``).

    ``profile`` ('default', 'short' or 'full') is applied first, then the other
    given options override it. ``sci_mode`` is always reset: ``None`` lets the
    formatter choose.

    >>> import flambeau as torch
    >>> torch.set_printoptions(precision=2)
    >>> torch.tensor([1.12345])
    tensor([1.12])
    >>> torch.set_printoptions(profile="default")
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems, "linewidth": linewidth}
    for name, value in given.items():
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments for :func:`set_printoptions`.

    >>> get_printoptions()["precision"]
    4
    """
    return dict(vars(PRINT_OPTS))


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the printing options; takes :func:`set_printoptions`'s arguments.

    >>> import flambeau as torch
    >>> with printoptions(precision=1):
    ...     torch.tensor([1.25])
    tensor([1.2])
    """
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------- the formatter


def _longest(values: np.ndarray, fmt: str) -> int:
    """Length of the longest ``format(v, fmt)`` over ``values`` (floats, all nonzero and finite).

    Correct rounding is monotonic, so within one sign the printed length only
    grows towards the smallest or the largest magnitude (the exponent's digit
    count in 'e' format); formatting those four candidates is enough.
    """
    candidates = []
    for part in (values[values > 0], values[values < 0]):
        if part.size:
            candidates += [part.min(), part.max()]
    return max(len(format(float(v), fmt)) for v in candidates)


class _Formatter:
    """Pads every element to one common width (PyTorch's ``_Formatter``)."""

    def __init__(self, data: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        self.precision = PRINT_OPTS.precision
        if not floating:
            self._init_integral(data)
        else:
            self._init_floating(data.astype(np.float64, copy=False).ravel())

    def _init_integral(self, data: np.ndarray) -> None:
        if data.size:
            ends = (data.min().item(), data.max().item())
            self.max_width = max(1, *(len(str(v)) for v in ends))

    def _init_floating(self, flat: np.ndarray) -> None:
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        absvals = np.abs(vals)
        lo, hi = float(absvals.min()), float(absvals.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)
        if self.sci_mode:
            self.max_width = max(1, _longest(vals, f".{self.precision}e"))
        elif self.int_mode:
            self.max_width = max(1, _longest(vals, ".0f") + 1)
        else:
            self.max_width = max(1, _longest(vals, f".{self.precision}f"))

    def width(self) -> int:
        return self.max_width

    def format(self, value: float | int | bool) -> str:
        """One element, right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{self.precision}f}"
        return text.rjust(self.max_width)


# ---------------------------------------------------------------- layout


def _summarized_data(data: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows: ``edgeitems`` from each end of every long axis."""
    e = PRINT_OPTS.edgeitems
    if data.ndim == 0:
        return data
    if data.ndim == 1 and not e:
        return data  # PyTorch's ``t[:0]`` + ``t[-0:]`` keeps the whole vector
    if not e:
        return data[(slice(0, 0),) * data.ndim]
    index = [np.r_[0:e, n - e:n] if n > 2 * e else np.arange(n) for n in data.shape]
    return data[np.ix_(*index)]


def _vector_str(data: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width() + 2)))
    if summarize and not e:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * e:
        items = [fmt.format(v) for v in data[:e].tolist()] + [" ..."] + [fmt.format(v) for v in data[-e:].tolist()]
    else:
        items = [fmt.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(data: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if data.ndim == 0:
        return fmt.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = data.shape[0]
    if summarize and n > 2 * e:
        rows: list[Any] = [*range(e), "...", *range(n - e, n)]
    else:
        rows = list(range(n))
    parts = [r if isinstance(r, str) else _nested_str(data[r], indent + 1, summarize, fmt) for r in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body_str(data: np.ndarray, floating: bool, indent: int) -> str:
    """The bracketed contents of a non-empty tensor (PyTorch's ``_tensor_str``)."""
    summarize = data.size > PRINT_OPTS.threshold
    shown = _summarized_data(data) if summarize else data
    # ``tolist``/``item`` turn float16 and float32 elements into exact Python floats, as PyTorch prints them
    return _nested_str(data, indent, summarize, _Formatter(shown, floating))


def _torch_len(suffix: str) -> int:
    """The suffix's length as PyTorch prints it (``torch.int8`` for ``flambeau.int8``).

    Line breaks are decided on that length so that a repr differs from PyTorch's
    only by the module name, never by where its lines break.
    """
    return len(suffix) - suffix.count("flambeau.") * (len("flambeau.") - len("torch."))


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items and the closing parenthesis, wrapping past ``linewidth``."""
    out = [text]
    last_line_len = len(text) - text.rfind("\n") + 1  # PyTorch's count, off by two on one-line reprs
    for suffix in suffixes:
        n = _torch_len(suffix)
        if last_line_len + n + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            last_line_len = indent + n
        else:
            out.append(", " + suffix)
            last_line_len += n + 2
    out.append(")")
    return "".join(out)


def _dtype_suffixes(data: np.ndarray, dtype: Any) -> list[str]:
    default = get_default_dtype().name
    if data.size == 0:
        suffixes = [] if data.ndim == 1 else [f"size={tuple(data.shape)}"]
        return suffixes + ([] if dtype.name == default else [f"dtype={dtype}"])
    suffixes = [] if PRINT_OPTS.edgeitems else [f"size={tuple(data.shape)}"]
    return suffixes + ([] if dtype.name in (default, "int64", "bool") else [f"dtype={dtype}"])


def _grad_suffixes(t: Any) -> list[str]:
    if t.grad_fn is not None:
        return [f"grad_fn=<{type(t.grad_fn).__name__}>"]
    return ["requires_grad=True"] if t.requires_grad else []


def tensor_repr(t: Any, *, tensor_prefix: str = "tensor(") -> str:
    """PyTorch's ``repr`` of a tensor, reading ``t._data``, ``t.dtype``, ``t.grad_fn`` and ``t.requires_grad``.

    >>> import flambeau as torch
    >>> tensor_repr(torch.tensor([[1, 2], [3, 4]], dtype=torch.int8))
    'tensor([[1, 2],\\n        [3, 4]], dtype=flambeau.int8)'
    """
    data = np.asarray(t._data)
    indent = len(tensor_prefix)
    body = _body_str(data, t.dtype.is_floating_point, indent) if data.size else "[]"
    suffixes = _dtype_suffixes(data, t.dtype) + _grad_suffixes(t) + _tangent_suffixes(t)
    return _add_suffixes(tensor_prefix + body, suffixes, indent)


_IN_TANGENT = [False]  # a tangent is printed without a tangent of its own (one dual level)


def _tangent_suffixes(t: Any) -> list[str]:
    """``tangent=...`` for a tensor carrying a forward-AD tangent while its dual level is open."""
    from .autograd import forward_ad
    if not forward_ad._LEVELS or not t._rg or _IN_TANGENT[0]:
        return []
    tangent = forward_ad.unpack_dual(t).tangent
    if tangent is None:
        return []
    _IN_TANGENT[0] = True
    try:
        return [f"tangent={tangent}"]
    finally:
        _IN_TANGENT[0] = False


def parameter_repr(t: Any) -> str:
    """The repr of an ``nn.Parameter``: ``Parameter containing:`` above the tensor's repr.

    >>> import flambeau as torch
    >>> parameter_repr(torch.nn.Parameter(torch.tensor([1.0])))
    'Parameter containing:\\ntensor([1.], requires_grad=True)'
    """
    return "Parameter containing:\n" + tensor_repr(t)
