"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, check, check_common

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""SGD, updating each parameter as PyTorch does::

        g ← ∇θ (−∇θ if maximize) + weight_decay·θ
        b ← g at the first step, else momentum·b + (1 − dampening)·g
        g ← g + momentum·b if nesterov else b            (when momentum ≠ 0)
        θ ← θ − lr·g

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0])); opt = torch.optim.SGD([w], lr=0.5, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_common(lr=lr, weight_decay=weight_decay)
        check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        check(not nesterov or (momentum > 0 and dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize, "foreach": foreach, "differentiable": differentiable, "fused": fused})

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + wd * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = _wrap(g.copy())
            else:
                b = buf._data
                b *= momentum
                b += (1 - group["dampening"]) * g
            g = g + momentum * buf._data if group["nesterov"] else buf._data
        p -= group["lr"] * g
