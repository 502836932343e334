"""Indexing: ``t[key]``, ``t[key] = v``, gather/scatter, index_* and masked_* ops, take, nonzero and ``where``.

Every op here is one of two primitives (in ``shape.py``) under PyTorch's node name:

* **gather** ``x[key]`` (``getitem``, ``gather``, ``index_select``, ``take``, ``masked_select``):
  ∂ℒ/∂x scatters ``g`` back into zeros at ``key``, adding where an index repeats;
* **put** ``x`` with ``v`` written (or added) at ``key`` (``setitem``, ``scatter``, ``index_copy``,
  ``index_add``, ``masked_fill`` ...): ∂ℒ/∂x is ``g`` zeroed at ``key`` (just ``g`` when adding),
  ∂ℒ/∂v is ``g[key]``.

A ``dim``-and-``index`` op becomes a NumPy key of index arrays (:func:`_dim_key`). Basic keys
(ints, slices, ``None``, ``...``) give views, as in PyTorch; all other results are copies.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _c_name, _new_tensor, _wrap_dim
from . import defop, m, record
from .elementwise import arrays2, inplace
from .shape import COPY_SLICES, INDEX_SELECT, TAKE, as_view, expand, gather_at, gather_op, put_key, put_op, reshape, take_key

__all__ = ["where", "index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
           "index_put", "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim", "put", "nonzero", "argwhere", "searchsorted",
           "bucketize"]


# ---- keys ----------------------------------------------------------------------------------------

def _np_key(key) -> tuple[tuple, bool]:
    """The key as NumPy understands it, and whether it has an advanced (array) part."""
    if isinstance(key, list) and len(key) < 32 and any(isinstance(k, list | tuple | slice | Tensor) or k is None or k is Ellipsis for k in key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use "
                      "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
                      "which will result either in an error or a different result", UserWarning, stacklevel=3)
        key = tuple(key)
    parts = key if isinstance(key, tuple) else (key,)
    out, advanced = [], False
    for k in parts:
        if isinstance(k, Tensor):
            k = k._data
            if k.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if k.ndim == 0 and k.dtype.kind != "b":  # a 0-d integer tensor indexes like an int: a view
                k = int(k)
            else:
                advanced = True
        elif isinstance(k, list):
            k = np.asarray([x.item() if isinstance(x, Tensor) else x for x in k])
            if k.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
        elif isinstance(k, slice):
            if k.step is not None and int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
            k = slice(*(None if v is None else int(v) for v in (k.start, k.stop, k.step)))
        elif isinstance(k, bool | np.bool_ | np.ndarray):
            advanced = True
        elif not (k is None or k is Ellipsis or isinstance(k, int | np.integer)):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                             f"(got {type(k).__name__})")
        out.append(k)
    return tuple(out), advanced


def _is_mask(k) -> bool:
    return isinstance(k, np.ndarray) and k.dtype == np.bool_


def _mask_error(d: np.ndarray, key: tuple) -> IndexError | None:
    """PyTorch's message when a bool mask in ``key`` does not fit the dims it indexes (after ints, slices and None apply)."""
    basic = [p for k in key for p in ([slice(None)] * k.ndim if _is_mask(k) else [slice(None)] if isinstance(k, np.ndarray) else [k])]
    try:
        shape = d[tuple(basic)].shape
    except IndexError:
        return None
    spans = [k.ndim if _is_mask(k) else 0 if k is Ellipsis or isinstance(k, int | np.integer) else 1 for k in key]
    dim = 0
    for k, span in zip(key, spans):
        if k is Ellipsis:
            dim += len(shape) - sum(spans)
        elif _is_mask(k):
            for j, s in enumerate(k.shape):
                if dim + j >= len(shape) or shape[dim + j] != s:
                    return IndexError(f"The shape of the mask {list(k.shape)} at index {j} does not match the shape of the indexed tensor "
                                      f"{list(shape)} at index {dim + j}")
        dim += span
    return None


