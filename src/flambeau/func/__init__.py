"""Composable function transforms (PyTorch's ``torch.func``): grad, vjp, jvp, jacrev, jacfwd, hessian, vmap ...

Each transform takes a function of tensors (or of pytrees: nested tuples, lists and dicts of
tensors) and returns a new function. They are built on ``autograd.grad`` with ``create_graph=True``
so they compose: ``hessian = jacfwd(jacrev(f))``, ``vmap(grad(loss))`` for per-sample gradients.

>>> import flambeau as torch
>>> from flambeau.func import grad, vmap
>>> grad(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
tensor([ 3., 12.])
>>> vmap(grad(lambda x: x.sin().sum()))(torch.tensor([[0.0], [1.0]]))
tensor([[1.0000],
        [0.5403]])

``vmap`` runs the function once on the whole batch when it only uses batch-friendly operations
(Tensor methods and operators: elementwise math, reductions, shapes, matmul, indexing; ``grad``
inside it gives per-sample gradients in one backward); otherwise it runs the function once per
sample and stacks the results (see :mod:`flambeau.func._vmap`).
"""

from __future__ import annotations

import numpy as np

from .._missing import module_getattr
from .._tensor import Tensor, _new_tensor
from ..autograd import grad as _autograd_grad
from ..autograd.forward_ad import jvp_by_double_vjp
from ..autograd.functional import _stack
from ..autograd.grad_mode import enable_grad
from ._batched import is_batched, phys, wrap
from ._tree import flatten, unflatten
from ._vmap import ACTIVE, vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "functional_call", "linearize", "vmap"]

_DEPTH = [0]  # how many transforms are running: only the outermost one detaches its results


