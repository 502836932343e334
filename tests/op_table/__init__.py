"""The op table: one row per op, written once for flambeau and for PyTorch.

A row's ``fn(lib, *tensors)`` is called with ``lib`` = ``flambeau`` or ``torch``; its inputs come
from specs (shape + domain), made identically for both libraries from a seed. The row drives:
forward values/dtype/shape vs PyTorch, gradients vs PyTorch, gradcheck in float64 against finite
differences, golden outputs captured from PyTorch (for machines without it), and, for rows marked
``broadcast``, Hypothesis-generated broadcastable shapes.

Each op family has a module here (``elementwise.py``, ``reduce.py`` ...) defining ``ROWS``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Spec:
    """One input: its shape and the domain its values are drawn from.

    kinds: ``real`` (standard normal), ``pos`` (0.5..2), ``unit`` (-0.9..0.9), ``away`` (|x| in 0.5..2, any sign),
    ``int`` (0..high-1, int64), ``bool`` (mask), ``const`` (``value`` as given: passed through unchanged).
    """

    shape: tuple = ()
    kind: str = "real"
    grad: bool = True
    high: int = 3
    value: object = None


def R(*shape, grad=True):
    return Spec(shape, "real", grad)


def P(*shape, grad=True):
    return Spec(shape, "pos", grad)


def U(*shape, grad=True):
    return Spec(shape, "unit", grad)


def A(*shape, grad=True):
    return Spec(shape, "away", grad)


def I(*shape, high=3):
    return Spec(shape, "int", False, high)


def B(*shape):
    return Spec(shape, "bool", False)


def C(value):
    return Spec((), "const", False, value=value)


@dataclass(frozen=True)
class Row:
    """One op under test.

    ``gradgrad`` is True, or a string saying why the op is not twice differentiable.
    ``covers`` names the exported functions/methods this row exercises (default: ``(name,)``).
    """

    name: str
    fn: Callable
    inputs: tuple
    grad: bool = True
    gradgrad: bool | str = True
    dtypes: tuple = ("float32", "float64")
    broadcast: bool = False
    covers: tuple = ()
    atol: float = 1e-6
    rtol: float = 1e-5
    nondiff_output: bool = False
    tags: tuple = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return self.name


def arrays_for(row: Row, seed: int = 0, shapes: tuple | None = None) -> list:
    """The NumPy float64/int64/bool arrays (or constants) of a row's inputs, deterministic per row name."""
    rng = np.random.RandomState((zlib.crc32(row.name.encode()) + seed) % 2**32)
    out = []
    for i, spec in enumerate(row.inputs):
        shape = shapes[i] if shapes is not None and spec.kind not in ("const",) else spec.shape
        if spec.kind == "const":
            out.append(spec.value)
        elif spec.kind == "real":
            out.append(rng.standard_normal(shape))
        elif spec.kind == "pos":
            out.append(rng.uniform(0.5, 2.0, shape))
        elif spec.kind == "unit":
            out.append(rng.uniform(-0.9, 0.9, shape))
        elif spec.kind == "away":
            out.append(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape))
        elif spec.kind == "int":
            out.append(rng.randint(0, spec.high, shape).astype(np.int64))
        elif spec.kind == "bool":
            out.append(np.asarray(rng.rand(*shape) > 0.5))
        else:
            raise ValueError(spec.kind)
    return out


def tensors_for(row: Row, lib, dtype: str, seed: int = 0, shapes: tuple | None = None, arrays: list | None = None) -> list:
    """The row's inputs as ``lib`` tensors (floating inputs in ``dtype``; ``requires_grad`` per spec)."""
    arrays = arrays_for(row, seed, shapes) if arrays is None else arrays
    out = []
    for spec, a in zip(row.inputs, arrays):
        if spec.kind == "const":
            out.append(a)
        elif a.dtype.kind == "f":
            out.append(lib.tensor(a.copy(), dtype=getattr(lib, dtype), requires_grad=row.grad and spec.grad))
        else:
            out.append(lib.tensor(a.copy()))
    return out


FAMILIES = ("elementwise", "reduce", "shape", "indexing", "linalg", "nn")


def families() -> dict:
    """``{family: rows}`` for every family module (a new family is one name in FAMILIES)."""
    import importlib
    return {f: importlib.import_module(f"op_table.{f}").ROWS for f in FAMILIES}


def all_rows() -> list:
    """Every row of every family, as ``(family, row)``; row names are unique."""
    rows = [(f, r) for f, rs in families().items() for r in rs]
    names = [r.name for _, r in rows]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate row names: {dup}"
    return rows
