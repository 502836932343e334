"""Reductions: one row per op; the gradient flows back by expanding over the reduced dims."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from . import apply, defop, m

__all__ = ["sum", "mean"]


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
    if dims is None and type(g) is np.ndarray and g.size == 1 and len(shape) < 3 and reduced_size(shape, None) <= 4096:
        return np.full(shape, g, g.dtype)  # small: a fresh array is cheaper than a broadcast view
    kshape = tuple(1 if dims is None or i in dims else s for i, s in enumerate(shape))
    return m.expand(m.reshape(g, kshape), shape)


def reduced_size(shape: tuple, dims: tuple | None) -> int:
    n = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            n *= s
    return n


#                                 forward                                               ∂ℒ/∂x
SUM = defop("SumBackward0",       lambda x, shape: np.add.reduce(x, axis=None),         lambda g, shape: expand_back(g, shape, None),
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
    return expand_back(g, shape, dims) / reduced_size(shape, dims)


def _mean(x: np.ndarray, dims: tuple | None, keepdim: bool) -> np.ndarray:
    n = reduced_size(x.shape, dims)
    if x.dtype == np.float16:  # accumulate half precision in float32, as PyTorch does
        return (np.add.reduce(x, axis=dims, keepdims=keepdim, dtype=np.float32) / n).astype(np.float16)
    return np.asarray(np.add.reduce(x, axis=dims, keepdims=keepdim) / n, x.dtype)


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
    npd = _sum_dtype(input, dtype)
    if npd is not None:
        d = d.astype(npd, copy=False)
    if dim is None:
        return apply(SUM, (input,), (d,), (d.shape,))
    return apply(SUM_DIM, (input,), (d,), (norm_dims(dim, d.ndim), keepdim, d.shape))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of all elements, or over ``dim``; defined for floating dtypes only (as PyTorch)."""
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_dtype(dtype).np, copy=False)
    if d.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
                           f"Got: {_dtype.FROM_NP[d.dtype]._tensor_type[:-6]}")
    if dim is None:
        return apply(MEAN, (input,), (d,), (d.shape,))
    return apply(MEAN_DIM, (input,), (d,), (norm_dims(dim, d.ndim), keepdim, d.shape))


Tensor.sum = sum
Tensor.mean = mean
