"""Shape ops and views: reshape, transpose, permute, squeeze, expand, repeat, flip, roll, pad, dtype conversion, fill and copy.

View ops return tensors that share memory (and the in-place version counter) with their base,
as PyTorch's do. Their gradient is a reshuffle of ``g``: reshape back, transpose back, permute
back; ``expand``'s is ``g`` itself, which the engine sums back to the input's shape.

Gather and scatter by a NumPy key (``x[key]``; zeros with ``g`` added at ``key``) are the two
primitives behind indexing, padding by reflection, and in-place changes of views: an in-place op
on a view of a tensor in the graph re-bases the base's history (PyTorch's ``CopySlices``)::

    base ──► CopySlices ◄── op(old view values) ◄── AsStrided(old base)

The base's gradient is ``g`` with zeros where the view lies, plus what flows back through the op
into the view's old values; every other view of the base is re-derived from the new base.
"""

from __future__ import annotations

import math
import warnings
import weakref

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor, _new_tensor, _wrap_dim, check_device
from ..autograd.grad_mode import STATE
from ..autograd.pitfalls import leaf_inplace_error
from . import apply, defop, m, math_fn, record
from .elementwise import inplace, write_into

__all__ = ["reshape", "view", "flatten", "unflatten", "transpose", "swapaxes", "swapdims", "t", "permute", "movedim", "moveaxis",
           "unsqueeze", "squeeze", "expand", "broadcast_to", "broadcast_tensors", "tile", "repeat_interleave", "flip", "fliplr",
           "flipud", "roll", "rot90", "select", "narrow", "clone", "contiguous", "pad", "ravel", "broadcast_shapes", "atleast_1d",
           "atleast_2d", "atleast_3d", "as_strided", "meshgrid"]


class _Views(list):
    """Weak references to the live views of a root tensor; dead ones are swept when the list doubles."""

    __slots__ = ("cap",)

    def add(self, t: Tensor) -> None:
        self.append(weakref.ref(t))
        if len(self) > self.cap:
            self[:] = [r for r in self if r() is not None]
            self.cap = max(64, 2 * len(self))

    def alive(self) -> list:
        return [t for t in (r() for r in self) if t is not None]


def as_view(t: Tensor, base: Tensor) -> Tensor:
    """Mark ``t`` as a view of ``base``: same memory, same version counter, registered with the root base."""
    root = base._base if base._base is not None else base
    t._version = root._version
    t._base = root
    if STATE.enabled:
        views = root.__dict__.get("_views")
        if views is None:
            views = root._views = _Views()
            views.cap = 64
        views.add(t)
    elif root._rg:
        t._no_grad_view = True  # PyTorch refuses to change it in place once grad mode is back on
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
RESHAPE_ALIAS = defop("ReshapeAliasBackward0", lambda x, shape: x,   lambda g, shape: m.reshape(g, shape), text=("reshape back",))
UNSQUEEZE = defop("UnsqueezeBackward0", lambda x, shape: x,          lambda g, shape: m.reshape(g, shape), text=("reshape back",))
SQUEEZE = defop("SqueezeBackward0",    lambda x, shape: x,           lambda g, shape: m.reshape(g, shape), text=("reshape back",))
SQUEEZE_DIM = defop("SqueezeBackward1", lambda x, shape: x,          lambda g, shape: m.reshape(g, shape), text=("reshape back",))
SQUEEZE_DIMS = defop("SqueezeBackward2", lambda x, shape: x,         lambda g, shape: m.reshape(g, shape), text=("reshape back",))
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
math_fn("flip", np.flip)
math_fn("roll", np.roll)
math_fn("rot90", lambda x, k, dims: np.rot90(x, k, dims))


# ---- gather and scatter by a NumPy key -----------------------------------------------------------
# ``advanced`` says whether the key has an index-array part (then it may repeat positions, and
# the scatter adds with ``np.add.at``) or is basic (slices and ints: a plain assignment).

def take_key(x: np.ndarray, key: tuple) -> np.ndarray:
    """``x[key]``, with PyTorch's words in the out-of-range message."""
    try:
        return x[key]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None


