"""Batched tensors for ``vmap``: a tensor whose leading (physical) dim is the vmap batch.

A :class:`BatchedTensor` shows its *logical* shape (without the batch dim) and its methods and
operators translate logical arguments to one op on the physical array: ``x.sum(0)`` becomes a sum
over physical dim 1, ``x + w`` aligns ``w`` after the batch dim, ``x @ w`` and ``x[i]`` are one
matmul / one indexing call for the whole batch. The op runs on a plain alias of the physical
tensor (same data, same graph edge), so autograd records it as usual and backward works on
physical arrays. Anything else that reaches the physical array (a function that is not
translated here) raises :class:`Unbatchable`, and ``vmap`` falls back to one call per sample: a
result is never silently computed with the batch dim mistaken for a data dim.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Size, Tensor, _new_tensor, edge_of

__all__ = ["BatchedTensor", "Unbatchable", "phys", "wrap", "is_batched"]

_SLOT = Tensor.__dict__["_data"]


class Unbatchable(Exception):
    """An operation vmap cannot run on the whole batch at once (vmap then loops over samples)."""


def is_batched(x) -> bool:
    return type(x) is BatchedTensor


def phys(x):
    """A plain Tensor aliasing ``x``'s physical array and graph position (``x`` itself if it is not batched)."""
    if type(x) is not BatchedTensor:
        return x
    t = _new_tensor(_SLOT.__get__(x), x._rg, x._grad_fn, x._output_nr)
    t._version = x._version
    if x._rg and x._grad_fn is None:  # a leaf: the alias shares its AccumulateGrad (gradients captured for x)
        e = x.__dict__.get("_leaf_edge")
        if e is None:
            x.__dict__["_leaf_edge"] = edge_of(t)
        else:
            t._leaf_edge = e
    return t


def wrap(t: Tensor) -> BatchedTensor:
    """Mark a plain result tensor (physical batch dim first) as batched."""
    if not isinstance(t, Tensor):
        raise Unbatchable(f"expected a tensor result, got {type(t).__name__}")
    t.__class__ = BatchedTensor
    return t


def _ln(x) -> int:
    return _SLOT.__get__(x).ndim - 1 if type(x) is BatchedTensor else (x._data.ndim if isinstance(x, Tensor) else 0)


def _lift(x, n: int):
    """Physical alias of ``x`` with singleton dims after the batch dim so its logical rank is ``n``."""
    p = phys(x)
    if type(x) is BatchedTensor:
        extra = n - _ln(x)
        if extra:
            shape = p._data.shape
            p = p.reshape(shape[:1] + (1,) * extra + shape[1:])
    return p


def _binary(name: str):
    def method(self, other, *args, **kwargs):
        n = max(_ln(self), _ln(other))
        return wrap(getattr(Tensor, name)(_lift(self, n), _lift(other, n), *args, **kwargs))
    method.__name__ = name
    return method


def _unary(name: str):
    def method(self, *args, **kwargs):
        if any(isinstance(a, Tensor) for a in args) or any(isinstance(a, Tensor) for a in kwargs.values()):
            raise Unbatchable(name)
        return wrap(getattr(Tensor, name)(phys(self), *args, **kwargs))
    method.__name__ = name
    return method


def _dims(dim, n: int):
    if isinstance(dim, int):
        if not -max(n, 1) <= dim < max(n, 1):
            raise Unbatchable("dim out of range")
        return dim % max(n, 1) + 1
    return tuple(_dims(d, n) for d in dim)


def _shape_arg(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list | Size) else tuple(shape)


