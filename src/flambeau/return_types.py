"""Named-tuple results of reductions that give values and indices (PyTorch's ``torch.return_types``).

>>> import flambeau as torch
>>> torch.tensor([[1., 5.], [7., 3.]]).max(dim=1).indices
tensor([1, 0])
"""

from __future__ import annotations

from collections import namedtuple

__all__ = ["max", "min", "median", "sort", "topk", "kthvalue", "cummax", "cummin", "aminmax", "nanmedian", "mode"]


def _return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "flambeau.return_types"})


max = _return_type("max")
min = _return_type("min")
median = _return_type("median")
sort = _return_type("sort")
topk = _return_type("topk")
kthvalue = _return_type("kthvalue")
cummax = _return_type("cummax")
cummin = _return_type("cummin")
aminmax = _return_type("aminmax", ("min", "max"))
nanmedian = _return_type("nanmedian")
mode = _return_type("mode")
