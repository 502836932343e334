"""``nn.init``: fill a tensor in place with PyTorch's initialisation schemes (all under ``no_grad``).

Every random draw goes through :func:`_draw`, the one place that names the random generator.

>>> import flambeau as torch
>>> w = torch.empty(3, 5)
>>> _ = torch.nn.init.constant_(w, 0.5); w.sum().item()
7.5
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._missing import module_getattr
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]


def _draw(tensor: Tensor, kind: str, a: float, b: float, generator=None) -> Tensor:
    """Fill ``tensor`` with ``uniform_(a, b)`` or ``normal_(a, b)`` samples from the flambeau generator (PyTorch's streams)."""
    with no_grad():
        return getattr(tensor, kind + "_")(a, b, generator=generator)


def _write(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor._data[...] = values
        tensor._version[0] += 1
    return tensor


def _empty_noop(tensor: Tensor) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (``relu``: √2, ``tanh``: 5/3, ``leaky_relu``: √(2/(1+slope²)) ...).

    >>> import flambeau as torch
    >>> torch.nn.init.calculate_gain("tanh")
    1.6666666666666667
    """
    linear = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int | float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    return _draw(tensor, "uniform", a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    return _draw(tensor, "normal", mean, std, generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std²) truncated to [a, b], by rejection as PyTorch 2.13 draws them.

    When [a, b] holds more than 30 % of the mass, out-of-range values are redrawn from the normal (whole-tensor
    draws, kept where needed); otherwise uniform proposals on [a, b] are accepted with probability pdf(x)/pdf(mode).
    """
    cdf = lambda x: (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.",
                      stacklevel=2)
    from ..ops.creation import empty_like
    fresh = lambda kind, lo_, hi_: _draw(empty_like(tensor), kind, lo_, hi_, generator)._data
    data = tensor._data
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        lo, hi = data.dtype.type(a).item(), data.dtype.type(b).item()
        _draw(tensor, "normal", mean, std, generator)
        out = data.copy()
        while True:
            redraw = (out < lo) | (out > hi)
            if not redraw.any():
                break
            out = np.where(redraw, fresh("normal", mean, std), out)
    else:
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
        log_ratio = lambda x: ((x - mean) / std) ** 2 * -0.5 - log_peak  # log(pdf(x) / pdf(mode))
        _draw(tensor, "uniform", a, b, generator)
        out = data.copy()
        pending = np.log(fresh("uniform", 0.0, 1.0)) > log_ratio(out)
        while pending.any():
            proposal = fresh("uniform", a, b)
            out = np.where(pending, proposal, out)
            pending = np.where(pending, np.log(fresh("uniform", 0.0, 1.0)) > log_ratio(proposal), pending)
    return _write(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _draw(tensor, "uniform", -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _draw(tensor, "normal", 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(-b, b) with b = gain·√(3 / fan) (He et al.); Linear and Conv weights use ``a=√5``."""
    if _empty_noop(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _draw(tensor, "uniform", -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, std²) with std = gain / √fan."""
    if _empty_noop(tensor):
        return tensor
    return _draw(tensor, "normal", 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample, times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    from ..ops.creation import empty
    flat = _draw(empty(rows, cols, dtype=tensor.dtype), "normal", 0.0, 1.0, generator)._data
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.shape))

__getattr__ = module_getattr("nn.init", "flambeau.nn.init")  # a PyTorch name flambeau lacks: NotImplementedError
