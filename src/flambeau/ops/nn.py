"""Neural-network ops (``torch.nn.functional``): one row per op, forward and derivative side by side.

Every derivative formula runs on NumPy arrays (plain ``backward()``) and on Tensors
(``create_graph=True``). Piecewise-constant factors (``[x > 0]``, ``sign(d)``) are built by
:func:`_mask`, which evaluates them on raw data and wraps them as constants for Tensors; the
heavy ops (convolution, pooling) reach their gradients through :func:`unfold`/:func:`fold` and
matmul, which are differentiable themselves.

Functions whose PyTorch spelling is a composite of other ops (``softsign``, ``l1_loss``,
``cosine_similarity`` ...) are composites here too, so that their ``grad_fn`` chain matches.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy import arange, asarray  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__)

from .. import _dtype, _random
from .._tensor import Tensor, _new_tensor, _wrap_dim
from ..autograd.grad_mode import STATE
from ..autograd.pitfalls import linear_explained
from . import _special, apply, defop, m, math_fn, record
from .elementwise import _sigmoid, as_float, broadcast_error, erf, sigmoid, tanh, unary_float
from .elementwise import inplace as inplace_fn
from .elementwise import relu as _relu
from .indexing import where
from .linalg import matmul
from .shape import reshape

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh",
           "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink", "sigmoid", "tanh", "softmax", "log_softmax", "softmin", "glu", "dropout",
           "threshold", "hardshrink", "softshrink", "rrelu", "prelu", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
           "dropout3d", "relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "rrelu_",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "pairwise_distance", "cosine_similarity", "normalize",
           "linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "interpolate",
           "layer_norm", "rms_norm", "batch_norm", "group_norm", "instance_norm", "embedding", "one_hot", "scaled_dot_product_attention"]


# ---- helpers that formulas use on arrays and on Tensors -----------------------------------------

def _mask(x, f):
    """A piecewise-constant factor ``f(x)`` (a mask, a sign): evaluated on raw data, a constant for Tensors."""
    if isinstance(x, Tensor):
        return _new_tensor(np.asarray(f(x._data)), False, None, 0)
    return f(x)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _softplus_np(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False) if isinstance(x, np.ndarray) else np.logaddexp(0, x)


def _sum_keep(x, dim):
    return x.sum(dim, keepdim=True) if isinstance(x, Tensor) else x.sum(axis=dim, keepdims=True)


def _mean_keep(x, dim):
    return x.mean(dim, keepdim=True) if isinstance(x, Tensor) else x.mean(axis=dim, keepdims=True)


def _sum_dims(x, dims):
    return x.sum(dims) if isinstance(x, Tensor) else x.sum(axis=dims)


def _const(like, a: np.ndarray):
    """``a`` as a constant operand next to ``like`` (a Tensor wraps it, an array keeps it)."""
    return _new_tensor(a, False, None, 0) if isinstance(like, Tensor) else a


math_fn("tanh", np.tanh)
math_fn("sqrt", np.sqrt)
math_fn("sigmoid", _sigmoid)
math_fn("erf", lambda x: _special.erf(x).astype(x.dtype, copy=False), erf)
math_fn("softplus", _softplus_np, lambda x: softplus(x))
math_fn("clamp_min", np.maximum, lambda x, lo: apply(CLAMP_MIN, (x,), (x._data,), (lo,)))

CLAMP_MIN = defop("ClampMinBackward0", lambda x, lo: np.maximum(x, lo), lambda g, x, lo: g * _mask(x, lambda d: d >= lo),
                  text=("∂max(x, lo)/∂x = [x ≥ lo]",))


# ---- activations ----------------------------------------------------------------------------------

def _elu(x, alpha, scale, input_scale):
    return np.where(x > 0, x * scale, (scale * alpha) * np.expm1(np.minimum(x, 0) * input_scale)).astype(x.dtype, copy=False)


def _elu_grad(g, x, alpha, scale, input_scale):
    neg = _mask(x, lambda d: d <= 0)
    return g * (scale + neg * ((scale * alpha * input_scale) * m.exp(x * neg * input_scale) - scale))


def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_K * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + m.erf(x * _SQRT1_2))


def _gelu_grad(g, x, approximate):
    if approximate == "tanh":
        t = m.tanh(_K * (x + 0.044715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _K * (1 + 3 * 0.044715 * x * x))
    return g * (0.5 * (1 + m.erf(x * _SQRT1_2)) + x * m.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)))


def _softplus(x, beta, threshold):
    return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta).astype(x.dtype, copy=False)


def _mish_grad(g, x):
    t = m.tanh(m.softplus(x))
    return g * (t + x * m.sigmoid(x) * (1 - t * t))


_K = math.sqrt(2 / math.pi)
_SQRT1_2 = math.sqrt(0.5)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

#   node name                        forward on a float array x                  ∂ℒ/∂x
LEAKY_RELU = defop("LeakyReluBackward0", lambda x, slope: np.where(x > 0, x, x * slope),
                   lambda g, x, slope: m.where(_mask(x, lambda d: d > 0), g, g * slope), text=("∂/∂x = 1 if x > 0 else slope",))
ELU = defop("EluBackward0",              _elu, _elu_grad, text=("∂/∂x = scale if x > 0 else scale·α·s·e^(s·x)",))
CELU = defop("CeluBackward0",            _elu, _elu_grad, text=("∂/∂x = 1 if x > 0 else e^(x/α)",))
GELU = defop("GeluBackward0",            _gelu, _gelu_grad, text=("∂(x·Φ(x))/∂x = Φ(x) + x·φ(x)",))
SILU = defop("SiluBackward0",            lambda x: x * _sigmoid(x),
             lambda g, x: g * m.sigmoid(x) * (1 + x * (1 - m.sigmoid(x))), text=("∂(x·σ)/∂x = σ·(1 + x·(1-σ))",))
MISH = defop("MishBackward0",            lambda x: x * np.tanh(_softplus_np(x)), _mish_grad, text=("∂(x·tanh(sp x))/∂x = t + x·σ(x)·(1-t²)",))
SOFTPLUS = defop("SoftplusBackward0",    _softplus,
                 lambda g, x, beta, threshold: m.where(_mask(x, lambda d: d * beta > threshold), g, g * m.sigmoid(x * beta)),
                 text=("∂/∂x = σ(βx)",))
HARDTANH = defop("HardtanhBackward0",    lambda x, lo, hi: np.clip(x, lo, hi),
                 lambda g, x, lo, hi: g * _mask(x, lambda d: (d > lo) & (d < hi)), text=("∂/∂x = [lo < x < hi]",))
HARDSIGMOID = defop("HardsigmoidBackward0", lambda x: np.clip(x / 6 + 0.5, 0, 1),
                    lambda g, x: g * _mask(x, lambda d: ((d > -3) & (d < 3)) / 6), text=("∂/∂x = 1/6 on (-3, 3)",))
HARDSWISH = defop("HardswishBackward0",  lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda g, x: m.where(_mask(x, lambda d: d < -3), 0.0, m.where(_mask(x, lambda d: d <= 3), g * (x / 3 + 0.5), g)),
                  text=("∂/∂x = 0, x/3 + 1/2, 1",))
LOGSIGMOID = defop("LogSigmoidBackward0", lambda x: -_softplus_np(-x), lambda g, x: g * m.sigmoid(-x), text=("∂log σ(x)/∂x = σ(-x)",))

THRESHOLD = defop("ThresholdBackward0",  lambda x, th, value: np.where(x > th, x, value).astype(x.dtype, copy=False),
                  lambda g, x, th: g * _mask(x, lambda d: d > th), text=("∂/∂x = [x > threshold]",))
HARDSHRINK = defop("HardshrinkBackward0", lambda x, lambd: np.where(np.abs(x) > lambd, x, 0).astype(x.dtype, copy=False),
                   lambda g, x, lambd: g * _mask(x, lambda d: np.abs(d) > lambd), text=("∂/∂x = [|x| > λ]",))
SOFTSHRINK = defop("SoftshrinkBackward0", lambda x, lambd: np.where(np.abs(x) > lambd, x - np.sign(x) * lambd, 0).astype(x.dtype, copy=False),
                   lambda g, x, lambd: g * _mask(x, lambda d: np.abs(d) > lambd), text=("∂/∂x = [|x| > λ]",))
RRELU = defop("RreluWithNoiseBackward0", lambda x, noise: x * noise, lambda g, noise: g * _const(g, noise), text=("∂/∂x = noise (1 or the slope)",))


def _prelu_dw(g, x, w, dims):
    return m.reshape(_sum_dims(g * x * _mask(x, lambda d: d <= 0), dims), w.shape)


PRELU = defop("PreluKernelBackward0",    lambda x, w, wshape, dims: np.where(x > 0, x, w.reshape(wshape) * x),
              lambda g, x, w, wshape: m.where(_mask(x, lambda d: d > 0), g, g * m.reshape(w, wshape)),
              lambda g, x, w, dims: _prelu_dw(g, x, w, dims), text=("∂/∂x = 1 if x > 0 else w", "∂/∂w = Σ x·[x ≤ 0]"))

def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _log_softmax(x, dim):
    s = x - x.max(axis=dim, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))


SOFTMAX = defop("SoftmaxBackward0",        _softmax, lambda g, out, dim: out * (g - _sum_keep(g * out, dim)), text=("∂ℒ/∂x = y·(g - Σ g·y)",))
LOG_SOFTMAX = defop("LogSoftmaxBackward0", _log_softmax, lambda g, out, dim: g - m.exp(out) * _sum_keep(g, dim), text=("∂ℒ/∂x = g - softmax·Σg",))


def _glu_grad(g, x, dim, first, second, shape):
    a, b = m.index(x, first, False), m.index(x, second, False)
    s = m.sigmoid(b)
    return m.scatter_back(g * s, first, False, shape) + m.scatter_back(g * a * s * (1 - s), second, False, shape)


GLU = defop("GluBackward0", lambda x, dim, first, second, shape: x[first] * _sigmoid(x[second]), _glu_grad,
            text=("∂(a·σ(b))/∂a = σ(b), ∂/∂b = a·σ(b)(1-σ(b))",))


def _act(op, input: Tensor, attrs: tuple = (), in_place: bool = False) -> Tensor:
    if in_place:
        return inplace_fn(lambda t: unary_float(op, t, attrs), input)
    return unary_float(op, input, attrs)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``.

    >>> import flambeau as torch
    >>> torch.nn.functional.relu(torch.tensor([-1., 2.]))
    tensor([0., 2.])
    """
    return input.relu_() if inplace else _relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return _act(LEAKY_RELU, input, (negative_slope,), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (e^x - 1)`` elsewhere."""
    return _act(ELU, input, (alpha, 1.0, 1.0), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _act(ELU, input, (_SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (e^(x/alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _act(CELU, input, (alpha, 1.0, 1.0 / alpha), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)`` (Φ the standard normal CDF), or its tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _act(GELU, input, (approximate,))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return _act(SILU, input, (), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return _act(MISH, input, (), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + e^(beta x)) / beta``, linear where ``beta * x > threshold``."""
    return _act(SOFTPLUS, input, (beta, threshold))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` clipped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act(HARDTANH, input, (min_val, max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clip(x / 6 + 1/2, 0, 1)``."""
    return _act(HARDSIGMOID, input, (), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)``."""
    return _act(HARDSWISH, input, (), inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return _act(LOGSIGMOID, input)



def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    return _act(THRESHOLD, input, (threshold, value), inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` where ``|input| > lambd``, else 0."""
    return _act(HARDSHRINK, input, (lambd,))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input ∓ lambd`` where ``|input| > lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _act(SOFTSHRINK, input, (lambd,))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` per element in training, ``(lower + upper)/2`` otherwise."""
    x = as_float(input._data)
    neg = x <= 0
    noise = np.ones_like(x)
    if training:  # one draw per non-positive element, in order, as PyTorch's CPU kernel
        noise[neg] = _random.default_generator._uniform((int(neg.sum()),), np.float64, lower, upper).astype(x.dtype)
    else:
        noise[neg] = (lower + upper) / 2
    if inplace:
        return inplace_fn(lambda t: record(RRELU, (t,), x * noise, (noise,)), input)
    return record(RRELU, (input,), x * noise, (noise,))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight · x`` elsewhere; ``weight`` has 1 element or one per channel (dim 1)."""
    x, w = as_float(input._data), weight._data
    if w.size != 1 and (x.ndim < 2 or w.size != x.shape[1]):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {w.size} and channel size = "
                           f"{x.shape[1] if x.ndim >= 2 else 1}.")
    if w.size == 1:
        wshape, dims = (), None
    else:
        wshape, dims = (w.size,) + (1,) * (x.ndim - 2), (0,) + tuple(range(2, x.ndim))
    return apply(PRELU, (input, weight), (x, w), (wshape, dims))

def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()



def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _act(THRESHOLD, input, (threshold, value), True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)

def _softmax_dim(ndim: int, dim) -> int:
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, max(ndim, 1)) if ndim else None  # a 0-d tensor reduces over everything


def _softmax_input(input: Tensor, dtype) -> np.ndarray:
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_dtype(dtype).np, copy=False)
    if d.dtype.kind != "f":
        raise RuntimeError(f"\"softmax_lastdim_kernel_impl\" not implemented for '{_dtype.FROM_NP[d.dtype]._tensor_type[:-6]}'")
    return d


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``e^x / Σ e^x`` along ``dim`` (computed stably).

    >>> import flambeau as torch
    >>> torch.nn.functional.softmax(torch.tensor([0., 0.]), dim=0)
    tensor([0.5000, 0.5000])
    """
    d = _softmax_input(input, dtype)
    return apply(SOFTMAX, (input,), (d,), (_softmax_dim(d.ndim, dim),))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - log Σ e^x`` along ``dim`` (computed stably)."""
    d = _softmax_input(input, dtype)
    return apply(LOG_SOFTMAX, (input,), (d,), (_softmax_dim(d.ndim, dim),))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    return softmax(-input, dim, dtype=dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    d = as_float(input._data)
    if d.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = _wrap_dim(dim, d.ndim)
    n = d.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {n}")
    pre = (slice(None),) * dim
    return apply(GLU, (input,), (d,), (dim, pre + (slice(0, n // 2),), pre + (slice(n // 2, n),), d.shape))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (identity unless ``training``).

    The mask is drawn as PyTorch draws it (``bernoulli_(1 - p)`` from the global generator), so seeded runs match.
    """
    if _dropout_is_identity(input, p, training):
        return input
    d = input._data
    if p == 1.0:
        noise = np.zeros(d.shape, d.dtype)
    else:
        noise = _bernoulli_noise(d.shape, p, d.dtype)
        noise /= np.asarray(1.0 - p, d.dtype)
    scale = _new_tensor(noise, False, None, 0)
    return input.mul_(scale) if inplace else input * scale



def _dropout_is_identity(input: Tensor, p: float, training: bool) -> bool:
    """Check ``p``; dropout changes nothing outside training, with ``p == 0``, or on an empty tensor."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return not training or p == 0.0 or input._data.size == 0


def _bernoulli_noise(shape: tuple, p: float, dtype) -> np.ndarray:
    """PyTorch's dropout noise: ``bernoulli_(1 - p)`` from the global generator (so seeded runs match)."""
    return _random.bernoulli_(_new_tensor(np.empty(shape, dtype), False, None, 0), 1.0 - p)._data


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    if _dropout_is_identity(input, p, training):
        return input
    d = input._data
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    noise = _bernoulli_noise(d.shape[:2] + (1,) * (d.ndim - 2) if feature else d.shape, p, d.dtype)
    b = _new_tensor((noise - 1) * (alpha * a) + alpha * a * p, False, None, 0)
    scale = _new_tensor(noise * np.asarray(a, d.dtype), False, None, 0)
    return input.mul_(scale).add_(b) if inplace else input * scale + b


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance (dropped units take SELU's negative saturation)."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """:func:`alpha_dropout` of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, nd: int) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    d = input._data
    if d.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"dropout{nd}d: Expected {nd + 1}D or {nd + 2}D input, but received a {d.ndim}D input. Note that dropout{nd}d "
                           f"exists to provide channel-wise dropout on inputs with {nd} spatial dimension{'s' if nd > 1 else ''}, a channel "
                           "dimension, and an optional batch dimension (i.e. "
                           f"{nd + 1}D or {nd + 2}D inputs).")
    if not training or p == 0.0 or d.size == 0:
        return input
    lead = d.shape[:2] if d.ndim == nd + 2 else d.shape[:1]
    shape = lead + (1,) * (d.ndim - len(lead))
    if p == 1.0:
        noise = np.zeros(shape, d.dtype)
    else:
        noise = _bernoulli_noise(shape, p, d.dtype)
        noise /= np.asarray(1.0 - p, d.dtype)
    scale = _new_tensor(noise, False, None, 0)
    return input.mul_(scale) if inplace else input * scale


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input with probability ``p``; scale the rest by ``1/(1-p)``."""
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) input with probability ``p``; scale the rest by ``1/(1-p)``."""
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, 3)

