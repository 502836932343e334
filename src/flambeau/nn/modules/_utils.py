"""Argument helpers shared by layers: ``_pair(3) == (3, 3)`` as PyTorch's conv and pool modules store sizes."""

from __future__ import annotations

from collections.abc import Iterable

from ... import _dtype


def _ntuple(n: int):
    def parse(x) -> tuple:
        if isinstance(x, Iterable) and not isinstance(x, str):
            return tuple(x)
        return (x,) * n
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)


def factory(device=None, dtype=None) -> dict:
    """The ``dtype`` keyword for the tensors a layer creates (the device must be the CPU)."""
    from ..._tensor import check_device
    check_device(device)
    return {"dtype": None if dtype is None else _dtype.to_dtype(dtype)}


def param_or_none(module, name: str, value) -> None:
    """Register ``value`` (a tensor, wrapped in a Parameter) or a ``None`` placeholder as parameter ``name``."""
    from ..parameter import Parameter
    module.register_parameter(name, None if value is None else Parameter(value))
