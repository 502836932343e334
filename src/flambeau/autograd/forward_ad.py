"""Forward-mode AD: dual tensors carrying a tangent, read back with ``unpack_dual``.

No op has a separate forward rule: a tangent is derived from the op's single derivative formula by
the double-vjp trick. A vjp ``u ↦ Jᵀu`` is linear in ``u``; differentiating it (create_graph) with
respect to ``u`` in the direction ``v`` gives ``(Jᵀ)ᵀv = Jv``, the jvp. So every op that has a
twice-differentiable backward (every op of the table) has forward-mode AD for free.

>>> import flambeau as torch
>>> import flambeau.autograd.forward_ad as fwAD
>>> x = torch.tensor([1.0, 2.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, torch.tensor([1.0, 0.0])) ** 3
...     fwAD.unpack_dual(y).tangent
tensor([3., 0.])

Differences from PyTorch: dual tensors record a (private) graph, so forward mode needs grad mode
on (``make_dual`` under ``no_grad`` says so); they still report ``requires_grad=False`` and no
``grad_fn`` unless their primal requires grad. ``unpack_dual(...).primal`` is the tensor itself.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._tensor import DUAL, Tensor, _new_tensor, edge_of
from .function import Node, counted
from .grad_mode import STATE, enable_grad, sync_extras

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor", "enter_dual_level", "exit_dual_level"]

_LEVELS: list = []  # one list of (dual tensor, tangent) per open dual level


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal value and its tangent (``None`` when it has none)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Open a new dual level and return its index (prefer ``with dual_level():``)."""
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVELS.append([])
    STATE.dual = True
    sync_extras()
    return len(_LEVELS) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the innermost dual level: its dual tensors lose their tangents."""
    _LEVELS.pop()
    STATE.dual = bool(_LEVELS)
    sync_extras()


class dual_level:
    """Context manager for forward-mode AD: dual tensors made inside it carry tangents until it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


class _DualNode(Node):
    """The node of a dual tensor: passes gradients through to the primal."""

    __slots__ = ()

    def name(self) -> str:
        return "MakeDualBackward0"

    def apply(self, grads: list, graph: bool) -> list:
        return [grads[0]]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A dual tensor: ``tensor``'s value, carrying ``tangent`` (the direction of a directional derivative)."""
    if not _LEVELS:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first.")
    if not isinstance(tangent, Tensor):
        raise TypeError(f"Expected tangent to be a Tensor but got {type(tangent).__name__}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original Tensor, this is not "
                           f"supported. Tensor is of size {list(tensor._data.shape)} while the given forward gradient is of size "
                           f"{list(tangent._data.shape)}.")
    if tensor._data.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point, but got: {tensor.dtype}")
    if not STATE.enabled:
        raise NotImplementedError("forward_ad.make_dual under no_grad(): flambeau's tangents are computed from the recorded graph; "
                                  "keep grad mode on inside dual_level()")
    node = _DualNode()
    node.next_functions = counted((edge_of(tensor) if tensor._rg else (None, 0),))
    node._meta = (tensor._data.shape, tensor._data.dtype)
    dual = _new_tensor(tensor._data, True if tensor._rg and tensor._rg != DUAL else DUAL, node, 0)
    dual._version = tensor._version
    _LEVELS[-1].append((dual, tangent))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the tangent is the jvp of everything that made it from the dual tensors."""
    duals = _LEVELS[-1] if _LEVELS else []
    if not duals or not isinstance(tensor, Tensor) or tensor._grad_fn is None:
        return UnpackedDualTensor(tensor, None)
    tangent = jvp_by_double_vjp((tensor,), [d for d, _ in duals], [t for _, t in duals], create_graph=False)[0]
    return UnpackedDualTensor(tensor, tangent)


def jvp_by_double_vjp(outputs: tuple, inputs: list, tangents: list, create_graph: bool) -> list:
    """``J·v`` for each output (``None`` where no input reaches it), from two reverse passes.

    With ``u`` a dummy cotangent per output, ``g = vjp(u) = Jᵀu`` is linear in ``u``, so
    ``vjp of g in direction v`` with respect to ``u`` is ``J v``.
    """
    from . import grad
    with enable_grad():
        us = [_new_tensor(np.zeros_like(o._data), True, None, 0) for o in outputs]
        live = [k for k, o in enumerate(outputs) if o._rg]
        if not live:
            return [None] * len(outputs)
        gs = grad([outputs[k] for k in live], inputs, [us[k] for k in live], create_graph=True, retain_graph=True, allow_unused=True)
        pairs = [(g, v) for g, v in zip(gs, tangents) if g is not None and g._rg]
        if not pairs:
            return [None] * len(outputs)
        got = grad([g for g, _ in pairs], [us[k] for k in live], [v for _, v in pairs], create_graph=create_graph,
                   retain_graph=True, allow_unused=True)
    result: list = [None] * len(outputs)
    for k, j in zip(live, got):
        result[k] = j
    return result


def forward_jvp(func, inputs: tuple, i: int, tangent: np.ndarray) -> list:
    """The Jacobian-vector products of ``func``'s outputs for input ``i`` moved along ``tangent`` (flattened float64 arrays, None where
    an output does not depend on it), from one forward pass with a dual tensor."""
    from .gradcheck import _outputs
    x = inputs[i]
    with dual_level():
        args = list(inputs)
        args[i] = make_dual(x, _new_tensor(tangent.reshape(x._data.shape).astype(x._data.dtype), False, None, 0))
        outs = _outputs(func, tuple(args))
        tans = [unpack_dual(o).tangent for o in outs]
    return [None if t is None else t._data.astype(np.float64).ravel() for t in tans], outs


def forward_jacobian(func, inputs: tuple) -> list:
    """``J[i][k]`` (input numel × output numel) column by column with dual tensors: one forward pass per input element."""
    jac = []
    for i, x in enumerate(inputs):
        if not getattr(x, "_rg", False):
            jac.append(None)
            continue
        cols = None
        for j in range(x._data.size):
            e = np.zeros(x._data.size)
            e[j] = 1
            tans, outs = forward_jvp(func, inputs, i, e)
            if cols is None:
                cols = [np.zeros((x._data.size, o._data.size)) for o in outs]
            for c, t in zip(cols, tans):
                if t is not None:
                    c[j] = t
        jac.append(cols or [])
    return jac