# ---- losses --------------------------------------------------------------------------------------

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:  # the legacy arguments win, as in PyTorch
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(t: Tensor, reduction: str) -> Tensor:
    return t.mean() if reduction == "mean" else t.sum() if reduction == "sum" else t


def _reduce_np(a: np.ndarray, reduction: str) -> np.ndarray:
    return a.mean() if reduction == "mean" else a.sum() if reduction == "sum" else a


def _g_red(g, red: str, n: int):
    """``g`` of a reduced loss, per element: ``g / n`` for a mean."""
    return g / n if red == "mean" else g


def _pointwise_loss(name: str, fwd, dfn, text: str):
    """A loss ``reduce(f(input - target))``: ``f`` on the difference and its derivative ``dfn``."""
    return defop(name, lambda input, target, red, n, p: _reduce_np(fwd(input - target, p), red),
                 lambda g, input, target, red, n, p: _g_red(g, red, n) * dfn(input - target, p),
                 lambda g, input, target, red, n, p: -(_g_red(g, red, n) * dfn(input - target, p)), text=(text, "-(the same)"))


def _smooth_l1(d, beta):
    a = np.abs(d)
    return a if beta == 0 else np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def _smooth_l1_grad(d, beta):
    sign = _mask(d, np.sign)
    return sign if beta == 0 else m.where(_mask(d, lambda v: np.abs(v) < beta), d / beta, sign)


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _huber_grad(d, delta):
    return m.where(_mask(d, lambda v: np.abs(v) <= delta), d, _mask(d, np.sign) * delta)


MSE_LOSS = _pointwise_loss("MseLossBackward0", lambda d, p: d * d, lambda d, p: 2 * d, "∂(d²)/∂x = 2d")
SMOOTH_L1_LOSS = _pointwise_loss("SmoothL1LossBackward0", _smooth_l1, _smooth_l1_grad, "∂/∂x = d/β if |d| < β else sign(d)")
HUBER_LOSS = _pointwise_loss("HuberLossBackward0", _huber, _huber_grad, "∂/∂x = clip(d, -δ, δ)")


def _float_pair(input: Tensor, target: Tensor) -> tuple:
    a, b = input._data, target._data
    if a.dtype != b.dtype:
        dt = _dtype.result_type(input, target).np
        a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
    return as_float(a), as_float(b)


def _warn_size(input: Tensor, target: Tensor) -> None:
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size (torch.Size({list(target._data.shape)})) that is different to the input size "
                      f"(torch.Size({list(input._data.shape)})). This will likely lead to incorrect results due to broadcasting. Please "
                      "ensure they have the same size.", stacklevel=3)


def _pointwise(op, input: Tensor, target: Tensor, reduction: str, p=None) -> Tensor:
    _warn_size(input, target)
    a, b = _float_pair(input, target)
    try:
        n = math.prod(np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    return apply(op, (input, target), (a, b), (reduction, n, p))


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None) -> Tensor:
    """Mean squared error ``reduce((input - target)²)``.

    >>> import flambeau as torch
    >>> torch.nn.functional.mse_loss(torch.tensor([1., 2.]), torch.tensor([0., 0.]))
    tensor(2.5000)
    """
    if weight is not None:
        raise NotImplementedError("mse_loss(weight=...) is not supported by flambeau yet")
    return _pointwise(MSE_LOSS, input, target, _reduction(reduction, size_average, reduce))


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None) -> Tensor:
    """Mean absolute error ``reduce(|input - target|)``."""
    if weight is not None:
        raise NotImplementedError("l1_loss(weight=...) is not supported by flambeau yet")
    _warn_size(input, target)
    return _reduce((input - target).abs(), _reduction(reduction, size_average, reduce))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d²/beta`` where ``|d| < beta``, else ``|d| - beta/2`` (``d = input - target``)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _pointwise(SMOOTH_L1_LOSS, input, target, _reduction(reduction, size_average, reduce), beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight=None) -> Tensor:
    """``0.5 d²`` where ``|d| < delta``, else ``delta (|d| - delta/2)``."""
    if weight is not None:
        raise NotImplementedError("huber_loss(weight=...) is not supported by flambeau yet")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _pointwise(HUBER_LOSS, input, target, _reduction(reduction), delta)