def _get(d: np.ndarray, key: tuple) -> np.ndarray:
    try:
        return take_key(d, key)
    except IndexError:
        raise _mask_error(d, key) or IndexError(_index_message(d, key)) from None


def _index_message(d: np.ndarray, key: tuple) -> str:
    try:
        d[key]
    except IndexError as e:
        return str(e).replace("axis", "dimension")
    return "index out of range"


def _index_array(index: Tensor, message: str, int32: bool = True, error=RuntimeError) -> np.ndarray:
    """The index tensor's array, refused with ``message`` (naming the dtype ``{got}``) unless it is int64 (or int32)."""
    i = index._data if isinstance(index, Tensor) else np.asarray(index)
    if i.dtype != np.int64 and not (int32 and i.dtype == np.int32):
        raise error(message.format(got=_dtype.FROM_NP[i.dtype]._tensor_type[:-6]))
    return i


def _dim_key(index: np.ndarray, dim: int) -> tuple:
    """The NumPy key picking ``x[i0, .., index[i], .., ik]`` along ``dim`` for every position ``i`` of ``index``."""
    n = index.ndim
    return tuple(index if d == dim else np.arange(s).reshape((s,) + (1,) * (n - d - 1)) for d, s in enumerate(index.shape))


def _check_range(index: np.ndarray, size: int, dim: int, error=RuntimeError, prefix: str = "") -> np.ndarray:
    """Negative indices wrapped; out-of-range ones refused with PyTorch's message."""
    bad = (index >= size) | (index < -size)
    if bad.any():
        raise error(f"{prefix}index {int(index[bad].ravel()[0])} is out of bounds for dimension {dim} with size {size}")
    return np.where(index < 0, index + size, index) if (index < 0).any() else index


def _check_dim_index(x: np.ndarray, dim: int, index: np.ndarray, fname: str, src: np.ndarray | None = None) -> None:
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if src is not None and index.ndim != src.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for d in range(index.ndim):
        too_big = d != dim and index.shape[d] > x.shape[d]
        if too_big or (src is not None and index.shape[d] > src.shape[d]):
            if src is None:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no larger than self "
                                   f"{list(x.shape)} apart from dimension {dim}")
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart from dimension {dim} "
                               f"and to be no larger size than src {list(src.shape)}")


# ---- t[key] and t[key] = v ----------------------------------------------------------------------

_GETITEM = {"IndexBackward0": TAKE, **{name: gather_op(name) for name in
                                       ("SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0")}}
_SETITEM = {"CopySlices": COPY_SLICES, "IndexPutBackward0": put_op("IndexPutBackward0")}


def _node_name(key: tuple, advanced: bool) -> str:
    if advanced:
        return "IndexBackward0"
    last = [k for k in key if not (isinstance(k, slice) and k == slice(None))]
    if not last:
        return "AliasBackward0"
    k = last[-1]
    return "SelectBackward0" if isinstance(k, int | np.integer) else "UnsqueezeBackward0" if k is None else (
        "AliasBackward0" if k is Ellipsis else "SliceBackward0")


def getitem(self: Tensor, key) -> Tensor:
    """``t[key]``: ints, slices, ``None``, ``...``, integer tensors or lists, bool masks.

    >>> import flambeau as torch
    >>> x = torch.arange(6).view(2, 3)
    >>> x[1], x[:, 1:], x[x > 3]
    (tensor([3, 4, 5]), tensor([[1, 2],
            [4, 5]]), tensor([4, 5]))
    """
    k, advanced = _np_key(key)
    d = self._data
    r = record(_GETITEM[_node_name(k, advanced)], (self,), _get(d, k), (k, advanced, d.shape))
    return r if advanced else as_view(r, self)


