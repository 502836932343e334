"""Padding layers over ``F.pad``: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1, 2 and 3 dims.

``padding`` is an int (the same on every side) or a tuple ``(left, right, top, bottom, front, back)`` of ``2·n`` ints,
starting from the last dim, as in ``F.pad``.
"""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)]


class _PadNd(Module):
    """Pads the last ``_n`` dims with ``F.pad(mode=_mode)``."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = tuple(padding) if isinstance(padding, tuple | list) else (padding,) * (2 * self._n)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


_KINDS = {"Constant": (_ConstantPadNd, "constant", "``value``", ", 3.5"), "Zero": (_ZeroPadNd, "constant", "zeros", ""),
          "Reflection": (_PadNd, "reflect", "the input reflected at its edge (the edge not repeated)", ""),
          "Replication": (_PadNd, "replicate", "copies of the edge value", ""),
          "Circular": (_PadNd, "circular", "the input wrapped around", "")}

for _kind, (_base, _mode, _what, _arg) in _KINDS.items():
    for _n in (1, 2, 3):
        _name = f"{_kind}Pad{_n}d"
        _shape = ", ".join(["1", "2"] + ["3"] * _n)
        _out = ", ".join(["1", "2"] + ["5"] * _n)
        _doc = f"""Pad the last {_n} dim(s) with {_what}: ``F.pad(input, padding, '{_mode}')``.

    >>> import flambeau as torch
    >>> torch.nn.{_name}(1{_arg})(torch.ones({_shape})).shape
    flambeau.Size([{_out}])
    """
        _bases = (_base, globals()[f"ConstantPad{_n}d"]) if _kind == "Zero" else (_base,)  # ZeroPad2d is a ConstantPad2d
        globals()[_name] = type(_name, _bases, {"_n": _n, "_mode": _mode, "__doc__": _doc, "__module__": __name__})