class BatchedTensor(Tensor):
    """A tensor inside ``vmap``: logical shape without the batch dim; see the module docstring."""

    __slots__ = ()

    @property
    def _data(self):
        raise Unbatchable("this operation reads the whole batched array")

    @property
    def shape(self) -> Size:
        return Size(_SLOT.__get__(self).shape[1:])

    def size(self, dim: int | None = None):
        s = self.shape
        return s if dim is None else s[dim]

    @property
    def ndim(self) -> int:
        return _SLOT.__get__(self).ndim - 1

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        return phys(self).dtype

    def is_floating_point(self) -> bool:
        return _SLOT.__get__(self).dtype.kind == "f"

    def __len__(self) -> int:
        if not self.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def detach(self) -> BatchedTensor:
        return wrap(phys(self).detach())

    # ---- reductions and shapes: logical dims -> physical dims
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None):
        n = self.ndim
        if dim is None or dim == ():
            if n == 0:
                return wrap(phys(self).clone())
            dim = tuple(range(n))
        return wrap(phys(self).sum(_dims(dim, n), keepdim=keepdim, dtype=dtype))

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None):
        n = self.ndim
        if dim is None or dim == ():
            if n == 0:
                return wrap(phys(self).clone())
            dim = tuple(range(n))
        return wrap(phys(self).mean(_dims(dim, n), keepdim=keepdim, dtype=dtype))

    def reshape(self, *shape):
        shape = _shape_arg(shape)
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape = tuple(self.numel() // max(known, 1) if s == -1 else s for s in shape)
        return wrap(phys(self).reshape((_SLOT.__get__(self).shape[0],) + shape))

    view = reshape

    def view_as(self, other):
        return self.reshape(tuple(other.shape))

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if self.ndim == 0:
            return self.reshape(1)
        return wrap(phys(self).flatten(_dims(start_dim, self.ndim), _dims(end_dim, self.ndim)))

    def transpose(self, dim0: int, dim1: int):
        return wrap(phys(self).transpose(_dims(dim0, self.ndim), _dims(dim1, self.ndim)))

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return wrap(phys(self).permute((0,) + _dims(_shape_arg(dims), self.ndim)))

    def t(self):
        return self.transpose(0, 1) if self.ndim == 2 else self.view_as(self)

    @property
    def T(self):
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def unsqueeze(self, dim: int):
        return wrap(phys(self).unsqueeze(dim % (self.ndim + 1) + 1))

    def squeeze(self, dim=None):
        shape = self.shape
        dims = range(len(shape)) if dim is None else [d % max(len(shape), 1) for d in (dim if isinstance(dim, tuple) else (dim,))]
        drop = {d for d in dims if len(shape) and shape[d] == 1}
        return self.reshape(tuple(s for i, s in enumerate(shape) if i not in drop))

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        p = _lift(self, len(sizes))
        b = p._data.shape[0]
        return wrap(p.expand((b,) + tuple(p._data.shape[1 + i] if s == -1 else s for i, s in enumerate(sizes))))

    def expand_as(self, other):
        return self.expand(tuple(other.shape))

    # ---- matmul with logical semantics: 1-D operands promoted, batch dims aligned after the vmap dim
    def _matmul(self, other, swap: bool):
        a, b = (other, self) if swap else (self, other)
        la, lb = _ln(a), _ln(b)
        if la == 0 or lb == 0:
            raise Unbatchable("matmul of a 0-d tensor")
        pa, pb = phys(a), phys(b)
        if la == 1:
            pa = pa.unsqueeze(-2) if type(a) is BatchedTensor else pa.unsqueeze(0)
        if lb == 1:
            pb = pb.unsqueeze(-1)
        lead = max(max(la, 2) - 2, max(lb, 2) - 2)
        pa = _pad(pa, a, lead, max(la, 2))
        pb = _pad(pb, b, lead, max(lb, 2))
        out = pa @ pb
        if lb == 1:
            out = out.squeeze(-1)
        if la == 1:
            out = out.squeeze(-1 if lb == 1 else -2)
        return wrap(out)

    def __matmul__(self, other):
        return self._matmul(other, False)

    def __rmatmul__(self, other):
        return self._matmul(other, True)

    matmul = mm = mv = dot = bmm = __matmul__

    # ---- indexing: the key applies after the batch dim
    def __getitem__(self, key):
        parts = key if isinstance(key, tuple) else (key,)
        arrays = [k for k in parts if isinstance(k, Tensor | np.ndarray | list)]
        if any(type(k) is BatchedTensor or isinstance(k, bool) for k in parts) or len(arrays) > 1:
            raise Unbatchable("indexing with batched, boolean or several index tensors")
        if arrays:
            a = arrays[0]
            kind = (a._data.dtype.kind if isinstance(a, Tensor) else np.asarray(a).dtype.kind)
            if kind == "b" or any(isinstance(k, int) for k in parts):
                raise Unbatchable("indexing mixing ints and an index tensor, or a mask")
        return wrap(phys(self)[(slice(None),) + parts])


def _pad(p, x, lead: int, n: int):
    """Insert singleton dims so operand ``x`` (physical ``p``, logical rank ``n`` after 1-D promotion) has ``lead`` batch dims."""
    have = n - 2
    if have == lead:
        return p
    shape = p._data.shape
    if type(x) is BatchedTensor:
        return p.reshape(shape[:1] + (1,) * (lead - have) + shape[1:])
    return p


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__pow__",
              "__rpow__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "add", "sub", "mul", "div", "pow"):
    setattr(BatchedTensor, _name, _binary(_name))  # the Tensor method is looked up at call time (attached by ops/ later)
for _name in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sqrt", "neg", "__neg__", "__abs__", "reciprocal",
              "square", "clone", "contiguous", "to", "double", "float"):
    setattr(BatchedTensor, _name, _unary(_name))
BatchedTensor.__hash__ = Tensor.__hash__