def _put(op, x: Tensor, v, key: tuple, accumulate: bool = False, error=RuntimeError) -> Tensor:
    """Record ``x`` with ``v`` written (added) at ``key`` under put op ``op``."""
    vd = v._data.astype(x._data.dtype, copy=False) if isinstance(v, Tensor) else v
    try:
        return record(op, (x, v), put_key(x._data, vd, key, accumulate), (key, accumulate))
    except IndexError:
        raise _mask_error(x._data, key) or error(_index_message(x._data, key)) from None
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def setitem(self: Tensor, key, value) -> None:
    """``t[key] = value``, recorded in the graph when ``value`` or ``t`` requires grad.

    >>> import flambeau as torch
    >>> x = torch.zeros(3); x[1:] = 2; x
    tensor([0., 2., 2.])
    """
    k, advanced = _np_key(key)
    inplace(lambda x, v: _put(_SETITEM["IndexPutBackward0" if advanced else "CopySlices"], x, v, k, error=IndexError), self, value)


# ---- dim + index ops -----------------------------------------------------------------------------

GATHER = gather_op("GatherBackward0")
SCATTER = {name: put_op(name) for name in ("ScatterBackward0", "ScatterBackward1", "ScatterAddBackward0")}
INDEX_PUT = {name: put_op(name) for name in ("IndexAddBackward0", "IndexCopyBackward0", "IndexFillBackward0", "IndexFillBackward1",
                                             "IndexPutBackward0", "MaskedFillBackward0", "MaskedFillBackward1", "MaskedScatterBackward0")}
MASKED_SELECT = gather_op("MaskedSelectBackward0")
TAKE_FLAT = gather_op("TakeBackward0")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices ``index`` along ``dim``.

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).index_select(1, torch.tensor([1]))
    tensor([[2],
            [4]])
    """
    i = _index_array(index, "index_select(): Expected dtype int32 or int64 for index")
    if i.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    if ((i >= size) | (i < 0)).any():
        raise IndexError("index out of range in self")
    return gather_at(INDEX_SELECT, input, (slice(None),) * d + (i.reshape(-1),))


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (for ``dim=0``; likewise for other dims).

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).gather(1, torch.tensor([[1], [0]]))
    tensor([[2],
            [3]])
    """
    x = input._data
    i = _index_array(index, "gather(): Expected dtype int32/int64 for index")
    d = _wrap_dim(dim, x.ndim)
    _check_dim_index(x, d, i, "gather")
    i = _check_range(i, x.shape[d] if x.ndim else 1, d)
    return gather_at(GATHER, input, _dim_key(i, d) if x.ndim else ())


def _scatter_key(input: Tensor, dim: int, index: Tensor, src, fname: str) -> tuple:
    _same_dtype(input, src, "scatter")
    x = input._data
    i = _index_array(index, "scatter(): Expected dtype int32/int64 for index")
    d = _wrap_dim(dim, x.ndim)
    _check_dim_index(x, d, i, fname, src._data if isinstance(src, Tensor) else None)
    return _dim_key(_check_range(i, x.shape[d], d), d), d


