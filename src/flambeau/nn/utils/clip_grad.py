"""Gradient clipping: by total norm or by value, in place on ``p.grad``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm is at most ``max_norm``; returns the norm before clipping.

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.ones(4)); w.grad = torch.full((4,), 3.)
    >>> torch.nn.utils.clip_grad_norm_([w], 1.0)
    tensor(6.)
    """
    grads = _grads(parameters)
    if not grads:
        return _wrap(np.array(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    norms = [np.linalg.norm(g._data.ravel(), ord=norm_type) if g._data.size else g._data.dtype.type(0) for g in grads]
    dtype = np.result_type(*[g._data.dtype for g in grads])
    total = np.linalg.norm(np.asarray(norms, dtype=dtype), ord=norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be clipped. "
                           "To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = np.minimum(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        g._data *= coef.astype(g._data.dtype)
        g._version[0] += 1
    return _wrap(total)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value].

    >>> import flambeau as torch
    >>> w = torch.nn.Parameter(torch.ones(2)); w.grad = torch.tensor([-3., 0.5])
    >>> torch.nn.utils.clip_grad_value_([w], 1.0); w.grad
    tensor([-1.0000,  0.5000])
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version[0] += 1
