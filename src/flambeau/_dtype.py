"""dtypes under PyTorch's names, and PyTorch's type-promotion rules.

A :class:`dtype` wraps a NumPy dtype. Promotion follows PyTorch, not NumPy:

* categories rank bool < integer < floating; a higher category wins outright
  (``int64`` tensor + ``float16`` tensor -> ``float16``);
* dimensioned tensors outrank zero-dim tensors, which outrank Python scalars: a
  lower-priority operand only changes the result when its category is higher
  (``float16`` tensor + ``float64`` 0-dim tensor -> ``float16``;
  ``int64`` tensor + ``2.5`` -> the default float dtype).

>>> import flambeau as torch
>>> torch.promote_types(torch.int64, torch.float16)
flambeau.float16
"""

from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "half", "float", "double",
    "int8", "int16", "int32", "int64", "short", "int", "long", "uint8", "bool",
    "get_default_dtype", "set_default_dtype", "promote_types", "can_cast", "finfo", "iinfo",
]

BOOL, INT, FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, printed as ``flambeau.float32``."""

    __slots__ = ("name", "np", "category", "is_floating_point", "is_signed", "itemsize", "_tensor_type")

    def __init__(self, name: str, np_dtype: type, category: int, tensor_type: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.is_floating_point = category == FLOAT
        self.is_signed = category == FLOAT or (category == INT and self.np.kind == "i")
        self.itemsize = self.np.itemsize
        self._tensor_type = tensor_type

    is_complex = False

    def to_real(self) -> dtype:
        return self

    def __repr__(self) -> str:
        return "flambeau." + self.name

    def __reduce__(self) -> str:
        return self.name


float16 = half = dtype("float16", np.float16, FLOAT, "HalfTensor")
float32 = dtype("float32", np.float32, FLOAT, "FloatTensor")
float64 = double = dtype("float64", np.float64, FLOAT, "DoubleTensor")
int8 = dtype("int8", np.int8, INT, "CharTensor")
int16 = short = dtype("int16", np.int16, INT, "ShortTensor")
int32 = dtype("int32", np.int32, INT, "IntTensor")
int64 = long = dtype("int64", np.int64, INT, "LongTensor")
uint8 = dtype("uint8", np.uint8, INT, "ByteTensor")
bool_ = dtype("bool", np.bool_, BOOL, "BoolTensor")
globals()["bool"] = bool_
globals()["float"] = float32
globals()["int"] = int32

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
#: NumPy dtype -> flambeau dtype (the hot path reads this for ``Tensor.dtype``).
FROM_NP: dict = {d.np: d for d in ALL}
for _d in ALL:
    FROM_NP[_d.np.type] = _d


class _Defaults:
    __slots__ = ("float",)


DEFAULTS = _Defaults()
DEFAULTS.float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (``float32`` unless changed)."""
    return DEFAULTS.float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; only ``float32`` and ``float64`` are allowed (as in PyTorch)."""
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    DEFAULTS.float = d


def from_np(npd) -> dtype:
    try:
        return FROM_NP[npd]
    except KeyError:
        return FROM_NP[np.dtype(npd)] if np.dtype(npd) in FROM_NP else _unsupported(npd)


def _unsupported(npd):
    raise TypeError(f"can't convert np.ndarray of type {np.dtype(npd)}. The only supported types are: "
                    "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")


def to_dtype(d) -> dtype:
    """Accept a flambeau dtype, a NumPy dtype or a Python type and return a flambeau dtype."""
    if type(d) is dtype:
        return d
    if d is builtins_float:
        return float64
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    return from_np(np.dtype(d))


builtins_float, builtins_int, builtins_bool = builtins.float, builtins.int, builtins.bool


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to, by PyTorch's rules."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return FROM_NP[np.promote_types(a.np, b.np)]


def scalar_dtype(x) -> dtype:
    """The dtype PyTorch gives a tensor made from the Python scalar ``x``."""
    t = type(x)
    if t is builtins_bool or t is np.bool_:
        return bool_
    if t is builtins_int or isinstance(x, np.integer):
        return int64
    if t is builtins_float or isinstance(x, np.floating):
        return DEFAULTS.float
    if isinstance(x, complex):
        raise NotImplementedError("complex numbers are not supported by flambeau")
    raise TypeError(f"unsupported scalar type {t.__name__}")


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    if higher is None:
        return lower
    if lower is None or higher.category == FLOAT:
        return higher
    if higher.category == BOOL or lower.category == FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> dtype:
    """PyTorch's result dtype for an op on tensors and Python scalars (``torch.result_type``)."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "_data", None)
        if d is None:
            sd = scalar_dtype(x)
            wrapped = sd if wrapped is None else promote_types(wrapped, sd)
        elif d.ndim:
            t = FROM_NP[d.dtype]
            dim = t if dim is None else promote_types(dim, t)
        else:
            t = FROM_NP[d.dtype]
            zero = t if zero is None else promote_types(zero, t)
    return _combine(dim, _combine(zero, wrapped))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch allows an in-place op to write a ``from_`` result into a ``to`` tensor."""
    return from_.category <= to.category


class finfo:
    """Machine limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``)."""

    def __init__(self, type: dtype | None = None) -> None:
        d = type or DEFAULTS.float
        info = np.finfo(d.np)
        self.dtype = d.name
        self.bits = info.bits
        self.eps = builtins_float(info.eps)
        self.max = builtins_float(info.max)
        self.min = builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.tiny)
        self.resolution = builtins_float(info.resolution)


class iinfo:
    """Machine limits of an integer dtype (``max``, ``min``, ``bits``)."""

    def __init__(self, type: dtype) -> None:
        info = np.iinfo(type.np)
        self.dtype = type.name
        self.bits = info.bits
        self.max = builtins_int(info.max)
        self.min = builtins_int(info.min)