def scatter_key(g, key: tuple, advanced: bool, shape: tuple) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``key`` (the gradient of ``x[key]``)."""
    z = np.zeros(shape, g.dtype)
    if advanced:
        np.add.at(z, key, g)
    else:
        z[key] = g
    return z


def put_key(x: np.ndarray, v, key: tuple, accumulate: bool) -> np.ndarray:
    """A copy of ``x`` with ``v`` written (or added) at ``key``."""
    out = x.copy()
    if accumulate:
        np.add.at(out, key, v)
    else:
        out[key] = v
    return out


def gather_op(name: str):
    """An op ``x[key]`` under PyTorch's node ``name``: its gradient scatters ``g`` back into zeros."""
    return defop(name, lambda x, key, advanced, shape: take_key(x, key),
                 lambda g, key, advanced, shape: m.scatter_back(g, key, advanced, shape), text=("scatter g back to x[key]",))


def put_op(name: str):
    """An op writing ``v`` into ``x`` at ``key`` (adding if ``accumulate``): ∂/∂x is ``g`` (zeroed at key unless adding), ∂/∂v is ``g[key]``."""
    return defop(name, lambda x, v, key, accumulate: put_key(x, v, key, accumulate),
                 lambda g, key, accumulate: g if accumulate else m.zero_at(g, key), lambda g, key: m.index(g, key, True),
                 text=("g, zero at key unless accumulating", "g[key]"))


SCATTER_BACK = defop("IndexBackwardBackward0", lambda x, key, advanced, shape: scatter_key(x, key, advanced, shape),
                     lambda g, key, advanced: m.index(g, key, advanced), text=("∂(scatter)/∂g = g[key]",))
ZERO_AT = defop("IndexFillBackward0", lambda x, key: put_key(x, 0, key, False), lambda g, key: m.zero_at(g, key), text=("zero at key",))
TAKE = gather_op("IndexBackward0")
AS_STRIDED = gather_op("AsStridedBackward0")
COPY_SLICES = put_op("CopySlices")
COPY_SLICES.node_cls.name = lambda self: "flambeau::autograd::CopySlices"  # PyTorch's node name(), as error messages show it

m.scatter_back = lambda g, key, advanced, shape: (
    apply(SCATTER_BACK, (g,), (g._data,), (key, advanced, shape)) if isinstance(g, Tensor) else scatter_key(g, key, advanced, shape))
m.index = lambda g, key, advanced: record(TAKE, (g,), take_key(g._data, key), (key, advanced, g._data.shape)) if isinstance(g, Tensor) \
    else g[key]
m.zero_at = lambda g, key: apply(ZERO_AT, (g,), (g._data,), (key,)) if isinstance(g, Tensor) else put_key(g, 0, key, False)


def gather_at(op, x: Tensor, key: tuple, advanced: bool = True) -> Tensor:
    """Record ``x[key]`` under gather op ``op``."""
    return record(op, (x,), take_key(x._data, key), (key, advanced, x._data.shape))


# ---- views of views, and in-place changes through them ------------------------------------------