def _nll_fwd(x, target, weight, ignore_index, red):
    t = target.reshape(-1) if x.ndim == 1 else target
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    picked = x2[np.arange(len(tc)), tc] if x2.ndim == 2 else np.take_along_axis(x2, tc[:, None], axis=1)[:, 0]
    w = valid.astype(x.dtype) if weight is None else weight[tc] * valid
    loss = -w * picked
    if x.ndim == 1:
        loss = loss.reshape(())
    if red == "none":
        return loss
    return loss.sum() if red == "sum" else (loss.sum() / w.sum()).astype(x.dtype)


def _nll_grad(g, x, target, weight, ignore_index, red):
    t = _raw(target)
    shape = _raw(x).shape
    t2 = t.reshape(-1) if len(shape) == 1 else t
    valid = t2 != ignore_index
    tc = np.where(valid, t2, 0)
    w = valid.astype(_raw(x).dtype) if weight is None else _raw(weight)[tc] * valid
    if red == "mean":
        w = w / w.sum()
    if len(shape) <= 2:  # one picked entry per row
        onehot = np.zeros((len(tc), shape[-1]), _raw(x).dtype)
        onehot[np.arange(len(tc)), tc] = -w
        onehot = onehot.reshape(shape)
    else:
        c = shape[1]
        onehot = (np.arange(c).reshape((1, c) + (1,) * (tc.ndim - 1)) == tc[:, None]) * -w[:, None]
        onehot = onehot.reshape(shape).astype(_raw(x).dtype, copy=False)
    if red == "none" and len(shape) > 1:
        g = m.reshape(g, (shape[0], 1) + shape[2:])
    return _const(g, onehot) * g


NLL_LOSS = defop("NllLossBackward0", _nll_fwd, _nll_grad, None, None, text=("∂ℒ/∂x[n, t_n] = -w[t_n] (÷ Σw for a mean)",))


#: The unsigned integer type of each width: a target viewed as one is below the class count only if it is a class.
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _nll_dense_fwd(x, target, red):
    """:func:`_nll_fwd` for a batch ``(N, C)`` without weights where every target is a class (none ignored): the same
    values, bit for bit (``Σ -x = -Σ x``; a mean divides by ``N``, which is ``Σw``), without masks."""
    picked = x[arange(len(target)), target]
    if red == "none":
        return -picked
    total = picked.sum()
    return asarray(-total if red == "sum" else -total / len(target))


def _nll_dense_grad(g, x, target, red):
    xa, t = _raw(x), _raw(target)
    shape, dt = xa.shape, xa.dtype
    onehot = np.zeros(shape, dt)
    onehot[arange(len(t)), t] = -(dt.type(1) / len(t)) if red == "mean" else -1
    if red == "none":
        g = m.reshape(g, (shape[0], 1))
    return _const(g, onehot) * g


NLL_LOSS_DENSE = defop("NllLossBackward0", _nll_dense_fwd, _nll_dense_grad, None, text=NLL_LOSS.formula_text)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: ``-w[t] · input[n, t]`` per sample, reduced (a mean is weighted by ``Σ w[t]``)."""
    red = _reduction(reduction, size_average, reduce)
    x, t = input._data, target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_dtype.FROM_NP[t.dtype]._tensor_type[:-6]}")
    if x.ndim < 1 or (x.ndim == 1 and t.ndim != 0) or (x.ndim > 1 and (t.shape[0] != x.shape[0] or t.shape[1:] != x.shape[2:])):
        if x.ndim == 2 and t.ndim == 1:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]}).")
        raise RuntimeError(f"Expected target size {[x.shape[0]] + list(x.shape[2:])}, got {list(t.shape)}")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if t.size:
        if t.view(_UNSIGNED[t.dtype.itemsize]).max() >= c:  # a negative target (an ignore_index, say) or one too large
            bad = t[(t != ignore_index) & ((t < 0) | (t >= c))]
            if bad.size:
                raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
        elif weight is None and x.ndim == 2 and x.dtype.char in "fd" and not 0 <= ignore_index < c:  # every target a class
            return record(NLL_LOSS_DENSE, (input, target), _nll_dense_fwd(x, t, red), (red,))
    w = _weight_arg(weight, x, "nll_loss_forward")
    return record(NLL_LOSS, (input, target, w), _nll_fwd(x, t, None if w is None else w._data, ignore_index, red), (ignore_index, red))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(input, 1), target)`` for class indices; ``-Σ target · log_softmax`` for class probabilities.

    >>> import flambeau as torch
    >>> torch.nn.functional.cross_entropy(torch.tensor([[0., 0.]]), torch.tensor([1]))
    tensor(0.6931)
    """
    red = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input._data.ndim == 1 else 1
    logp = log_softmax(input, cdim)
    c = input._data.shape[cdim]
    wshape = (c,) + (1,) * (input._data.ndim - cdim - 1)
    if target._data.dtype.kind == "f":  # class probabilities
        if target._data.shape != input._data.shape:
            raise RuntimeError(f"Expected target size {list(input._data.shape)}, got {list(target._data.shape)}")
        tgt = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * tgt if weight is None else logp * tgt * weight.reshape(wshape)
        loss = -prod.sum(cdim)
        if red == "mean":
            return loss.sum() / (input._data.size // c) if input._data.ndim else loss
        return _reduce(loss, red)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, red)
    if label_smoothing == 0:
        return nll
    smooth = -(logp.sum(cdim) if weight is None else (logp * weight.reshape(wshape)).sum(cdim))
    valid = _new_tensor(target._data != ignore_index, False, None, 0)
    smooth = where(valid, smooth, 0.0)
    if red == "mean":
        t = np.where(target._data != ignore_index, target._data, 0)
        denom = valid._data.sum() if weight is None else (weight._data[t] * valid._data).sum()
        smooth = smooth.sum() / float(denom)
    else:
        smooth = _reduce(smooth, red)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def _bce(x, t, weight, red, n):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    return _reduce_np(loss if weight is None else loss * weight, red)


def _bce_dx(g, x, t, weight, red, n):
    d = _g_red(g, red, n) * (x - t) / m.clamp_min((1 - x) * x, 1e-12)
    return d if weight is None else d * weight


def _bce_dt(g, x, t, weight, red, n):
    d = _g_red(g, red, n) * (m.clamp_min(m.log(1 - x), -100.0) - m.clamp_min(m.log(x), -100.0))
    return d if weight is None else d * weight


BCE = defop("BinaryCrossEntropyBackward0", _bce, _bce_dx, _bce_dt, None, text=("∂/∂x = (x - t)/(x(1-x))", "∂/∂t = log(1-x) - log x"))


def _bce_logits(x, t, weight, pos_weight, red, n):
    sp = np.logaddexp(0, -x)
    loss = (1 - t) * x + (sp if pos_weight is None else (1 + (pos_weight - 1) * t) * sp)
    return _reduce_np(loss if weight is None else loss * weight, red)


def _bce_logits_dx(g, x, t, weight, pos_weight, red, n):
    lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    d = _g_red(g, red, n) * ((1 - t) - lw * m.sigmoid(-x))
    return d if weight is None else d * weight


def _bce_logits_dt(g, x, t, weight, pos_weight, red, n):
    d = -x if pos_weight is None else (pos_weight - 1) * m.softplus(-x) - x
    d = _g_red(g, red, n) * d
    return d if weight is None else d * weight


BCE_LOGITS = defop("BinaryCrossEntropyWithLogitsBackward0", _bce_logits, _bce_logits_dx, _bce_logits_dt, None, None,
                   text=("∂/∂x = (1-t) - (1 + (p-1)t)·σ(-x)", "∂/∂t = (p-1)·softplus(-x) - x"))


def _same_size(input: Tensor, target: Tensor, what: str) -> None:
    ts, xs = (f"torch.Size({list(t._data.shape)})" for t in (target, input))  # PyTorch's wording
    if ts != xs:
        raise ValueError(f"Using a target size ({ts}) that is different to the input size ({xs}) is deprecated. Please ensure they have "
                         "the same size." if what == "bce" else f"Target size ({ts}) must be the same as input size ({xs})")


def _weight_arg(w, like: np.ndarray, fn: str, arg: str = "weight"):
    """A loss's class or element weights in the input's dtype; like PyTorch, they take no gradient and say so."""
    if w is None:
        return None
    if w._rg and STATE.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{arg}'. "
                           "This input cannot have requires_grad True.")
    return w if w._data.dtype == like.dtype else _new_tensor(w._data.astype(like.dtype), False, None, 0)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1-t) log(1-x))`` (logs clamped at -100), reduced."""
    red = _reduction(reduction, size_average, reduce)
    _same_size(input, target, "bce")
    x, t = _float_pair(input, target)
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = _weight_arg(weight, x, "binary_cross_entropy")
    return record(BCE, (input, target, w), _bce(x, t, None if w is None else w._data, red, x.size), (red, x.size))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits, with optional ``pos_weight``."""
    red = _reduction(reduction, size_average, reduce)
    _same_size(input, target, "logits")
    x, t = _float_pair(input, target)
    w = _weight_arg(weight, x, "binary_cross_entropy_with_logits")
    pw = _weight_arg(pos_weight, x, "binary_cross_entropy_with_logits", "pos_weight")
    out = _bce_logits(x, t, None if w is None else w._data, None if pw is None else pw._data, red, x.size)
    return record(BCE_LOGITS, (input, target, w, pw), out, (red, x.size))


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target · (log target - input)`` (``input`` holds log-probabilities)."""
    red = "batchmean" if reduction == "batchmean" and size_average is None and reduce is None else _reduction(reduction, size_average, reduce)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        tlog = where(_new_tensor(target._data > 0, False, None, 0), target, 1.0).log()
        loss = target * (tlog - input)
    if red == "batchmean":
        return loss.sum() / input._data.shape[0] if input._data.ndim else loss.sum()
    return _reduce(loss, red)


def _clamp_min(t: Tensor, lo: float) -> Tensor:
    return apply(CLAMP_MIN, (t,), (t._data,), (lo,))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target · (input1 - input2) + margin)``, reduced."""
    return _reduce(_clamp_min(-target * (input1 - input2) + margin, 0.0), _reduction(reduction, size_average, reduce))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``, reduced."""
    t = target._data
    margin_part = where(_new_tensor(t != 1, False, None, 0), _clamp_min(margin - input, 0.0), 0.0)
    self_part = where(_new_tensor(t != -1, False, None, 0), input, 0.0)
    return _reduce(margin_part + self_part, _reduction(reduction, size_average, reduce))


def _not_differentiable(fn: str, arg: str, t: Tensor | None) -> None:
    """PyTorch's refusal of a tensor argument its derivative formulas do not cover (only while recording)."""
    if t is not None and t._rg and STATE.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{arg}'. This input cannot have "
                           "requires_grad True.")


