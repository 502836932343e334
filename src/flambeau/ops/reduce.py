"""Reductions, scans and sorting: one row per op; the gradient flows back by expanding over the reduced dims.

Three gradient shapes recur and are written once: ``expand_back`` (every element of the reduced
slice gets the gradient: sum, mean, norms), ``even_share`` (the elements equal to the result share
it equally: max/min of a whole tensor, amax/amin, median), and ``m.put_along`` (the gradient goes to
the selected index: max/min/median/kthvalue with ``dim``, sort, topk).
"""

from __future__ import annotations

import builtins
from math import prod as _prod

import numpy as np
from numpy import asarray, empty, ndarray  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__): the hot paths use these

from .. import _dtype, return_types
from .._tensor import Tensor, _new_tensor, _wrap_dim
from . import _record_one, apply, defop, m, math_fn
from .elementwise import F32, F64, _method_inplace, as_float, binary, isnan, lerp, logical_xor, maximum, minimum
from .indexing import gather
from .join import cat
from .linalg import linalg_svdvals
from .shape import movedim, permute

__all__ = ["sum", "mean", "nansum", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var", "std_mean", "var_mean",
           "logsumexp", "norm", "cumsum", "cumprod", "all", "any", "count_nonzero", "median", "sort",
           "argsort", "topk", "kthvalue", "unique", "nanmean", "aminmax", "cummax", "cummin", "msort", "dist", "diff", "bincount",
           "unique_consecutive", "histc", "logcumsumexp", "nanmedian", "mode", "quantile", "nanquantile"]