def _positions(a: np.ndarray, origin: int) -> np.ndarray:
    """The memory position (in elements, from address ``origin``) of each element of ``a``."""
    isz = a.itemsize
    pos = np.asarray((a.__array_interface__["data"][0] - origin) // isz, dtype=np.int64)
    for d, (n, st) in enumerate(zip(a.shape, a.strides)):
        pos = pos + (np.arange(n, dtype=np.int64) * (st // isz)).reshape((n,) + (1,) * (a.ndim - d - 1))
    return pos


def key_in_base(v: np.ndarray, base: np.ndarray) -> tuple:
    """Where the elements of view ``v`` lie in ``base``: an index-array key into ``base``'s shape."""
    origin = base.__array_interface__["data"][0]
    vpos = np.broadcast_to(_positions(v, origin), v.shape)
    if base.flags.c_contiguous:
        flat = vpos
    else:
        bpos = _positions(base, origin).ravel()
        order = np.argsort(bpos, kind="stable")
        flat = order[np.searchsorted(bpos[order], vpos)]
    return np.unravel_index(flat, base.shape)


def _regenerate(t: Tensor, root: Tensor, key: tuple) -> None:
    """``t``'s history becomes 'the elements ``key`` of ``root``' (after ``root`` changed in place)."""
    node = gather_at(AS_STRIDED, root, key)._grad_fn
    t._grad_fn, t._output_nr, t._rg = node, 0, True


def refresh_views(root: Tensor, skip: Tensor | None = None) -> None:
    """After an in-place change of ``root`` (or one of its views), re-derive every live view's history from ``root``'s."""
    views = root.__dict__.get("_views")
    if views and STATE.enabled and root._rg:
        for t in views.alive():
            if t is not skip:
                _regenerate(t, root, key_in_base(t._data, root._data))


NO_GRAD_VIEW = "A view was created in no_grad mode and is being modified inplace with grad mode enabled."
MULTI_VIEW = ("{head} This view is the output of a function that returns multiple views. Such functions do not allow the output views "
              "to be modified inplace. You should replace the inplace operation by an out-of-place one.")


def inplace_on_view(fn, view: Tensor, *args, **kwargs) -> Tensor:
    """In-place change of a view whose base is in the graph: PyTorch re-bases the base's history (CopySlices)."""
    root = view._base
    if view.__dict__.get("_no_grad_view"):
        raise RuntimeError(NO_GRAD_VIEW + " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
                           "code by moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                           "inplace to be tracked) or both outside (if you want the inplace to be tracked).")
    multi = view.__dict__.get("_multi_view")
    if multi is not None:
        head = f"Output {view._output_nr} of {multi} is a view and is being modified inplace." if view._rg else NO_GRAD_VIEW
        raise RuntimeError(MULTI_VIEW.format(head=head))
    if root._rg and root._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    key = key_in_base(view._data, root._data)
    old = record(AS_STRIDED, (root,), view._data.copy(), (key, True, root._data.shape))
    r = fn(old, *args, **kwargs)
    write_into(view, r)
    node = record(COPY_SLICES, (root, r), root._data, (key, False))._grad_fn
    if node is not None:
        root._grad_fn, root._output_nr, root._rg = node, 0, True
        _regenerate(view, root, key)
        refresh_views(root, view)
    return view


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


def _transpose(input: Tensor, dim0: int, dim1: int) -> tuple:
    n = input._data.ndim
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    return TRANSPOSE, np.swapaxes(input._data, d0, d1), (d0, d1)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    op, out, attrs = _transpose(input, dim0, dim1)
    return view_op(op, input, out, attrs)


swapaxes = swapdims = transpose


def _t(input: Tensor) -> tuple:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return T, input._data.T, ()


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims."""
    op, out, attrs = _t(input)
    return view_op(op, input, out, attrs)


def permute(input: Tensor, *args, dims=None) -> Tensor:
    """Reorder the dims (a view): ``permute(x, (2, 0, 1))``, ``x.permute(2, 0, 1)`` or ``dims=``."""
    n = input._data.ndim
    perm = tuple(_wrap_dim(d, n) for d in _shape_arg(args if dims is None else (dims,)))
    if sorted(perm) != list(range(n)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
                           f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(perm)}")
    return view_op(PERMUTE, input, np.transpose(input._data, perm), (perm,))


def _unsqueeze(input: Tensor, dim: int) -> tuple:
    d = input._data
    return UNSQUEEZE, np.expand_dims(d, _wrap_dim(dim, d.ndim + 1)), (d.shape,)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    op, out, attrs = _unsqueeze(input, dim)
    return view_op(op, input, out, attrs)


def _squeeze(input: Tensor, dim=None) -> tuple:
    d = input._data
    if dim is None:
        return SQUEEZE, d.reshape(tuple(s for s in d.shape if s != 1)), (d.shape,)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    keep = {_wrap_dim(k, d.ndim) for k in dims}
    shape = tuple(s for i, s in enumerate(d.shape) if not (i in keep and s == 1))
    return SQUEEZE_DIM if isinstance(dim, int) else SQUEEZE_DIMS, d.reshape(shape), (d.shape,)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1 (all of them, or those named by ``dim``)."""
    op, out, attrs = _squeeze(input, dim)
    return view_op(op, input, out, attrs)


# in-place forms change the tensor's shape and strides; PyTorch names their nodes apart
_RESTRIDED = {op: defop(name, op.fwd, *op.formulas, text=op.formula_text) for op, name in (
    (UNSQUEEZE, "UnsqueezeBackward1"), (SQUEEZE, "SqueezeBackward3"), (SQUEEZE_DIM, "SqueezeBackward4"), (SQUEEZE_DIMS, "SqueezeBackward5"),
    (TRANSPOSE, "TransposeBackward1"), (T, "TBackward1"), (AS_STRIDED, "AsStridedBackward1"))}


def _restrided(parts):
    """The in-place method of a view op whose ``parts(self, ...)`` gives ``(op, new array, attrs)``."""
    def method(self: Tensor, *args) -> Tensor:
        if STATE.enabled and self._rg and self._grad_fn is None:
            raise leaf_inplace_error(self)
        op, out, attrs = parts(self, *args)
        node = record(_RESTRIDED[op], (self,), out, attrs)._grad_fn
        self._data = out
        self._version[0] += 1
        if node is not None:
            self._grad_fn, self._output_nr = node, 0
        return self
    method.__doc__ = "In place: this tensor takes the new shape and strides (same memory)."
    return method


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
    """``input.expand(other.size())``."""
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input`` expanded to ``size`` (a view).

    >>> import flambeau as torch
    >>> torch.broadcast_to(torch.tensor([1, 2]), (2, 2))
    tensor([[1, 2],
            [1, 2]])
    """
    return expand(input, size)


def broadcast_tensors(*tensors) -> tuple:
    """Every tensor expanded to their common broadcast shape.

    >>> import flambeau as torch
    >>> [t.shape for t in torch.broadcast_tensors(torch.zeros(2, 1), torch.zeros(3))]
    [flambeau.Size([2, 3]), flambeau.Size([2, 3])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        from .elementwise import broadcast_error
        raise broadcast_error(tensors[0]._data.shape, tensors[1]._data.shape) from None
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of them may be -1).

    >>> import flambeau as torch
    >>> torch.arange(6).unflatten(0, (2, 3)).shape
    flambeau.Size([2, 3])
    """
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        inner = _infer_shape(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[d]}) in the "
                           "input tensor") from None
    return view(input, shape[:d] + inner + shape[d + 1:])


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (a permute view).

    >>> import flambeau as torch
    >>> torch.zeros(2, 3, 4).movedim(0, -1).shape
    flambeau.Size([3, 4, 2])
    """
    n = input._data.ndim
    src = [_wrap_dim(s, n) for s in ((source,) if isinstance(source, int) else source)]
    dst = [_wrap_dim(s, n) for s in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same number of "
                           f"dims as destination ({list(dst)} dims)")
    return permute(input, tuple(_move_order(n, src, dst)))


def _move_order(n: int, src: list, dst: list) -> list:
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    return [o if o is not None else next(rest) for o in order]


moveaxis = movedim

REPEAT = defop("RepeatBackward0", lambda x, reps, shape: np.tile(x, reps),
               lambda g, reps, shape: m.reshape(g, _split_shape(reps, shape)).sum(tuple(range(0, 2 * len(reps), 2))),
               text=("sum over the copies",))


def _split_shape(reps: tuple, shape: tuple) -> tuple:
    full = (1,) * (len(reps) - len(shape)) + tuple(shape)
    return tuple(v for r, s in zip(reps, full) for v in (r, s))


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along each dim (leading sizes add dims).

    >>> import flambeau as torch
    >>> torch.tensor([1, 2]).repeat(2)
    tensor([1, 2, 1, 2])
    """
    reps = _shape_arg(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return apply(REPEAT, (input,), (input._data,), (reps, input._data.shape))


def tile(input: Tensor, dims) -> Tensor:
    """``repeat``, with missing leading ``dims`` taken as 1.

    >>> import flambeau as torch
    >>> torch.tile(torch.tensor([[1, 2]]), (2,))
    tensor([[1, 2, 1, 2]])
    """
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


INDEX_SELECT = gather_op("IndexSelectBackward0")


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times.

    >>> import flambeau as torch
    >>> torch.tensor([1, 2]).repeat_interleave(2)
    tensor([1, 1, 2, 2])
    """
    if dim is None:
        input, dim = reshape(input, -1), 0
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.ndim == 0 or reps.size == 1:
        if int(reps.reshape(())) < 0:
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(np.arange(n), int(reps.reshape(())))
    else:
        if reps.shape != (n,):
            raise RuntimeError("repeats must have the same size as input along dim")
        if (reps < 0).any():
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(np.arange(n), reps)
    if isinstance(repeats, Tensor) or np.ndim(repeats) > 0:
        return gather_at(INDEX_SELECT, input, (slice(None),) * d + (idx,))
    shape = input._data.shape
    return view(clone(expand(unsqueeze(input, d + 1), shape[:d + 1] + (int(reps),) + shape[d + 1:])), shape[:d] + (-1,) + shape[d + 1:])


FLIP = defop("FlipBackward0", lambda x, dims: np.flip(x, dims).copy(), lambda g, dims: m.flip(g, dims), text=("flip back",))
ROLL = defop("RollBackward0", lambda x, shifts, dims: np.roll(x, shifts, dims),
             lambda g, shifts, dims: m.roll(g, tuple(-s for s in shifts), dims) if dims is not None else m.roll(g, -shifts[0], None),
             text=("roll back",))


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy): ``flip(x, (0, 1))``, ``x.flip(0, 1)`` or ``dims=``.

    >>> import flambeau as torch
    >>> torch.tensor([1, 2, 3]).flip(0)
    tensor([3, 2, 1])
    """
    n = input._data.ndim
    dims = tuple(_wrap_dim(d, n) for d in _shape_arg(args if dims is None else (dims,)))
    for j, k in enumerate(dims):
        if k in dims[:j]:
            raise RuntimeError(f"dim {k} appears multiple times in the list of dims")
    return apply(FLIP, (input,), (input._data,), (dims,))


def fliplr(input: Tensor) -> Tensor:
    """Flip the second dim (columns)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flip the first dim (rows)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when ``dims`` is None).

    >>> import flambeau as torch
    >>> torch.tensor([1, 2, 3]).roll(1)
    tensor([3, 1, 2])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(ROLL, (input,), (input._data,), (shifts, None))
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(_wrap_dim(d, input._data.ndim) for d in dims)
    return apply(ROLL, (input,), (input._data,), (shifts, dims))


ROT90 = defop("Rot90Backward0", lambda x, k, dims: np.rot90(x, k, dims).copy(), lambda g, k, dims: m.rot90(g, -k, dims),
              text=("rotate back",))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90° ``k`` times in the plane of ``dims`` (from the first towards the second).

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).rot90()
    tensor([[2, 4],
            [1, 3]])
    """
    n = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = _wrap_dim(dims[0], n), _wrap_dim(dims[1], n)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return apply(ROT90, (input,), (input._data,), (k % 4, (d0, d1)))


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when contiguous).

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).ravel()
    tensor([1, 2, 3, 4])
    """
    return view(contiguous(input), -1)


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of these shapes broadcast to.

    >>> import flambeau as torch
    >>> torch.broadcast_shapes((2, 1), (3,))
    flambeau.Size([2, 3])
    """
    out: list = []
    for i, shape in enumerate((s,) if isinstance(s, int) else tuple(s) for s in shapes):
        out = [1] * (len(shape) - len(out)) + out
        for k in range(-1, -len(shape) - 1, -1):
            if shape[k] != out[k] and shape[k] != 1 and out[k] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[k]} at {k}! Mismatching argument at index {i} had "
                                   f"{shape}; but expected shape should be broadcastable to {out}")
            out[k] = out[k] if shape[k] == 1 else shape[k]
    return Size(out)


def _at_least(ndim: int, *tensors):
    def lift(t: Tensor) -> Tensor:
        d = t._data.ndim
        if d >= ndim:
            return t
        if d == 0:
            return view(t, (1,) * ndim)
        if ndim == 3 and d == 2:
            return unsqueeze(t, 2)
        t = unsqueeze(t, 0)
        return unsqueeze(t, 2) if ndim == 3 else t
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
        return tuple(lift(t) for t in tensors)
    return lift(tensors[0]) if len(tensors) == 1 else tuple(lift(t) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d ones become shape ``[1]``)."""
    return _at_least(1, *tensors)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (1-D ones become one row)."""
    return _at_least(2, *tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (``[n]`` becomes ``[1, n, 1]``, ``[m, n]`` becomes ``[m, n, 1]``)."""
    return _at_least(3, *tensors)