def _soft_margin_grad(g, input, target, red, n):
    z = m.exp(-target * input)
    return _g_red(g, red, n) * -target * z / (1 + z)


SOFT_MARGIN_LOSS = defop("SoftMarginLossBackward0", lambda input, target, red, n: _reduce_np(np.log1p(np.exp(-target * input)), red),
                         _soft_margin_grad, None, text=("∂log(1 + e^(-y·x))/∂x = -y·e^(-y·x) / (1 + e^(-y·x))",))


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target · input))``, reduced (``target`` holds ±1).

    >>> import flambeau as torch
    >>> torch.nn.functional.soft_margin_loss(torch.tensor([0., 2.]), torch.tensor([1., -1.]), reduction="sum")
    tensor(2.8201)
    """
    red = _reduction(reduction, size_average, reduce)
    _not_differentiable("soft_margin_loss", "target", target)
    x, t = input._data, target._data
    if x.dtype.kind != "f":
        computed = as_float(np.zeros(0, _dtype.result_type(input, target).np)).dtype
        raise RuntimeError(f"result type {_scalar_name(computed)} can't be cast to the desired output type {_scalar_name(x.dtype)}")
    t = as_float(t).astype(x.dtype, copy=False)
    try:
        n = math.prod(np.broadcast_shapes(x.shape, t.shape))
    except ValueError:
        raise broadcast_error(x.shape, t.shape) from None
    return apply(SOFT_MARGIN_LOSS, (input, target), (x, t), (red, n))


def _scalar_name(dt: np.dtype) -> str:
    """PyTorch's scalar type name of a NumPy dtype (``Float``, ``Long`` ...)."""
    return _dtype.FROM_NP[dt]._tensor_type[:-6]


def _margin_input_checks(input: Tensor, target: Tensor) -> None:
    """The checks the two multi-class margin losses share: a (C,) or (N, C) input and an int64 target."""
    x, t = input._data, target._data
    if x.ndim > 2 or (x.ndim == 0) or x.shape[-1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(x.shape)}")
    if t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_scalar_name(t.dtype)}")


def _samples_g(g, red: str, nsamples: int, batched: bool):
    """``g`` of a per-sample loss, broadcastable against the (N, C) input: a column for ``reduction='none'``."""
    if red == "none":
        return m.reshape(g, (nsamples, 1)) if batched else g
    return _g_red(g, red, nsamples)


def _multi_margin_z(input, hot, margin):
    """``margin - x[y] + x[j]`` for every class ``j`` (``hot``: the one-hot target rows)."""
    return margin - _sum_keep(input * _const(input, hot), -1) + input


def _multi_margin(input, hot, wy, p, margin, red, shape):
    z = np.maximum(_multi_margin_z(input, hot, margin), 0) * (1 - hot)
    per = (((z if p == 1 else z * z) * wy).sum(-1) / input.shape[-1]).reshape(shape)
    return _reduce_np(per, red)


def _multi_margin_grad(g, input, hot, wy, p, margin, red, shape):
    z = _multi_margin_z(input, hot, margin)
    coef = _mask(z, lambda v: (v > 0) * (1 - hot) * (wy / input.shape[-1]))
    d = coef if p == 1 else 2 * z * coef
    batched = len(hot.shape) == 2
    return _samples_g(g, red, hot.shape[0] if batched else 1, batched) * (d - _const(d, hot) * _sum_keep(d, -1))


MULTI_MARGIN_LOSS = defop("MultiMarginLossBackward0", _multi_margin, _multi_margin_grad,
                          text=("∂/∂x_j = w_y·p·z_j^(p-1)/C where z_j = margin - x_y + x_j > 0 (j ≠ y); ∂/∂x_y = -Σ_j of those",))


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                      reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``Σ_{j ≠ y} w[y] · max(0, margin - x[y] + x[j])^p / C`` per sample, reduced.

    >>> import flambeau as torch
    >>> torch.nn.functional.multi_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]]), torch.tensor([3]))
    tensor(0.3250)
    """
    red = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _margin_input_checks(input, target)
    x, t = input._data, target._data
    nframe, c = (x.shape[0] if x.ndim == 2 else 1), x.shape[-1]
    if t.ndim > 1 or t.size != nframe:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch size). "
                           f"Expected target size [{nframe}], but got {list(t.shape)}. Input has shape {list(x.shape)}.")
    if ((t < 0) | (t >= c)).any():
        raise RuntimeError("target out of range")
    x = as_float(x)
    w = np.ones(c, x.dtype)
    if weight is not None:
        _not_differentiable("multi_margin_loss", "weight", weight)
        if weight._data.size != c:
            raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight._data.shape)}")
        if weight._data.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {_scalar_name(x.dtype)} but found {_scalar_name(weight._data.dtype)}")
        w = weight._data
    tt = t.reshape(x.shape[:-1])
    hot = (np.arange(c) == tt[..., None]).astype(x.dtype)
    wy = w[tt][..., None]
    return apply(MULTI_MARGIN_LOSS, (input,), (x,), (hot, wy, p, float(margin), red, t.shape if x.ndim == 1 else (nframe,)))


def _multilabel_margin(input, cnt, other, red):
    z = np.maximum(1 - input[..., :, None] + input[..., None, :], 0)
    per = (z * cnt[..., :, None] * other[..., None, :]).sum((-2, -1)) / input.shape[-1]
    return _reduce_np(per, red)


def _multilabel_margin_grad(g, input, cnt, other, red):
    x = _raw(input)
    a = (1 - x[..., :, None] + x[..., None, :] > 0) * cnt[..., :, None] * other[..., None, :] / x.shape[-1]
    batched = x.ndim == 2
    return _samples_g(g, red, x.shape[0] if batched else 1, batched) * _const(g, (a.sum(-2) - a.sum(-1)).astype(x.dtype, copy=False))


MULTILABEL_MARGIN_LOSS = defop("MultilabelMarginLossBackward0", _multilabel_margin, _multilabel_margin_grad,
                               text=("∂/∂x_k = Σ_j [1 - x_j + x_k > 0]/C (k not a target), ∂/∂x_j = -Σ_k of those (j a target)",))


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``Σ_{j in target} Σ_{k not in target} max(0, 1 - (x[j] - x[k])) / C`` per sample, reduced.

    ``target`` lists each sample's classes, ended by the first ``-1``.

    >>> import flambeau as torch
    >>> torch.nn.functional.multilabel_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]]), torch.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    red = _reduction(reduction, size_average, reduce)
    _margin_input_checks(input, target)
    x, t = as_float(input._data), target._data
    if t.shape != x.shape:
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: {list(x.shape)}")
    c = x.shape[-1]
    if ((t < -1) | (t >= c)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    listed = np.cumsum(t == -1, axis=-1) == 0  # the targets before the first -1
    cnt = ((np.arange(c) == np.where(listed, t, -1)[..., None]).sum(-2)).astype(x.dtype)
    other = (cnt == 0).astype(x.dtype)
    return apply(MULTILABEL_MARGIN_LOSS, (input,), (x,), (cnt, other, red))


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss: ``-mean_c(w · (y log σ(x) + (1 - y) log σ(-x)))`` per sample, reduced.

    >>> import flambeau as torch
    >>> torch.nn.functional.multilabel_soft_margin_loss(torch.tensor([[0., 2.]]), torch.tensor([[1., 0.]]))
    tensor(1.4100)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.dim() - 1) / input.shape[-1]
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def _norm_fwd(x, p, dim, keepdim, kshape):
    if p == 2:
        return np.sqrt((x * x).sum(axis=dim, keepdims=keepdim))
    return (np.abs(x) ** p).sum(axis=dim, keepdims=keepdim) ** (1.0 / p)


def _norm_grad(g, x, out, p, dim, keepdim, kshape):
    if not keepdim:
        g, out = m.reshape(g, kshape), m.reshape(out, kshape)
    safe = out + _mask(out, lambda o: o == 0)  # a zero norm has gradient 0
    if p == 2:
        return g * x / safe
    return g * x * abs(x) ** (p - 2) / safe ** (p - 1)


NORM = defop("NormBackward1", _norm_fwd, _norm_grad, text=("∂‖x‖ₚ/∂x = x·|x|^(p-2) / ‖x‖ₚ^(p-1)",))


def _norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    d = x._data
    if p == math.inf or p <= 0:
        raise NotImplementedError(f"vector norms with p={p} are not supported by flambeau yet")
    dim = _wrap_dim(dim, d.ndim)
    kshape = tuple(1 if i == dim else s for i, s in enumerate(d.shape))
    return apply(NORM, (x,), (d,), (p, dim, keepdim, kshape))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``‖x1 - x2 + eps‖_p`` over the last dimension."""
    diff = x1 - x2 + eps
    return _norm(diff, p, -1, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 · x2 / (max(‖x1‖, eps) · max(‖x2‖, eps))`` along ``dim``."""
    n1 = _clamp_min(_norm(x1, 2, dim, True), eps)
    n2 = _clamp_min(_norm(x2, 2, dim, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``input / max(‖input‖_p, eps)`` along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported by flambeau yet")
    return input / _clamp_min(_norm(input, p, dim, True), eps)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the pairwise p-distance."""
    red = _reduction(reduction, size_average, reduce)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = where(_new_tensor(d_swap._data < d_neg._data, False, None, 0), d_swap, d_neg)
    return _reduce(_clamp_min(margin + d_pos - d_neg, 0.0), red)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None, reduce=None,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``."""
    red = _reduction(reduction, size_average, reduce)
    dim = input1._data.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    t = target._data
    pos = where(_new_tensor(t == 1, False, None, 0), 1 - cos, 0.0)
    neg = where(_new_tensor(t == -1, False, None, 0), _clamp_min(cos - margin, 0.0), 0.0)
    return _reduce(pos + neg, red)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                     reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``e^input - target · input`` (or ``input - target · log(input + eps)``)."""
    red = _reduction(reduction, size_average, reduce)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        t = target._data
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0.0).astype(loss._data.dtype)
        loss = loss + _new_tensor(stirling, False, None, 0)
    return _reduce(loss, red)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """``0.5 (log var + (input - target)² / var)`` (+ ``0.5 log 2π`` when ``full``); ``var`` is clamped to ``eps`` without
    blocking its gradient."""
    red = _reduction(reduction)
    if not isinstance(var, Tensor):
        var = _new_tensor(np.full(input._data.shape, var, input._data.dtype), False, None, 0)
    vs, xs = var._data.shape, input._data.shape
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif not (xs[:-1] == vs[:-1] and vs[-1:] == (1,)):
            raise ValueError("var is of incorrect size")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    var = var + _new_tensor(np.maximum(var._data, eps) - var._data, False, None, 0)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, red)


