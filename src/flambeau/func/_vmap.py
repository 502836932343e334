"""``vmap``: map a function over a batch dimension of its inputs.

First ``func`` runs once on the whole batch: its batched inputs are :class:`BatchedTensor` s whose
methods and operators (elementwise arithmetic and math, ``sum``/``mean``, shape methods, ``@`` and
``matmul``/``mm``/``mv``/``dot``/``bmm``, indexing with ints/slices/one index tensor) each make
one NumPy call for the whole batch, and ``func.grad`` inside it gives per-sample gradients in one
backward. If ``func`` uses anything else (a module-level function such as ``torch.exp(x)``, a
creation function, ``.item()``, a nested ``vmap``...), that run stops and ``func`` runs once per
sample instead (a Python loop over the batch, stacking the results): slower, same results.
Random operations inside ``func`` draw independently per sample (``randomness='different'``).
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.functional import _stack
from ._batched import is_batched, phys, wrap
from ._tree import broadcast_prefix, flatten, unflatten

#: batch sizes of the vectorised vmap runs in progress (``func.grad`` makes per-sample leaves inside one)
ACTIVE: list = []

__all__ = ["vmap"]


def _name(func) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _wrap_dim(d: int, ndim: int, func, in_dims) -> int:
    if not -ndim <= d < ndim:
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but that input is a "
                         f"Tensor of dimensionality {ndim} so expected in_dim to satisfy -{ndim} <= in_dim < {ndim}.")
    return d % ndim


def _move(t: Tensor, dim: int) -> Tensor:
    """Move the leading (stacked) dim of ``t`` to ``dim``."""
    dim = dim % t.ndim
    if dim == 0:
        return t
    order = list(range(1, dim + 1)) + [0] + list(range(dim + 1, t.ndim))
    return t.permute(order)


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size: int | None = None):
    """``func`` mapped over dimension ``in_dims`` of its inputs; results stacked along ``out_dims``.

    ``in_dims``/``out_dims``: an int (every input/output), or a structure matching the arguments
    (``None`` = not mapped, passed whole to every call).

    >>> import flambeau as torch
    >>> from flambeau.func import vmap
    >>> vmap(torch.dot)(torch.ones(3, 2), torch.ones(3, 2))
    tensor([2., 2., 2.])
    >>> vmap(lambda w, x: w @ x, in_dims=(None, 0))(torch.ones(2, 2), torch.ones(4, 2)).shape
    flambeau.Size([4, 2])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    def wrapped(*args, **kwargs):
        if not isinstance(in_dims, int | tuple) and in_dims is not None:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...): expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the structure of "
                             f"`inputs`. in_dims has structure of length {len(in_dims)} but inputs has {len(args)} arguments.")
        leaves, spec = flatten(args)
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args), args, "vmap in_dims")
        sizes = []
        for k, (x, d) in enumerate(zip(leaves, dims)):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but the input is "
                                 f"of type {type(x)}. We cannot vmap over non-Tensor arguments, please use None as the respective "
                                 "in_dim")
            dims[k] = _wrap_dim(d, x.ndim, func, in_dims)
            sizes.append(x.shape[dims[k]])
        if not sizes:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): at least one input must be batched: every "
                             "in_dim is None or no input is a Tensor")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} for the "
                             "mapped dimension")
        if not any(is_batched(x) for x in leaves) and not ACTIVE:
            try:
                return _vectorised(func, leaves, dims, spec, sizes[0], kwargs, out_dims)
            except Exception:  # noqa: BLE001 - whatever stopped the batched run, the per-sample loop gives the answer (or the error)
                pass
        return _looped(func, leaves, dims, spec, sizes[0], kwargs, out_dims)
    return wrapped


def _vectorised(func, leaves: list, dims: list, spec, size: int, kwargs: dict, out_dims):
    """One call of ``func`` on batched tensors; raises (any exception) when ``func`` leaves what can be batched."""
    batched = []
    for x, d in zip(leaves, dims):
        if d is None:
            batched.append(x)
        else:
            batched.append(wrap(x.permute((d,) + tuple(i for i in range(x.ndim) if i != d)) if d else x.view_as(x)))
    ACTIVE.append(size)
    try:
        out = func(*unflatten(batched, spec), **kwargs)
    finally:
        ACTIVE.pop()
    out_leaves, out_spec = flatten(out)
    outs = []
    for o, o_dim in zip(out_leaves, broadcast_prefix(out_dims, out, "vmap out_dims")):
        if not isinstance(o, Tensor):
            raise TypeError("vmap: a non-Tensor output")
        p = phys(o) if is_batched(o) else o.unsqueeze(0).expand((size,) + tuple(o.shape))  # an output the batch did not reach
        outs.append(_move(p, o_dim))
    return unflatten(outs, out_spec)


def _looped(func, leaves: list, dims: list, spec, size: int, kwargs: dict, out_dims):
    """``func`` once per sample, results stacked along ``out_dims``."""
    results = []
    for b in range(size):
        sample = [x if d is None else x[(slice(None),) * d + (b,)] for x, d in zip(leaves, dims)]
        results.append(func(*unflatten(sample, spec), **kwargs))
    out_leaves_per_b = [flatten(r)[0] for r in results]
    outs = []
    for k, o_dim in enumerate(broadcast_prefix(out_dims, results[0], "vmap out_dims")):
        per_b = [leaves_b[k] for leaves_b in out_leaves_per_b]
        if not all(isinstance(t, Tensor) for t in per_b):
            raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type {type(per_b[0])}. Did "
                             "you mean to set out_dims= to None for output?")
        outs.append(_move(_stack(per_b, (len(per_b),) + tuple(per_b[0].shape), per_b[0]), o_dim))
    return unflatten(outs, flatten(results[0])[1])