UNFOLD = gather_op("UnfoldBackward0")


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, in a new last dim (a view).

    >>> import flambeau as torch
    >>> torch.arange(5).unfold(0, 2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    d = self._data
    k = _wrap_dim(dimension, d.ndim)
    n = d.shape[k] if d.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {k} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (n - size) // step + 1
    shape = d.shape[:k] + (windows,) + d.shape[k + 1:] + (size,)
    strides = d.strides[:k] + (d.strides[k] * step,) + d.strides[k + 1:] + (d.strides[k],) if d.ndim else (0, 0)
    out = np.lib.stride_tricks.as_strided(d, shape, strides, writeable=d.flags.writeable) if d.ndim else d.reshape(1, 1)
    nd = len(shape)
    at = lambda a, pos: a.reshape([-1 if i == pos else 1 for i in range(nd)])  # noqa: E731
    key = tuple(at(np.arange(windows) * step, k) + at(np.arange(size), nd - 1) if j == k else at(np.arange(s), j)
                for j, s in enumerate(d.shape))
    return view_op(UNFOLD, self, out, (key, True, d.shape))


def _as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> tuple:
    root = input._base if input._base is not None else input
    r = root._data
    if not r.flags.c_contiguous:
        raise NotImplementedError("as_strided on a tensor whose storage is not contiguous is not supported by flambeau")
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    need = offset + 1 + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    if need > r.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize {r.itemsize} "
                           f"requiring a storage size of {need * r.itemsize} are out of bounds for storage of size {r.size * r.itemsize}")
    out = np.lib.stride_tricks.as_strided(r.reshape(-1)[offset:], size, tuple(st * r.itemsize for st in stride), writeable=r.flags.writeable)
    return AS_STRIDED, out, (key_in_base(out, input._data), True, input._data.shape)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s memory with the given sizes, strides (in elements) and offset from the start of its storage.

    >>> import flambeau as torch
    >>> torch.arange(6).as_strided((2, 2), (1, 2))
    tensor([[0, 2],
            [1, 3]])
    """
    op, out, attrs = _as_strided(input, size, stride, storage_offset)
    return view_op(op, input, out, attrs)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` of dim ``dim``, without that dim (a view): ``input[..., index, ...]``.

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).select(1, 0)
    tensor([1, 3])
    """
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at dimension {d}")
    return input[(slice(None),) * d + (int(index),)]


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` of dim ``dim`` (a view).

    >>> import flambeau as torch
    >>> torch.arange(5).narrow(0, 1, 3)
    tensor([1, 2, 3])
    """
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start %= size if size else 1
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[(slice(None),) * d + (slice(start, start + length),)]


# ---- padding -------------------------------------------------------------------------------------

CONSTANT_PAD = defop("ConstantPadNdBackward0", lambda x, src, dst, shape, value, xshape: _constant_pad(x, src, dst, shape, value),
                     lambda g, src, dst, xshape: m.scatter_back(m.index(g, dst, False), src, False, xshape),
                     text=("the unpadded part of g",))
PAD_OPS = {(mode, k): gather_op(f"{name}{k}DBackward0") for mode, name in (("reflect", "ReflectionPad"), ("replicate", "ReplicationPad"))
           for k in (1, 2, 3)}
PAD_OPS.update({("circular", k): gather_op("CopySlices") for k in (1, 2, 3)})  # PyTorch pads circularly by copying slices
_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _constant_pad(x: np.ndarray, src: tuple, dst: tuple, shape: tuple, value) -> np.ndarray:
    out = np.full(shape, value, x.dtype)
    out[dst] = x[src]
    return out


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``, starting from the last dim.

    ``mode`` is ``'constant'`` (with ``value``; negative pads crop), ``'reflect'``, ``'replicate'`` or ``'circular'``.
    This is ``torch.nn.functional.pad``.

    >>> import flambeau as torch
    >>> pad(torch.tensor([1., 2.]), (1, 2))
    tensor([0., 1., 2., 0., 0.])
    """
    pad = tuple(int(p) for p in pad)
    d = input._data
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > d.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got padding length "
                           f"{len(pad)} and input of dimension {d.ndim}")
    pairs = [(pad[2 * (d.ndim - 1 - i)], pad[2 * (d.ndim - 1 - i) + 1]) if i >= d.ndim - k else (0, 0) for i in range(d.ndim)]
    if mode == "constant":
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(d.shape, pairs))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"The input size {d.shape[-1]}, plus negative padding {pad[0]} and {pad[1]} resulted in a negative output "
                               "size, which is invalid. Check dimension 1 of your input.")
        src = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(d.shape, pairs))
        dst = tuple(slice(max(lo, 0), s - max(hi, 0)) for s, (lo, hi) in zip(shape, pairs))
        return apply(CONSTANT_PAD, (input,), (d,), (src, dst, shape, 0 if value is None else value, d.shape))
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if not (k + 1 <= d.ndim <= k + 2) or k > 3:
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now (got {d.ndim}D input "
                                  f"with padding length {len(pad)})")
    idx = []
    for i in range(d.ndim - k, d.ndim):
        lo, hi = pairs[i]
        if mode == "reflect" and (lo >= d.shape[i] or hi >= d.shape[i]):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
                               f"({lo}, {hi}) at dimension {i} of input {list(d.shape)}")
        if mode == "circular" and (lo > d.shape[i] or hi > d.shape[i]):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo < 0 or hi < 0:
            raise NotImplementedError(f"negative padding in mode '{mode}' is not supported by flambeau")
        idx.append(np.pad(np.arange(d.shape[i]), (lo, hi), mode=_NP_PAD_MODE[mode]))
    return gather_at(PAD_OPS[mode, k], input, (slice(None),) * (d.ndim - k) + np.ix_(*idx))


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
    npd = _dtype.to_dtype(dtype).np
    if npd.kind != "f":  # integer and bool results are outside the graph, as in PyTorch
        return _new_tensor(self._data.astype(npd), False, None, 0)
    return apply(TO_COPY, (self,), (self._data, npd))


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
Tensor.unsqueeze_ = _restrided(_unsqueeze)
Tensor.squeeze_ = _restrided(_squeeze)
Tensor.transpose_ = Tensor.swapaxes_ = Tensor.swapdims_ = _restrided(_transpose)
Tensor.t_ = _restrided(_t)
Tensor.expand = expand
Tensor.expand_as = expand_as
Tensor.broadcast_to = broadcast_to
Tensor.unflatten = unflatten
Tensor.movedim = Tensor.moveaxis = movedim
Tensor.repeat = repeat
Tensor.tile = tile
Tensor.repeat_interleave = repeat_interleave
Tensor.flip = flip
Tensor.fliplr = fliplr
Tensor.flipud = flipud
Tensor.roll = roll
Tensor.narrow = narrow
Tensor.rot90 = rot90
Tensor.ravel = ravel
Tensor.unfold = unfold
Tensor.as_strided = as_strided
Tensor.as_strided_ = _restrided(_as_strided)
Tensor.select = select
Tensor.storage_offset = lambda self: 0 if self._base is None else int(
    (self._data.__array_interface__["data"][0] - self._base._data.__array_interface__["data"][0]) // self._data.itemsize)
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
    if not ((self._rg or (isinstance(value, Tensor) and value._rg)) and STATE.enabled):
        self._data.fill(value.item() if isinstance(value, Tensor) else value)  # nothing to record
        self._version[0] += 1
        return self
    return inplace(fill, self, value)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    if not (self._rg and STATE.enabled):
        self._data.fill(0)
        self._version[0] += 1
        return self
    return inplace(lambda x: apply(ZERO, (x,), (x._data,)), self)


Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-D) tensors: output ``i`` is tensor ``i`` expanded along the others' lengths.

    ``indexing='ij'`` (matrix order, the default, with PyTorch's warning when not given) or ``'xy'`` (the first two
    dimensions swapped, as NumPy's default). Each output is an expanded view, differentiable like ``expand``.

    >>> import flambeau as torch
    >>> xs, ys = torch.meshgrid(torch.tensor([1, 2]), torch.tensor([3, 4, 5]), indexing="ij")
    >>> xs.shape, ys[0]
    (flambeau.Size([2, 3]), tensor([3, 4, 5]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.", UserWarning,
                      stacklevel=2)
        indexing = "ij"
    elif indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: a tensor of shape {list(t.shape)}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = [t.numel() for t in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:  # the first two dimensions swap places
        sizes[0], sizes[1] = sizes[1], sizes[0]
        axes[0], axes[1] = 1, 0
    grids = []
    for t, axis in zip(tensors, axes):
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(expand(reshape(t, tuple(shape)), tuple(sizes)))
    return tuple(grids)