def norm_dims(dim, ndim: int) -> tuple | None:
    """``dim`` as a sorted tuple of non-negative ints (``None`` or ``()`` = every dim)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    out = tuple(sorted({_wrap_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return out


def expand_back(g, shape: tuple, dims: tuple | None):
    """Gradient of a reduction: put the reduced dims back (size 1), then broadcast to ``shape``."""
    if dims is None and type(g) is ndarray and _prod(shape) <= 4096:  # g: the one value of a reduction over all
        out = empty(shape, g.dtype)  # small: a fresh array is cheaper than a broadcast view
        out[...] = g
        return out
    kshape = tuple(1 if dims is None or i in dims else s for i, s in enumerate(shape))
    return m.expand(m.reshape(g, kshape), shape)


def _sum_all(x: np.ndarray) -> np.ndarray:
    """The sum of all elements, as a 0-d array (written into one: cheaper than wrapping the scalar NumPy returns)."""
    return np.add.reduce(x, None, None, empty((), x.dtype))


def reduced_size(shape: tuple, dims: tuple | None) -> int:
    if dims is None:
        return _prod(shape)
    n = 1
    for i, s in enumerate(shape):
        if i in dims:
            n *= s
    return n


#                                 forward                                               ∂ℒ/∂x
SUM = defop("SumBackward0",       lambda x, shape: _sum_all(x),                         lambda g, shape: expand_back(g, shape, None),
            text=("∂(Σx)/∂xᵢ = 1",))
SUM_DIM = defop("SumBackward1",   lambda x, dims, keepdim, shape: np.add.reduce(x, axis=dims, keepdims=keepdim),
                                                                                        lambda g, dims, shape: expand_back(g, shape, dims),
                text=("∂(Σx)/∂xᵢ = 1",))
MEAN = defop("MeanBackward0",     lambda x, shape: _mean(x, None, False),               lambda g, shape: mean_back(g, shape, None),
             text=("∂(mean x)/∂xᵢ = 1/n",))
MEAN_DIM = defop("MeanBackward1", lambda x, dims, keepdim, shape: _mean(x, dims, keepdim),
                                                                                        lambda g, dims, shape: mean_back(g, shape, dims),
                 text=("∂(mean x)/∂xᵢ = 1/n",))


def mean_back(g, shape: tuple, dims: tuple | None):
    n = reduced_size(shape, dims)
    if dims is None and type(g) is ndarray and not g.ndim and n <= 4096:
        out = empty(shape, g.dtype)  # the mean of all: one value divided once, in NumPy's scalar math (bit for bit the same)
        out.fill(g[()] / n)
        return out
    return expand_back(g, shape, dims) / n


def _mean(x: np.ndarray, dims: tuple | None, keepdim: bool) -> np.ndarray:
    dt = x.dtype
    if dims is None and not keepdim and (dt is F32 or dt is F64):  # the mean of all: the sum divided in NumPy's scalar math
        return asarray(np.add.reduce(x, axis=None) / x.size)
    n = reduced_size(x.shape, dims)
    if dt.char == "e":  # float16: accumulate half precision in float32, as PyTorch does
        return (np.add.reduce(x, axis=dims, keepdims=keepdim, dtype=np.float32) / n).astype(np.float16)
    return np.asarray(np.add.reduce(x, axis=dims, keepdims=keepdim) / n, dt)


def _sum_dtype(x: Tensor, dtype) -> np.dtype | None:
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    return np.dtype(np.int64) if x._data.dtype.kind in "biu" else None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all elements, or over ``dim`` (an int or a tuple); integers sum to int64.

    >>> import flambeau as torch
    >>> torch.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
    tensor([4., 6.])
    """
    d = input._data
    dt = d.dtype
    if dtype is not None or not (dt is F32 or dt is F64):
        npd = _sum_dtype(input, dtype)
        if npd is not None:
            d = d.astype(npd, copy=False)
    if dim is None:
        return _record_one(SUM, input, _sum_all(d), (d.shape,))
    return apply(SUM_DIM, (input,), (d,), (norm_dims(dim, d.ndim), keepdim, d.shape))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of all elements, or over ``dim``; defined for floating dtypes only (as PyTorch)."""
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_dtype(dtype).np, copy=False)
    dt = d.dtype
    if not (dt is F32 or dt is F64 or dt.kind == "f"):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
                           f"Got: {_dtype.FROM_NP[dt]._tensor_type[:-6]}")
    if dim is None:
        return _record_one(MEAN, input, _mean(d, None, False), (d.shape,))
    return apply(MEAN_DIM, (input,), (d,), (norm_dims(dim, d.ndim), keepdim, d.shape))


# ---- math the formulas below use (arrays and Tensors alike) ------------------------------------

math_fn("sum", lambda x, dim=None, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim))
math_fn("mean", lambda x, dim=None, keepdim=False: np.mean(x, axis=dim, keepdims=keepdim))
math_fn("prod", lambda x, dim=None, keepdim=False: np.prod(x, axis=dim, keepdims=keepdim),
        lambda x, dim=None, keepdim=False: prod(x, dim if dim is None else dim[0], keepdim))
math_fn("cumprod", lambda x, dim: np.cumprod(x, axis=dim))
math_fn("cumsum", lambda x, dim: np.cumsum(x, axis=dim))
math_fn("rev_cumsum", lambda x, dim: _rev_cumsum(x, dim), lambda x, dim: apply(REV_CUMSUM, (x,), (x._data,), (dim,)))
math_fn("logcumsumexp", lambda x, dim: np.logaddexp.accumulate(x, axis=dim), lambda x, dim: logcumsumexp(x, dim))
math_fn("take_along", lambda x, idx, dim, keepdim: _take(x, idx, dim, keepdim),
        lambda x, idx, dim, keepdim: apply(GATHER, (x,), (x._data,), (idx, dim, keepdim, x._data.shape)))
math_fn("add_along", lambda g, idx, dim, shape: _add_along(g, idx, dim, shape),
        lambda g, idx, dim, shape: apply(SCATTER_ADD, (g,), (g._data,), (idx, dim, shape)))
math_fn("put_along", lambda g, idx, dim, keepdim, shape: _put(g, idx, dim, keepdim, shape),
        lambda g, idx, dim, keepdim, shape: apply(SCATTER, (g,), (g._data,), (idx, dim, keepdim, shape)))


def _rev_cumsum(x, dim: int):
    return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)


def _take(x, idx, dim: int, keepdim: bool):
    """The elements at ``idx`` (indices along ``dim``, in keepdim form); ``dim`` dropped unless ``keepdim``."""
    if x.ndim == 0:
        return x
    out = np.take_along_axis(x, idx, dim)
    return out if keepdim else out.squeeze(dim)


def _put(g, idx, dim: int, keepdim: bool, shape: tuple):
    """The gradient of :func:`_take`: zeros of ``shape`` with ``g`` placed at ``idx``."""
    if not shape:
        return g
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, idx, g if keepdim else np.expand_dims(g, dim), dim)
    return out


def _add_along(g, idx, dim: int, shape: tuple):
    """Zeros of ``shape`` with ``g`` added at ``idx`` along ``dim`` (indices may repeat: cummax, cummin)."""
    out = np.zeros(shape, g.dtype)
    where = list(np.indices(idx.shape, sparse=True))
    where[dim] = idx
    np.add.at(out, tuple(where), g)
    return out


def _logcumsumexp_grad(g, x, out, dim: int):
    """∂ℒ/∂xᵢ = Σ_{j≥i} gⱼ·e^(xᵢ - outⱼ) (each exponent ≤ 0), summed in log space. Logs need positive weights: it is
    computed for g + k and for k, with k = 2·max|g| of the slice, so that it stays linear in g (forward mode reads its
    tangent from that); plain backward does it in float64, where the shift by k costs no digits that matter."""
    if isinstance(g, np.ndarray):
        g, x, out = g.astype(np.float64), x.astype(np.float64), out.astype(np.float64)
        k = 2 * np.max(np.abs(g), axis=dim, keepdims=True)
    else:
        k = _new_tensor(2 * np.max(np.abs(g._data), axis=dim, keepdims=True), False, None, 0)
    k = m.where(k > 0, k, 1.0)

    def part(w):
        return m.exp(m.flip(m.logcumsumexp(m.flip(m.log(w) - out, dim), dim), dim) + x)
    return part(g + k) - part(k)


def _aminmax_grad(g, x, out, dims, shape):
    total = 0
    for gk, ok in zip(g, out):
        if gk is not None:
            total = total + even_share(gk, x, ok, dims, shape)
    return total


def _dist_grad(g, a, b, out, p, sign):
    d = a - b
    return _vector_norm_grad(g, d, out, p, None, tuple(d.shape)) * sign


def even_share(g, x, out, dims, shape):
    """Gradient of max/min-like reductions: the elements equal to the result share ``g`` equally."""
    hit = x == expand_back(out, shape, dims)
    return expand_back(g, shape, dims) * hit / expand_back(m.sum(hit, dims), shape, dims)


def _prod_grad(g, x, out, dims, shape):
    """∂prod/∂xᵢ = product of the others; exact with one zero (only it gets a gradient) or several (none does)."""
    ge = expand_back(g, shape, dims)
    zero = x == 0
    if not zero.any():
        return ge * expand_back(out, shape, dims) / x
    nonzero = m.where(zero, 1.0, x)
    others = expand_back(m.prod(nonzero, dims), shape, dims)
    n_zero = expand_back(m.sum(zero, dims), shape, dims)
    return ge * m.where(zero, others * (n_zero == 1), others / nonzero * (n_zero == 0))


def _cumprod_grad(g, x, out, dim: int):
    """∂ℒ/∂xᵢ = Σ_{j≥i} gⱼ·Π_{k≤j, k≠i} xₖ; the quotient form when no x is 0, else the exact O(n²) products."""
    if not (x == 0).any():
        return m.rev_cumsum(g * out, dim) / x
    xt, gt = m.transpose(x, dim, -1), m.transpose(g, dim, -1)
    n = xt.shape[-1]
    lead = tuple(xt.shape[:-1])
    skip_i = m.where(np.eye(n, dtype=bool), 1.0, m.reshape(xt, lead + (1, n)))     # [.., i, k] = x_k, 1 at k = i
    partial = m.cumprod(skip_i, -1)                                                  # [.., i, j] = Π_{k≤j, k≠i} x_k
    terms = m.where(np.triu(np.ones((n, n), dtype=bool)), partial * m.reshape(gt, lead + (1, n)), 0.0)
    return m.transpose(m.sum(terms, -1), dim, -1)


def _std_grad(g, x, out, dims, correction, shape):
    """∂std/∂x = (x - mean) / ((N - correction)·std), 0 where std is 0 (as PyTorch)."""
    safe = m.where(out == 0, 1.0, out)
    return _var_grad(m.where(out == 0, 0.0, g / safe) / 2, x, dims, correction, shape)


def _var_grad(g, x, dims, correction, shape):
    """∂var/∂x = 2 (x - mean) / (N - correction)."""
    return expand_back(g, shape, dims) * (x - m.mean(x, dims, True)) * float(np.divide(2.0, reduced_size(shape, dims) - correction))


def _moments_grad(g, x, out, dims, correction, shape, spread):
    """Gradient of (std or var, mean) pairs; either part may carry no gradient."""
    g_spread, g_mean = g
    total = 0
    if g_spread is not None:
        total = spread(g_spread, x, out[0], dims, correction, shape) if spread is _std_grad else _var_grad(g_spread, x, dims, correction, shape)
    if g_mean is not None:
        total = total + expand_back(g_mean, shape, dims) / reduced_size(shape, dims)
    return total


def _vector_norm_grad(g, x, out, ord, dims, shape):
    if ord == 0:
        return None     # PyTorch leaves the gradient of the 0-"norm" (a count) undefined
    ge, oe = expand_back(g, shape, dims), expand_back(out, shape, dims)
    if ord == 1:
        return ge * m.sign(x)
    if ord in (np.inf, -np.inf):
        return even_share(g, m.abs(x), out, dims, shape) * m.sign(x)
    safe = m.where(oe == 0, 1.0, oe)    # at the origin x is 0 there too: the gradient is 0, not nan
    if ord == 2:
        return ge * x / safe
    return ge * m.sign(x) * (m.abs(x) / safe) ** (ord - 1)


def _vector_norm(x, ord, dims, keepdim):
    a = np.abs(x)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    if ord == 1:
        return np.sum(a, axis=dims, keepdims=keepdim)
    if ord == np.inf:
        return np.max(a, axis=dims, keepdims=keepdim)
    if ord == -np.inf:
        return np.min(a, axis=dims, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    return np.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1 / ord)


def _logsumexp(x, dims, keepdim):
    top = np.max(x, axis=dims, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=dims, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=dims)


def _selection(name: str):
    """An op picking elements by precomputed indices along ``dim`` (max/min with dim, sort, topk ...)."""
    return defop(name, lambda x, idx, dim, keepdim, shape: _take(x, idx, dim, keepdim),
                 lambda g, idx, dim, keepdim, shape: m.put_along(g, idx, dim, keepdim, shape), text=("∂ℒ/∂x = g at the picked index, else 0",))


def _even(name: str, fwd):
    return defop(name, fwd, lambda g, x, out, dims, keepdim, shape: even_share(g, x, out, dims, shape),
                 text=("∂ℒ/∂x = g shared equally by the elements equal to the result",))


#                                            forward on arrays                                       ∂ℒ/∂x
NANSUM = defop("NansumBackward0",  lambda x, dims, keepdim, shape: np.nansum(x, axis=dims, keepdims=keepdim),
               lambda g, x, dims, shape: expand_back(g, shape, dims) * (x == x), text=("∂(Σ non-nan x)/∂xᵢ = [xᵢ is not nan]",))
PROD = defop("ProdBackward0",      lambda x, dims, keepdim, shape: np.prod(x, axis=dims, keepdims=keepdim),
             lambda g, x, out, dims, shape: _prod_grad(g, x, out, dims, shape), text=("∂(Πx)/∂xᵢ = Π_{j≠i} xⱼ",))
PROD_DIM = defop("ProdBackward1",  lambda x, dims, keepdim, shape: np.prod(x, axis=dims, keepdims=keepdim),
                 lambda g, x, out, dims, shape: _prod_grad(g, x, out, dims, shape), text=("∂(Πx)/∂xᵢ = Π_{j≠i} xⱼ",))
MAX_ALL = _even("MaxBackward1",    lambda x, dims, keepdim, shape: np.max(x))
MIN_ALL = _even("MinBackward1",    lambda x, dims, keepdim, shape: np.min(x))
AMAX = _even("AmaxBackward0",      lambda x, dims, keepdim, shape: np.max(x, axis=dims, keepdims=keepdim))
AMIN = _even("AminBackward0",      lambda x, dims, keepdim, shape: np.min(x, axis=dims, keepdims=keepdim))
MEDIAN_ALL = _even("MedianBackward0", lambda x, dims, keepdim, shape: _lower_median(x))
NANMEDIAN_ALL = _even("NanmedianBackward0", lambda x, dims, keepdim, shape: _lower_nanmedian(x))
MAX_DIM, MIN_DIM, MEDIAN_DIM = _selection("MaxBackward0"), _selection("MinBackward0"), _selection("MedianBackward1")
NANMEDIAN_DIM, MODE = _selection("NanmedianBackward1"), _selection("ModeBackward0")
KTHVALUE, SORT, TOPK = _selection("KthvalueBackward0"), _selection("SortBackward0"), _selection("TopkBackward0")
GATHER = _selection("GatherBackward0")
SCATTER = defop("ScatterBackward0", lambda g, idx, dim, keepdim, shape: _put(g, idx, dim, keepdim, shape),
                lambda g, idx, dim, keepdim: m.take_along(g, idx, dim, keepdim), text=("∂ℒ/∂src = g at the indices",))
VAR = defop("VarBackward0",        lambda x, dims, correction, keepdim, shape: _var(x, dims, correction, keepdim),
            lambda g, x, dims, correction, shape: _var_grad(g, x, dims, correction, shape), text=("∂var/∂xᵢ = 2(xᵢ - x̄)/(N - c)",))
STD = defop("StdBackward0",        lambda x, dims, correction, keepdim, shape: np.sqrt(_var(x, dims, correction, keepdim)),
            lambda g, x, out, dims, correction, shape: _std_grad(g, x, out, dims, correction, shape), text=("∂std/∂xᵢ = (xᵢ - x̄)/((N - c)·std)",))
VAR_MEAN = defop("VarMeanBackward0", lambda x, dims, correction, keepdim, shape: (_var(x, dims, correction, keepdim),
                                                                                   np.mean(x, axis=dims, keepdims=keepdim)),
                 lambda g, x, out, dims, correction, shape: _moments_grad(g, x, out, dims, correction, shape, _var_grad), nout=2)
STD_MEAN = defop("StdMeanBackward0", lambda x, dims, correction, keepdim, shape: (np.sqrt(_var(x, dims, correction, keepdim)),
                                                                                   np.mean(x, axis=dims, keepdims=keepdim)),
                 lambda g, x, out, dims, correction, shape: _moments_grad(g, x, out, dims, correction, shape, _std_grad), nout=2)
LOGSUMEXP = defop("LogsumexpBackward0", lambda x, dims, keepdim, shape: _logsumexp(x, dims, keepdim),
                  lambda g, x, out, dims, shape: expand_back(g, shape, dims) * m.exp(x - expand_back(out, shape, dims)),
                  text=("∂logΣeˣ/∂xᵢ = e^(xᵢ - out)",))
VECTOR_NORM = defop("LinalgVectorNormBackward0", lambda x, dims, ord, keepdim, shape: _vector_norm(x, ord, dims, keepdim),
                    lambda g, x, out, ord, dims, shape: _vector_norm_grad(g, x, out, ord, dims, shape), text=("∂‖x‖₂/∂x = x/‖x‖₂",))
SCATTER_ADD = defop("ScatterAddBackward0", lambda g, idx, dim, shape: _add_along(g, idx, dim, shape),
                    lambda g, idx, dim: m.take_along(g, idx, dim, True), text=("∂ℒ/∂src = g at the indices",))
CUMMAX = defop("CummaxBackward0",  lambda x, idx, dim, shape: np.take_along_axis(x, idx, dim),
               lambda g, idx, dim, shape: m.add_along(g, idx, dim, shape), text=("∂ℒ/∂xᵢ = Σ of g where the running max is xᵢ",))
CUMMIN = defop("CumminBackward0",  lambda x, idx, dim, shape: np.take_along_axis(x, idx, dim),
               lambda g, idx, dim, shape: m.add_along(g, idx, dim, shape), text=("∂ℒ/∂xᵢ = Σ of g where the running min is xᵢ",))
AMINMAX = defop("AminmaxBackward0", lambda x, dims, keepdim, shape: (np.min(x, axis=dims, keepdims=keepdim),
                                                                     np.max(x, axis=dims, keepdims=keepdim)),
                lambda g, x, out, dims, shape: _aminmax_grad(g, x, out, dims, shape), nout=2,
                text=("∂ℒ/∂x = g shared equally by the elements equal to the min (and to the max)",))
DIST = defop("DistBackward0",      lambda a, b, p: _vector_norm(a - b, p, None, False),
             lambda g, a, b, out, p: _dist_grad(g, a, b, out, p, 1), lambda g, a, b, out, p: _dist_grad(g, a, b, out, p, -1),
             text=("∂‖a-b‖/∂a = ∂‖d‖/∂d", "∂‖a-b‖/∂b = -∂‖d‖/∂d"))
CUMSUM = defop("CumsumBackward0",  lambda x, dim: np.cumsum(x, axis=dim),       lambda g, dim: m.rev_cumsum(g, dim),
               text=("∂ℒ/∂xᵢ = Σ_{j≥i} gⱼ",))
REV_CUMSUM = defop("RevCumsumBackward0", lambda x, dim: _rev_cumsum(x, dim),    lambda g, dim: m.cumsum(g, dim),
                   text=("∂ℒ/∂xᵢ = Σ_{j≤i} gⱼ",))
LOGCUMSUMEXP = defop("LogcumsumexpBackward0", lambda x, dim: np.logaddexp.accumulate(x, axis=dim),
                     lambda g, x, out, dim: _logcumsumexp_grad(g, x, out, dim), text=("∂ℒ/∂xᵢ = Σ_{j≥i} gⱼ·e^(xᵢ - outⱼ)",))
CUMPROD = defop("CumprodBackward0", lambda x, dim: np.cumprod(x, axis=dim),     lambda g, x, out, dim: _cumprod_grad(g, x, out, dim),
                text=("∂ℒ/∂xᵢ = Σ_{j≥i} gⱼ·Π_{k≤j, k≠i} xₖ",))


def _var(x, dims, correction, keepdim):
    n = reduced_size(x.shape, dims)
    mean = np.mean(x, axis=dims, keepdims=True)
    d = x - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(d * d, axis=dims, keepdims=keepdim) / builtins.max(n - correction, 0)


def _lower_median(x):
    flat = np.sort(x, axis=None)
    if flat.size and np.isnan(flat[-1]):
        return flat[-1]
    return flat[(flat.size - 1) // 2]


def _lower_nanmedian(x):
    flat = np.sort(x, axis=None)
    if flat.size == 0:
        return np.array(np.nan, x.dtype)
    return flat[builtins.max(int(np.count_nonzero(flat == flat)) - 1, 0) // 2]   # all NaN: NaN


# ---- helpers for the public functions -----------------------------------------------------------

def _type_name(d: np.ndarray) -> str:
    return _dtype.FROM_NP[d.dtype]._tensor_type[:-6]


def _require_float(x: Tensor, message: str) -> None:
    if x._data.dtype.kind != "f":
        raise RuntimeError(message.format(_type_name(x._data)))


def _reduce(op, x: Tensor, dim, keepdim: bool, *extra, data: np.ndarray | None = None) -> Tensor:
    """Run a reduction row whose attrs are ``(dims, *extra, keepdim, shape)``."""
    d = x._data if data is None else data
    dims = norm_dims(dim, builtins.max(d.ndim, 1))
    if d.ndim == 0:
        dims = None
    with np.errstate(all="ignore"):
        return apply(op, (x,), (d,), (dims, *extra, keepdim, d.shape))


def _long(a) -> Tensor:
    return _new_tensor(np.asarray(a, dtype=np.int64), False, None, 0)


def _indexed(kind, op, x: Tensor, idx: np.ndarray, dim: int, keepdim: bool):
    """The ``(values, indices)`` named tuple of a selection with indices ``idx`` (keepdim form) along ``dim``."""
    if x._data.ndim == 0:
        idx, keepdim = idx.reshape(()), True
    values = apply(op, (x,), (x._data,), (idx, dim, keepdim, x._data.shape))
    return kind(values, _long(idx if keepdim else idx.squeeze(dim)))


def _one_dim(x: Tensor, dim: int) -> int:
    return _wrap_dim(dim, builtins.max(x._data.ndim, 1))


def _along(x: Tensor, dim: int) -> tuple:
    """``(data, dim)`` for an op along ``dim``: a 0-dim tensor is seen as shape (1,) (PyTorch lets dim 0/-1 index a scalar)."""
    d = x._data
    d = d.reshape(1) if d.ndim == 0 else d
    return d, _wrap_dim(dim, d.ndim)


def _empty_check(x: Tensor, name: str) -> None:
    if x._data.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with "
                           "the 'dim' argument.")


def _arg_sort(d: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``dim``; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(d, axis=dim, kind="stable")
    n = d.shape[dim]
    return n - 1 - np.flip(np.argsort(np.flip(d, dim), axis=dim, kind="stable"), dim)


# ---- public functions -------------------------------------------------------------------------

def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero.

    >>> import flambeau as torch
    >>> torch.nansum(torch.tensor([1., float('nan'), 2.]))
    tensor(3.)
    """
    d = input._data
    npd = _sum_dtype(input, dtype)
    return _reduce(NANSUM, input, dim, keepdim, data=d if npd is None else d.astype(npd, copy=False))


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along ``dim``; exact gradients when elements are 0.

    >>> import flambeau as torch
    >>> torch.prod(torch.tensor([[1., 2.], [3., 4.]]), 1)
    tensor([ 2., 12.])
    """
    d = input._data
    npd = _sum_dtype(input, dtype)
    d = d if npd is None else d.astype(npd, copy=False)
    if dim is None:
        return _reduce(PROD, input, None, False, data=d)
    return _reduce(PROD_DIM, input, _one_dim(input, dim), keepdim, data=d)


def _extreme(name: str, whole, along, kind, pick, binary):
    def fn(input: Tensor, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return binary(input, dim)
        if dim is None:
            _empty_check(input, name)
            return _reduce(whole, input, None, False)
        d, dim = _along(input, dim)
        return _indexed(kind, along, input, np.expand_dims(pick(d, axis=dim), dim), dim, keepdim)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The {name}imum of all elements; with ``dim``, a ``(values, indices)`` named tuple; with a tensor, "
                  f"``{name}imum(input, other)``.\n\n    >>> import flambeau as torch\n"
                  f"    >>> torch.{name}(torch.tensor([[1., 5.], [7., 3.]]), dim=1).indices\n"
                  f"    tensor({[1, 0] if name == 'max' else [0, 1]})\n    ")
    return fn


max = _extreme("max", MAX_ALL, MAX_DIM, return_types.max, np.argmax, maximum)
min = _extreme("min", MIN_ALL, MIN_DIM, return_types.min, np.argmin, minimum)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims by default); tied elements share the gradient equally.

    >>> import flambeau as torch
    >>> torch.amax(torch.tensor([[1., 5.], [7., 3.]]), dim=0)
    tensor([7., 5.])
    """
    return _reduce(AMAX, input, dim, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims by default); tied elements share the gradient equally."""
    return _reduce(AMIN, input, dim, keepdim)


def _arg_extreme(pick):
    def fn(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
        d = input._data
        if d.dtype.kind == "b":
            raise RuntimeError(f"{pick.__name__}(): does not support bool input")
        if dim is None:
            i = pick(d)
            return _long(np.full((1,) * d.ndim, i) if keepdim else i)
        return _long(pick(d, axis=_wrap_dim(dim, builtins.max(d.ndim, 1)), keepdims=keepdim) if d.ndim else 0)
    return fn


argmax = _arg_extreme(np.argmax)
argmin = _arg_extreme(np.argmin)
argmax.__name__, argmin.__name__ = "argmax", "argmin"
argmax.__doc__ = """Index of the first maximum (of the flattened tensor, or along ``dim``).

    >>> import flambeau as torch
    >>> torch.argmax(torch.tensor([[1., 5.], [7., 3.]]), dim=1)
    tensor([1, 0])
    """
argmin.__doc__ = "Index of the first minimum (of the flattened tensor, or along ``dim``)."


def _correction(dim, unbiased, correction) -> tuple:
    """PyTorch's ``std``/``var`` argument forms: ``(x, unbiased)``, ``(x, dim, unbiased, keepdim)``, ``correction=``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise TypeError("std()/var() received an invalid combination of arguments - got both unbiased and correction")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _spread(op, input: Tensor, dim, unbiased, keepdim, correction):
    _require_float(input, "std and var only support floating point and complex dtypes")
    dim, correction = _correction(dim, unbiased, correction)
    return _reduce(op, input, dim, keepdim, correction)


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` (all by default) with ``correction`` (1: Bessel's, the default; ``unbiased=False`` is 0).

    >>> import flambeau as torch
    >>> torch.var(torch.tensor([1., 2., 3., 4.]))
    tensor(1.6667)
    """
    return _spread(VAR, input, dim, unbiased, keepdim, correction)


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: ``sqrt(var(...))`` with the same arguments; its gradient is 0 where it is 0."""
    return _spread(STD, input, dim, unbiased, keepdim, correction)


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> tuple:
    """``(var, mean)`` in one pass.

    >>> import flambeau as torch
    >>> torch.var_mean(torch.tensor([1., 3.]))[1]
    tensor(2.)
    """
    return _spread(VAR_MEAN, input, dim, unbiased, keepdim, correction)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> tuple:
    """``(std, mean)`` in one pass."""
    return _spread(STD_MEAN, input, dim, unbiased, keepdim, correction)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` without overflow (values of 1e4 are fine).

    >>> import flambeau as torch
    >>> torch.logsumexp(torch.tensor([10000., 10000.]), 0)
    tensor(10000.6934)
    """
    return _reduce(LOGSUMEXP, input, dim, keepdim, data=as_float(input._data))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` flattened, or over ``dim``: ord = 2, 1, inf, -inf, 0 or any p. Its gradient at 0 is 0.

    >>> import flambeau as torch
    >>> torch.linalg.vector_norm(torch.tensor([3., 4.]))
    tensor(5.)
    """
    d = x._data if dtype is None else x._data.astype(_dtype.to_dtype(dtype).np)
    if d.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_type_name(d)}")
    return _reduce(VECTOR_NORM, x, dim, keepdim, float(ord), data=d)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: a vector norm over ``dim`` (all elements by default); ``p='fro'`` is the 2-norm, ``'nuc'`` the nuclear norm.

    >>> import flambeau as torch
    >>> torch.tensor([[3., 4.]]).norm()
    tensor(5.)
    """
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'``, 2/-2 (largest/smallest singular value), 1/-1 (max/min
    column abs sum), inf/-inf (max/min row abs sum).

    >>> import flambeau as torch
    >>> torch.linalg.matrix_norm(torch.tensor([[1., -2.], [3., 4.]]), 1)
    tensor(6.)
    """
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (_wrap_dim(d, nd) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in ("nuc", 2, -2):
        return _spectral_norm(A if dtype is None else A.to(dtype), ord, d0, d1, keepdim)
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, kept = (d0, d1) if builtins.abs(ord) == 1 else (d1, d0)
    sums = vector_norm(A, 1, summed, keepdim, dtype=dtype)
    pick = amax if ord > 0 else amin
    return pick(sums, kept if keepdim or kept < summed else kept - 1, keepdim)


def _spectral_norm(A: Tensor, ord, d0: int, d1: int, keepdim: bool) -> Tensor:
    """Matrix norms of the singular values: their sum (``'nuc'``), largest (2) or smallest (-2)."""
    nd = A._data.ndim
    rest = tuple(i for i in range(nd) if i not in (d0, d1))
    sv = linalg_svdvals(A if (d0, d1) == (nd - 2, nd - 1) else permute(A, rest + (d0, d1)))
    out = sum(sv, -1) if ord == "nuc" else (amax if ord == 2 else amin)(sv, -1)
    if keepdim:
        out = out.reshape(tuple(1 if i in (d0, d1) else s for i, s in enumerate(A._data.shape)))
    return out


def _scan(op, input: Tensor, dim: int, dtype) -> Tensor:
    if input._data.ndim == 0:   # a scan of a scalar (dim 0 or -1) is the scalar
        return _scan(op, input.reshape(1), _wrap_dim(dim, 1), dtype).reshape(())
    d = input._data
    npd = _sum_dtype(input, dtype)
    return apply(op, (input,), (d if npd is None else d.astype(npd, copy=False),), (_wrap_dim(dim, d.ndim),))


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim`` (integers accumulate in int64).

    >>> import flambeau as torch
    >>> torch.cumsum(torch.tensor([1., 2., 3.]), 0)
    tensor([1., 3., 6.])
    """
    return _scan(CUMSUM, input, dim, dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``; exact gradients when elements are 0.

    >>> import flambeau as torch
    >>> torch.cumprod(torch.tensor([1., 2., 3.]), 0)
    tensor([1., 2., 6.])
    """
    return _scan(CUMPROD, input, dim, dtype)


def _truth(reduce_fn, name: str):
    def fn(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        d = input._data
        out = reduce_fn(d, axis=norm_dims(dim, d.ndim), keepdims=keepdim)
        return _new_tensor(np.asarray(out).astype(np.uint8 if d.dtype == np.uint8 else np.bool_), False, None, 0)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Whether {name} element is true (nonzero), overall or over ``dim``.\n\n    >>> import flambeau as torch\n"
                  f"    >>> torch.{name}(torch.tensor([True, False]))\n    tensor({name == 'any'})\n    ")
    return fn


all = _truth(np.all, "all")
any = _truth(np.any, "any")


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements are nonzero, overall or over ``dim``.

    >>> import flambeau as torch
    >>> torch.count_nonzero(torch.tensor([0, 1, 2]))
    tensor(2)
    """
    d = input._data
    return _long(np.count_nonzero(d, axis=norm_dims(dim, d.ndim)))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median of all elements; with ``dim``, a ``(values, indices)`` named tuple.

    >>> import flambeau as torch
    >>> torch.median(torch.tensor([4., 1., 3., 2.]))
    tensor(2.)
    """
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
    if dim is None:
        _empty_check(input, "median")
        return _reduce(MEDIAN_ALL, input, None, False)
    d, dim = _along(input, dim)
    order = np.argsort(d, axis=dim, kind="stable")
    pos = np.take(order, [(d.shape[dim] - 1) // 2], axis=dim)
    last = np.take(order, [d.shape[dim] - 1], axis=dim)
    idx = np.where(np.isnan(np.take_along_axis(d, last, dim)), last, pos)   # a NaN in the slice is the median, as PyTorch
    return _indexed(return_types.median, MEDIAN_DIM, input, idx, dim, keepdim)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """``median`` ignoring NaN (NaN only where all are NaN); with ``dim``, a ``(values, indices)`` named tuple.

    >>> import flambeau as torch
    >>> torch.nanmedian(torch.tensor([4., float('nan'), 1., 3.]))
    tensor(3.)
    """
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
    if dim is None:
        return _reduce(NANMEDIAN_ALL, input, None, False)
    d, dim = _along(input, dim)
    if d.shape[dim] == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    order = np.argsort(d, axis=dim, kind="stable")    # NaN last
    count = np.sum(d == d, axis=dim, keepdims=True)
    idx = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, dim)
    return _indexed(return_types.nanmedian, NANMEDIAN_DIM, input, idx, dim, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and its last index, as a named tuple.

    >>> import flambeau as torch
    >>> torch.mode(torch.tensor([1., 2., 2., 1., 3.]))
    torch.return_types.mode(
    values=tensor(1.),
    indices=tensor(3))
    """
    d, dim = _along(input, dim)
    n = d.shape[dim]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
    order = np.moveaxis(np.argsort(d, axis=dim, kind="stable"), dim, -1)
    s = np.take_along_axis(np.moveaxis(d, dim, -1), order, -1)
    pos = np.arange(n)
    starts = np.ones(s.shape, bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    run = pos - np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)   # length so far of each run of equal values, minus 1
    last_of_longest = np.argmax(run, axis=-1)[..., None]                    # the first longest run is the smallest value
    idx = np.moveaxis(np.take_along_axis(order, last_of_longest, -1), -1, dim)   # sorting is stable: its last index
    return _indexed(return_types.mode, MODE, input, idx, dim, keepdim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` sorted along ``dim`` (NaN last); the order of equal elements is kept (always stable).

    >>> import flambeau as torch
    >>> torch.sort(torch.tensor([3., 1., 2.]), descending=True).indices
    tensor([0, 2, 1])
    """
    d, dim = _along(input, dim)
    return _indexed(return_types.sort, SORT, input, _arg_sort(d, dim, descending), dim, True)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim``.

    >>> import flambeau as torch
    >>> torch.argsort(torch.tensor([3., 1., 2.]))
    tensor([1, 2, 0])
    """
    d = input._data
    if d.ndim == 0:
        return _long(0)
    return _long(_arg_sort(d, _wrap_dim(dim, d.ndim), descending))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, sorted.

    >>> import flambeau as torch
    >>> torch.topk(torch.tensor([1., 4., 2., 3.]), 2).values
    tensor([4., 3.])
    """
    d, dim = _along(input, dim)
    if k < 0 or k > d.shape[dim]:
        raise RuntimeError("selected index k out of range")
    idx = np.take(_arg_sort(d, dim, largest), np.arange(k), axis=dim)
    return _indexed(return_types.topk, TOPK, input, idx, dim, True)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest element along ``dim`` (k from 1) and its index, as a named tuple.

    >>> import flambeau as torch
    >>> torch.kthvalue(torch.tensor([3., 1., 2.]), 2).values
    tensor(2.)
    """
    d, dim = _along(input, dim)
    if not 1 <= k <= d.shape[dim]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    idx = np.take(_arg_sort(d, dim, False), [k - 1], axis=dim)
    return _indexed(return_types.kthvalue, KTHVALUE, input, idx, dim, keepdim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool) -> Tensor:
    """Quantiles as PyTorch computes them: sort, pick the two neighbours of rank q·(n-1) with ``gather``, ``lerp`` between them."""
    d = input._data
    if isinstance(q, Tensor):
        qd = q._data
        if qd.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if ((qd < 0) | (qd > 1)).any():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
        if qd.dtype != d.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
        qd = np.asarray(q, d.dtype)
    if d.dtype.kind != "f":
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got {interpolation}")
    if d.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    x, ax = (input.reshape(-1), 0) if dim is None else (input.reshape(-1) if d.ndim == 0 else input, _one_dim(input, dim))
    if dim is None:
        kept = (1,) * d.ndim if keepdim else ()
    else:
        kept = tuple(1 if i == ax else n for i, n in enumerate(d.shape) if keepdim or i != ax)
    s = sort(movedim(x, ax, -1), -1).values                          # NaN last
    sd = s._data
    s = s.reshape(kept + sd.shape[-1:])
    real = sd == sd
    top = d.dtype.type(sd.shape[-1] - 1)
    if ignore_nan:   # rank q·(count - 1); all NaN: rank 0, a NaN
        scale, offset = np.maximum(np.sum(real, axis=-1, keepdims=True) - 1, 0).astype(d.dtype), d.dtype.type(0)
    else:            # rank q·(n - 1); a NaN in the slice: the last element, a NaN
        whole = real.all(axis=-1, keepdims=True)
        scale, offset = np.where(whole, top, 0).astype(d.dtype), np.where(whole, 0, top).astype(d.dtype)
    scale, offset = scale.reshape(kept + (1,)), np.reshape(offset, kept + (1,) if np.ndim(offset) else ())
    ranks = qd.reshape(-1) * scale + offset
    below, above = np.floor(ranks), np.ceil(ranks)
    pick = {"lower": below, "higher": above, "nearest": np.round(ranks)}.get(interpolation)
    if pick is not None:
        out = gather(s, -1, _long(pick))
    else:
        if interpolation == "midpoint":
            weight = _new_tensor(np.full_like(ranks, 0.5), False, None, 0)
        elif isinstance(q, Tensor):   # the weight is differentiable in q, as PyTorch's
            weight = q.reshape(-1) * _new_tensor(scale, False, None, 0) + _new_tensor(offset - below, False, None, 0)
        else:
            weight = _new_tensor(ranks - below, False, None, 0)
        out = lerp(gather(s, -1, _long(below)), gather(s, -1, _long(above)), weight)
    if qd.ndim == 0:
        return out.squeeze_(-1)
    return out.unsqueeze_(0).transpose_(0, -1).squeeze_(-1)          # the quantiles first


def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor in [0, 1]) of all elements or along ``dim`` (NaN if a NaN is there).

    >>> import flambeau as torch
    >>> torch.quantile(torch.tensor([1., 2., 3., 4.]), 0.5)
    tensor(2.5000)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaN (NaN only where all are NaN).

    >>> import flambeau as torch
    >>> torch.nanquantile(torch.tensor([1., float('nan'), 3.]), 0.5)
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, True)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None):
    """The distinct elements (sorted), optionally with the inverse indices and the counts; no gradient.

    >>> import flambeau as torch
    >>> torch.unique(torch.tensor([3, 1, 3]))
    tensor([1, 3])
    """
    d = input._data
    axis = None if dim is None else _wrap_dim(dim, d.ndim)
    values, inverse, counts = np.unique(d, return_inverse=True, return_counts=True, axis=axis)
    out = (_new_tensor(values, False, None, 0),)
    if return_inverse:
        out += (_long(inverse.reshape(d.shape) if axis is None else inverse.reshape(-1)),)
    if return_counts:
        out += (_long(counts),)
    return out[0] if len(out) == 1 else out


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (NaN where all are NaN).

    >>> import flambeau as torch
    >>> torch.nanmean(torch.tensor([1., float('nan'), 3.]))
    tensor(2.)
    """
    d = input._data if dtype is None else input._data.astype(_dtype.to_dtype(dtype).np)
    if d.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got {_type_name(d)}")
    return nansum(input, dim, keepdim, dtype=dtype) / sum(~isnan(input), dim, keepdim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """``(min, max)`` as a named tuple, overall or along ``dim``; tied elements share each gradient equally.

    >>> import flambeau as torch
    >>> torch.aminmax(torch.tensor([3., 1., 2.])).max
    tensor(3.)
    """
    if input._data.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.")
    return return_types.aminmax(*_reduce(AMINMAX, input, dim, keepdim))


def _running(kind, op, accumulate, input: Tensor, dim: int):
    """Running max/min along ``dim`` with the index each value came from (the latest one on ties, as PyTorch)."""
    if input._data.ndim == 0:
        r = _running(kind, op, accumulate, input.reshape(1), _wrap_dim(dim, 1))
        return kind(r.values.reshape(()), r.indices.reshape(()))
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    position = np.arange(d.shape[dim]).reshape((-1,) + (1,) * (d.ndim - dim - 1))
    idx = np.maximum.accumulate(np.where(d == accumulate(d, axis=dim), position, 0), axis=dim)
    return kind(apply(op, (input,), (d,), (idx, dim, d.shape)), _long(idx))


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """Running ``logsumexp`` along ``dim``, without overflow.

    >>> import flambeau as torch
    >>> torch.logcumsumexp(torch.tensor([1000., 1000.]), 0)
    tensor([1000.0000, 1000.6931])
    """
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_type_name(input._data)}'")
    return _scan(LOGCUMSUMEXP, input, dim, None)


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and the index where each was reached, as a named tuple.

    >>> import flambeau as torch
    >>> torch.cummax(torch.tensor([1., 3., 2.]), 0).indices
    tensor([0, 1, 1])
    """
    return _running(return_types.cummax, CUMMAX, np.maximum.accumulate, input, dim)


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and the index where each was reached, as a named tuple."""
    return _running(return_types.cummin, CUMMIN, np.minimum.accumulate, input, dim)


def msort(input: Tensor) -> Tensor:
    """``sort(input, dim=0).values``.

    >>> import flambeau as torch
    >>> torch.msort(torch.tensor([[2., 1.], [0., 3.]]))
    tensor([[0., 1.],
            [2., 3.]])
    """
    return sort(input, 0).values


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcasting).

    >>> import flambeau as torch
    >>> torch.dist(torch.tensor([3., 0.]), torch.tensor([0., 4.]))
    tensor(5.)
    """
    _require_float(input, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}")
    return binary(DIST, input, other, (float(p),))


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``xor`` for bool), after joining ``prepend`` and ``append``.

    >>> import flambeau as torch
    >>> torch.diff(torch.tensor([1., 4., 9.]))
    tensor([3., 5.])
    """
    x = input
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], dim)
    dim = _wrap_dim(dim, x._data.ndim)
    lead = (slice(None),) * dim
    for _ in range(n):
        hi, lo = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = logical_xor(hi, lo) if x._data.dtype.kind == "b" else hi - lo
    return x


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How many times each non-negative integer occurs (or the sum of its ``weights``); no gradient.

    >>> import flambeau as torch
    >>> torch.bincount(torch.tensor([0, 2, 2]))
    tensor([1, 0, 2])
    """
    d = input._data
    if d.ndim != 1 or d.dtype.kind not in "iu" or (d.size and d.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _long(np.bincount(d, minlength=minlength))
    w = weights._data
    return _new_tensor(np.bincount(d, w, minlength).astype(w.dtype if w.dtype.kind == "f" else np.float64), False, None, 0)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``), optionally with inverse indices and run lengths.

    >>> import flambeau as torch
    >>> torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 1]))
    tensor([1, 2, 1])
    """
    d = input._data
    rows = d.reshape(-1, 1) if dim is None else np.moveaxis(d, _wrap_dim(dim, d.ndim), 0).reshape(d.shape[dim], -1)
    starts = np.ones(rows.shape[0], np.bool_)
    starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    values = d.reshape(-1)[starts] if dim is None else np.compress(starts, d, axis=_wrap_dim(dim, d.ndim))
    out = (_new_tensor(values, False, None, 0),)
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        out += (_long(inverse.reshape(d.shape) if dim is None else inverse),)
    if return_counts:
        out += (_long(np.diff(np.append(np.flatnonzero(starts), rows.shape[0]))),)
    return out[0] if len(out) == 1 else out


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram of ``bins`` equal bins over ``[min, max]`` (the data's range when both are 0); values outside are dropped.

    >>> import flambeau as torch
    >>> torch.histc(torch.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    d = input._data
    if d.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_type_name(d)}'")
    lo, hi = float(min), float(max)
    if lo == hi and d.size:
        lo, hi = float(d.min()), float(d.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(d, bins, range=(lo, hi))
    return _new_tensor(counts.astype(d.dtype), False, None, 0)


# ---- Tensor methods -------------------------------------------------------------------------------

for _name, _fn in {"sum": sum, "mean": mean, "nansum": nansum, "prod": prod, "max": max, "min": min, "amax": amax, "amin": amin,
                   "argmax": argmax, "argmin": argmin, "std": std, "var": var, "logsumexp": logsumexp, "norm": norm, "cumsum": cumsum,
                   "cumprod": cumprod, "all": all, "any": any, "count_nonzero": count_nonzero, "median": median, "sort": sort,
                   "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "unique": unique, "nanmean": nanmean, "aminmax": aminmax,
                   "cummax": cummax, "cummin": cummin, "msort": msort, "dist": dist, "diff": diff, "bincount": bincount,
                   "unique_consecutive": unique_consecutive, "histc": histc, "logcumsumexp": logcumsumexp, "nanmedian": nanmedian,
                   "mode": mode, "quantile": quantile, "nanquantile": nanquantile}.items():
    setattr(Tensor, _name, _fn)


Tensor.cumsum_ = _method_inplace(cumsum, "cumsum_")
Tensor.cumprod_ = _method_inplace(cumprod, "cumprod_")
