"""Indexing: ``t[key]``, ``t[key] = v`` and ``where``.

Basic keys (ints, slices, ``None``, ``...``) give views, as in PyTorch; integer-array and mask keys
give copies. The gradient of ``t[key]`` scatters ``g`` back into zeros (adding where an index
repeats); its own gradient is ``t[key]`` again, so indexing is differentiable to any order.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor
from . import apply, defop, m, record
from .elementwise import arrays2, inplace
from .shape import as_view

__all__ = ["where"]


def _np_key(key) -> tuple[tuple, bool]:
    """The key as NumPy understands it, and whether it has an advanced (array) part."""
    parts = key if isinstance(key, tuple) else (key,)
    out, advanced = [], False
    for k in parts:
        if isinstance(k, Tensor):
            k = k._data
            if k.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
        elif isinstance(k, list):
            k = np.asarray([x.item() if isinstance(x, Tensor) else x for x in k])
            advanced = True
        elif isinstance(k, slice):
            if k.step is not None and int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
            k = slice(*(None if v is None else int(v) for v in (k.start, k.stop, k.step)))
        elif isinstance(k, bool | np.bool_):
            advanced = True
        elif isinstance(k, np.ndarray):
            advanced = True
        elif not (k is None or k is Ellipsis or isinstance(k, int | np.integer)):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                             f"(got {type(k).__name__})")
        out.append(k)
    return tuple(out), advanced


def _index(d: np.ndarray, key: tuple) -> np.ndarray:
    try:
        return d[key]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None


def _scatter(g, key: tuple, advanced: bool, shape: tuple):
    """Gradient of ``x[key]``: zeros of x's shape with ``g`` added at ``key``."""
    z = np.zeros(shape, g.dtype)
    if advanced:
        np.add.at(z, key, g)
    else:
        z[key] = g
    return z


def _zero_at(g, key: tuple):
    z = g.copy()
    z[key] = 0
    return z


def _node_name(key: tuple, advanced: bool) -> str:
    if advanced:
        return "IndexBackward0"
    last = [k for k in key if not (isinstance(k, slice) and k == slice(None))]
    if not last:
        return "AliasBackward0"
    k = last[-1]
    return "SelectBackward0" if isinstance(k, int | np.integer) else "UnsqueezeBackward0" if k is None else (
        "AliasBackward0" if k is Ellipsis else "SliceBackward0")


#                                   forward                       ∂ℒ/∂x
_GETITEM = {name: defop(name, lambda x, key, advanced, shape: _index(x, key),
                        lambda g, key, advanced, shape: m.scatter_back(g, key, advanced, shape), text=("scatter g back to x[key]",))
            for name in ("IndexBackward0", "SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0")}
SCATTER_BACK = defop("IndexBackwardBackward0", lambda x, key, advanced, shape: _scatter(x, key, advanced, shape),
                     lambda g, key, advanced: m.index(g, key, advanced), text=("∂(scatter)/∂g = g[key]",))
ZERO_AT = defop("IndexFillBackward0", lambda x, key: _zero_at(x, key), lambda g, key: m.zero_at(g, key), text=("zero at key",))
SETITEM = {name: defop(name, lambda x, v, key: _put(x, v, key),
                       lambda g, key: m.zero_at(g, key), lambda g, key: m.index(g, key, True), text=("g, zero at key", "g[key]"))
           for name in ("CopySlices", "IndexPutBackward0")}
WHERE = defop("WhereBackward0", lambda cond, a, b: np.where(cond, a, b),
              None, lambda g, cond: m.where(cond, g, 0.0), lambda g, cond: m.where(cond, 0.0, g),
              text=("∂/∂a = [cond]", "∂/∂b = [not cond]"))


def _put(x: np.ndarray, v, key: tuple) -> np.ndarray:
    out = x.copy()
    out[key] = v
    return out


def _index_tensor(t: Tensor, key: tuple, advanced: bool) -> Tensor:
    d = t._data
    out = _index(d, key)
    r = record(_GETITEM[_node_name(key, advanced)], (t,), out, (key, advanced, d.shape))
    return r if advanced else as_view(r, t)


m.scatter_back = lambda g, key, advanced, shape: (
    apply(SCATTER_BACK, (g,), (g._data,), (key, advanced, shape)) if isinstance(g, Tensor) else _scatter(g, key, advanced, shape))
m.index = lambda g, key, advanced: _index_tensor(g, key, advanced) if isinstance(g, Tensor) else g[key]
m.zero_at = lambda g, key: apply(ZERO_AT, (g,), (g._data,), (key,)) if isinstance(g, Tensor) else _zero_at(g, key)


def getitem(self: Tensor, key) -> Tensor:
    """``t[key]``: ints, slices, ``None``, ``...``, integer tensors or lists, bool masks.

    >>> import flambeau as torch
    >>> x = torch.arange(6).view(2, 3)
    >>> x[1], x[:, 1:], x[x > 3]
    (tensor([3, 4, 5]), tensor([[1, 2],
            [4, 5]]), tensor([4, 5]))
    """
    k, advanced = _np_key(key)
    return _index_tensor(self, k, advanced)


def setitem(self: Tensor, key, value) -> None:
    """``t[key] = value``, recorded in the graph when ``value`` or ``t`` requires grad."""
    k, advanced = _np_key(key)
    op = SETITEM["IndexPutBackward0" if advanced else "CopySlices"]

    def put(x: Tensor, v) -> Tensor:
        vd = v._data.astype(x._data.dtype, copy=False) if isinstance(v, Tensor) else v
        try:
            return record(op, (x, v), _put(x._data, vd, k), (k,))
        except ValueError as e:
            raise RuntimeError(str(e)) from None
    inplace(put, self, value)


def where(condition: Tensor, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (either may be a number); ``where(cond)`` gives the indices."""
    if input is None and other is None:
        return tuple(_long(i) for i in np.nonzero(condition._data))
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.FROM_NP[cond.dtype]._tensor_type[:-6]}")
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            from .creation import scalar_tensor
            input = scalar_tensor(input)
        else:
            bd, ad = arrays2(other, input)
            return record(WHERE, (condition, input, other), np.where(cond, ad, bd))
    ad, bd = arrays2(input, other)
    return record(WHERE, (condition, input, other), np.where(cond, ad, bd))


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.where = lambda self, condition, other: where(condition, self, other)


def _long(i: np.ndarray) -> Tensor:
    return _new_tensor(i.astype(np.int64), False, None, 0)
