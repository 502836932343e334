"""Adam and AdamW (decoupled weight decay), with AMSGrad."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, bump, check_common, step_state, zeros_state

__all__ = ["Adam", "AdamW"]


def lerp_(a: np.ndarray, b: np.ndarray, w: float) -> None:
    """``a ← a + w·(b − a)`` in place, with PyTorch's two-sided formula (exact at w = 1)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


def decay(p: np.ndarray, g: np.ndarray, group: dict, decoupled: bool) -> np.ndarray:
    """Weight decay: shrink ``p`` (decoupled, AdamW-style) or add ``wd·p`` to the gradient (L2)."""
    wd = group["weight_decay"]
    if wd == 0:
        return g
    if decoupled:
        p *= 1 - group["lr"] * wd
        return g
    return g + wd * p


def moments_(state: dict, g: np.ndarray, beta1: float, beta2: float) -> None:
    """m ← lerp(m, g, 1 − β₁); v ← β₂·v + (1 − β₂)·g²."""
    lerp_(state["exp_avg"]._data, g, 1 - beta1)
    v = state["exp_avg_sq"]._data
    v *= beta2
    v += (1 - beta2) * g * g


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), PyTorch's arithmetic::

        m ← lerp(m, g, 1−β₁);  v ← β₂·v + (1−β₂)·g²;  v̂ ← max(v̂, v) if amsgrad
        θ ← θ − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0])); opt = torch.optim.Adam([w], lr=0.1)
    >>> w.sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.9000], requires_grad=True)
    """

    _decoupled_default = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None, decoupled_weight_decay: bool | None = None) -> None:
        check_common(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled_default
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable, "differentiable": differentiable,
                                  "fused": fused, "decoupled_weight_decay": decoupled_weight_decay})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        t = bump(state)
        g = decay(p, g, group, group["decoupled_weight_decay"])
        moments_(state, g, beta1, beta2)
        v = state["exp_avg_sq"]._data
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            np.maximum(vmax, v, out=vmax)
            v = vmax
        denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + group["eps"]
        p += (-group["lr"] / (1 - beta1**t)) * state["exp_avg"]._data / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ·(1 − lr·wd) before the Adam step; ``weight_decay`` defaults to 0.01.

    >>> import flambeau as torch
    >>> torch.optim.AdamW([torch.nn.Parameter(torch.ones(1))]).defaults["weight_decay"]
    0.01
    """

    _decoupled_default = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
