"""Higher-level derivatives of a function: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp``.

Each takes a function of Tensors and the point ``inputs`` (a Tensor or a tuple of Tensors), and
returns results shaped like PyTorch's ``torch.autograd.functional``. Everything is built on
``autograd.grad``: a vjp is one backward; a jvp is the double-vjp trick (see ``forward_ad``); a
Jacobian is one vjp per output element (``'reverse-mode'``) or one jvp per input element
(``'forward-mode'``); a Hessian is the Jacobian of the gradient.

>>> import flambeau as torch
>>> from flambeau.autograd.functional import hessian
>>> hessian(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _new_tensor
from .forward_ad import jvp_by_double_vjp
from .function import Function
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# ---- argument handling, shared by every transform ------------------------------------------------------

def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple]:
    """``(was_tuple, tuple)``; anything but a Tensor or a tuple/list of Tensors is a TypeError, as in PyTorch."""
    if isinstance(x, Tensor):
        return False, (x,)
    if not isinstance(x, tuple | list) or not all(isinstance(t, Tensor) for t in x):
        raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the given {arg} has type "
                        f"{type(x) if not isinstance(x, tuple | list) else type(next(t for t in x if not isinstance(t, Tensor)))}.")
    return True, tuple(x)


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs as differentiable leaves of a fresh graph (kept connected to the caller's graph with ``create_graph``)."""
    if create_graph:
        return tuple(x.view_as(x) if x._rg else x.detach().requires_grad_(True) for x in inputs)
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def _outputs_of(func, inputs: tuple, fn: str) -> tuple[bool, tuple]:
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn)


def _finish(ts, create_graph: bool, like: tuple):
    """Results detached unless ``create_graph``; a missing gradient becomes zeros shaped like ``like``."""
    out = []
    for t, ref in zip(ts, like):
        if t is None:
            t = _new_tensor(np.zeros_like(ref._data), False, None, 0)
        out.append(t if create_graph else t.detach())
    return tuple(out)


def _check_v(v, outs: tuple, what: str) -> tuple:
    for a, b in zip(v, outs):
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"{what} has invalid size: should be {b.shape} but got {a.shape}.")
    if len(v) != len(outs):
        raise RuntimeError(f"{what} has invalid size: should have {len(outs)} Tensors but got {len(v)}.")
    return v


def _strict_outputs(outs: tuple, strict: bool) -> None:
    if strict:
        for k, o in enumerate(outs):
            if not o._rg:
                raise RuntimeError(f"Output {k} of the user-provided function does not require gradients. The outputs must be "
                                   "computed in a differentiable manner from the input when running in strict mode.")


def _strict_grads(grads, strict: bool, k: int = 0, what: str = "Output") -> None:
    if strict:
        for i, g in enumerate(grads):
            if g is None:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not allowed "
                                   "in strict mode." if what == "Output" else
                                   f"{what} {k} of the user-provided function is independent of input {i}. This is not allowed "
                                   "in strict mode.")


def _vjp(outs: tuple, ins: tuple, v: tuple, create_graph: bool) -> tuple:
    from . import grad
    live = [(o, g) for o, g in zip(outs, v) if o._rg]
    if not live:
        return (None,) * len(ins)
    return grad([o for o, _ in live], ins, [g for _, g in live], create_graph=create_graph, retain_graph=True, allow_unused=True)


def _default_v(v, outs: tuple, fn: str) -> tuple:
    if v is None:
        if len(outs) != 1 or outs[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor with a single "
                               "element.")
        return (_new_tensor(np.ones_like(outs[0]._data), False, None, 0),)
    return _check_v(_as_tuple(v, "v", fn)[1], outs, "v")


def _unwrap(was_tuple: bool, ts: tuple):
    return ts if was_tuple else ts[0]


# ---- the transforms ----------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product at ``inputs``.

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))[1]
    tensor([2., 4.])
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _outputs_of(func, ins, "vjp")
    _strict_outputs(outs, strict)
    v = _default_v(v, outs, "vjp")
    grads = _vjp(outs, ins, v, create_graph)
    _strict_grads(grads, strict)
    return _unwrap(out_tuple, _finish(outs, create_graph, outs)), _unwrap(in_tuple, _finish(grads, create_graph, ins))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), J·v)``: the Jacobian-vector product at ``inputs`` (by the double-vjp trick).

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))[1]
    tensor([2., 0.])
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    ins = _prepare(ins, create_graph)
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single Tensor with a "
                               "single element.")
        v = (_new_tensor(np.ones_like(ins[0]._data), False, None, 0),)
    else:
        v = _check_v(_as_tuple(v, "v", "jvp")[1], ins, "v")
    out_tuple, outs = _outputs_of(func, ins, "jvp")
    _strict_outputs(outs, strict)
    tangents = jvp_by_double_vjp(outs, list(ins), list(v), create_graph)
    if strict and any(t is None for t in tangents):
        raise RuntimeError("The jvp of the user-provided function is independent of the input. This is not allowed in strict mode.")
    return _unwrap(out_tuple, _finish(outs, create_graph, outs)), _unwrap(out_tuple, _finish(tangents, create_graph, outs))


class _Stack(Function):
    """Stack equally shaped tensors along a new first dim (differentiable, also twice: backward indexes)."""

    @staticmethod
    def forward(ctx, *ts):
        return _new_tensor(np.stack([t._data for t in ts]), False, None, 0)

    @staticmethod
    def backward(ctx, g):
        return tuple(g[k] for k in range(g.shape[0]))