def _leaf(x) -> Tensor:
    """The tensor a transform differentiates with respect to (still connected to any outer graph).

    Inside a vectorised ``vmap`` every sample gets its own copy of an unbatched argument, so that
    one backward of the batch of values gives each sample's gradient.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"Expected tensors as the differentiated arguments, got {type(x).__name__}")
    if not x.is_floating_point():
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if is_batched(x):
        p = phys(x)
        return wrap(p.view_as(p) if x._rg else p.detach().requires_grad_(True))
    if ACTIVE:
        shape = (ACTIVE[-1],) + x._data.shape
        if x._rg:
            return wrap(x.unsqueeze(0).expand(shape))
        return wrap(_new_tensor(np.broadcast_to(x._data, shape).copy(), True, None, 0))
    return x.view_as(x) if x._rg else x.detach().requires_grad_(True)


def _argnums(argnums, n: int) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a).__name__}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnums={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


class _Inputs:
    """The differentiated arguments of one call: leaves made differentiable, and how to rebuild results shaped like them."""

    def __init__(self, args: tuple, argnums) -> None:
        self.nums = _argnums(argnums, len(args))
        self.single = isinstance(argnums, int)
        self.args = list(args)
        self.specs, self.leaves, self.outer = [], [], False
        for n in self.nums:
            leaves, spec = flatten(args[n])
            self.outer = self.outer or any(getattr(x, "_rg", False) for x in leaves)
            new = [_leaf(x) for x in leaves]
            self.args[n] = unflatten(new, spec)
            self.specs.append(spec)
            self.leaves.extend(new)

    def shaped(self, per_leaf: list):
        """Values, one per leaf, arranged like the differentiated arguments."""
        it = iter(per_leaf)
        parts = tuple(unflatten([next(it) for _ in flatten(self.args[n])[0]], spec) for n, spec in zip(self.nums, self.specs))
        return parts[0] if self.single else parts


def _call(func, args, kwargs):
    _DEPTH[0] += 1
    try:
        with enable_grad():
            return func(*args, **kwargs)
    finally:
        _DEPTH[0] -= 1


def _release(tree, keep: bool):
    """Results of the outermost transform leave the graph (unless the caller's own inputs were part of one)."""
    if keep:
        return tree
    leaves, spec = flatten(tree)
    return unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _keep(inputs: _Inputs) -> bool:
    return _DEPTH[0] > 0 or inputs.outer


def _zeros_for(gs, leaves) -> list:
    return [(wrap if is_batched(x) else _same)(_new_tensor(np.zeros_like(phys(x)._data), False, None, 0)) if g is None else g
            for g, x in zip(gs, leaves)]


def _same(t):
    return t


def _grad_of_value(value, leaves: list) -> tuple:
    """Gradients of a (logically) scalar value; with a batched value, one backward gives every sample's gradients."""
    if not value._rg:
        return (None,) * len(leaves)
    p = phys(value)
    ones = _new_tensor(np.ones_like(p._data), False, None, 0)
    gs = _autograd_grad(p, [phys(x) for x in leaves], ones, create_graph=True, allow_unused=True)
    return tuple(wrap(g) if g is not None and is_batched(x) else g for g, x in zip(gs, leaves))


def _split_aux(out, has_aux: bool, name: str):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function returning ``(gradient of func's scalar output w.r.t. args[argnums], value)`` (``(value, aux)`` with has_aux).

    >>> import flambeau as torch
    >>> from flambeau.func import grad_and_value
    >>> grad_and_value(lambda x, y: (x * y).sum(), argnums=(0, 1))(torch.tensor([1.0]), torch.tensor([3.0]))
    ((tensor([3.]), tensor([1.])), tensor(3.))
    """
    def wrapper(*args, **kwargs):
        ins = _Inputs(args, argnums)
        value, aux = _split_aux(_call(func, ins.args, kwargs), has_aux, "grad_and_value")
        if not isinstance(value, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(value)}")
        if value.ndim != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                               f"{value.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
        gs = _grad_of_value(value, ins.leaves)
        keep = _keep(ins)
        grads = _release(ins.shaped(_zeros_for(gs, ins.leaves)), keep)
        value = _release(value, keep)
        return (grads, (value, _release(aux, keep))) if has_aux else (grads, value)
    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """A function returning the gradient of ``func``'s scalar output w.r.t. ``args[argnums]`` (and ``aux`` with has_aux).

    >>> import flambeau as torch
    >>> from flambeau.func import grad
    >>> grad(grad(lambda x: x ** 3))(torch.tensor(2.0))
    tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives the vector-Jacobian product for each primal.

    >>> import flambeau as torch
    >>> from flambeau.func import vjp
    >>> out, fn = vjp(torch.sin, torch.tensor([0.0, 1.0]))
    >>> fn(torch.ones(2))
    (tensor([1.0000, 0.5403]),)
    """
    ins = _Inputs(primals, tuple(range(len(primals))))
    out, aux = _split_aux(_call(func, ins.args, {}), has_aux, "vjp")
    keep = _keep(ins)
    out_leaves, out_spec = flatten(out)

    def vjp_fn(cotangents, *more):
        if more:
            cotangents = (cotangents, *more)
        cots, cot_spec = flatten(cotangents)
        if len(cots) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of outputs to the function. "
                               f"cotangents has {len(cots)} leaves, outputs have {len(out_leaves)}")
        for c, o in zip(cots, out_leaves):
            if c.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and output[0] has a shape of {o.shape}.")
        live = [(o, c) for o, c in zip(out_leaves, cots) if o._rg]
        gs = (_autograd_grad([o for o, _ in live], ins.leaves, [c for _, c in live], retain_graph=True, create_graph=True,
                             allow_unused=True) if live else (None,) * len(ins.leaves))
        return _release(tuple(ins.shaped(_zeros_for(gs, ins.leaves))), keep or _DEPTH[0] > 0)
    result = (_release(unflatten(out_leaves, out_spec), keep), vjp_fn)
    return result + (_release(aux, keep),) if has_aux else result


def jvp(func, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J·tangents)``: the Jacobian-vector product (tangents derived by the double-vjp trick).

    >>> import flambeau as torch
    >>> from flambeau.func import jvp
    >>> jvp(lambda x: x ** 2, (torch.tensor([1.0, 2.0]),), (torch.tensor([1.0, 1.0]),))[1]
    tensor([2., 4.])
    """
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples. E.g. jvp(f, (x,), (t,))")
    ins = _Inputs(primals, tuple(range(len(primals))))
    tans, _ = flatten(tangents)
    if len(tans) != len(ins.leaves):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python structure.")
    out, aux = _split_aux(_call(func, ins.args, {}), has_aux, "jvp")
    out_leaves, spec = flatten(out)
    js = jvp_by_double_vjp(tuple(out_leaves), ins.leaves, tans, create_graph=True)
    keep = _keep(ins)
    result = (_release(out, keep), _release(unflatten(_zeros_for(js, out_leaves), spec), keep))
    return result + (_release(aux, keep),) if has_aux else result


def _jacobian(func, argnums, has_aux: bool, forward: bool, name: str):
    def wrapper(*args, **kwargs):
        ins = _Inputs(args, argnums)
        out, aux = _split_aux(_call(func, ins.args, kwargs), has_aux, name)
        out_leaves, out_spec = flatten(out)
        blocks = []  # per output leaf: per input leaf, shape out.shape + in.shape
        for o in out_leaves:
            per_in = []
            if forward:
                for x_idx, x in enumerate(ins.leaves):
                    cols = []
                    for e in range(x._data.size):
                        tans = [_new_tensor(np.zeros_like(t._data), False, None, 0) for t in ins.leaves]
                        tans[x_idx]._data.reshape(-1)[e] = 1
                        cols.append(_zeros_for(jvp_by_double_vjp((o,), ins.leaves, tans, True), (o,))[0])
                    j = _stack(cols, (x._data.size, o._data.size), o)
                    per_in.append(j.t().reshape(o._data.shape + x._data.shape) if cols else j.reshape(o._data.shape + x._data.shape))
            else:
                rows: list = [[] for _ in ins.leaves]
                for e in range(o._data.size):
                    v = np.zeros(o._data.size, o._data.dtype)
                    v[e] = 1
                    gs = (_autograd_grad(o, ins.leaves, _new_tensor(v.reshape(o._data.shape), False, None, 0), retain_graph=True,
                                         create_graph=True, allow_unused=True) if o._rg else (None,) * len(ins.leaves))
                    for r, g in zip(rows, _zeros_for(gs, ins.leaves)):
                        r.append(g)
                per_in = [_stack(r, o._data.shape + x._data.shape, x) for r, x in zip(rows, ins.leaves)]
            blocks.append(ins.shaped(per_in))
        keep = _keep(ins)
        jac = _release(unflatten(blocks, out_spec), keep)
        return (jac, _release(aux, keep)) if has_aux else jac
    return wrapper


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None):
    """A function returning the Jacobian of ``func`` w.r.t. ``args[argnums]``, one vjp per output element.

    >>> import flambeau as torch
    >>> from flambeau.func import jacrev
    >>> jacrev(lambda x: x ** 2)(torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    return _jacobian(func, argnums, has_aux, False, "jacrev")


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """A function returning the Jacobian of ``func`` w.r.t. ``args[argnums]``, one jvp per input element.

    >>> import flambeau as torch
    >>> from flambeau.func import jacfwd
    >>> jacfwd(lambda x: x.sum() * x)(torch.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    return _jacobian(func, argnums, has_aux, True, "jacfwd")


def hessian(func, argnums=0):
    """The Hessian of scalar ``func`` w.r.t. ``args[argnums]``: ``jacfwd(jacrev(func))``.

    >>> import flambeau as torch
    >>> from flambeau.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func, *primals) -> tuple:
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` evaluates the Jacobian-vector product at ``primals``.

    >>> import flambeau as torch
    >>> from flambeau.func import linearize
    >>> out, jvp_fn = linearize(torch.sin, torch.tensor([0.0]))
    >>> jvp_fn(torch.tensor([2.0]))
    tensor([2.])
    """
    ins = _Inputs(primals, tuple(range(len(primals))))
    out = _call(func, ins.args, {})
    out_leaves, spec = flatten(out)
    keep = _keep(ins)

    def jvp_fn(*tangents):
        tans, _ = flatten(tangents)
        if len(tans) != len(ins.leaves):
            raise RuntimeError(f"Expected {len(ins.leaves)} tangents, got {len(tans)}")
        js = jvp_by_double_vjp(tuple(out_leaves), ins.leaves, tans, create_graph=True)
        return _release(unflatten(_zeros_for(js, out_leaves), spec), keep or _DEPTH[0] > 0)
    return _release(out, keep), jvp_fn


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights: bool = True, strict: bool = False):
    """Call ``module`` with some of its parameters and buffers replaced by the given tensors (by dotted name).

    The module is restored afterwards. Typical use: ``grad(lambda p, x: functional_call(model, p, (x,)).sum())(params, x)``.
    """
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, tuple | list) else (parameter_and_buffer_dicts,)
    values: dict = {}
    for d in dicts:
        for k, v in d.items():
            if k in values:
                raise ValueError(f"{k} appeared in multiple dictionaries; behavior of functional call is ambiguous")
            values[k] = v
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    swapped = []
    try:
        for name, value in values.items():
            *path, leaf_name = name.split(".")
            owner = module
            for p in path:
                owner = getattr(owner, p)
            swapped.append(_swap(owner, leaf_name, value, strict, name))
        return module(*args, **(kwargs or {}))
    finally:
        for restore in reversed(swapped):
            restore()


def _swap(owner, name: str, value, strict: bool, full: str):
    for store in ("_parameters", "_buffers"):
        d = owner.__dict__.get(store)
        if d is not None and name in d:
            old = d[name]
            d[name] = value

            def restore(d=d, old=old):
                d[name] = old
            return restore
    if strict:
        raise RuntimeError(f"Error(s) in reparametrizing for {type(owner).__name__}:\n\tUnexpected key(s): '{full}'.")
    had = name in owner.__dict__
    old = owner.__dict__.get(name)
    object.__setattr__(owner, name, value)

    def restore_attr():
        if had:
            object.__setattr__(owner, name, old)
        else:
            object.__delattr__(owner, name)
    return restore_attr

__getattr__ = module_getattr("func", "flambeau.func")  # a PyTorch name flambeau lacks: NotImplementedError