# ---- linear layers ---------------------------------------------------------------------------------

#                                        forward                         ∂ℒ/∂x              ∂ℒ/∂w                  ∂ℒ/∂b
ADDMM = defop("AddmmBackward0",          lambda x, w, b: x @ w.T + b,    lambda g, w: g @ w, lambda g, x: m.t(g) @ x, lambda g: g,
              text=("∂(x·wᵀ + b)/∂x = g·w", "∂/∂w = gᵀ·x", "∂/∂b = Σg"))
MM = defop("MmBackward0",                lambda x, w: x @ w.T,           lambda g, w: g @ w, lambda g, x: m.t(g) @ x,
           text=("∂(x·wᵀ)/∂x = g·w", "∂/∂w = gᵀ·x"))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dimension of ``input``.

    >>> import flambeau as torch
    >>> torch.nn.functional.linear(torch.ones(1, 2), torch.ones(3, 2), torch.zeros(3))
    tensor([[2., 2., 2.]])
    """
    x, w = input._data, weight._data
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype.FROM_NP[x.dtype]._tensor_type[:-6]} and "
                           f"{_dtype.FROM_NP[w.dtype]._tensor_type[:-6]}")
    if w.ndim == 1:  # a vector of weights: a plain matrix product, as PyTorch does without bias
        if bias is not None:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        return matmul(input, weight)
    if w.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    k = x.shape[-1] if x.ndim else 1
    if k != w.shape[1]:
        e = RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.size // k if k else 0}x{k} and {w.shape[1]}x{w.shape[0]})")
        raise linear_explained(e, x.shape, w.shape)
    if x.ndim != 2:
        lead = x.shape[:-1]
        y = linear(reshape(input, (-1, k)), weight, bias)
        return reshape(y, lead + (w.shape[0],))
    if bias is None:
        return apply(MM, (input, weight), (x, w))
    return apply(ADDMM, (input, weight, bias), (x, w, bias._data))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x1ᵀ W x2 + b`` per output feature: ``out[..., o] = Σ x1[..., i] W[o, i, j] x2[..., j] + b[o]``."""
    s1, s2 = input1._data.shape, input2._data.shape
    if s1[:-1] != s2[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(s1[:-1])} and {list(s2[:-1])}")
    x1 = reshape(input1, (-1, s1[-1]))
    x2 = reshape(input2, (-1, s2[-1]))
    y = (matmul(x1, weight) * x2).sum(-1)          # (O, N)
    y = y.t() if y._data.ndim == 2 else y
    if bias is not None:
        y = y + bias
    return reshape(y, s1[:-1] + (weight._data.shape[0],))




# ---- convolution, unfold/fold: a strided window view and one matmul ---------------------------------

def _out_len(size: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _padded(x: np.ndarray, pads: tuple, value=0) -> np.ndarray:
    if not any(lo or hi for lo, hi in pads):
        return x
    nd = len(pads)
    out = np.full(x.shape[:-nd] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[-nd:], pads)), value, x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[-nd:], pads))] = x
    return out


def _windows(x: np.ndarray, k: tuple, stride: tuple, dilation: tuple, pads: tuple, value=0) -> np.ndarray:
    """The view ``(N, C, *L, *K)`` of every kernel window of ``x`` (no copy beyond the padding)."""
    nd = len(k)
    xp = _padded(x, pads, value)
    ext = tuple(d * (kk - 1) + 1 for kk, d in zip(k, dilation))
    v = np.lib.stride_tricks.sliding_window_view(xp, ext, axis=tuple(range(2, 2 + nd)))
    return v[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]


def _im2col(x: np.ndarray, k: tuple, stride: tuple, dilation: tuple, pads: tuple) -> np.ndarray:
    """``(N, C·∏K, ∏L)`` columns, PyTorch's ``unfold`` layout."""
    nd = len(k)
    v = _windows(x, k, stride, dilation, pads)
    n, c = x.shape[:2]
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return v.transpose(perm).reshape(n, c * math.prod(k), -1)


def _col2im(cols: np.ndarray, size: tuple, k: tuple, stride: tuple, dilation: tuple, pads: tuple) -> np.ndarray:
    """Sum columns back into an image of spatial ``size`` (the adjoint of :func:`_im2col`): one strided add per kernel offset."""
    n = cols.shape[0]
    c = cols.shape[1] // math.prod(k)
    lens = tuple(_out_len(size[i], k[i], stride[i], dilation[i], *pads[i]) for i in range(len(k)))
    cv = cols.reshape((n, c) + k + lens)
    buf = np.zeros((n, c) + tuple(sz + lo + hi for sz, (lo, hi) in zip(size, pads)), cols.dtype)
    for kk in np.ndindex(*k):
        sl = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + stride[i] * (lens[i] - 1) + 1, stride[i]) for i in range(len(k)))
        buf[(slice(None), slice(None)) + sl] += cv[(slice(None), slice(None)) + kk]
    if not any(lo or hi for lo, hi in pads):
        return buf
    return buf[(slice(None), slice(None)) + tuple(slice(lo, lo + sz) for sz, (lo, _) in zip(size, pads))]


#                                    forward                                       ∂ℒ/∂input: the adjoint
IM2COL = defop("Im2ColBackward0",   lambda x, size, k, stride, dilation, pads: _im2col(x, k, stride, dilation, pads),
               lambda g, size, k, stride, dilation, pads: m.fold(g, size, k, stride, dilation, pads), text=("∂unfold/∂x = fold",))
COL2IM = defop("Col2ImBackward0",   lambda x, size, k, stride, dilation, pads: _col2im(x, size, k, stride, dilation, pads),
               lambda g, size, k, stride, dilation, pads: m.unfold(g, size, k, stride, dilation, pads), text=("∂fold/∂x = unfold",))
m.unfold = lambda x, size, *a: apply(IM2COL, (x,), (x._data,), (size,) + a) if isinstance(x, Tensor) else _im2col(x, *a)
m.fold = lambda x, size, *a: apply(COL2IM, (x,), (x._data,), (size,) + a) if isinstance(x, Tensor) else _col2im(x, size, *a)


def _bmm_sum0(a, b):
    """``Σₙ aₙ @ bₙᵀ`` over the leading (batch) dimension (a batched matmul beats einsum/tensordot here)."""
    return (a @ m.transpose(b, -1, -2)).sum(0)