def _stack(ts: list, shape: tuple, like: Tensor) -> Tensor:
    if not ts:
        return _new_tensor(np.zeros(shape, like._data.dtype), False, None, 0)
    return _Stack.apply(*ts).reshape(shape)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output ``k`` and input ``i`` a tensor of shape ``out_k.shape + in_i.shape``.

    Nested as PyTorch nests it: a Tensor for one input and one output, a tuple over inputs (or
    outputs), or a tuple (outputs) of tuples (inputs). ``strategy='forward-mode'`` builds it from
    one jvp per input element (``vectorize=True`` is required, as in PyTorch); ``'reverse-mode'``
    from one vjp per output element. ``vectorize`` changes nothing else here: both loop.

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more outputs '
                         'than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian does not support `create_graph=True` and "
                                      "`strategy='forward-mode'` together.")
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _outputs_of(func, ins, "jacobian")
    _strict_outputs(outs, strict)
    blocks = [[None] * len(ins) for _ in outs]  # blocks[k][i]: rows (reverse) or columns (forward), flattened
    if strategy == "reverse-mode":
        for k, o in enumerate(outs):
            rows: list = [[] for _ in ins]
            for e in range(o._data.size):
                v = np.zeros(o._data.size, o._data.dtype)
                v[e] = 1
                grads = _vjp((o,), ins, (_new_tensor(v.reshape(o._data.shape), False, None, 0),), create_graph)
                _strict_grads(grads, strict, k)
                for i, g in enumerate(_finish(grads, create_graph, ins)):
                    rows[i].append(g)
            for i, x in enumerate(ins):
                blocks[k][i] = _stack(rows[i], o._data.shape + x._data.shape, x)
    else:
        for i, x in enumerate(ins):
            cols: list = [[] for _ in outs]
            for e in range(x._data.size):
                v = [_new_tensor(np.zeros_like(t._data), False, None, 0) for t in ins]
                v[i]._data.reshape(-1)[e] = 1
                tangents = jvp_by_double_vjp(outs, list(ins), v, False)
                for k, t in enumerate(_finish(tangents, False, outs)):
                    cols[k].append(t)
            for k, o in enumerate(outs):
                stacked = _stack(cols[k], x._data.shape + o._data.shape, o)
                blocks[k][i] = stacked.reshape(x._data.size, o._data.size).t().reshape(o._data.shape + x._data.shape)
    if not create_graph:
        blocks = [[b.detach() for b in row] for row in blocks]
    per_out = [_unwrap(in_tuple, tuple(row)) for row in blocks]
    return _unwrap(out_tuple, tuple(per_out))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of scalar ``func`` at ``inputs``: shape ``in.shape + in.shape``, or a tuple of tuples over input pairs.

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import hessian
    >>> hessian(lambda x, y: (x * y).sum(), (torch.tensor([1.0]), torch.tensor([2.0])))[0][1]
    tensor([[1.]])
    """
    from . import grad
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*xs):
        out_tuple, outs = _outputs_of(func, xs, "hessian")
        if out_tuple or outs[0]._data.size != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        _strict_outputs(outs, strict)
        if not outs[0]._rg:
            return tuple(_new_tensor(np.zeros_like(x._data), False, None, 0) for x in xs)
        gs = grad(outs[0].reshape(()), xs, create_graph=True, allow_unused=True)
        _strict_grads(gs, strict, 0, "jacobian of the user-provided function")
        return tuple(_new_tensor(np.zeros_like(x._data), False, None, 0) if g is None else g for g, x in zip(gs, xs))

    res = jacobian(gradient, ins, create_graph=create_graph, strict=False, vectorize=vectorize, strategy=outer_jacobian_strategy)
    return res if in_tuple else res[0][0]


def _hessian_product(func, inputs, v, create_graph: bool, strict: bool, fn: str, left: bool) -> tuple:
    from . import grad
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single Tensor with a "
                               "single element.")
        v = (_new_tensor(np.ones_like(ins[0]._data), False, None, 0),)
    else:
        v = _check_v(_as_tuple(v, "v", fn)[1], ins, "v")
    out_tuple, outs = _outputs_of(func, ins, fn)
    if out_tuple or outs[0]._data.size != 1:
        raise RuntimeError(f"The function given in {fn} should return a single Tensor with a single element.")
    _strict_outputs(outs, strict)
    with enable_grad():
        gs = grad(outs[0], ins, create_graph=True, allow_unused=True) if outs[0]._rg else (None,) * len(ins)
        _strict_grads(gs, strict, 0, "jacobian of the user-provided function")
        gs = _finish(gs, True, ins)  # an unused input's gradient is a constant zero
        if left:  # vᵀH: one more vjp, of the gradient
            prod = _vjp(gs, ins, v, create_graph)
        else:  # Hv: the jvp of the gradient
            prod = jvp_by_double_vjp(gs, list(ins), list(v), create_graph)
    return outs[0] if create_graph else outs[0].detach(), _unwrap(in_tuple, _finish(prod, create_graph, ins))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ·H)``: vector-Hessian product of scalar ``func``.

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))[1]
    tensor([ 6., 12.])
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp", left=True)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), H·v)``: Hessian-vector product of scalar ``func`` (forward-over-reverse, by the double-vjp trick).

    >>> import flambeau as torch
    >>> from flambeau.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))[1]
    tensor([6., 0.])
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp", left=False)
