"""Optimizer: parameter groups, per-parameter state, ``state_dict``, and the step loop every optimizer shares.

A subclass says what its state starts as (``_init_state``) and how one parameter moves (``_update``),
working in place on NumPy arrays: ``p`` (the parameter's data), ``g`` (its gradient, negated when
``maximize``), the state dict and the group's hyper-parameters. The loop, grad mode, version bumps
and bookkeeping live here once.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from .._tensor import Tensor, _wrap, clear_grads
from ..autograd.grad_mode import enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def check(ok: bool, message: str) -> None:
    """Raise ValueError(message) unless ``ok``: argument validation with PyTorch's messages."""
    if not ok:
        raise ValueError(message)


def check_common(lr=None, eps=None, weight_decay=None, betas=None) -> None:
    """The validations most optimizers share."""
    if lr is not None and not isinstance(lr, _Required):
        check(lr >= 0.0, f"Invalid learning rate: {lr}")
    if eps is not None:
        check(eps >= 0.0, f"Invalid epsilon value: {eps}")
    if betas is not None:
        check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    if weight_decay is not None:
        check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")


def zeros_state(p: Tensor) -> Tensor:
    return _wrap(np.zeros_like(p._data))


def step_state() -> Tensor:
    return _wrap(np.array(0.0, dtype=np.float32))


def bump(state: dict) -> float:
    """Advance ``state['step']`` (a float32 scalar tensor, as PyTorch keeps it) and return the new count."""
    s = state["step"]._data
    s += 1
    return float(s)


class Optimizer:
    """Base class of optimizers: holds ``param_groups`` (dicts of parameters and hyper-parameters) and ``state``.

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = torch.optim.SGD([w], lr=0.1)
    >>> w.sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.9000, 0.9000], requires_grad=True)
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but got " + params.type())
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will "
                            "change between runs. Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters (to ``None`` by default)."""
        clear_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    # ---- the update loop ---------------------------------------------------------------------------
    def _init_state(self, state: dict, p: Tensor, group: dict) -> None:
        """Fill a parameter's empty state before its first update."""

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def step(self, closure: Callable | None = None):
        """Take one optimization step; ``closure`` (re-evaluating the loss) is called first if given, and its loss returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is None:
                        continue
                    g = p._grad._data
                    if group.get("maximize", False):
                        g = -g
                    state = self.state[p]
                    if not state:
                        self._init_state(state, p, group)
                    self._update(p._data, g, state, group)
                    p._version[0] += 1
        return loss

    # ---- state_dict -----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``, parameters numbered in group order."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (tensors are copied, cast to the parameter's dtype)."""
        state_dict = copy.deepcopy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        id_map = {i: p for g, s in zip(self.param_groups, saved_groups) for i, p in zip(s["params"], g["params"])}
        self.state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                self.state[p] = {name: _cast_state(name, value, p) for name, value in v.items()}
        self.param_groups = [dict(s, params=g["params"]) for g, s in zip(self.param_groups, saved_groups)]

    def __getstate__(self) -> dict:
        return self.__dict__

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _cast_state(name: str, value, p: Tensor):
    if isinstance(value, Tensor) and name != "step" and value.is_floating_point() and p.is_floating_point():
        return _wrap(value._data.astype(p._data.dtype))
    return value

