"""Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam: one ``_update`` each, PyTorch's arithmetic."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import _wrap
from .adam import decay, lerp_, moments_
from .optimizer import Optimizer, bump, check, check_common, step_state, zeros_state

__all__ = ["Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam"]


def _square_avg_(a: np.ndarray, g: np.ndarray, rho: float) -> None:
    """a ← ρ·a + (1 − ρ)·g²."""
    a *= rho
    a += (1 - rho) * g * g


class Adagrad(Optimizer):
    r"""Adagrad: s ← s + g²;  θ ← θ − lr/(1 + (t−1)·lr_decay) · g / (√s + ε).

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0])); opt = torch.optim.Adagrad([w], lr=0.1)
    >>> w.sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_common(lr=lr, eps=eps, weight_decay=weight_decay)
        check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        check(initial_accumulator_value >= 0.0, f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "fused": fused})
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["sum"] = _wrap(np.full_like(p._data, group["initial_accumulator_value"]))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        t = bump(state)
        g = decay(p, g, group, False)
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"]._data
        s += g * g
        p += (-clr * g) / (np.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    r"""RMSprop: v ← α·v + (1−α)·g²;  (centered: v − ḡ²);  θ ← θ − lr·g/(√v + ε), optionally through a momentum buffer.

    >>> import flambeau as torch
    >>> torch.optim.RMSprop([torch.nn.Parameter(torch.ones(1))]).defaults["alpha"]
    0.99
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr=lr, eps=eps)
        check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        check_common(weight_decay=weight_decay)
        check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                                  "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["square_avg"] = zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        bump(state)
        g = decay(p, g, group, False)
        alpha = group["alpha"]
        sq = state["square_avg"]._data
        _square_avg_(sq, g, alpha)
        if group["centered"]:
            ga = state["grad_avg"]._data
            lerp_(ga, g, 1 - alpha)
            avg = np.sqrt(sq + (-1) * ga * ga)
        else:
            avg = np.sqrt(sq)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]._data
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p += (-group["lr"] * g) / avg


class Adadelta(Optimizer):
    r"""Adadelta: v ← ρ·v + (1−ρ)·g²;  Δ = √(u + ε)/√(v + ε)·g;  u ← ρ·u + (1−ρ)·Δ²;  θ ← θ − lr·Δ.

    >>> import flambeau as torch
    >>> torch.optim.Adadelta([torch.nn.Parameter(torch.ones(1))]).defaults["rho"]
    0.9
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None,
                 *, capturable: bool = False, maximize: bool = False, differentiable: bool = False) -> None:
        check_common(lr=lr)
        check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        check_common(eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                                  "capturable": capturable, "foreach": foreach, "differentiable": differentiable})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["square_avg"] = zeros_state(p)
        state["acc_delta"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        bump(state)
        g = decay(p, g, group, False)
        rho, eps = group["rho"], group["eps"]
        sq, acc = state["square_avg"]._data, state["acc_delta"]._data
        _square_avg_(sq, g, rho)
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        _square_avg_(acc, delta, rho)
        p -= group["lr"] * delta


class Adamax(Optimizer):
    r"""Adamax (Adam with the ∞-norm): m ← lerp(m, g, 1−β₁);  u ← max(β₂·u, |g| + ε);  θ ← θ − lr/(1−β₁ᵗ)·m/u.

    >>> import flambeau as torch
    >>> torch.optim.Adamax([torch.nn.Parameter(torch.ones(1))]).defaults["lr"]
    0.002
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        check_common(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "capturable": capturable})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        t = bump(state)
        g = decay(p, g, group, False)
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(m, g, 1 - beta1)
        u *= beta2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        p += (-group["lr"] / (1 - beta1**t)) * m / u


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat), with PyTorch's momentum-decay schedule μₜ = β₁(1 − ½·0.96^(t·ψ)).

    >>> import flambeau as torch
    >>> torch.optim.NAdam([torch.nn.Parameter(torch.ones(1))]).defaults["momentum_decay"]
    0.004
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_common(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        check(momentum_decay >= 0.0, f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["mu_product"] = _wrap(np.array(1.0, dtype=np.float32))
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, psi = group["lr"], group["momentum_decay"]
        t = bump(state)
        g = decay(p, g, group, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        mp = state["mu_product"]._data
        mp *= mu
        moments_(state, g, beta1, beta2)
        denom = np.sqrt(state["exp_avg_sq"]._data / (1 - beta2**t)) + group["eps"]
        mu_product = float(mp)
        p += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        p += (-lr * mu_next / (1.0 - mu_product * mu_next)) * state["exp_avg"]._data / denom


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al.): Adam's step scaled by the variance rectification r(t) once ρₜ > 5, plain momentum SGD before.

    >>> import flambeau as torch
    >>> torch.optim.RAdam([torch.nn.Parameter(torch.ones(1))]).defaults["lr"]
    0.001
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def _init_state(self, state: dict, p, group: dict) -> None:
        state["step"] = step_state()
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        t = bump(state)
        g = decay(p, g, group, group["decoupled_weight_decay"])
        moments_(state, g, beta1, beta2)
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        m_hat = state["exp_avg"]._data / bc1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = (bc2**0.5) / (np.sqrt(state["exp_avg_sq"]._data) + group["eps"])
            p -= m_hat * lr * adaptive * rect
        else:
            p -= m_hat * lr
