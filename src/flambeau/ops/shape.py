"""Shape ops and views: reshape, transpose, permute, squeeze, expand, dtype conversion, fill and copy.

View ops return tensors that share memory (and the in-place version counter) with their base,
as PyTorch's do. Their gradient is a reshuffle of ``g``: reshape back, transpose back, permute
back; ``expand``'s is ``g`` itself, which the engine sums back to the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor, _wrap_dim, check_device
from ..autograd.grad_mode import STATE
from . import apply, defop, m, math_fn, record
from .elementwise import inplace

__all__ = ["reshape", "view", "flatten", "transpose", "swapaxes", "swapdims", "t", "permute", "unsqueeze", "squeeze", "expand",
           "clone", "contiguous"]


def as_view(t: Tensor, base: Tensor) -> Tensor:
    """Mark ``t`` as a view of ``base``: same memory, same version counter."""
    t._version = base._version
    t._base = base._base if base._base is not None else base
    return t


def view_op(op, x: Tensor, out: np.ndarray, attrs: tuple) -> Tensor:
    return as_view(record(op, (x,), out, attrs), x)


def _inverse(perm: tuple) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


#                                          ∂ℒ/∂x: undo the reshuffle on g
VIEW = defop("ViewBackward0",          lambda x, shape: x,           lambda g, shape: m.reshape(g, shape), text=("reshape back",))
UNSAFE_VIEW = defop("UnsafeViewBackward0", lambda x, shape: x,       lambda g, shape: m.reshape(g, shape), text=("reshape back",))
UNSQUEEZE = defop("UnsqueezeBackward0", lambda x, shape: x,          lambda g, shape: m.reshape(g, shape), text=("reshape back",))
SQUEEZE = defop("SqueezeBackward0",    lambda x, shape: x,           lambda g, shape: m.reshape(g, shape), text=("reshape back",))
SQUEEZE_DIM = defop("SqueezeBackward1", lambda x, shape: x,          lambda g, shape: m.reshape(g, shape), text=("reshape back",))
TRANSPOSE = defop("TransposeBackward0", lambda x, d0, d1: np.swapaxes(x, d0, d1),
                  lambda g, d0, d1: m.transpose(g, d0, d1), text=("transpose back",))
T = defop("TBackward0",                lambda x: x.T,                lambda g: m.t(g), text=("transpose back",))
PERMUTE = defop("PermuteBackward0",    lambda x, perm: np.transpose(x, perm),
                lambda g, perm: m.permute(g, _inverse(perm)), text=("permute back",))
EXPAND = defop("ExpandBackward0",      lambda x, shape: np.broadcast_to(x, shape), lambda g: g, text=("sum over the expanded dims",))
CLONE = defop("CloneBackward0",        lambda x: x.copy(),           lambda g: g, text=("∂x/∂x = 1",))
TO_COPY = defop("ToCopyBackward0",     lambda x, npd: x.astype(npd), lambda g: g, text=("cast back",))
FILL = defop("FillBackward0",          lambda x, value: np.full_like(x, value), lambda g: m.zeros_like(g), text=("∂c/∂x = 0",))
ZERO = defop("ZeroBackward0",          lambda x: np.zeros_like(x),   lambda g: m.zeros_like(g), text=("∂0/∂x = 0",))
COPY = defop("CopyBackwards",          lambda x, src: np.broadcast_to(src, x.shape).astype(x.dtype),
                                       lambda g: m.zeros_like(g),    lambda g: g, text=("∂src/∂x = 0", "∂src/∂src = 1"))

math_fn("reshape", np.reshape)
math_fn("transpose", np.swapaxes)
math_fn("t", lambda x: x.T)
math_fn("permute", np.transpose)
math_fn("expand", np.broadcast_to)
math_fn("zeros_like", np.zeros_like, lambda x: _new_tensor(np.zeros_like(x._data), False, None, 0))


def _shape_arg(shape: tuple) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one ``-1`` and check the element count, with PyTorch's error."""
    known = 1
    free = [i for i, s in enumerate(shape) if s == -1]
    for s in shape:
        if s != -1:
            known *= s
    if len(free) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if free:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: free[0]] + (numel // known,) + shape[free[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view(input: Tensor, *shape) -> Tensor:
    """The same data seen with another shape (no copy; fails when the strides don't allow it).

    >>> import flambeau as torch
    >>> torch.arange(6).view(2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("Tensor.view(dtype) (reinterpreting bits) is not supported by flambeau")
    d = input._data
    new = _infer_shape(_shape_arg(shape), d.size)
    try:
        out = np.reshape(d, new, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                           "two contiguous subspaces). Use .reshape(...) instead.") from None
    return view_op(VIEW, input, out, (d.shape,))


def reshape(input: Tensor, *shape) -> Tensor:
    """Another shape for the same elements: a view when possible, else a copy."""
    d = input._data
    new = _infer_shape(_shape_arg(shape), d.size)
    try:
        out = np.reshape(d, new, copy=False)
    except ValueError:
        return record(UNSAFE_VIEW, (input,), np.reshape(d, new), (d.shape,))
    return view_op(VIEW, input, out, (d.shape,))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    s, e = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s: e + 1]),) + shape[e + 1:])


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    n = input._data.ndim
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    return view_op(TRANSPOSE, input, np.swapaxes(input._data, d0, d1), (d0, d1))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return view_op(T, input, input._data.T, ())


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dims (a view)."""
    n = input._data.ndim
    perm = tuple(_wrap_dim(d, n) for d in _shape_arg(dims))
    if sorted(perm) != list(range(n)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
                           f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(perm)}")
    return view_op(PERMUTE, input, np.transpose(input._data, perm), (perm,))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    d = input._data
    k = _wrap_dim(dim, d.ndim + 1)
    return view_op(UNSQUEEZE, input, np.expand_dims(d, k), (d.shape,))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1 (all of them, or those named by ``dim``)."""
    d = input._data
    if dim is None:
        return view_op(SQUEEZE, input, d.reshape(tuple(s for s in d.shape if s != 1)), (d.shape,))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    keep = {_wrap_dim(k, d.ndim) for k in dims}
    shape = tuple(s for i, s in enumerate(d.shape) if not (i in keep and s == 1))
    return view_op(SQUEEZE_DIM, input, d.reshape(shape), (d.shape,))


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying (``-1`` keeps a dim)."""
    d = input._data
    sizes = _shape_arg(sizes)
    lead = len(sizes) - d.ndim
    if lead < 0:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(d.shape)}}}, size=[{', '.join(map(str, sizes))}]): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({d.ndim})")
    shape = tuple(d.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(d, shape)
    except ValueError:
        bad = next(i for i in range(d.ndim) if d.shape[i] != 1 and d.shape[i] != shape[i + lead])
        raise RuntimeError(f"The expanded size of the tensor ({shape[bad + lead]}) must match the existing size ({d.shape[bad]}) at "
                           f"non-singleton dimension {bad + lead}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(d.shape)}") from None
    return view_op(EXPAND, input, out, (shape,))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that stays in the graph (its gradient is the identity)."""
    return apply(CLONE, (input,), (input._data,))


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when contiguous, else a contiguous copy."""
    return input if input._data.flags.c_contiguous else clone(input)


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Convert dtype (``to(flambeau.float64)``, ``to(other)``, ``to('cpu', dtype)``); returns ``self`` if nothing changes."""
    dtype, copy = kwargs.pop("dtype", None), kwargs.pop("copy", False)
    check_device(kwargs.pop("device", None))
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, _dtype.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            dtype = _dtype.to_dtype(a)
        elif a is not None and not isinstance(a, bool):
            check_device(a)
    if dtype is None or _dtype.to_dtype(dtype).np == self._data.dtype:
        return clone(self) if copy else self
    return apply(TO_COPY, (self,), (self._data, _dtype.to_dtype(dtype).np))


def _caster(dt: _dtype.dtype):
    def cast(self: Tensor, memory_format=None) -> Tensor:
        return to(self, dt)
    cast.__doc__ = f"``self.to({dt})``."
    return cast


def fill(x: Tensor, value) -> Tensor:
    value = value.item() if isinstance(value, Tensor) else value
    return apply(FILL, (x,), (x._data, value))


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast) into ``self``; in the graph, gradient flows to ``src``."""
    def copied(x: Tensor, s) -> Tensor:
        if not isinstance(s, Tensor):
            from .creation import scalar_tensor
            s = scalar_tensor(s)
        try:
            return apply(COPY, (x, s), (x._data, s._data))
        except ValueError:
            raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the broadcast shape {list(s._data.shape)}") from None
    return inplace(copied, self, src)


Tensor.view = view
Tensor.view_as = lambda self, other: view(self, other._data.shape)
Tensor.reshape = reshape
Tensor.reshape_as = lambda self, other: reshape(self, other._data.shape)
Tensor.flatten = flatten
Tensor.transpose = transpose
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.t = t
Tensor.permute = permute
Tensor.unsqueeze = unsqueeze
Tensor.squeeze = squeeze
Tensor.expand = expand
Tensor.expand_as = expand_as
Tensor.clone = clone
Tensor.contiguous = contiguous
Tensor.to = to
for _name, _dt in (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16), ("long", _dtype.int64),
                   ("int", _dtype.int32), ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool_)):
    setattr(Tensor, _name, _caster(_dt))
Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))), doc="All dims reversed.")
Tensor.mT = property(lambda self: transpose(self, -2, -1), doc="The last two dims swapped.")
Tensor.H = Tensor.T
Tensor.mH = Tensor.mT
def fill_(self: Tensor, value) -> Tensor:
    """Fill with ``value`` in place."""
    if not (STATE.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))):
        self._data.fill(value.item() if isinstance(value, Tensor) else value)  # nothing to record
        self._version[0] += 1
        return self
    return inplace(fill, self, value)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    if not (STATE.enabled and self._rg):
        self._data.fill(0)
        self._version[0] += 1
        return self
    return inplace(lambda x: apply(ZERO, (x,), (x._data,)), self)


Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_


def inplace_on_view(fn, view: Tensor, *args, **kwargs) -> Tensor:
    """In-place change of a view whose base is in the graph: PyTorch re-bases the base's history (CopySlices)."""
    raise NotImplementedError("in-place modification of a view of a tensor that is part of the graph (CopySlices) is not "
                              "supported by flambeau yet; apply the op out of place, e.g. y = y.clone(); y[...] = ...")
