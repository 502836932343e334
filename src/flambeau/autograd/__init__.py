"""Automatic differentiation: ``backward``, ``grad``, ``Function`` and grad mode.

>>> import flambeau as torch
>>> x = torch.tensor(3.0, requires_grad=True)
>>> (dx,) = torch.autograd.grad(x ** 2, x, create_graph=True)
>>> dx, torch.autograd.grad(dx, x)[0]
(tensor(6., grad_fn=<MulBackward0>), tensor(2.))
"""

from __future__ import annotations

import numpy as np

from .engine import run_backward
from .explain import explain
from .function import Function, FunctionCtx, Node, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .pitfalls import is_detect_pitfalls_enabled, no_grad_root_error, set_detect_pitfalls

__all__ = ["backward", "grad", "Function", "FunctionCtx", "Node", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "set_detect_pitfalls", "is_detect_pitfalls_enabled", "explain"]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    from .._tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _root_edges(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> tuple[list, list]:
    from .._tensor import Tensor, edge_of
    edges, grads = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out._rg:
            raise no_grad_root_error(out, i)
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones_like(out._data)
            if create_graph:
                g = _tensor_of(g)
        elif isinstance(g, Tensor):
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape "
                                   f"of {out.shape}.")
            g = g if create_graph else g._data.copy()
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        edges.append(edge_of(out))
        grads.append(g)
    return edges, grads


def _tensor_of(array):
    from .._tensor import _new_tensor
    return _new_tensor(array, False, None, 0)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors`` (weighted by ``grad_tensors``).

    >>> import flambeau as torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> torch.autograd.backward(x * 2, torch.ones(3)); x.grad
    tensor([2., 2., 2.])
    """
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(grads)} tensors and {len(outputs)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    edges, arrays = _root_edges(outputs, grads, create_graph)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        _grad_into(edges, arrays, inputs, retain_graph, create_graph)
        return
    run_backward(edges, arrays, retain_graph, create_graph)


def _grad_into(edges, arrays, inputs: tuple, retain_graph: bool, create_graph: bool) -> None:
    """``backward(inputs=...)``: accumulate only into the given tensors."""
    from .._tensor import edge_of
    targets = [edge_of(t) for t in inputs]
    got = run_backward(edges, arrays, retain_graph, create_graph, capture=targets, accumulate=False)
    for t, g in zip(inputs, got):
        if g is None:
            continue
        g = g if create_graph else _tensor_of(g.copy())
        t._grad = g if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is not touched).

    >>> import flambeau as torch
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> torch.autograd.grad((x ** 2).sum(), x)
    (tensor([2., 4.]),)
    """
    from .._tensor import _new_tensor, edge_of
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by flambeau yet")
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs_t:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    edges, arrays = _root_edges(outputs, grads, create_graph)
    got = run_backward(edges, arrays, retain_graph, create_graph, capture=[edge_of(t) for t in inputs_t], accumulate=False)
    result = []
    for t, g in zip(inputs_t, got):
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t._data)
                result.append(_new_tensor(g, False, None, 0))
                continue
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
            result.append(None)
            continue
        result.append(g if create_graph else _new_tensor(g, False, None, 0))
    return tuple(result)