def _src_part(src: Tensor, shape: tuple) -> Tensor:
    """The leading ``shape`` block of ``src`` (what a scatter reads)."""
    return src if src._data.shape == shape else src[tuple(slice(0, n) for n in shape)]


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """``input`` with ``src[i][j]`` (or ``value``) written at ``[index[i][j]][j]`` (for ``dim=0``).

    >>> import flambeau as torch
    >>> torch.zeros(2, 2).scatter(0, torch.tensor([[1, 0]]), 5.0)
    tensor([[0., 5.],
            [5., 0.]])
    """
    if src is None:
        src = value
    key, d = _scatter_key(input, dim, index, src, "scatter")
    if reduce is not None:
        if reduce == "add":
            return scatter_add(input, dim, index, src) if isinstance(src, Tensor) else _put(SCATTER["ScatterBackward1"], input, src, key, True)
        raise NotImplementedError(f"scatter(reduce='{reduce}') is not supported by flambeau; use scatter_reduce")
    if isinstance(src, Tensor):
        return _put(SCATTER["ScatterBackward0"], input, _src_part(src, index.shape), key)
    return _put(SCATTER["ScatterBackward1"], input, src, key)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``input`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (for ``dim=0``); repeated indices add up.

    >>> import flambeau as torch
    >>> torch.zeros(3).scatter_add(0, torch.tensor([0, 0, 2]), torch.tensor([1., 2., 3.]))
    tensor([3., 0., 3.])
    """
    key, _ = _scatter_key(input, dim, index, src, "scatter_add")
    return _put(SCATTER["ScatterAddBackward0"], input, _src_part(src, index.shape), key, True)


#                           what an untouched output position starts from, when include_self=False
_REDUCE = {"sum": (np.add, 0), "prod": (np.multiply, 1), "mean": (np.add, 0), "amax": (np.maximum, -np.inf), "amin": (np.minimum, np.inf)}


def _mul_const(g, w: np.ndarray):
    return g * (_new_tensor(w, False, None, 0) if isinstance(g, Tensor) else w)


SCATTER_REDUCE = defop("ScatterReduceBackward0", lambda x, src, key, reduce, touched, w_self, w_src: None,
                       lambda g, x, out, reduce, touched, w_self: _mul_const(g * _prod_ratio(out, x, touched) if reduce == "prod" else g, w_self),
                       lambda g, src, out, key, reduce, w_src: (m.index(g * out, key, True) / src if reduce == "prod"
                                                                else _mul_const(m.index(g, key, True), w_src)),
                       text=("g · (∂reduce/∂self)", "g[key] · (∂reduce/∂src)"))


def _prod_ratio(out, x, touched: np.ndarray):
    """``out / x`` where something was scattered (the product of what was), 1 elsewhere; no 0/0 anywhere."""
    return m.where(touched, out, 1.0) / m.where(touched, x, 1.0)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` in sum, prod, mean, amax, amin.

    Gradients of ``amax``/``amin`` are shared evenly between tied values, as PyTorch does.

    >>> import flambeau as torch
    >>> torch.zeros(2).scatter_reduce(0, torch.tensor([0, 0, 1]), torch.tensor([1., 3., 2.]), 'amax', include_self=False)
    tensor([3., 2.])
    """
    key, d = _scatter_key(input, dim, index, src, "scatter_reduce")
    if reduce not in _REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    src = _src_part(src, index.shape)
    x, s = arrays2(input, src)
    ufunc, start = _REDUCE[reduce]
    touched = np.zeros(x.shape, bool)
    touched[key] = True
    out = x.copy()
    if not include_self:
        out[touched] = start
    ufunc.at(out, key, s)
    count = np.ones(x.shape, np.int64) if include_self else np.zeros(x.shape, np.int64)
    np.add.at(count, key, 1)
    if reduce == "mean":
        count = np.maximum(count, 1)
        out = np.where(touched, out / count if x.dtype.kind == "f" else out // count, x).astype(x.dtype, copy=False)
    keep_self = np.where(touched, float(include_self), 1.0)
    if reduce in ("amax", "amin"):
        hit_self = (x == out) & (keep_self > 0)
        ties = hit_self.astype(np.int64)
        np.add.at(ties, key, s == out[key])
        w_self = np.where(hit_self, 1 / np.maximum(ties, 1), 0.0)
        w_src = (s == out[key]) / np.maximum(ties[key], 1)
    elif reduce == "mean":
        w_self, w_src = keep_self / count, 1 / count[key]
    else:
        w_self, w_src = keep_self, np.ones(s.shape)
    if reduce == "prod" and (input._rg or src._rg) and ((x[touched] == 0).any() or (s == 0).any()):
        raise NotImplementedError("the gradient of scatter_reduce(reduce='prod') where an input is zero is not supported by flambeau")
    return record(SCATTER_REDUCE, (input, src), out, (key, reduce, touched, w_self.astype(x.dtype), w_src.astype(x.dtype)))


_INDEX_DTYPE = {"index_add": ("index_add_(): Expected dtype int32/int64 for index but got: {got}", True, RuntimeError),
                "index_copy": ("index_copy_(): Expected a long tensor for index, but got {got}", False, RuntimeError),
                "index_fill": ("index_fill_(): Expected dtype int64 for index.", False, IndexError)}


def _along(input: Tensor, dim: int, index: Tensor, fname: str, error=RuntimeError, prefix: str = "") -> tuple:
    """The key of the slices ``index`` along ``dim``, its dim and the number of indices."""
    i = _index_array(index, *_INDEX_DTYPE[fname])
    d = _wrap_dim(dim, input._data.ndim)
    i = _check_range(i.reshape(-1), input._data.shape[d] if input._data.ndim else 1, d, error, prefix)
    return (slice(None),) * d + (i,), d, i.size


def _check_source(source: Tensor, d: int, n: int, fname: str, error=RuntimeError, sep: str = ":") -> None:
    size = source._data.shape[d] if source._data.ndim else 1
    if size != n:
        raise error(f"{fname}(): Number of indices ({n}) should be equal to source.size(dim){sep} ({size})" +
                    (f", for dim: {d}" if sep == ":" else ""))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats add up).

    >>> import flambeau as torch
    >>> torch.zeros(3).index_add(0, torch.tensor([2, 2]), torch.tensor([1., 2.]))
    tensor([0., 0., 3.])
    """
    _same_dtype(input, source, "index_add")
    key, d, n = _along(input, dim, index, "index_add")
    _check_source(source, d, n, "index_add_")
    return _put(INDEX_PUT["IndexAddBackward0"], input, source if alpha == 1 else source * alpha, key, True)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with ``source`` slices copied in at ``index`` along ``dim``.

    >>> import flambeau as torch
    >>> torch.zeros(3).index_copy(0, torch.tensor([2, 0]), torch.tensor([1., 2.]))
    tensor([2., 0., 1.])
    """
    _same_dtype(input, source, "index_copy")
    key, d, n = _along(input, dim, index, "index_copy", IndexError, "index_copy_(): ")
    _check_source(source, d, n, "index_copy_", IndexError, "")
    return _put(INDEX_PUT["IndexCopyBackward0"], input, source, key)


_SAME_DTYPE = {
    "scatter": "scatter(): Expected self.dtype to be equal to src.dtype",
    "index_add": "index_add_(): self ({a}) and source ({b}) must have the same scalar type",
    "index_copy": "index_copy_(): self and source expected to have the same dtype, but got (self) {a} and (source) {b}",
    "index_put": "Index put requires the source and destination dtypes match, got {a} for the destination and {b} for the source.",
    "masked_scatter": "masked_scatter: expected self and source to have same dtypes but got{a} and {b}",
    "put": "put_(): self and source expected to have the same dtype, but got self.dtype = {a} and source.dtype = {b}",
}


def _same_dtype(input: Tensor, src, fname: str) -> None:
    """These ops write ``src`` into ``input`` without casting: PyTorch requires equal dtypes."""
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        name = [_dtype.FROM_NP[t._data.dtype]._tensor_type[:-6] for t in (input, src)]
        raise RuntimeError(_SAME_DTYPE[fname].format(a=name[0], b=name[1]))


def _scalar_value(value, fname: str):
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"{fname} only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s).")
    return value


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices ``index`` along ``dim`` set to ``value``.

    >>> import flambeau as torch
    >>> torch.zeros(2, 2).index_fill(1, torch.tensor([1]), 7.)
    tensor([[0., 7.],
            [0., 7.]])
    """
    key, _, _ = _along(input, dim, index, "index_fill")
    value = _scalar_value(value, "index_fill_")
    return _put(INDEX_PUT["IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"], input, value, key)


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` written (or added, if ``accumulate``) at ``input[indices]``.

    >>> import flambeau as torch
    >>> torch.zeros(3).index_put((torch.tensor([1, 1]),), torch.tensor(1.), accumulate=True)
    tensor([0., 2., 0.])
    """
    _same_dtype(input, values, "index_put")
    key, _ = _np_key(tuple(indices))
    return _put(INDEX_PUT["IndexPutBackward0"], input, values, key, accumulate, IndexError)


def _mask(mask: Tensor, fname: str) -> np.ndarray:
    if mask._data.dtype != np.bool_:
        if fname == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        c_name = "long int" if mask._data.dtype == np.int64 else _c_name(mask._data.dtype)
        raise RuntimeError(f"{fname} only supports boolean masks, but got mask with dtype {c_name}")
    return mask._data


def _masked_key(input: Tensor, mask: np.ndarray) -> tuple[Tensor, tuple]:
    """``input`` expanded to the broadcast shape with ``mask``, and the mask broadcast to it as a key."""
    try:
        shape = np.broadcast_shapes(input._data.shape, mask.shape)
    except ValueError:
        from .elementwise import broadcast_error
        raise broadcast_error(input._data.shape, mask.shape) from None
    x = input if input._data.shape == shape else expand(input, shape)
    return x, (np.broadcast_to(mask, shape),)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` where ``mask`` is True.

    >>> import flambeau as torch
    >>> torch.tensor([1., 2.]).masked_fill(torch.tensor([True, False]), 0.)
    tensor([0., 2.])
    """
    x, key = _masked_key(input, _mask(mask, "masked_fill_"))
    value = _scalar_value(value, "masked_fill_")
    return _put(INDEX_PUT["MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0"], x, value, key)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor.

    >>> import flambeau as torch
    >>> torch.tensor([[1, 2], [3, 4]]).masked_select(torch.tensor([True, False]))
    tensor([1, 3])
    """
    x, key = _masked_key(input, _mask(mask, "masked_select"))
    return gather_at(MASKED_SELECT, x, key)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the first elements of ``source`` written, in order, where ``mask`` is True.

    >>> import flambeau as torch
    >>> torch.zeros(3).masked_scatter(torch.tensor([True, False, True]), torch.tensor([1., 2., 3.]))
    tensor([1., 0., 2.])
    """
    _same_dtype(input, source, "masked_scatter")
    x, key = _masked_key(input, _mask(mask, "masked_scatter_"))
    count = int(key[0].sum())
    if source._data.size < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return _put(INDEX_PUT["MaskedScatterBackward0"], x, reshape(source, -1)[:count], key)


def take(input: Tensor, index: Tensor) -> Tensor:
    """``input`` seen as 1-D, at ``index`` (shaped like ``index``; negative indices count from the end).

    >>> import flambeau as torch
    >>> torch.take(torch.tensor([[1, 2], [3, 4]]), torch.tensor([0, -1]))
    tensor([1, 4])
    """
    i = _index_array(index, "take(): Expected a long tensor for index, but got {got}", False)
    n = input._data.size
    bad = (i >= n) | (i < -n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(i[bad].ravel()[0])} on a tensor of {n} elements.")
    return gather_at(TAKE_FLAT, input, np.unravel_index(i % max(n, 1), input._data.shape))


PUT = put_op("PutBackward0")


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` seen as 1-D, with ``source`` written (or added) at ``index``.

    >>> import flambeau as torch
    >>> torch.zeros(2, 2).put(torch.tensor([1, -1]), torch.tensor([5., 6.]))
    tensor([[0., 5.],
            [0., 6.]])
    """
    i = _index_array(index, "put_(): Expected a long tensor for index, but got {got}", False)
    _same_dtype(input, source, "put")
    n = input._data.size
    bad = (i >= n) | (i < -n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(i[bad].ravel()[0])} on a tensor of {n} elements.")
    if source._data.size != i.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got source.numel() = "
                           f"{source._data.size}, index.numel() = {i.size}")
    return _put(PUT, input, reshape(source, i.shape), np.unravel_index(i % max(n, 1), input._data.shape), accumulate)


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False, side: str | None = None,
                 sorter: Tensor | None = None) -> Tensor:
    """Where ``input``'s values would go in the innermost dim of ``sorted_sequence`` to keep it sorted (no gradient).

    >>> import flambeau as torch
    >>> torch.searchsorted(torch.tensor([1, 3, 5]), torch.tensor([3, 6]))
    tensor([1, 3])
    """
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    v = input._data if isinstance(input, Tensor) else np.asarray(input)
    how = side or ("right" if right else "left")
    if seq.ndim <= 1:
        out = np.searchsorted(seq, v, side=how)
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
                               f"tensor and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and input value "
                               f"tensor {list(v.shape)}")
        rows, sr, vr = int(np.prod(seq.shape[:-1])), seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
        out = np.stack([np.searchsorted(sr[j], vr[j], side=how) for j in range(rows)]).reshape(v.shape) if rows else np.zeros(v.shape)
    return _new_tensor(np.asarray(out, np.int32 if out_int32 else np.int64), False, None, 0)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The index of the bucket of ``boundaries`` (1-D, sorted) each value of ``input`` falls in (no gradient).

    >>> import flambeau as torch
    >>> torch.bucketize(torch.tensor([3, 6]), torch.tensor([1, 3, 5]))
    tensor([1, 3])
    """
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with ``indices`` broadcast against ``input`` (or on the flattened input when ``dim`` is None).

    >>> import flambeau as torch
    >>> torch.take_along_dim(torch.tensor([[10, 30], [20, 5]]), torch.tensor([[1], [0]]), 1)
    tensor([[30],
            [20]])
    """
    if dim is None:
        return gather(reshape(input, -1), 0, reshape(indices, -1))
    x, i = input._data, indices._data
    d = _wrap_dim(dim, x.ndim)
    shape_x = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:], i.shape[:d] + (1,) + i.shape[d + 1:])
    xs, ixs = shape_x[:d] + (x.shape[d],) + shape_x[d + 1:], shape_x[:d] + (i.shape[d],) + shape_x[d + 1:]
    return gather(input if x.shape == xs else expand(input, xs), d, indices if i.shape == ixs else expand(indices, ixs))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an ``(n, ndim)`` tensor, or a tuple of 1-D tensors with ``as_tuple``.

    >>> import flambeau as torch
    >>> torch.nonzero(torch.tensor([0, 3, 5]))
    tensor([[1],
            [2]])
    """
    d = input._data
    idx = np.nonzero(d.reshape(1) if d.ndim == 0 else d)
    if as_tuple:
        return tuple(_long(i) for i in idx)
    return _long(np.stack(idx, 1) if d.ndim else np.zeros((idx[0].size, 0), np.int64))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: one row of indices per non-zero element.

    >>> import flambeau as torch
    >>> torch.argwhere(torch.tensor([[0, 1], [1, 0]]))
    tensor([[0, 1],
            [1, 0]])
    """
    return nonzero(input)


WHERE = defop("WhereBackward0", lambda cond, a, b: np.where(cond, a, b),
              None, lambda g, cond: m.where(cond, g, 0.0), lambda g, cond: m.where(cond, 0.0, g),
              text=("∂/∂a = [cond]", "∂/∂b = [not cond]"))


def where(condition: Tensor, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (either may be a number); ``where(cond)`` gives the indices."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
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


def _long(i: np.ndarray) -> Tensor:
    return _new_tensor(i.astype(np.int64), False, None, 0)



def _inplace_method(fn):
    def method(self, *args, **kwargs):
        return inplace(fn, self, *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.where = lambda self, condition, other: where(condition, self, other)
for _fn in (index_select, gather, scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_put, masked_fill,
            masked_select, masked_scatter, take, take_along_dim, put, nonzero, argwhere):
    setattr(Tensor, _fn.__name__, _fn)
for _fn in (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_put, masked_fill, masked_scatter, put):
    setattr(Tensor, _fn.__name__ + "_", _inplace_method(_fn))
