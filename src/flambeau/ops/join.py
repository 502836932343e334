"""Joining and splitting: cat, stack, hstack, vstack; split, chunk, unbind.

``cat`` and ``stack`` take any number of tensors: their op is made per input count (one formula
per input: that input's slice of ``g``). ``split``, ``chunk`` and ``unbind`` return several views
of one tensor from one multi-output node; its formula joins the output gradients back (zeros for
outputs that got none). As in PyTorch, such views refuse in-place changes while grad is recorded.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor, _wrap_dim, short_node_name
from . import apply, defop, m, record
from .shape import as_view, atleast_3d, reshape, unsqueeze

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack", "split", "chunk", "unbind",
           "tensor_split", "hsplit", "vsplit", "dsplit"]


# ---- variadic ops: one Op per input count --------------------------------------------------------

def _variadic(name: str, n: int, fwd, formula, attrs: tuple):
    """An op of ``n`` tensor inputs ``x0..x{n-1}``: ``fwd(*arrays, *attrs)``, and ``formula(k)`` giving input k's formula."""
    def forward(*args):
        return fwd(args[:n], *args[n:])
    params = [inspect.Parameter(f"x{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(n)]
    forward.__signature__ = inspect.Signature(params + [inspect.Parameter(a, inspect.Parameter.POSITIONAL_ONLY) for a in attrs])
    return defop(name, forward, *(formula(k) for k in range(n)))


def _cached(make):
    cache: dict = {}

    def get(n: int):
        op = cache.get(n)
        if op is None:
            op = cache[n] = make(n)
        return op
    return get


#                                       forward                                       ∂ℒ/∂(input k): its part of g
_cat_op = _cached(lambda n: _variadic("CatBackward0", n, lambda xs, bounds, dim: np.concatenate(xs, dim),
                                      lambda k: lambda g, bounds, dim: m.index(g, (slice(None),) * dim + (slice(bounds[k], bounds[k + 1]),),
                                                                               False), ("bounds", "dim")))
_stack_op = _cached(lambda n: _variadic("StackBackward0", n, lambda xs, dim: np.stack(xs, dim),
                                        lambda k: lambda g, dim: m.index(g, (slice(None),) * dim + (k,), False), ("dim",)))


def _pieces(x: np.ndarray, bounds: tuple, dim: int) -> tuple:
    """Views of ``x`` between consecutive ``bounds`` along ``dim``."""
    lead = (slice(None),) * dim
    return tuple(x[lead + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))


def _join_grads(g: tuple, shapes: tuple, dim: int, stacked: bool):
    """The output gradients of split/unbind joined back into the input's gradient (zeros where none came)."""
    if not isinstance(g, tuple):  # a single piece: the op has one output
        g = (g,)
    ref = next(x for x in g if x is not None)
    graph = isinstance(ref, Tensor)
    parts = []
    for x, shape in zip(g, shapes):
        if x is None:
            z = np.zeros(shape, ref.dtype if not graph else ref._data.dtype)
            x = _new_tensor(z, False, None, 0) if graph else z
        parts.append(x)
    if graph:
        return stack(parts, dim) if stacked else cat(parts, dim)
    return np.stack(parts, dim) if stacked else np.concatenate(parts, dim)


_split_op = _cached(lambda n: {name: defop(name, lambda x, bounds, dim, shapes: _pieces(x, bounds, dim),
                                           lambda g, dim, shapes: _join_grads(g, shapes, dim, False), nout=n)
                               for name in ("SplitBackward0", "SplitWithSizesBackward0")})
_unbind_op = _cached(lambda n: defop("UnbindBackward0", lambda x, dim, shapes: tuple(np.moveaxis(x, dim, 0)),
                                     lambda g, dim, shapes: _join_grads(g, shapes, dim, True), nout=n))


def _tensors(tensors, fname: str) -> tuple:
    if isinstance(tensors, Tensor) or not isinstance(tensors, list | tuple):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    return tuple(tensors)


def _promoted(ts: tuple) -> list:
    """The tensors' arrays in their common (promoted) dtype."""
    dt = _dtype.FROM_NP[ts[0]._data.dtype]
    for t in ts[1:]:
        dt = _dtype.promote_types(dt, _dtype.FROM_NP[t._data.dtype])
    return [t._data.astype(dt.np, copy=False) for t in ts]


# ---- joining -------------------------------------------------------------------------------------

def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (dtypes promoted).

    >>> import flambeau as torch
    >>> torch.cat([torch.tensor([1, 2]), torch.tensor([3])])
    tensor([1, 2, 3])
    """
    ts = _tensors(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    kept = tuple(t for t in ts if t._data.shape != (0,)) or ts[:1]  # legacy: 1-D empty tensors are skipped
    ref = kept[0]._data
    d = _wrap_dim(dim, ref.ndim)
    for i, t in enumerate(ts):
        s = t._data.shape
        if s == (0,) and t is not kept[0]:
            continue
        if len(s) != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {len(s)}")
        bad = next((j for j in range(ref.ndim) if j != d and s[j] != ref.shape[j]), None)
        if bad is not None:
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {ref.shape[bad]} but got size {s[bad]} "
                               f"for tensor number {i} in the list.")
    arrays = _promoted(kept)
    bounds = tuple(np.cumsum([0] + [a.shape[d] for a in arrays]).tolist())
    return apply(_cat_op(len(kept)), kept, arrays, (bounds, d))


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim.

    >>> import flambeau as torch
    >>> torch.stack([torch.tensor([1, 2]), torch.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """
    ts = _tensors(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = _wrap_dim(dim, ts[0]._data.ndim + 1)
    for i, t in enumerate(ts[1:], 1):
        if t._data.shape != ts[0]._data.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ts[0]._data.shape)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    return apply(_stack_op(len(ts)), ts, _promoted(ts), (d,))


def _at_least(t: Tensor, ndim: int) -> Tensor:
    while t._data.ndim < ndim:
        t = unsqueeze(t, 0)
    return t


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors).

    >>> import flambeau as torch
    >>> torch.hstack([torch.tensor([1, 2]), torch.tensor([3])])
    tensor([1, 2, 3])
    """
    ts = [_at_least(t, 1) for t in _tensors(tensors, "hstack")]
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, 1-D tensors becoming rows.

    >>> import flambeau as torch
    >>> torch.vstack([torch.tensor([1, 2]), torch.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return cat([_at_least(t, 2) for t in _tensors(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Join along dim 2, after giving every tensor at least 3 dims."""
    return cat([atleast_3d(t) for t in _tensors(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Join as columns: 0-D and 1-D tensors become columns, the rest join along dim 1.

    >>> import flambeau as torch
    >>> torch.column_stack([torch.tensor([1, 2]), torch.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    return cat([reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in _tensors(tensors, "column_stack")], 1)


# ---- splitting into views ------------------------------------------------------------------------

def _views_of(op, x: Tensor, arrays_attrs: tuple) -> tuple:
    outs = record(op, (x,), op.fwd(x._data, *arrays_attrs), arrays_attrs)
    for t in outs:
        as_view(t, x)
        t._multi_view = short_node_name(op.name)
    return outs


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of consecutive pieces along ``dim``: each ``split_size_or_sections`` long, or of the listed sizes.

    >>> import flambeau as torch
    >>> [t.tolist() for t in torch.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    """
    x = tensor._data
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
        name = "SplitBackward0"
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but "
                               f"got split_sizes={sizes}")
        name = "SplitWithSizesBackward0"
    bounds = tuple(np.cumsum([0] + sizes).tolist())
    shapes = tuple(x.shape[:d] + (s,) + x.shape[d + 1:] for s in sizes)
    return _views_of(_split_op(len(sizes))[name], tensor, (bounds, d, shapes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of equal size (the last may be smaller; there may be fewer).

    >>> import flambeau as torch
    >>> [t.tolist() for t in torch.arange(5).chunk(2)]
    [[0, 1, 2], [3, 4]]
    """
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[_wrap_dim(dim, input._data.ndim)]
    return split(input, math.ceil(n / chunks), dim) if n else split(input, [0] * chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, as views (``for row in t`` uses this).

    >>> import flambeau as torch
    >>> [t.tolist() for t in torch.tensor([[1, 2], [3, 4]]).unbind(1)]
    [[1, 3], [2, 4]]
    """
    x = input._data
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, x.ndim)
    shape = x.shape[:d] + x.shape[d + 1:]
    return _views_of(_unbind_op(x.shape[d]), input, (d, (shape,) * x.shape[d]))


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views split at ``indices`` (a list), or into ``sections`` nearly equal parts (an int; the first ones one longer).

    >>> import flambeau as torch
    >>> [t.tolist() for t in torch.arange(5).tensor_split(2)]
    [[0, 1, 2], [3, 4]]
    """
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.item() if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, int | np.integer):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, int(ios))
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (int(ios) - r)).tolist()
    else:
        bounds = [0] + [min(max(int(i), 0), n) for i in ios] + [n]
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, max(a, b)),)] for a, b in zip(bounds, bounds[1:]))


def _split_on(name: str, least: int, dim_of, where: str):
    def fn(input: Tensor, indices_or_sections) -> tuple:
        d = dim_of(input._data.ndim)
        if input._data.ndim < least:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {least} dimension, but got a tensor with "
                               f"{input._data.ndim} dimensions!")
        n = input._data.shape[d]
        if isinstance(indices_or_sections, int | np.integer) and (indices_or_sections == 0 or n % indices_or_sections):
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the dimension {n} is not divisible "
                               f"by the split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    fn.__doc__ = f"``tensor_split`` along {where}; a number of sections must divide it exactly."
    return fn


hsplit = _split_on("hsplit", 1, lambda ndim: 1 if ndim > 1 else 0, "dim 1 (dim 0 for 1-D tensors)")
vsplit = _split_on("vsplit", 2, lambda ndim: 0, "dim 0")
dsplit = _split_on("dsplit", 3, lambda ndim: 2, "dim 2")


Tensor.split = split
Tensor.tensor_split = tensor_split
Tensor.hsplit = hsplit
Tensor.vsplit = vsplit
Tensor.dsplit = dsplit
Tensor.chunk = chunk
Tensor.unbind = unbind
