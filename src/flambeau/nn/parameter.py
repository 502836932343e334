"""``nn.Parameter``: a leaf tensor that a :class:`~flambeau.nn.Module` registers as one of its weights."""

from __future__ import annotations

from .._tensor import Tensor, _new_tensor
from ..ops.creation import empty

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is registered as a parameter (``requires_grad=True``).

    It shares memory with the tensor it wraps.

    >>> import flambeau as torch
    >>> p = torch.nn.Parameter(torch.ones(2))
    >>> p.requires_grad, isinstance(p, torch.Tensor)
    (True, True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        p = _new_tensor(data._data, False, None, 0, cls)
        p._version = data._version
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (Parameter, (self.detach(), self._rg))

