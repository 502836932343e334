"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye`` and the ``*_like`` forms.

Random creation (``rand``, ``randn`` ...) lives in ``flambeau._random``, behind one generator.

>>> import flambeau as torch
>>> torch.tensor([1, 2]).dtype, torch.tensor([1., 2.]).dtype, torch.tensor([True]).dtype
(flambeau.int64, flambeau.float32, flambeau.bool)
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor, check_device

__all__ = ["tensor", "as_tensor", "asarray", "scalar_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "linspace", "logspace", "eye"]


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and data.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return _new_tensor(data, bool(requires_grad), None, 0)


def _infer(data, dtype: _dtype.dtype | None = None) -> np.ndarray:
    """A NumPy array from Python data with PyTorch's dtype inference: Python floats -> the default dtype,
    ints -> int64, bools -> bool; NumPy arrays and scalars keep their dtype; ``dtype`` overrides all."""
    npd = None if dtype is None else dtype.np
    if isinstance(data, Tensor):
        return data._data.astype(npd or data._data.dtype, copy=True)
    if isinstance(data, np.ndarray | np.generic):
        return np.array(data, dtype=npd)
    if isinstance(data, list | tuple) and any(isinstance(x, Tensor) for x in data):
        data = [x.detach()._data.tolist() if isinstance(x, Tensor) else x for x in data]
    try:
        arr = np.array(data, dtype=npd)
    except ValueError as e:
        raise ValueError(f"expected sequence of equal-length lists (ragged nested sequence): {e}") from None
    if arr.dtype.kind in "OUSc":
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if npd is None:
        if arr.dtype.kind == "f":
            return arr.astype(_dtype.DEFAULTS.float.np, copy=False)
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)
    return arr


def tensor(data, *, dtype: _dtype.dtype | None = None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a tensor).

    >>> import flambeau as torch
    >>> torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).", UserWarning,
                      stacklevel=2)
    return _finish(_infer(data, None if dtype is None else _dtype.to_dtype(dtype)), requires_grad)


def as_tensor(data, dtype: _dtype.dtype | None = None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a tensor or NumPy array of the right dtype."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _dtype.to_dtype(dtype).np):
        return _new_tensor(data, False, None, 0)
    return tensor(data, dtype=dtype)


asarray = as_tensor


def scalar_tensor(value, like=None, dtype: _dtype.dtype | None = None) -> Tensor:
    """A 0-dim tensor from a Python number (the default float dtype for floats)."""
    d = dtype or _dtype.scalar_dtype(value)
    if like is not None and isinstance(like, Tensor) and d.category <= like.dtype.category:
        d = like.dtype
    return _new_tensor(np.array(value, d.np), False, None, 0)


def _size(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], list | tuple):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.__index__()
        if not isinstance(s, int | np.integer):
            raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _np_dtype(dtype, default: _dtype.dtype | None = None) -> np.dtype:
    return (_dtype.to_dtype(dtype) if dtype is not None else (default or _dtype.DEFAULTS.float)).np


def _filled(fill, size, dtype, device, requires_grad) -> Tensor:
    check_device(device)
    return _finish(fill(_size(size), _np_dtype(dtype)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """A tensor of zeros. ``torch.zeros(2, 3)`` or ``torch.zeros((2, 3))``."""
    return _filled(np.zeros, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """A tensor of ones."""
    return _filled(np.ones, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None, out=None) -> Tensor:
    """An uninitialised tensor (flambeau fills it with zeros)."""
    return _filled(np.zeros, size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred from the value, as PyTorch does)."""
    check_device(device)
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _finish(np.full(_size((size,) if isinstance(size, int) else tuple(size)), fill_value, d.np), requires_grad)


def _new_zeros(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None, pin_memory: bool = False) -> Tensor:
    """Zeros of the given size, in this tensor's dtype unless ``dtype`` says otherwise.

    >>> import flambeau as torch
    >>> torch.ones(2, dtype=torch.float64).new_zeros(3)
    tensor([0., 0., 0.], dtype=flambeau.float64)
    """
    return _filled(np.zeros, size, self.dtype if dtype is None else dtype, device, requires_grad)


def _new_ones(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None, pin_memory: bool = False) -> Tensor:
    """Ones of the given size, in this tensor's dtype unless ``dtype`` says otherwise."""
    return _filled(np.ones, size, self.dtype if dtype is None else dtype, device, requires_grad)


def _new_empty(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False, layout=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of the given size in this tensor's dtype (flambeau fills it with zeros)."""
    return _filled(np.zeros, size, self.dtype if dtype is None else dtype, device, requires_grad)


def _new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
              pin_memory: bool = False) -> Tensor:
    """``fill_value`` everywhere, in this tensor's dtype unless ``dtype`` says otherwise."""
    return full(size, fill_value, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def _new_tensor_method(self: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
                       pin_memory: bool = False) -> Tensor:
    """A new leaf tensor copying ``data``, in this tensor's dtype unless ``dtype`` says otherwise."""
    return tensor(data, dtype=dtype if dtype is not None else self.dtype, device=device, requires_grad=requires_grad)


for _f, _name in ((_new_zeros, "new_zeros"), (_new_ones, "new_ones"), (_new_empty, "new_empty"), (_new_full, "new_full"),
                  (_new_tensor_method, "new_tensor")):
    _f.__name__ = _f.__qualname__ = _name
    setattr(Tensor, _name, _f)
del _f, _name


def _like(input: Tensor, fill, dtype, requires_grad: bool) -> Tensor:
    npd = _dtype.to_dtype(dtype).np if dtype is not None else input._data.dtype
    return _finish(fill(input._data.shape, npd), requires_grad)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``input``."""
    return _like(input, np.zeros, dtype, requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``input``."""
    return _like(input, np.ones, dtype, requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None) -> Tensor:
    """An uninitialised tensor like ``input`` (flambeau fills it with zeros)."""
    return _like(input, np.zeros, dtype, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
              memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype, unless given) of ``input``."""
    return _like(input, lambda shape, npd: np.full(shape, fill_value, npd), dtype, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless any bound is a float.

    >>> import flambeau as torch
    >>> torch.arange(5), torch.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3, 4]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    check_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_float = any(isinstance(x, float) for x in (start, end, step))
    d = _dtype.to_dtype(dtype) if dtype is not None else (_dtype.DEFAULTS.float if is_float else _dtype.int64)
    n = builtins.max(0, math.ceil((end - start) / step))
    data = (start + np.arange(n, dtype=np.float64) * step) if is_float or d.is_floating_point else np.arange(start, end, step)
    return _finish(data.astype(d.np), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    check_device(device)
    start, end = (x.item() if isinstance(x, Tensor) else x for x in (start, end))
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.DEFAULTS.float
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # PyTorch fills the first half from the start and the second half from the end
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    data = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    return _finish(data.astype(d.np), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    lin = linspace(start, end, steps, dtype=_dtype.float64)
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.DEFAULTS.float
    return _finish(np.power(base, lin._data).astype(d.np), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False, layout=None, out=None) -> Tensor:
    """The ``n × m`` identity matrix."""
    check_device(device)
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), requires_grad)
