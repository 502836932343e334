"""Automatic differentiation: ``backward``, ``grad``, ``Function`` and grad mode.

>>> import flambeau as torch
>>> x = torch.tensor(3.0, requires_grad=True)
>>> (dx,) = torch.autograd.grad(x ** 2, x, create_graph=True)
>>> dx, torch.autograd.grad(dx, x)[0]
(tensor(6., grad_fn=<MulBackward0>), tensor(2.))
"""

from __future__ import annotations

import numpy as np

from .._missing import module_getattr
from . import anomaly_mode, forward_ad, functional, graph
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .explain import explain
from .function import Function, FunctionCtx, Node, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .pitfalls import is_detect_pitfalls_enabled, no_grad_root_error, set_detect_pitfalls

__all__ = ["backward", "grad", "Function", "FunctionCtx", "Node", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "set_detect_pitfalls", "is_detect_pitfalls_enabled", "explain",
           "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "graph", "forward_ad", "functional"]


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
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False.")
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grads)} grad_outputs and {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs_t:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    edges, arrays = _root_edges(outputs, grads, create_graph)
    got = run_backward(edges, arrays, retain_graph, create_graph, capture=[edge_of(t) for t in inputs_t], accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs_t, got)):
        if g is None:
            if materialize_grads:
                result.append(_new_tensor(np.zeros_like(t._data), False, None, 0))
                continue
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
            result.append(None)
            continue
        result.append(g if create_graph else _new_tensor(g, False, None, 0))
    return tuple(result)


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph: bool, allow_unused, materialize_grads: bool) -> tuple:
    """``grad(is_grads_batched=True)``: one vector-Jacobian product per slice of the grad_outputs' first dim, stacked.

    (A loop over the batch, one backward per slice, not a vectorised backward.)
    """
    from .functional import _stack
    outputs, gos = _as_tuple(outputs), _as_tuple(grad_outputs)
    for i, (o, g) in enumerate(zip(outputs, gos)):
        if g._data.shape[1:] != o._data.shape:
            raise RuntimeError("If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch dimension. "
                               "The sizes of the remaining dimensions are expected to match the shape of corresponding output, but a "
                               f"mismatch was detected: grad_output[{i}] has a shape of {type(g.shape)(g.shape[1:])} and output[{i}] has a shape of "
                               f"{o.shape}. If you only want some tensors in `grad_output` to be considered batched, consider using vmap.")
    n = gos[0]._data.shape[0]
    per = [grad(outputs, inputs, tuple(g[b] for g in gos), retain_graph=True if b < n - 1 else retain_graph,
                create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads) for b in range(n)]
    result = []
    for k, x in enumerate(_as_tuple(inputs)):
        parts = [p[k] for p in per]
        if all(p is None for p in parts):
            result.append(None)
            continue
        parts = [_tensor_of(np.zeros_like(x._data)) if p is None else p for p in parts]
        result.append(_stack(parts, (n,) + x._data.shape, x) if create_graph else _stack(parts, (n,) + x._data.shape, x).detach())
    return tuple(result)

__getattr__ = module_getattr("autograd", "flambeau.autograd")  # a PyTorch name flambeau lacks: NotImplementedError