def _conv_fwd(x, w, b, stride, pads, dilation, groups):
    k = w.shape[2:]
    cols = _im2col(x, k, stride, dilation, pads)
    n, o = x.shape[0], w.shape[0]
    lens = tuple(_out_len(x.shape[2 + i], k[i], stride[i], dilation[i], *pads[i]) for i in range(len(k)))
    if groups == 1:
        out = w.reshape(o, -1) @ cols
    else:
        out = w.reshape(groups, o // groups, -1) @ cols.reshape(n, groups, -1, cols.shape[-1])
    out = out.reshape((n, o) + lens)
    if b is not None:
        out += b.reshape((o,) + (1,) * len(k))
    return out


def _conv_dx(g, w, xshape, stride, pads, dilation, groups):
    n, o = g.shape[0], w.shape[0]
    g2 = m.reshape(g, (n, groups, o // groups, -1))
    dcols = m.transpose(m.reshape(w, (groups, o // groups, -1)), -1, -2) @ g2
    return m.fold(m.reshape(dcols, (n, -1, dcols.shape[-1])), xshape[2:], tuple(w.shape[2:]), stride, dilation, pads)


def _conv_dw(g, x, wshape, stride, pads, dilation, groups):
    n, o = g.shape[0], wshape[0]
    cols = m.unfold(x, tuple(x.shape[2:]), tuple(wshape[2:]), stride, dilation, pads)
    dw = _bmm_sum0(m.reshape(g, (n, groups, o // groups, -1)), m.reshape(cols, (n, groups, -1, cols.shape[-1])))
    return m.reshape(dw, wshape)


def _conv_t_fwd(x, w, b, stride, pads, dilation, groups, size):
    k = w.shape[2:]
    n, cin = x.shape[:2]
    w2 = w.reshape(groups, cin // groups, -1)
    cols = np.swapaxes(w2, -1, -2) @ x.reshape(n, groups, cin // groups, -1)
    out = _col2im(cols.reshape(n, -1, cols.shape[-1]), size, k, stride, dilation, pads)
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * len(k))
    return out


def _conv_t_dx(g, w, stride, pads, dilation, groups, size):
    n, cin = g.shape[0], w.shape[0]
    cols = m.unfold(g, size, tuple(w.shape[2:]), stride, dilation, pads)
    dx = m.reshape(w, (groups, cin // groups, -1)) @ m.reshape(cols, (n, groups, -1, cols.shape[-1]))
    return m.reshape(dx, (n, cin, -1))


def _conv_t_dw(g, x, wshape, stride, pads, dilation, groups, size):
    n, cin = x.shape[:2]
    cols = m.unfold(g, size, tuple(wshape[2:]), stride, dilation, pads)
    dw = _bmm_sum0(m.reshape(x, (n, groups, cin // groups, -1)), m.reshape(cols, (n, groups, -1, cols.shape[-1])))
    return m.reshape(dw, wshape)


def _bias_grad(g):
    return _sum_dims(g, (0,) + tuple(range(2, len(g.shape))))


CONV = defop("ConvolutionBackward0",
             lambda x, w, b, xshape, wshape, stride, pads, dilation, groups: _conv_fwd(x, w, b, stride, pads, dilation, groups),
             lambda g, w, xshape, stride, pads, dilation, groups: _conv_dx(g, w, xshape, stride, pads, dilation, groups),
             lambda g, x, wshape, stride, pads, dilation, groups: _conv_dw(g, x, wshape, stride, pads, dilation, groups),
             lambda g: _bias_grad(g), text=("∂/∂x = conv_transpose(g, w)", "∂/∂w = Σ g ⊗ unfold(x)", "∂/∂b = Σg"))
CONV_T = defop("ConvolutionBackward0",
               lambda x, w, b, xshape, wshape, stride, pads, dilation, groups, size: _conv_t_fwd(x, w, b, stride, pads, dilation, groups, size),
               lambda g, w, xshape, stride, pads, dilation, groups, size: m.reshape(_conv_t_dx(g, w, stride, pads, dilation, groups, size), xshape),
               lambda g, x, wshape, stride, pads, dilation, groups, size: _conv_t_dw(g, x, wshape, stride, pads, dilation, groups, size),
               lambda g: _bias_grad(g), text=("∂/∂x = conv(g, w)", "∂/∂w = Σ x ⊗ unfold(g)", "∂/∂b = Σg"))


def _tuple(v, nd: int) -> tuple:
    if isinstance(v, int | np.integer):
        return (int(v),) * nd
    v = tuple(int(i) for i in v)
    return v * nd if len(v) == 1 else v


def _conv_check(x: np.ndarray, w: np.ndarray, nd: int, groups: int, transposed: bool) -> None:
    if x.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to conv{'_transpose' if transposed else ''}{nd}d, "
                           f"but got input of size: {list(x.shape)}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"Input type ({_dtype.FROM_NP[x.dtype]._tensor_type}) and weight type ({_dtype.FROM_NP[w.dtype]._tensor_type}) "
                           "should be the same")
    cin = w.shape[0] if transposed else w.shape[1] * groups
    if x.shape[1] != cin:
        if transposed:
            raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to have {w.shape[0]} "
                               f"channels, but got {x.shape[1]} channels instead")
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} to have {cin} "
                           f"channels, but got {x.shape[1]} channels instead")


def _batched(fn, input: Tensor, nd: int, *args, **kw) -> Tensor:
    """Run an op written for batched input on an unbatched one (``C, *spatial``)."""
    if input._data.ndim == nd + 1:
        return fn(input.unsqueeze(0), *args, **kw).squeeze(0)
    return fn(input, *args, **kw)


def _conv(input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups: int, nd: int) -> Tensor:
    if input._data.ndim == nd + 1:
        return _conv(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, nd).squeeze(0)
    x, w = input._data, weight._data
    _conv_check(x, w, nd, groups, False)
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    k = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            tot = [d * (kk - 1) for kk, d in zip(k, dilation)]
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of ('valid', 'same')")
    else:
        pads = tuple((p, p) for p in _tuple(padding, nd))
    if any(x.shape[2 + i] + lo + hi < dilation[i] * (k[i] - 1) + 1 for i, (lo, hi) in enumerate(pads)):
        raise RuntimeError("Calculated padded input size per channel: "
                           f"({' x '.join(str(x.shape[2 + i] + lo + hi) for i, (lo, hi) in enumerate(pads))}). Kernel size: "
                           f"({' x '.join(str(d * (kk - 1) + 1) for kk, d in zip(k, dilation))}). Kernel size can't be greater than actual "
                           "input size")
    b = None if bias is None else bias._data
    out = _conv_fwd(x, w, b, stride, pads, dilation, groups)
    return record(CONV, (input, weight, bias), out, (x.shape, w.shape, stride, pads, dilation, groups))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of ``(N, C, L)`` input with ``(O, C/groups, K)`` weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``(N, C, H, W)`` input with ``(O, C/groups, kH, kW)`` weight.

    ``padding`` may be an int, a pair, ``'valid'`` or ``'same'``.

    >>> import flambeau as torch
    >>> torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 2, 2])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)



def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) of ``(N, C, D, H, W)`` input with ``(O, C/groups, kD, kH, kW)`` weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)

def _conv_transpose(input: Tensor, weight: Tensor, bias, stride, padding, output_padding, groups: int, dilation, nd: int) -> Tensor:
    if input._data.ndim == nd + 1:
        return _conv_transpose(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation, nd).squeeze(0)
    x, w = input._data, weight._data
    _conv_check(x, w, nd, groups, True)
    stride, dilation, padding, opad = _tuple(stride, nd), _tuple(dilation, nd), _tuple(padding, nd), _tuple(output_padding, nd)
    if any(op >= max(s, d) for op, s, d in zip(opad, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           f"output_padding: {', '.join(map(str, opad))}, stride: {', '.join(map(str, stride))}, "
                           f"dilation: {', '.join(map(str, dilation))}")
    k = w.shape[2:]
    size = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + opad[i] + 1 for i in range(nd))
    pads = tuple((p, p) for p in padding)
    b = None if bias is None else bias._data
    out = _conv_t_fwd(x, w, b, stride, pads, dilation, groups, size)
    return record(CONV_T, (input, weight, bias), out, (x.shape, w.shape, stride, pads, dilation, groups, size))


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input); weight ``(C, O/groups, K)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of ``conv2d`` with respect to its input); weight ``(C, O/groups, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)



def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """3-D transposed convolution; weight ``(C, O/groups, kD, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)

def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks: ``(N, C, H, W)`` → ``(N, C·kH·kW, L)``."""
    if input._data.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    x = input._data
    if x.ndim != 4:
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    k, d, s = _tuple(kernel_size, 2), _tuple(dilation, 2), _tuple(stride, 2)
    pads = tuple((p, p) for p in _tuple(padding, 2))
    return apply(IM2COL, (input,), (x,), (x.shape[2:], k, s, d, pads))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image: ``(N, C·kH·kW, L)`` → ``(N, C, *output_size)`` (overlaps add up)."""
    if input._data.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    x = input._data
    if x.ndim != 3:
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {x.ndim}D)")
    size, k, d, s = _tuple(output_size, 2), _tuple(kernel_size, 2), _tuple(dilation, 2), _tuple(stride, 2)
    pads = tuple((p, p) for p in _tuple(padding, 2))
    kk = k[0] * k[1]
    n_blocks = math.prod(_out_len(size[i], k[i], s[i], d[i], *pads[i]) for i in range(2))
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
                           f"input.size(1)={x.shape[1]} and kernel_size=({k[0]}, {k[1]})")
    if x.shape[2] != n_blocks:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
                           f"padding=({pads[0][0]}, {pads[1][0]}), stride=({s[0]}, {s[1]}), expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {n_blocks}, but got input.size(2)={x.shape[2]}.")
    return apply(COL2IM, (input,), (x,), (size, k, s, d, pads))


# ---- pixel shuffle: channels <-> r×r spatial blocks, each op's gradient is the other --------------------

def _shuffle_np(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): ``out[c, h·r+i, w·r+j] = x[c·r² + i·r + j, h, w]``."""
    *b, c, h, w = x.shape
    n = len(b)
    y = x.reshape(*b, c // (r * r), r, r, h, w).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return np.array(y.reshape(*b, c // (r * r), h * r, w * r))


def _unshuffle_np(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of :func:`_shuffle_np`."""
    *b, c, h, w = x.shape
    n = len(b)
    y = x.reshape(*b, c, h // r, r, w // r, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return np.array(y.reshape(*b, c * r * r, h // r, w // r))


math_fn("pixel_shuffle", _shuffle_np, lambda g, r: pixel_shuffle(g, r))
math_fn("pixel_unshuffle", _unshuffle_np, lambda g, r: pixel_unshuffle(g, r))
PIXEL_SHUFFLE = defop("PixelShuffleBackward0", _shuffle_np, lambda g, r: m.pixel_unshuffle(g, r),
                      text=("the gradient un-shuffles: pixel_unshuffle(g, r)",))
PIXEL_UNSHUFFLE = defop("PixelUnshuffleBackward0", _unshuffle_np, lambda g, r: m.pixel_shuffle(g, r),
                        text=("the gradient shuffles back: pixel_shuffle(g, r)",))


def _check_shuffle(name: str, x: np.ndarray, factor: int, what: str) -> None:
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    if x.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {x.ndim} dimension(s)")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r) (sub-pixel convolution's upsampling).

    >>> import flambeau as torch
    >>> torch.nn.functional.pixel_shuffle(torch.arange(4.).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    x, r = input._data, int(upscale_factor)
    _check_shuffle("pixel_shuffle", x, r, "upscale_factor")
    if x.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
                           f"but input.size(-3)={x.shape[-3]} is not divisible by {r * r}")
    return apply(PIXEL_SHUFFLE, (input,), (x,), (r,))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W): the inverse of :func:`pixel_shuffle`.

    >>> import flambeau as torch
    >>> torch.nn.functional.pixel_unshuffle(torch.ones(1, 1, 4, 4), 2).shape
    flambeau.Size([1, 4, 2, 2])
    """
    x, r = input._data, int(downscale_factor)
    _check_shuffle("pixel_unshuffle", x, r, "downscale_factor")
    for dim, side in ((-2, "height"), (-1, "width")):
        if x.shape[dim] % r:
            raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but input.size({dim})={x.shape[dim]} "
                               f"is not divisible by {r}")
    return apply(PIXEL_UNSHUFFLE, (input,), (x,), (r,))



# ---- pooling ---------------------------------------------------------------------------------------

def _scatter_flat(g, flat: np.ndarray, shape: tuple):
    """Gradient of a gather at flat positions ``flat`` (one row per (N, C) plane): ``g`` summed into zeros of ``shape``."""
    nc, hw = math.prod(shape[:2]), math.prod(shape[2:])
    idx = (flat.reshape(nc, -1) + (np.arange(nc) * hw)[:, None]).reshape(-1)
    if isinstance(g, Tensor):
        return m.reshape(m.scatter_back(m.reshape(g, (-1,)), (idx,), True, (nc * hw,)), shape)
    return np.bincount(idx, weights=g.reshape(-1), minlength=nc * hw).astype(g.dtype, copy=False).reshape(shape)


def _gather_flat(x: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """``x`` (N, C, *spatial) read at flat spatial positions ``flat`` (N, C, *out)."""
    return np.take_along_axis(x.reshape(x.shape[:2] + (-1,)), flat.reshape(flat.shape[:2] + (-1,)), -1).reshape(flat.shape)


#                                                    forward: read x at the winners       ∂ℒ/∂x: g back to the winners
MAX_POOL = defop("MaxPool2DWithIndicesBackward0",   lambda x, flat, shape: _gather_flat(x, flat),
                 lambda g, flat, shape: _scatter_flat(g, flat, shape), text=("∂ℒ/∂x = g at each window's argmax",))
ADAPTIVE_MAX_POOL = defop("AdaptiveMaxPool2DBackward0", lambda x, flat, shape: _gather_flat(x, flat),
                          lambda g, flat, shape: _scatter_flat(g, flat, shape), text=("∂ℒ/∂x = g at each window's argmax",))


def _pool_pads(size: tuple, k: tuple, s: tuple, d: tuple, p: tuple, ceil_mode: bool) -> tuple:
    """Per dim ``(lo, hi)`` padding and output length, with PyTorch's ``ceil_mode`` rule (a window must start inside)."""
    pads, lens = [], []
    for n, kk, ss, dd, pp in zip(size, k, s, d, p):
        span = n + 2 * pp - dd * (kk - 1) - 1
        out = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (out - 1) * ss >= n + pp:
            out -= 1
        pads.append((pp, max(pp, (out - 1) * ss + dd * (kk - 1) + 1 - n - pp)))
        lens.append(out)
    return tuple(pads), tuple(lens)


def _pool_args(x: np.ndarray, kernel_size, stride, padding, dilation, nd: int) -> tuple:
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, kernel_size={k[0]} and "
                           f"dilation={d[0]}")
    return k, s, p, d


def _max_pool(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, return_indices: bool, nd: int):
    x = input._data
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, nd)
    pads, lens = _pool_pads(x.shape[2:], k, s, d, p, ceil_mode)
    v = _windows(x, k, s, d, pads, -np.inf)                     # (N, C, *L, *K)
    views = [v[(Ellipsis,) + kk] for kk in np.ndindex(*k)]
    best = views[0].copy()
    for cand in views[1:]:
        np.maximum(best, cand, out=best)  # NaN propagates, as in PyTorch
    if not (return_indices or (input._rg and STATE.enabled)):
        return record(MAX_POOL, (input,), best, (None, x.shape))
    arg = np.zeros(best.shape, np.intp)
    for j in range(len(views) - 1, 0, -1):  # the first offset holding the maximum wins
        np.copyto(arg, j, where=views[j] == best)
    # flat input position of each winner: its window's start plus the winning kernel offset
    base, delta = np.zeros((), np.int64), np.zeros((), np.int64)
    for i in range(nd):
        base = base[..., None] * x.shape[2 + i] + (np.arange(lens[i]) * s[i] - pads[i][0])
        delta = delta[..., None] * x.shape[2 + i] + np.arange(k[i]) * d[i]
    flat = base + delta.reshape(-1)[arg]
    t = record(MAX_POOL, (input,), best, (flat, x.shape))
    return (t, _new_tensor(flat, False, None, 0)) if return_indices else t


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each ``kernel_size`` window of ``(N, C, H, W)`` input (``return_indices`` gives the flat ``H·W`` argmax).

    >>> import flambeau as torch
    >>> torch.nn.functional.max_pool2d(torch.arange(16.).view(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _batched(_max_pool, input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each window of ``(N, C, L)`` input (computed as a 2-D pool of height 1, as PyTorch does)."""
    one = lambda v: (1,) + _tuple(v, 1)  # noqa: E731
    r = max_pool2d(input.unsqueeze(-2), one(kernel_size), None if stride is None else one(stride), (0,) + _tuple(padding, 1),
                   one(dilation), ceil_mode, return_indices)
    return (r[0].squeeze(-2), r[1].squeeze(-2)) if return_indices else r.squeeze(-2)


def _avg_divisor(size: tuple, k: tuple, s: tuple, p: tuple, lens: tuple, count_include_pad: bool, divisor_override, dtype) -> np.ndarray:
    if divisor_override:
        return np.asarray(divisor_override, dtype)
    div = np.ones((), dtype)
    for i in range(len(k)):
        start = np.arange(lens[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], size[i] + p[i])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size[i])
        div = div[..., None] * (end - start).astype(dtype)
    return div


def _avg_pool_dx(g, div, shape, k, s, pads):
    nd = len(k)
    n, c = shape[:2]
    gd = g / _const(g, div)
    if isinstance(g, Tensor):
        cols = m.expand(m.reshape(gd, (n, c) + (1,) * nd + tuple(g.shape[2:])), (n, c) + k + tuple(g.shape[2:]))
        return m.fold(m.reshape(cols, (n, c * math.prod(k), -1)), shape[2:], k, s, (1,) * nd, pads)
    cols = np.broadcast_to(gd.reshape((n, c) + (1,) * nd + gd.shape[2:]), (n, c) + k + gd.shape[2:])
    return _col2im(cols.reshape(n, c * math.prod(k), -1), shape[2:], k, s, (1,) * nd, pads)


def _avg_pool_fwd(x, div, shape, k, s, pads):
    nd = len(k)
    return _windows(x, k, s, (1,) * nd, pads).sum(axis=tuple(range(2 + nd, 2 + 2 * nd))) / div


AVG_POOL = defop("AvgPool2DBackward0", _avg_pool_fwd, lambda g, div, shape, k, s, pads: _avg_pool_dx(g, div, shape, k, s, pads),
                 text=("∂ℒ/∂x = Σ over the windows holding x of g / divisor",))


def _avg_pool(input: Tensor, kernel_size, stride, padding, ceil_mode: bool, count_include_pad: bool, divisor_override, nd: int) -> Tensor:
    x = input._data
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, nd)
    pads, lens = _pool_pads(x.shape[2:], k, s, (1,) * nd, p, ceil_mode)
    div = _avg_divisor(x.shape[2:], k, s, p, lens, count_include_pad, divisor_override, x.dtype)
    return apply(AVG_POOL, (input,), (x,), (div, x.shape, k, s, pads))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override=None) -> Tensor:
    """Mean over each ``kernel_size`` window of ``(N, C, H, W)`` input."""
    return _batched(_avg_pool, input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over each window of ``(N, C, L)`` input (a 2-D pool of height 1, as PyTorch computes it)."""
    one = lambda v: (1,) + _tuple(v, 1)  # noqa: E731
    return avg_pool2d(input.unsqueeze(-2), one(kernel_size), None if stride is None else one(stride), (0,) + _tuple(padding, 1),
                      ceil_mode, count_include_pad).squeeze(-2)


def _separable(x, ah, aw):
    """``Ah @ x @ Awᵀ`` on the last two dims (``Ah`` may be None: 1-D)."""
    y = x @ _const(x, aw.T)
    return y if ah is None else _const(x, ah) @ y


def _separable_dx(g, ah, aw):
    y = g @ _const(g, aw)
    return y if ah is None else _const(g, ah.T) @ y


def _separable_op(name: str, text: str):
    return defop(name, lambda x, ah, aw: _separable(x, ah, aw), lambda g, ah, aw: _separable_dx(g, ah, aw), text=(text,))


ADAPTIVE_AVG_POOL = _separable_op("AdaptiveAvgPool2DBackward0", "∂ℒ/∂x = Ahᵀ·g·Aw (Ah, Aw: the averaging matrices)")
UPSAMPLE = {name: _separable_op(name, "∂ℒ/∂x = Ahᵀ·g·Aw (Ah, Aw: the interpolation matrices)")
            for name in ("UpsampleNearest1DBackward0", "UpsampleNearest2DBackward0", "UpsampleLinear1DBackward0", "UpsampleBilinear2DBackward0")}


def _adaptive_bounds(n: int, out: int) -> tuple:
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _adaptive_matrix(n: int, out: int, dtype) -> np.ndarray:
    start, end = _adaptive_bounds(n, out)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _out_size(output_size, shape: tuple, nd: int) -> tuple:
    size = _tuple(output_size, nd) if not isinstance(output_size, int | np.integer) else (int(output_size),) * nd
    return tuple(shape[-nd + i] if s is None else s for i, s in enumerate(size))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average ``(N, C, H, W)`` input into an ``output_size`` grid of (possibly overlapping) windows."""
    x = as_float(input._data)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(x.shape)}")
    oh, ow = _out_size(output_size, x.shape, 2)
    if oh == ow == 1:  # global average pooling: PyTorch takes the mean
        return input.mean((-2, -1), keepdim=True)
    ah, aw = _adaptive_matrix(x.shape[-2], oh, x.dtype), _adaptive_matrix(x.shape[-1], ow, x.dtype)
    return apply(ADAPTIVE_AVG_POOL, (input,), (x,), (ah, aw))


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average ``(N, C, L)`` input into ``output_size`` windows."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + _tuple(output_size, 1)).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum of ``(N, C, H, W)`` input over an ``output_size`` grid of windows (``return_indices``: flat ``H·W`` argmax)."""
    x = input._data
    if x.ndim == 3:
        r = adaptive_max_pool2d(input.unsqueeze(0), output_size, return_indices)
        return (r[0].squeeze(0), r[1].squeeze(0)) if return_indices else r.squeeze(0)
    h, w = x.shape[2:]
    oh, ow = _out_size(output_size, x.shape, 2)
    idx = []
    for n, o in ((h, oh), (w, ow)):
        start, end = _adaptive_bounds(n, o)
        kmax = int((end - start).max())
        idx.append(np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1))  # (o, kmax); short windows repeat their last
    ih, iw = idx
    flat_all = (ih[:, None, :, None] * w + iw[None, :, None, :]).reshape(oh, ow, -1)  # (oh, ow, kh·kw)
    win = x.reshape(x.shape[:2] + (-1,))[:, :, flat_all]
    arg = win.argmax(-1)
    flat = np.take_along_axis(np.broadcast_to(flat_all, win.shape), arg[..., None], -1)[..., 0]
    t = apply(ADAPTIVE_MAX_POOL, (input,), (x,), (flat, x.shape))
    return (t, _new_tensor(flat, False, None, 0)) if return_indices else t


def _interp_matrix(n: int, out: int, mode: str, align_corners, scale) -> np.ndarray:
    dst = np.arange(out, dtype=np.float64)
    a = np.zeros((out, n))
    if mode == "nearest":
        a[np.arange(out), np.minimum(np.floor(dst * scale).astype(np.int64), n - 1)] = 1
        return a
    if align_corners:
        src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    np.add.at(a, (np.arange(out), i0), 1 - lam)
    np.add.at(a, (np.arange(out), i1), lam)
    return a


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize ``(N, C, L)`` or ``(N, C, H, W)`` input: ``mode`` ``'nearest'``, ``'linear'`` (3-D) or ``'bilinear'`` (4-D)."""
    x = as_float(input._data)
    nd = x.ndim - 2
    if mode not in ("nearest", "linear", "bilinear", "area") or antialias or nd not in (1, 2):
        raise NotImplementedError(f"interpolate(mode={mode!r}, antialias={antialias}) on {x.ndim}-D input is not supported by flambeau yet")
    if mode in ("nearest", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if (mode == "linear") != (nd == 1) and mode in ("linear", "bilinear"):
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {'3D' if mode == 'linear' else '4D'} input")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_size = x.shape[2:]
    if size is not None:
        out_size = _tuple(size, nd)
        scales = [n / o for n, o in zip(in_size, out_size)]
    else:
        sf = (float(scale_factor),) * nd if isinstance(scale_factor, int | float) else tuple(float(f) for f in scale_factor)
        out_size = tuple(int(math.floor(n * f)) for n, f in zip(in_size, sf))
        scales = [n / o for n, o in zip(in_size, out_size)] if recompute_scale_factor else [1 / f for f in sf]
    if mode == "area":
        return adaptive_avg_pool1d(input, out_size) if nd == 1 else adaptive_avg_pool2d(input, out_size)
    mats = [_interp_matrix(n, o, mode, align_corners, sc).astype(x.dtype) for n, o, sc in zip(in_size, out_size, scales)]
    name = {"nearest": f"UpsampleNearest{nd}DBackward0", "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0"}
    ah, aw = (None, mats[0]) if nd == 1 else mats
    return apply(UPSAMPLE[name[mode]], (input,), (x,), (ah, aw))



# ---- normalization ---------------------------------------------------------------------------------
# One op for layer, batch, group and instance norm: x is viewed as ``vshape`` and normalised over ``dims``
# of that view; the affine weight/bias broadcast as ``wshape`` and their gradients sum over ``wdims``.

def _stats(xv, dims: tuple, eps: float) -> tuple:
    mean = _mean_keep(xv, dims)
    c = xv - mean
    return mean, 1 / m.sqrt(_mean_keep(c * c, dims) + eps)


def _affine_norm(x, w, b, vshape, dims, wshape, wdims, pshape, eps, training, mean, rstd):
    y = ((x.reshape(vshape) - mean) * rstd).reshape(x.shape)
    if w is not None:
        y = y * w.reshape(wshape)
    if b is not None:
        y = y + b.reshape(wshape)
    return y


def _xhat(x, vshape, dims, eps, training, mean, rstd) -> tuple:
    xv = m.reshape(x, vshape)
    if isinstance(x, Tensor):  # double backward: the statistics are functions of x again
        mean, rstd = _stats(xv, dims, eps) if training else (_const(x, mean), _const(x, rstd))
    return xv, (xv - mean) * rstd, rstd


def _norm_dx(g, x, w, vshape, dims, wshape, eps, training, mean, rstd):
    gv = m.reshape(g if w is None else g * m.reshape(w, wshape), vshape)
    if not training:
        return m.reshape(gv * _const(g, rstd), x.shape)
    _, xhat, rstd = _xhat(x, vshape, dims, eps, training, mean, rstd)
    return m.reshape(rstd * (gv - _mean_keep(gv, dims) - xhat * _mean_keep(gv * xhat, dims)), x.shape)


def _norm_dw(g, x, vshape, dims, wdims, pshape, eps, training, mean, rstd):
    _, xhat, _ = _xhat(x, vshape, dims, eps, training, mean, rstd)
    return m.reshape(_sum_dims(g * m.reshape(xhat, x.shape), wdims), pshape)


def _norm_op(name: str):
    return defop(name, _affine_norm,
                 lambda g, x, w, vshape, dims, wshape, eps, training, mean, rstd: _norm_dx(g, x, w, vshape, dims, wshape, eps, training, mean, rstd),
                 lambda g, x, vshape, dims, wdims, pshape, eps, training, mean, rstd: _norm_dw(g, x, vshape, dims, wdims, pshape, eps, training,
                                                                                           mean, rstd),
                 lambda g, wdims, pshape: m.reshape(_sum_dims(g, wdims), pshape),
                 text=("∂ℒ/∂x = rstd·(ĝ - mean ĝ - x̂·mean(ĝ·x̂)), ĝ = g·w", "∂ℒ/∂w = Σ g·x̂", "∂ℒ/∂b = Σ g"))


LAYER_NORM, BATCH_NORM, GROUP_NORM = (_norm_op(n) for n in ("NativeLayerNormBackward0", "NativeBatchNormBackward0",
                                                             "NativeGroupNormBackward0"))


def _normalize(op, input: Tensor, weight, bias, vshape: tuple, dims: tuple, wshape: tuple, wdims: tuple, eps: float,
               stats: tuple | None = None) -> Tensor:
    """Normalise with batch statistics (``stats`` None) or given ``(mean, rstd)`` constants, then apply the affine part."""
    x = as_float(input._data)
    if stats is None:
        xv = x.reshape(vshape)
        mean = xv.mean(axis=dims, keepdims=True)
        rstd = 1 / np.sqrt(xv.var(axis=dims, keepdims=True) + eps)
    else:
        mean, rstd = stats
    pshape = None if weight is None and bias is None else (weight if weight is not None else bias)._data.shape
    w = None if weight is None else weight._data
    b = None if bias is None else bias._data
    return apply(op, (input, weight, bias), (x, w, b), (vshape, dims, wshape, wdims, pshape, eps, stats is None, mean, rstd))


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims: ``(x - mean) / sqrt(var + eps) · weight + bias``.

    >>> import flambeau as torch
    >>> torch.nn.functional.layer_norm(torch.tensor([[1., 3.]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    shape = input._data.shape
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int | np.integer) else tuple(int(n) for n in normalized_shape)
    k = len(ns)
    if shape[len(shape) - k:] != ns or k > len(shape):
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(map(str, ns))}], but got input of "
                           f"size{list(shape)}")
    nd = len(shape)
    return _normalize(LAYER_NORM, input, weight, bias, shape, tuple(range(nd - k, nd)), ns, tuple(range(nd - k)), eps)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x², trailing dims) + eps) · weight``; ``eps=None`` is ``finfo(input.dtype).eps``.

    Composed of differentiable ops, so its ``grad_fn`` chain is PyTorch's (``MulBackward0`` ... ``PowBackward0``).

    >>> import flambeau as torch
    >>> torch.nn.functional.rms_norm(torch.tensor([[3., 4.]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    if not isinstance(normalized_shape, tuple | list):
        raise TypeError(f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not {type(normalized_shape).__name__}")
    ns, shape = tuple(int(n) for n in normalized_shape), input._data.shape
    k = len(ns)
    if k > len(shape):
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {len(shape)}")
    if shape[len(shape) - k:] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*{', '.join(map(str, ns))}], but got input of "
                           f"size{list(shape)}")
    if weight is not None and weight._data.shape != ns:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape {list(weight._data.shape)} "
                           f"and normalized_shape = {list(ns)}")
    eps = _dtype.finfo(input.dtype).eps if eps is None else eps
    out = input * (input.pow(2).mean(tuple(range(len(shape) - k, len(shape))), keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def _update_running(running: Tensor | None, value: np.ndarray, momentum: float) -> None:
    if running is not None:
        d = running._data
        d *= 1 - momentum
        d += (momentum * value).astype(d.dtype, copy=False)
        running._version[0] += 1


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims; in training, update the running stats in place."""
    x = input._data
    nd = x.ndim
    if nd < 2:
        raise ValueError(f"expected 2D or 3D input (got {nd}D input)")
    c = x.shape[1]
    dims = (0,) + tuple(range(2, nd))
    wshape = (c,) + (1,) * (nd - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != (c,):
            raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")
    if training or running_mean is None or running_var is None:
        n = x.size // c
        if training and n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        out = _normalize(BATCH_NORM, input, weight, bias, x.shape, dims, wshape, dims, eps)
        if training:
            xf = as_float(x)
            _update_running(running_mean, xf.mean(axis=dims), momentum)
            _update_running(running_var, xf.var(axis=dims) * (n / max(n - 1, 1)), momentum)
        return out
    mean = running_mean._data.reshape(wshape).astype(as_float(x).dtype)
    rstd = 1 / np.sqrt(running_var._data.reshape(wshape).astype(mean.dtype) + eps)
    return _normalize(BATCH_NORM, input, weight, bias, x.shape, dims, wshape, dims, eps, (mean, rstd))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each of ``num_groups`` channel groups over its channels and spatial dims, then a per-channel affine map."""
    x = input._data
    n, c = x.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of shape {list(x.shape)} "
                           f"and num_groups={num_groups}")
    nd = x.ndim
    return _normalize(GROUP_NORM, input, weight, bias, (n, num_groups, -1), (2,), (c,) + (1,) * (nd - 2), (0,) + tuple(range(2, nd)), eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) plane over its spatial dims; running stats (if given) track the batch average."""
    x = input._data
    n, c = x.shape[:2]
    nd = x.ndim
    wshape, wdims = (c,) + (1,) * (nd - 2), (0,) + tuple(range(2, nd))
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    out = _normalize(BATCH_NORM, input, weight, bias, (n, c, -1), (2,), wshape, wdims, eps)
    if running_mean is not None:
        xv = as_float(x).reshape(n, c, -1)
        k = xv.shape[2]
        _update_running(running_mean, xv.mean(axis=2).mean(axis=0), momentum)
        _update_running(running_var, (xv.var(axis=2) * (k / max(k - 1, 1))).mean(axis=0), momentum)
    return out


# ---- embeddings, one-hot, attention ------------------------------------------------------------------

def _embedding_grad(g, indices, num, padding_idx):
    idx = _raw(indices).reshape(-1)
    d = g.shape[-1]
    if isinstance(g, Tensor):
        z = m.scatter_back(m.reshape(g, (-1, d)), (idx,), True, (num, d))
    else:
        z = np.zeros((num, d), g.dtype)
        np.add.at(z, idx, g.reshape(-1, d))
    if padding_idx is not None:
        keep = np.ones((num, 1), z.dtype)
        keep[padding_idx] = 0
        z = z * _const(z, keep)
    return z


EMBEDDING = defop("EmbeddingBackward0", lambda weight, indices, num, padding_idx: weight[indices],
                  lambda g, indices, num, padding_idx: _embedding_grad(g, indices, num, padding_idx), None,
                  text=("∂ℒ/∂W[i] = Σ of g over the positions holding index i (none for padding_idx)",))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input`` (rows at ``padding_idx`` get no gradient).

    >>> import flambeau as torch
    >>> torch.nn.functional.embedding(torch.tensor([1]), torch.eye(3))
    tensor([[0., 1., 0.]])
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding(scale_grad_by_freq=True / sparse=True) is not supported by flambeau yet")
    idx, w = input._data, weight._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
                           f"{_dtype.FROM_NP[idx.dtype]._tensor_type} instead (while checking arguments for embedding)")
    num = w.shape[0]
    if idx.size and (idx.min() < -num or idx.max() >= num or idx.min() < 0):
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    if max_norm is not None:  # renormalise the looked-up rows in place, outside the graph (as PyTorch)
        rows = np.unique(idx)
        norms = (np.abs(w[rows]) ** norm_type).sum(-1) ** (1 / norm_type)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[rows] *= scale[:, None]
        weight._version[0] += 1
    return apply(EMBEDDING, (weight, input), (w, idx), (num, padding_idx))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``(*, num_classes)`` int64 tensor with a 1 at each value of the integer ``tensor``."""
    t = tensor._data
    if t.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if t.size and t.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    elif t.size and t.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _new_tensor((t[..., None] == np.arange(num_classes)).astype(np.int64), False, None, 0)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """``softmax(q kᵀ · scale + mask) v`` over the last two dims (``is_causal``: each query sees keys up to its position)."""
    q, k = query._data, key._data
    if q.shape[:-3] != k.shape[:-3] and enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention(enable_gqa=True) is not supported by flambeau yet")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    attn = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = _new_tensor(np.tril(np.ones((q.shape[-2], k.shape[-2]), bool)), False, None, 0)
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            attn = where(attn_mask, attn, -math.inf)
        else:
            attn = attn + attn_mask
    attn = softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p)
    return matmul(attn, value)


Tensor.softmax = lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype)
