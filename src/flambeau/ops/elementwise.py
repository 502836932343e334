"""Elementwise ops: one row per op: node name, forward on arrays, derivative of each input.

Binary ops promote dtypes by PyTorch's rules and broadcast; the engine un-broadcasts their
gradients. Unary math on integer tensors computes in the default float dtype, as PyTorch does.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy import asarray, ndarray, vdot  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__): the hot paths use these

from .. import _dtype
from .._tensor import Tensor, _c_name, _new_tensor, short_node_name
from ..autograd.grad_mode import GRAD_OFF, STATE
from ..autograd.pitfalls import broadcast_explained, leaf_inplace_error
from . import _record_one, _special, defop, m, math_fn, record

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "rsub", "neg", "negative",
           "abs", "absolute", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "reciprocal", "square",
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv", "logit", "sign", "floor", "ceil",
           "round", "trunc", "fix", "frac", "nan_to_num", "clamp", "clip", "clamp_min", "clamp_max", "atan2", "arctan2", "hypot",
           "remainder", "fmod", "floor_divide", "maximum", "minimum", "fmax", "fmin", "lerp", "addcmul", "addcdiv",
           "isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_and", "logical_or", "logical_xor", "logical_not",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isclose", "allclose", "equal",
           "deg2rad", "rad2deg", "sinc", "sgn", "positive", "signbit", "copysign", "logaddexp", "logaddexp2", "xlogy", "float_power",
           "heaviside", "bitwise_left_shift", "bitwise_right_shift", "isreal", "nextafter", "lgamma", "digamma", "polygamma", "mvlgamma", "i0"]

_DEFAULTS = _dtype.DEFAULTS


# ---- dtype preparation ------------------------------------------------------------------------

def arrays2(a, b) -> tuple:
    """NumPy operands of a binary op on a Tensor ``a`` and a Tensor or Python scalar ``b``, promoted as PyTorch does."""
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.dtype is bd.dtype or ad.dtype == bd.dtype:
            return ad, bd
        dt = _dtype.result_type(a, b).np
        return ad.astype(dt, copy=False), bd.astype(dt, copy=False)
    tb = type(b)
    if tb is float:
        return (ad, b) if ad.dtype.kind == "f" else (ad.astype(_DEFAULTS.float.np), b)
    if tb is int:
        return (ad, b) if ad.dtype.kind != "b" else (ad.astype(np.int64), b)
    if tb is bool:
        return ad, b
    if isinstance(b, np.generic | np.ndarray) and np.ndim(b) == 0:
        return arrays2(a, b.item())
    raise TypeError(f"unsupported operand type: expected a Tensor or a number, got {tb.__name__}")


#: The common float dtypes: NumPy's dtype objects of built-in types are singletons, and ``dt is F32`` costs a fraction of
#: reading ``dt.kind`` (a hot-path test; other float dtypes take the ``kind`` test after it).
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def as_float(d: np.ndarray) -> np.ndarray:
    """Integer and bool data computed in the default float dtype (``exp``, ``sqrt``, true division ...)."""
    return d if d.dtype.kind == "f" else d.astype(_DEFAULTS.float.np)


def broadcast_error(sa: tuple, sb: tuple, op_name: str | None = None) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast, naming the first dimension that fails (explained when ``op_name``)."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            e = RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at non-singleton dimension {i}")
            return broadcast_explained(e, op_name, sa, sb) if op_name else e
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def check_broadcast(shapes: list) -> None:
    """PyTorch's error for the first of several shapes that does not broadcast with those before it."""
    acc = shapes[0]
    for s in shapes[1:]:
        try:
            acc = np.broadcast_shapes(acc, s)
        except ValueError:
            raise broadcast_error(acc, s) from None


def _tensor_first(a, b) -> tuple:
    if isinstance(a, Tensor):
        return a, b
    from .creation import scalar_tensor
    return scalar_tensor(a, b), b


def binary(op, a, b, attrs: tuple = ()):
    """Run a binary op: promote, broadcast (PyTorch's error when shapes don't), record."""
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype is b._data.dtype:
        ad, bd = a._data, b._data  # the common case: nothing to promote
    else:
        if not isinstance(a, Tensor):
            a, b = _tensor_first(a, b)
        ad, bd = arrays2(a, b)
    try:
        out = op.fwd(ad, bd, *attrs)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd), short_node_name(op.name).lower()) from None
    return record(op, (a, b), out, attrs)


def unary_float(op, x: Tensor, attrs: tuple = ()):
    """Run a unary math op, computing integer input in the default float dtype."""
    d = x._data
    dt = d.dtype
    if not (dt is F32 or dt is F64 or dt.kind == "f"):
        d = as_float(d)
    return _record_one(op, x, op.fwd(d, *attrs) if attrs else op.fwd(d), attrs)


def unary(op, x: Tensor, attrs: tuple = ()):
    return record(op, (x,), op.fwd(x._data, *attrs), attrs)


# ---- the ops -----------------------------------------------------------------------------------
#                                forward on arrays                        ∂ℒ/∂(first input)              ∂ℒ/∂(second input)
ADD = defop("AddBackward0",      lambda a, b, alpha: a + b if alpha == 1 else a + alpha * b,
                                                                          lambda g: g,                   lambda g, alpha: _times(g, alpha),
            text=("∂(a+b)/∂a = 1", "∂(a+b)/∂b = 1"))
SUB = defop("SubBackward0",      lambda a, b, alpha: a - b if alpha == 1 else a - alpha * b,
                                                                          lambda g: g,                   lambda g, alpha: _times(-g, alpha),
            text=("∂(a-b)/∂a = 1", "∂(a-b)/∂b = -1"))
RSUB = defop("RsubBackward1",    lambda a, b, alpha: b - a * alpha,       lambda g, alpha: _times(-g, alpha), None,
             text=("∂(b-a)/∂a = -1",))  # other a number
RSUB_T = defop("RsubBackward0",  lambda a, b, alpha: b - a * alpha,       lambda g, alpha: _times(-g, alpha), lambda g: g,
               text=("∂(b-a)/∂a = -1", "∂(b-a)/∂b = 1"))  # other a tensor
MUL = defop("MulBackward0",      lambda a, b: a * b,                      lambda g, b: g * b,            lambda g, a: g * a,
            text=("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"))
# the same product with a 0-d factor and a tensor (the course's w * x): the factor's gradient, Σ g·x, is one dot product
MUL_0D_A = defop("MulBackward0", lambda a, b: a * b,                      lambda g, b: _dot_all(g, b),   lambda g, a: g * a,
                 text=MUL.formula_text)
MUL_0D_B = defop("MulBackward0", lambda a, b: a * b,                      lambda g, b: g * b,            lambda g, a: _dot_all(g, a),
                 text=MUL.formula_text)
DIV = defop("DivBackward0",      lambda a, b: a / b,                      lambda g, b: g / b,            lambda g, a, b: -g * a / (b * b),
            text=("∂(a/b)/∂a = 1/b", "∂(a/b)/∂b = -a/b²"))
POW_SCALAR = defop("PowBackward0", lambda x, exponent: _power(x, exponent),
                   lambda g, x, exponent: g * 0.0 if exponent == 0 else g * _pow_slope(x, exponent),
                   text=("∂(xⁿ)/∂x = n·xⁿ⁻¹",))
POW = defop("PowBackward1",      lambda a, b: a ** b,
                                 lambda g, a, b: m.where(b == 0, 0.0, g * (b * a ** (b - 1))),
                                 lambda g, a, b, out: g * m.where((a == 0) * (b >= 0), 0.0, out * m.log(a)),
            text=("∂(aᵇ)/∂a = b·aᵇ⁻¹", "∂(aᵇ)/∂b = aᵇ·ln a"))
RPOW = defop("PowBackward2",     lambda x, base: base ** x,
                                 lambda g, out, base: g * out * float(np.log(base)) if base != 0 else g * 0.0,
             text=("∂(cˣ)/∂x = cˣ·ln c",))
NEG = defop("NegBackward0",      lambda x: -x,                            lambda g: -g,                  text=("∂(-x)/∂x = -1",))
ABS = defop("AbsBackward0",      np.abs,                                  lambda g, x: g * m.sign(x),    text=("∂|x|/∂x = sign(x)",))
EXP = defop("ExpBackward0",      np.exp,                                  lambda g, out: g * out,        text=("∂(eˣ)/∂x = eˣ",))
LOG = defop("LogBackward0",      np.log,                                  lambda g, x: g / x,            text=("∂(ln x)/∂x = 1/x",))
SQRT = defop("SqrtBackward0",    np.sqrt,                                 lambda g, out: g / (2 * out),  text=("∂(√x)/∂x = 1/(2√x)",))
SIN = defop("SinBackward0",      np.sin,                                  lambda g, x: g * m.cos(x),     text=("∂(sin x)/∂x = cos x",))
COS = defop("CosBackward0",      np.cos,                                  lambda g, x: g * -m.sin(x),    text=("∂(cos x)/∂x = -sin x",))
TANH = defop("TanhBackward0",    np.tanh,                                 lambda g, out: g * _one_minus(out * out),
             text=("∂(tanh x)/∂x = 1 - tanh²x",))
SIGMOID = defop("SigmoidBackward0", lambda x: _sigmoid(x),                lambda g, out: g * out * _one_minus(out),
                text=("∂σ(x)/∂x = σ(x)·(1 - σ(x))",))
RELU = defop("ReluBackward0",    lambda x: np.maximum(x, 0),              lambda g, out: g * (out > 0),  text=("∂relu(x)/∂x = [x > 0]",))
RECIPROCAL = defop("ReciprocalBackward0", lambda x: 1 / x,                lambda g, out: -g * out * out, text=("∂(1/x)/∂x = -1/x²",))


#                                          forward on arrays                    ∂ℒ/∂x
EXP2 = defop("Exp2Backward0",    np.exp2,                                       lambda g, out: g * out * _LN2,           text=("∂(2ˣ)/∂x = 2ˣ·ln 2",))
EXPM1 = defop("Expm1Backward0",  np.expm1,                                      lambda g, out: g * (out + 1),            text=("∂(eˣ-1)/∂x = eˣ",))
LOG2 = defop("Log2Backward0",    np.log2,                                       lambda g, x: g / (x * _LN2),
              text=("∂(log₂x)/∂x = 1/(x·ln 2)",))
LOG10 = defop("Log10Backward0",  np.log10,                                      lambda g, x: g / (x * _LN10),
               text=("∂(log₁₀x)/∂x = 1/(x·ln 10)",))
LOG1P = defop("Log1PBackward0",  np.log1p,                                      lambda g, x: g / (x + 1),
               text=("∂ln(1+x)/∂x = 1/(1+x)",))
RSQRT = defop("RsqrtBackward0", lambda x: 1 / np.sqrt(x),                     lambda g, out: g * out * out * out * -0.5,
              text=("∂(x^-½)/∂x = -½·x^-³ᐟ²",))
TAN = defop("TanBackward0",      np.tan,                                        lambda g, out: g * (out * out + 1),
             text=("∂(tan x)/∂x = 1 + tan²x",))
ASIN = defop("AsinBackward0",    np.arcsin,                                     lambda g, x: g / m.sqrt(_one_minus(x * x)),
              text=("∂asin x/∂x = 1/√(1-x²)",))
ACOS = defop("AcosBackward0",    np.arccos,                                     lambda g, x: -g / m.sqrt(_one_minus(x * x)),
              text=("∂acos x/∂x = -1/√(1-x²)",))
ATAN = defop("AtanBackward0",    np.arctan,                                     lambda g, x: g / (x * x + 1),
              text=("∂atan x/∂x = 1/(1+x²)",))
SINH = defop("SinhBackward0",    np.sinh,                                       lambda g, x: g * m.cosh(x),
              text=("∂sinh x/∂x = cosh x",))
COSH = defop("CoshBackward0",    np.cosh,                                       lambda g, x: g * m.sinh(x),
              text=("∂cosh x/∂x = sinh x",))
ASINH = defop("AsinhBackward0",  np.arcsinh,                                    lambda g, x: g / m.sqrt(x * x + 1),
               text=("∂asinh x/∂x = 1/√(x²+1)",))
ACOSH = defop("AcoshBackward0", np.arccosh,                                   lambda g, x: g / m.sqrt((x - 1) * (x + 1)),
              text=("∂acosh x/∂x = 1/√(x²-1)",))
ATANH = defop("AtanhBackward0",  np.arctanh,                                    lambda g, x: g / _one_minus(x * x),
               text=("∂atanh x/∂x = 1/(1-x²)",))
LOGIT = defop("LogitBackward0", lambda x, eps: _logit(x, eps),                lambda g, x, eps: _logit_grad(g, x, eps),
              text=("∂logit x/∂x = 1/(x(1-x)), 0 outside [eps, 1-eps]",))
ERF = defop("ErfBackward0",     lambda x: _special.erf(x).astype(x.dtype),    lambda g, x: g * m.exp(-x * x) * _TWO_OVER_SQRT_PI,
            text=("∂erf x/∂x = 2/√π·e^(-x²)",))
ERFC = defop("ErfcBackward0",   lambda x: _special.erfc(x).astype(x.dtype),   lambda g, x: g * m.exp(-x * x) * -_TWO_OVER_SQRT_PI,
             text=("∂erfc x/∂x = -2/√π·e^(-x²)",))
ERFINV = defop("ErfinvBackward0", lambda x: _special.erfinv(x).astype(x.dtype), lambda g, out: g * m.exp(out * out) / _TWO_OVER_SQRT_PI,
               text=("∂erfinv y/∂y = √π/2·e^(erfinv(y)²)",))
LGAMMA = defop("LgammaBackward0", lambda x: _special.lgamma(x).astype(x.dtype),   lambda g, x: g * m.digamma(x),
               text=("∂lgamma x/∂x = ψ(x)",))
DIGAMMA = defop("DigammaBackward0", lambda x: _special.digamma(x).astype(x.dtype), lambda g, x: g * m.polygamma(x, 1),
                text=("∂ψ(x)/∂x = ψ⁽¹⁾(x)",))
POLYGAMMA, POLYGAMMA_INPLACE = (defop(name, lambda x, n: _special.polygamma(n, x).astype(x.dtype), lambda g, x, n: g * m.polygamma(x, n + 1),
                                       text=("∂ψ⁽ⁿ⁾(x)/∂x = ψ⁽ⁿ⁺¹⁾(x)",)) for name in ("PolygammaBackward0", "PolygammaBackward1"))
MVLGAMMA = defop("MvlgammaBackward0", lambda x, p: _mvlgamma(x, p),          lambda g, x, p: g * _sum_over_p(m.digamma, x, p),
                 text=("∂mvlgamma(x, p)/∂x = Σⱼ ψ(x - j/2)",))
I0 = defop("I0Backward0",        lambda x: _special.i0(x).astype(x.dtype),      lambda g, x: g * m.i1(x),                text=("∂I₀(x)/∂x = I₁(x)",))
I0E = defop("SpecialI0EBackward0", lambda x: _special.i0e(x).astype(x.dtype),   lambda g, x, out: g * (m.i1e(x) - m.sign(x) * out),
            text=("∂(e^-|x|·I₀)/∂x = e^-|x|·I₁ - sign(x)·out",))
I1 = defop("SpecialI1Backward0", lambda x: _special.i1(x).astype(x.dtype),      lambda g, x, out: g * _at_zero(x, m.i0(x), out, 0.0),
           text=("∂I₁(x)/∂x = I₀(x) - I₁(x)/x (½ at 0)",))
I1E = defop("SpecialI1EBackward0", lambda x: _special.i1e(x).astype(x.dtype),   lambda g, x, out: g * _at_zero(x, m.i0e(x), out, m.sign(x) * out),
            text=("∂(e^-|x|·I₁)/∂x = e^-|x|·I₀ - out·(sign(x) + 1/x) (½ at 0)",))
SIGN = defop("SignBackward0",    lambda x: _sign(x),                             lambda g: g * 0.0,
              text=("∂sign x/∂x = 0",))
FLOOR = defop("FloorBackward0",  np.floor,                                      lambda g: g * 0.0,                       text=("∂⌊x⌋/∂x = 0",))
CEIL = defop("CeilBackward0",    np.ceil,                                       lambda g: g * 0.0,                       text=("∂⌈x⌉/∂x = 0",))
ROUND = defop("RoundBackward0",  lambda x: np.round(x),                         lambda g: g * 0.0,                       text=("∂round x/∂x = 0",))
ROUND_DEC = defop("RoundBackward1",lambda x, decimals: np.round(x, decimals),     lambda g: g * 0.0,                       text=("∂round x/∂x = 0",))
TRUNC = defop("TruncBackward0",  np.trunc,                                      lambda g: g * 0.0,                       text=("∂trunc x/∂x = 0",))
FRAC = defop("FracBackward0",    lambda x: x - np.trunc(x),                     lambda g: g,
              text=("∂(x - trunc x)/∂x = 1",))
NAN_TO_NUM = defop("NanToNumBackward0", lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
                   lambda g, x: g * m.isfinite(x), text=("∂nan_to_num x/∂x = [x finite]",))
CLAMP = defop("ClampBackward1", lambda x, min, max: _clip(x, min, max),       lambda g, x, min, max: g * _within(x, min, max),
              text=("∂clamp(x)/∂x = [min ≤ x ≤ max]",))
CLAMP_MIN = defop("ClampMinBackward0",lambda x, min: np.maximum(x, min),             lambda g, x, min: g * (x >= min),
                   text=("∂max(x, c)/∂x = [x ≥ c]",))
CLAMP_MAX = defop("ClampMaxBackward0",lambda x, max: np.minimum(x, max),             lambda g, x, max: g * (x <= max),
                   text=("∂min(x, c)/∂x = [x ≤ c]",))

#                                          forward on arrays                    ∂ℒ/∂a                                    ∂ℒ/∂b
ATAN2 = defop("Atan2Backward0", np.arctan2,                                  lambda g, a, b: g * b / (a * a + b * b),
                                                                               lambda g, a, b: -g * a / (a * a + b * b),
              text=("∂atan2(a,b)/∂a = b/(a²+b²)", "∂atan2(a,b)/∂b = -a/(a²+b²)"))
HYPOT = defop("HypotBackward0", np.hypot,                                    lambda g, a, out: g * a / out,          lambda g, b, out: g * b / out,
              text=("∂√(a²+b²)/∂a = a/out", "∂√(a²+b²)/∂b = b/out"))
REMAINDER = defop("RemainderBackward1", lambda a, b: _int_checked(np.remainder, a, b), lambda g: g,
                                                                               lambda g, a, b: -g * m.floor(a / b),
                  text=("∂(a mod b)/∂a = 1", "∂(a mod b)/∂b = -⌊a/b⌋"))
REMAINDER_SCALAR = defop("RemainderBackward0", lambda a, other: _int_checked(np.remainder, a, other), lambda g: g,
                         text=("∂(a mod c)/∂a = 1",))
FMOD = defop("FmodBackward1",   lambda a, b: _int_checked(np.fmod, a, b),   lambda g: g,                          lambda g, a, b: -g * m.trunc(a / b),
             text=("∂fmod(a,b)/∂a = 1", "∂fmod(a,b)/∂b = -trunc(a/b)"))
FMOD_SCALAR = defop("FmodBackward0",lambda a, other: _int_checked(np.fmod, a, other), lambda g: g,
                     text=("∂fmod(a,c)/∂a = 1",))
MAXIMUM = defop("MaximumBackward0", np.maximum,                              lambda g, a, b: _tie_half(g, a, b, a < b),
                                                                               lambda g, a, b: _tie_half(g, a, b, a > b),
                text=("∂max(a,b)/∂a = [a > b] (½ at a = b)", "∂max(a,b)/∂b = [b > a] (½ at a = b)"))
MINIMUM = defop("MinimumBackward0", np.minimum,                              lambda g, a, b: _tie_half(g, a, b, a > b),
                                                                               lambda g, a, b: _tie_half(g, a, b, a < b),
                text=("∂min(a,b)/∂a = [a < b] (½ at a = b)", "∂min(a,b)/∂b = [b < a] (½ at a = b)"))
FMAX = defop("FmaxBackward0",   np.fmax,                                     lambda g, a, b: g * ((a >= b) | m.isnan(b)),
                                                                               lambda g, a, b: g * ~((a >= b) | m.isnan(b)),
             text=("∂fmax(a,b)/∂a = [a ≥ b or b is nan]", "∂fmax(a,b)/∂b = the rest"))
FMIN = defop("FminBackward0",   np.fmin,                                     lambda g, a, b: g * ((a <= b) | m.isnan(b)),
                                                                               lambda g, a, b: g * ~((a <= b) | m.isnan(b)),
             text=("∂fmin(a,b)/∂a = [a ≤ b or b is nan]", "∂fmin(a,b)/∂b = the rest"))
CLAMP_MIN_TENSOR = defop("ClampMinBackward1", lambda x, min: np.maximum(x, min), lambda g, x, min: g * (x >= min),
                                                                               lambda g, x, min: g * (x < min),
                         text=("∂max(x, m)/∂x = [x ≥ m]", "∂max(x, m)/∂m = [x < m]"))
CLAMP_MAX_TENSOR = defop("ClampMaxBackward1", lambda x, max: np.minimum(x, max), lambda g, x, max: g * (x <= max),
                                                                               lambda g, x, max: g * (x > max),
                         text=("∂min(x, m)/∂x = [x ≤ m]", "∂min(x, m)/∂m = [x > m]"))
LERP = defop("LerpBackward0",   lambda a, b, weight: _lerp(a, b, weight),    lambda g, weight: g * (1 - weight),     lambda g, weight: g * weight,
             text=("∂lerp/∂start = 1 - w", "∂lerp/∂end = w"))

#                                          forward on arrays                    ∂ℒ/∂(each of the three inputs)
LERP_TENSOR = defop("LerpBackward1", lambda a, b, w: _lerp(a, b, w),
                    lambda g, w: g * (1 - w), lambda g, w: g * w, lambda g, a, b: g * (b - a),
                    text=("∂lerp/∂start = 1 - w", "∂lerp/∂end = w", "∂lerp/∂w = end - start"))
ADDCMUL = defop("AddcmulBackward0", lambda x, t1, t2, value: x + value * (t1 * t2),
                lambda g: g, lambda g, t2, value: g * t2 * value, lambda g, t1, value: g * t1 * value,
                text=("∂/∂input = 1", "∂/∂t1 = value·t2", "∂/∂t2 = value·t1"))
ADDCDIV = defop("AddcdivBackward0", lambda x, t1, t2, value: x + value * (t1 / t2),
                lambda g: g, lambda g, t2, value: g * value / t2, lambda g, t1, t2, value: -g * value * t1 / (t2 * t2),
                text=("∂/∂input = 1", "∂/∂t1 = value/t2", "∂/∂t2 = -value·t1/t2²"))
CLAMP_TENSOR = defop("ClampBackward0", lambda x, min, max: _clip(x, min, max),
                     lambda g, x, min, max: g * _within(x, min, max), lambda g, x, min: g * (x < min), lambda g, x, max: g * (x > max),
                     text=("∂clamp/∂x = [min ≤ x ≤ max]", "∂clamp/∂min = [x < min]", "∂clamp/∂max = [x > max]"))

DEG2RAD = defop("Deg2RadBackward0", np.deg2rad,                              lambda g: g * _RAD_PER_DEG,              text=("∂(x·π/180)/∂x = π/180",))
RAD2DEG = defop("Rad2DegBackward0", np.rad2deg,                              lambda g: g / _RAD_PER_DEG,              text=("∂(x·180/π)/∂x = 180/π",))
SGN = defop("SgnBackward0",      lambda x: _sign(x),                            lambda g: g * 0.0,                       text=("∂sgn x/∂x = 0",))
SINC = defop("SincBackward0",    lambda x: np.sinc(x),                          lambda g, x, out: _sinc_grad(g, x, out),
             text=("∂sinc x/∂x = (cos πx - sinc x)/x",))
COPYSIGN_SCALAR = defop("CopysignBackward1", lambda a, other: np.copysign(a, other), lambda g, a, out: _copysign_grad(g, a, out),
                        text=("∂copysign(a, c)/∂a = sign(a)·sign(out), 0 at a = 0",))
COPYSIGN = defop("CopysignBackward0", np.copysign,                           lambda g, a, out: _copysign_grad(g, a, out),
                                                                               lambda g: g * 0.0,
                 text=("∂copysign(a,b)/∂a = out/a (0 at a = 0)", "∂copysign(a,b)/∂b = 0"))
LOGADDEXP = defop("LogaddexpBackward0", np.logaddexp,                        lambda g, a, out: g * m.exp(a - out),
                                                                               lambda g, b, out: g * m.exp(b - out),
                  text=("∂log(eᵃ+eᵇ)/∂a = eᵃ⁻ᵒᵘᵗ", "∂log(eᵃ+eᵇ)/∂b = eᵇ⁻ᵒᵘᵗ"))
LOGADDEXP2 = defop("Logaddexp2Backward0", np.logaddexp2,                     lambda g, a, out: g * m.exp((a - out) * _LN2),
                                                                               lambda g, b, out: g * m.exp((b - out) * _LN2),
                   text=("∂log₂(2ᵃ+2ᵇ)/∂a = 2ᵃ⁻ᵒᵘᵗ", "∂log₂(2ᵃ+2ᵇ)/∂b = 2ᵇ⁻ᵒᵘᵗ"))
XLOGY = defop("XlogyBackward0",  lambda a, b: _xlogy(a, b),                   lambda g, a, b: _xlogy_grad_self(g, a, b),
                                                                               lambda g, a, b: g * a / b,
              text=("∂(a·log b)/∂a = log b (0 where a = 0 and b ≤ 0)", "∂(a·log b)/∂b = a/b"))
XLOGY_SELF_SCALAR = defop("XlogyBackward1", lambda b, self: _xlogy(self, b), lambda g, b, self: g * self / b, text=("∂(c·log b)/∂b = c/b",))
XLOGY_OTHER_SCALAR = defop("XlogyBackward2", lambda a, other: _xlogy(a, other), lambda g, a, other: _xlogy_grad_self(g, a, other),
                           text=("∂(a·log c)/∂a = log c",))
NEXTAFTER = defop("NextafterBackward0", np.nextafter,                       lambda g: g,                             lambda g: g * 0.0,
                  text=("∂nextafter(a,b)/∂a = 1 (as PyTorch)", "∂nextafter(a,b)/∂b = 0"))

_RAD_PER_DEG = float(np.pi / 180)
_LN2, _LN10, _TWO_OVER_SQRT_PI = float(np.log(2)), float(np.log(10)), float(2 / np.sqrt(np.pi))


def _logit(x, eps):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _logit_grad(g, x, eps):
    d = g / (x * (1 - x))
    if eps is None:
        return m.where((x < 0) | (x > 1), float("nan"), d)
    return m.where((x < eps) | (x > 1 - eps), 0.0, d)


def _clip(x, lo, hi):
    if lo is not None:
        x = np.maximum(x, lo)
    return x if hi is None else np.minimum(x, hi)


def _within(x, lo, hi):
    """The mask where clamp passes ``x`` through (works on arrays and on Tensors)."""
    if lo is None:
        return x <= hi
    return x >= lo if hi is None else (x >= lo) & (x <= hi)


def _tie_half(g, a, b, loses):
    """Gradient of max/min for one side: all of ``g`` where it wins, half at ties, none where it ``loses``."""
    return m.where(a == b, g / 2, m.where(loses, 0.0, g))


def _lerp(a, b, w):
    # PyTorch's form: exact at both ends (w = 0 gives a, w = 1 gives b)
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))


def _check_int_division(a, b) -> None:
    if np.result_type(a, b).kind in "iu" and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")


def _int_checked(ufunc, a, b):
    _check_int_division(a, b)
    return ufunc(a, b)


def _mvlgamma(x, p: int):
    return (p * (p - 1) / 4 * np.log(np.pi) + _sum_over_p(_special.lgamma, x, p)).astype(x.dtype, copy=False)


def _sum_over_p(fn, x, p: int):
    """Σ_{j<p} fn(x - j/2): the sum behind mvlgamma and its derivative."""
    total = fn(x)
    for j in range(1, p):
        total = total + fn(x - j / 2)
    return total


def _at_zero(x, head, out, extra):
    """``head - out/x - extra`` (the derivative of I₁ and of e^-|x|·I₁), ½ at x = 0 where out/x → ½."""
    safe = m.where(x == 0, 1.0, x)
    return m.where(x == 0, 0.5, head - out / safe - extra)


def _sign(x):
    return np.sign(x) if x.dtype.kind != "b" else x.copy()


def _sinc_grad(g, x, out):
    safe = m.where(x == 0, 1.0, x)
    return m.where(x == 0, 0.0, g * (m.cos(x * np.pi) - out) / safe)


def _copysign_grad(g, a, out):
    return m.where(a == 0, 0.0, g * out / m.where(a == 0, 1.0, a))


def _xlogy(a, b):
    return np.where((a == 0) & ~np.isnan(b), 0.0, a * np.log(b)).astype(np.result_type(a, b), copy=False)


def _xlogy_grad_self(g, a, b):
    return m.where((a == 0) & (b <= 0), 0.0, g * m.log(b))


def _no_derivative(fwd, what: str):
    """An op PyTorch records but cannot differentiate: backward raises its error."""
    def fail(g):
        raise RuntimeError(f"derivative for {what} is not implemented")
    return defop("NotImplemented", fwd, fail, fail)


def _power(x, exponent):
    """``x ** exponent`` for a Python-number exponent; ±0.5 go through sqrt as PyTorch's kernel does (so (-0)^-½ is -inf)."""
    if isinstance(x, Tensor):
        return x ** exponent
    if exponent == 0.5:
        return np.sqrt(x)
    if exponent == -0.5:
        return 1 / np.sqrt(x)
    return x ** exponent


def _pow_slope(x, exponent):
    """``exponent * x ** (exponent - 1)``. For a square's plain backward that is ``x + x``: exactly ``2 * x``, in one NumPy call
    without a Python scalar to convert. A tensor keeps the power in its graph, as PyTorch's double backward does."""
    if exponent == 2 and type(x) is ndarray:
        return x + x
    return exponent * _power(x, exponent - 1)


#: Python numbers as read-only 0-d arrays, by float dtype, then value (see number_array).
_NUMBERS: dict = {}


def number_array(v: int | float, dtype: np.dtype) -> np.ndarray | int | float:
    """The Python number ``v`` as a read-only 0-d array of the float ``dtype``, cached. NumPy combines an array with a 0-d
    array of its own dtype in about two thirds of the time it takes with a Python number, to the same bits: it converts
    the number to the array's dtype first. ``v`` itself where a cached array could not stand for it: zero (the sign of
    -0.0 would be lost to 0.0), NaN, and values beyond ±65504 (float16's range)."""
    cache = _NUMBERS.get(dtype)
    if cache is None:
        cache = _NUMBERS[dtype] = {}
    c = cache.get(v)
    if c is None:
        if not (v and -65504 <= v <= 65504) or len(cache) >= 1024:
            return v
        c = cache[v] = np.array(v, dtype)
        c.flags.writeable = False
    return c


def _one_minus(x):
    """``1 - x``; on an array the 1 is a cached 0-d array of its dtype (the same bits, in two thirds of the time)."""
    return number_array(1, x.dtype) - x if type(x) is ndarray else 1 - x


def _times(g, alpha):
    """``g * alpha``, skipped when ``alpha`` is 1 (the usual ``a + b``), as PyTorch's derivatives do."""
    return g if alpha == 1 else g * alpha


def _dot_all(g, x):
    """``(g * x).sum()``, for ``g`` and ``x`` of one shape: on arrays one dot product, with no product array made."""
    if type(g) is ndarray and type(x) is ndarray:
        return asarray(vdot(g, x))
    return (g * x).sum()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of -|x| never overflows: sigmoid(-1000) is 0, not nan
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


math_fn("sign", np.sign, lambda x: _new_tensor(np.sign(x._data), False, None, 0))  # piecewise constant: no gradient
math_fn("cos", np.cos)
math_fn("sin", np.sin)
math_fn("log", np.log)
math_fn("exp", np.exp)
math_fn("sqrt", np.sqrt)
math_fn("abs", np.abs)
math_fn("sinh", np.sinh)
math_fn("cosh", np.cosh)
math_fn("floor", np.floor)
math_fn("trunc", np.trunc)
math_fn("isnan", np.isnan)
math_fn("isfinite", np.isfinite)


def _where_tensor(cond, a, b):
    from .indexing import where
    return where(cond, a, b)


def _where_any(cond, a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor) or isinstance(cond, Tensor):
        return _where_tensor(cond, a, b)
    return np.where(cond, a, b)


m.where = _where_any


# ---- public functions (and Tensor methods) ---------------------------------------------------

def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting.

    >>> import flambeau as torch
    >>> torch.add(torch.tensor([1., 2.]), 10, alpha=2)
    tensor([21., 22.])
    """
    return binary(ADD, input, other, (alpha,))


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting."""
    if (isinstance(input, Tensor) and input._data.dtype.kind == "b") or (isinstance(other, Tensor) and other._data.dtype.kind == "b"):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
                           "use the `~` or `logical_not()` operator instead.")
    return binary(SUB, input, other, (alpha,))


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (what ``2 - x`` computes)."""
    return binary(RSUB_T if isinstance(other, Tensor) else RSUB, input, other, (alpha,))


def mul(input, other) -> Tensor:
    """Elementwise product, broadcasting."""
    return binary(MUL, input, other)


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division (integers give floats), or ``rounding_mode='trunc'``/``'floor'``."""
    if rounding_mode is not None:
        return _div_rounding(input, other, rounding_mode)
    if not isinstance(input, Tensor):
        input, other = _tensor_first(input, other)
    ad, bd = arrays2(input, other)
    ad = as_float(ad)
    if isinstance(bd, np.ndarray):
        bd = bd.astype(ad.dtype, copy=False)
    try:
        out = ad / bd
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd), "div") from None
    return record(DIV, (input, other), out)


DIV_ROUNDED = defop("DivBackward2", lambda a, b, mode: _rounded(a, b, mode), lambda g: g * 0.0, lambda g: g * 0.0,
                    text=("∂round(a/b)/∂a = 0", "∂round(a/b)/∂b = 0"))
FLOOR_DIVIDE = _no_derivative(lambda a, b: _rounded(a, b, "floor"), "aten::floor_divide")
REMAINDER_RSCALAR = _no_derivative(lambda a, b: _int_checked(np.remainder, a, b), "aten::remainder")
HEAVISIDE = _no_derivative(np.heaviside, "aten::heaviside")


def _rounded(a, b, mode: str):
    if mode == "floor":
        return _int_checked(np.floor_divide, a, b)
    _check_int_division(a, b)
    q = np.true_divide(a, b)
    return np.trunc(q).astype(q.dtype if np.result_type(a, b).kind == "f" else np.result_type(a, b), copy=False)


def _div_rounding(input, other, mode: str) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    if not isinstance(input, Tensor):
        input, other = _tensor_first(input, other)
    return binary(DIV_ROUNDED, input, other, (mode,))


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; either may be a Python number."""
    if not isinstance(input, Tensor):
        return _rpow(exponent, input)
    if isinstance(exponent, Tensor):
        return binary(POW, input, exponent)
    d = input._data
    if type(exponent) is float and d.dtype.kind != "f":
        d = as_float(d)
    elif d.dtype.kind == "b":
        d = d.astype(np.int64)
    if d.dtype.kind in "iu" and type(exponent) is int and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return record(POW_SCALAR, (input,), _power(d, exponent), (exponent,))


def _rpow(x: Tensor, base) -> Tensor:
    d = x._data if type(base) is int and x._data.dtype.kind != "b" else as_float(x._data)
    return record(RPOW, (x,), base ** d, (base,))


def neg(input: Tensor) -> Tensor:
    """``-input``."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                           "use the `~` or `logical_not()` operator instead.")
    return unary(NEG, input)


def abs(input: Tensor) -> Tensor:
    """``|input|``; its gradient at 0 is 0."""
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return unary(ABS, input)


def exp(input: Tensor) -> Tensor:
    """``e ** input``."""
    return unary_float(EXP, input)


def log(input: Tensor) -> Tensor:
    """Natural logarithm (``-inf`` at 0, ``nan`` below)."""
    return unary_float(LOG, input)


def sqrt(input: Tensor) -> Tensor:
    """Square root (``nan`` below 0)."""
    return unary_float(SQRT, input)


def sin(input: Tensor) -> Tensor:
    """Sine."""
    return unary_float(SIN, input)


def cos(input: Tensor) -> Tensor:
    """Cosine."""
    return unary_float(COS, input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return unary_float(TANH, input)


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + e^-x)``, stable for large ``|x|``."""
    return unary_float(SIGMOID, input)


def relu(input: Tensor) -> Tensor:
    """``max(input, 0)``."""
    return unary(RELU, input)


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``."""
    return unary_float(RECIPROCAL, input)


def square(input: Tensor) -> Tensor:
    """``input ** 2``."""
    return pow(input, 2)


def _compare(ufunc):
    def compare(input, other) -> Tensor:
        if not isinstance(input, Tensor):
            input, other = _tensor_first(input, other)
        ad, bd = arrays2(input, other)
        try:
            return _new_tensor(np.asarray(ufunc(ad, bd)), False, None, 0)
        except ValueError:
            raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise ``{ufunc.__name__}`` comparison, giving a bool tensor (no gradient)."
    return compare


eq, ne, lt, le, gt, ge = (_compare(u) for u in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal))


def _compare_keep_dtype(compare, node: str):
    """``compare`` giving ``input``'s dtype (what ``input.eq_(other)`` writes): 0/1, recorded with a zero gradient
    (PyTorch's ``EqBackward0`` for a number, ``EqBackward1`` for a tensor ``other``) so in-place comparisons keep history."""
    zero = lambda g: m.zeros_like(g)  # noqa: E731  piecewise constant
    by_number, by_tensor = defop(node + "Backward0", None, zero), defop(node + "Backward1", None, zero, zero)

    def compare_as_input(input: Tensor, other) -> Tensor:
        r = compare(input, other)._data.astype(input._data.dtype)
        return record(by_tensor, (input, other), r) if isinstance(other, Tensor) else record(by_number, (input,), r)
    return compare_as_input
subtract, multiply, divide, true_divide, negative, absolute = sub, mul, div, div, neg, abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


# ---- more elementwise math -------------------------------------------------------------------

def _math(op, x: Tensor, attrs: tuple = (), keep_int: bool = False) -> Tensor:
    """Run a unary op with NumPy's warnings off (PyTorch gives inf/nan silently)."""
    d = x._data if keep_int else as_float(x._data)
    return record(op, (x,), op.fwd(d, *attrs), attrs)


def _unary_math(op, name: str, doc: str, keep_int: bool = False, kernel: str = ""):
    """A public unary function ``name(input)`` running ``op``; integers compute in the default float dtype unless ``keep_int``.

    ``kernel`` names PyTorch's kernel for ops it does not define on bool tensors (the error message names it).
    """
    def fn(input: Tensor) -> Tensor:
        if kernel and input._data.dtype.kind == "b":
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
        return _math(op, input, (), keep_int)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{doc}\\n\\n    >>> import flambeau as torch\\n    >>> torch.{name}(torch.tensor([0.5, 0.25])).shape\\n"
                  "    torch.Size([2])\\n    ")
    return fn


exp2 = _unary_math(EXP2, "exp2", "``2 ** input``.")
expm1 = _unary_math(EXPM1, "expm1", "``exp(input) - 1``, precise near 0.")
log2 = _unary_math(LOG2, "log2", "Base-2 logarithm.")
log10 = _unary_math(LOG10, "log10", "Base-10 logarithm.")
log1p = _unary_math(LOG1P, "log1p", "``log(1 + input)``, precise near 0.")
rsqrt = _unary_math(RSQRT, "rsqrt", "``1 / sqrt(input)``.")
tan = _unary_math(TAN, "tan", "Tangent.")
asin = _unary_math(ASIN, "asin", "Inverse sine (``nan`` outside [-1, 1]).")
acos = _unary_math(ACOS, "acos", "Inverse cosine (``nan`` outside [-1, 1]).")
atan = _unary_math(ATAN, "atan", "Inverse tangent.")
sinh = _unary_math(SINH, "sinh", "Hyperbolic sine.")
cosh = _unary_math(COSH, "cosh", "Hyperbolic cosine.")
asinh = _unary_math(ASINH, "asinh", "Inverse hyperbolic sine.")
acosh = _unary_math(ACOSH, "acosh", "Inverse hyperbolic cosine (``nan`` below 1).")
atanh = _unary_math(ATANH, "atanh", "Inverse hyperbolic tangent (``±inf`` at ±1).")
erf = _unary_math(ERF, "erf", "The error function ``2/√π ∫₀ˣ e^(-t²) dt``.")
erfc = _unary_math(ERFC, "erfc", "``1 - erf(input)``, keeping its digits for large inputs.")
erfinv = _unary_math(ERFINV, "erfinv", "The inverse error function (``±inf`` at ±1, ``nan`` outside).")
sign = _unary_math(SIGN, "sign", "-1, 0 or 1 by the sign of each element (same dtype).", keep_int=True)
floor = _unary_math(FLOOR, "floor", "Largest integer not above each element (integers unchanged).", keep_int=True, kernel="floor_vml_cpu")
ceil = _unary_math(CEIL, "ceil", "Smallest integer not below each element (integers unchanged).", keep_int=True, kernel="ceil_vml_cpu")
trunc = _unary_math(TRUNC, "trunc", "Rounds toward zero (integers unchanged).", keep_int=True, kernel="trunc_vml_cpu")
fix = trunc
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


lgamma = _unary_math(LGAMMA, "lgamma", "``log|Γ(input)|`` (``inf`` at 0 and the negative integers).")
digamma = _unary_math(DIGAMMA, "digamma", "ψ(input), the derivative of ``lgamma`` (``-inf`` at 0, ``nan`` at the negative integers).")
i0 = _unary_math(I0, "i0", "I₀(input), the modified Bessel function of the first kind of order 0.")
i0e = _unary_math(I0E, "i0e", "``exp(-|input|) * i0(input)``, without overflow (``torch.special.i0e``).")
i1 = _unary_math(I1, "i1", "I₁(input), the modified Bessel function of the first kind of order 1 (``torch.special.i1``).")
i1e = _unary_math(I1E, "i1e", "``exp(-|input|) * i1(input)``, without overflow (``torch.special.i1e``).")
for _fn in (i0e, i1, i1e):  # these live only in torch.special
    _fn.__doc__ = _fn.__doc__.replace(f"torch.{_fn.__name__}(", f"torch.special.{_fn.__name__}(")


def polygamma(n: int, input: Tensor) -> Tensor:
    """ψ⁽ⁿ⁾(input), the ``n``-th derivative of ``digamma`` (``n = 0`` is ``digamma``).

    >>> import flambeau as torch
    >>> round(torch.polygamma(1, torch.tensor([1.])).item(), 4)  # π²/6
    1.6449
    """
    return _polygamma(POLYGAMMA, n, input)


def _polygamma(op, n: int, x: Tensor) -> Tensor:
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _math(op, x, (n,))


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma ``p(p-1)/4·log π + Σ_{j<p} lgamma(input - j/2)``.

    >>> import flambeau as torch
    >>> round(torch.mvlgamma(torch.tensor([2.5]), 2).item(), 4)
    1.3011
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return _math(MVLGAMMA, input, (p,))


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


def _polygamma_inplace(self: Tensor, n: int) -> Tensor:
    return _polygamma(POLYGAMMA_INPLACE, n, self)   # PyTorch names the in-place node PolygammaBackward1


for _name, _fn in {"lgamma": lgamma, "digamma": digamma, "i0": i0, "i0e": i0e, "i1": i1, "i1e": i1e}.items():
    math_fn(_name, lambda x, _kernel=getattr(_special, _name): _kernel(x).astype(x.dtype, copy=False), _fn)
math_fn("polygamma", lambda x, n: _special.polygamma(n, x).astype(x.dtype, copy=False), lambda x, n: polygamma(n, x))


deg2rad = _unary_math(DEG2RAD, "deg2rad", "Degrees to radians.")
rad2deg = _unary_math(RAD2DEG, "rad2deg", "Radians to degrees.")
sinc = _unary_math(SINC, "sinc", "The normalised sinc ``sin(πx)/(πx)`` (1 at 0).")
sgn = _unary_math(SGN, "sgn", "``sign`` (for real tensors; the unit complex number for complex ones, which flambeau lacks).", keep_int=True)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+input``); an error for bool tensors, as PyTorch.

    >>> import flambeau as torch
    >>> torch.positive(torch.tensor([-1.]))
    tensor([-1.])
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def signbit(input: Tensor) -> Tensor:
    """Whether the sign bit is set (true for -0.0 too).

    >>> import flambeau as torch
    >>> torch.signbit(torch.tensor([-0.0, 1.0]))
    tensor([ True, False])
    """
    d = input._data
    return _new_tensor(np.signbit(d if d.dtype.kind == "f" else d.astype(np.float64)), False, None, 0)


def _float_only(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype.FROM_NP[x._data.dtype]._tensor_type[:-6]}\'')


def frac(input: Tensor) -> Tensor:
    """``input - trunc(input)`` (floating dtypes only).

    >>> import flambeau as torch
    >>> torch.frac(torch.tensor([1.5, -2.25]))
    tensor([ 0.5000, -0.2500])
    """
    _float_only(input, "frac")
    return _math(FRAC, input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Rounds half to even, optionally to ``decimals`` places.

    >>> import flambeau as torch
    >>> torch.round(torch.tensor([0.5, 1.5, 1.234]), decimals=0)
    tensor([0., 2., 1.])
    """
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"round_vml_cpu\" not implemented for 'Bool'")
    if decimals == 0:
        return _math(ROUND, input, (), keep_int=True)
    _float_only(input, "round")
    return _math(ROUND_DEC, input, (decimals,))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import flambeau as torch
    >>> torch.logit(torch.tensor([0.5]))
    tensor([0.])
    """
    return _math(LOGIT, input, (eps,))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN to ``nan``; ±inf to ``posinf``/``neginf`` (default: the dtype's largest/lowest finite value).

    >>> import flambeau as torch
    >>> torch.nan_to_num(torch.tensor([float('nan'), 1.0]))
    tensor([0., 1.])
    """
    return _math(NAN_TO_NUM, input, (nan, posinf, neginf), keep_int=True)


def _bound(v):
    return v.item() if isinstance(v, np.generic) else v


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit every element to ``[min, max]``; either bound may be a number or a tensor, one may be ``None``.

    >>> import flambeau as torch
    >>> torch.clamp(torch.tensor([-2., 0.5, 3.]), min=0, max=1)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .creation import scalar_tensor
        lo, hi = (scalar_tensor(v, input) if v is not None and not isinstance(v, Tensor) else v for v in (min, max))
        bounds = [t for t in (lo, hi) if t is not None]
        dt = _dtype.result_type(input, *bounds).np
        arrays = (input._data.astype(dt, copy=False),) + tuple(None if t is None else t._data.astype(dt, copy=False) for t in (lo, hi))
        check_broadcast([a.shape for a in arrays if a is not None])
        return record(CLAMP_TENSOR, (input, lo, hi), CLAMP_TENSOR.fwd(*arrays))
    min, max = _bound(min), _bound(max)
    dt = _dtype.result_type(input, *(v for v in (min, max) if v is not None)).np
    return record(CLAMP, (input,), _clip(input._data.astype(dt, copy=False), min, max), (min, max))


clip = clamp


def _one_bound(scalar_op, tensor_op, input: Tensor, bound) -> Tensor:
    if isinstance(bound, Tensor):
        return binary(tensor_op, input, bound)
    bound = _bound(bound)
    return record(scalar_op, (input,), scalar_op.fwd(*arrays2(input, bound)), (bound,))


def clamp_min(input: Tensor, min) -> Tensor:
    """``max(input, min)`` elementwise; ``min`` a number or a tensor.

    >>> import flambeau as torch
    >>> torch.clamp_min(torch.tensor([-1., 2.]), 0)
    tensor([0., 2.])
    """
    return _one_bound(CLAMP_MIN, CLAMP_MIN_TENSOR, input, min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``min(input, max)`` elementwise; ``max`` a number or a tensor."""
    return _one_bound(CLAMP_MAX, CLAMP_MAX_TENSOR, input, max)


def _tensor_other(name: str, other) -> None:
    """PyTorch's check for the ops whose ``other`` must be a tensor (``maximum``, ``atan2`` ...)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


def _binary_float(op, a, b) -> Tensor:
    """A binary op on floats: integers promote to the default float dtype first."""
    if not isinstance(a, Tensor):
        a, b = _tensor_first(a, b)
    ad, bd = arrays2(a, b)
    ad = as_float(ad)
    bd = bd.astype(ad.dtype, copy=False) if isinstance(bd, np.ndarray) else bd
    try:
        out = op.fwd(ad, bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    return record(op, (a, b), out)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point ``(other, input)``, in ``(-π, π]``.

    >>> import flambeau as torch
    >>> torch.atan2(torch.tensor([1.]), torch.tensor([1.]))
    tensor([0.7854])
    """
    _tensor_other("atan2", other)
    return _binary_float(ATAN2, input, other)


arctan2 = atan2


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input² + other²)`` without overflow (floating dtypes only).

    >>> import flambeau as torch
    >>> torch.hypot(torch.tensor([3.]), torch.tensor([4.]))
    tensor([5.])
    """
    _tensor_other("hypot", other)
    if _dtype.result_type(input, other).np.kind != "f":
        raise NotImplementedError(f"\"hypot_cpu\" not implemented for '{_dtype.result_type(input, other)._tensor_type[:-6]}'")
    return _binary_float(HYPOT, input, other)


def copysign(input: Tensor, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (a tensor or a number); integers give floats.

    >>> import flambeau as torch
    >>> torch.copysign(torch.tensor([1., -2.]), -1)
    tensor([-1., -2.])
    """
    if isinstance(other, Tensor):
        return _binary_float(COPYSIGN, input, other)
    ad, b = arrays2(input, other)
    ad = as_float(ad)
    return record(COPYSIGN_SCALAR, (input,), np.copysign(ad, b).astype(ad.dtype, copy=False), (b,))


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow (floating dtypes only).

    >>> import flambeau as torch
    >>> torch.logaddexp(torch.tensor([1000.]), torch.tensor([1000.]))
    tensor([1000.6931])
    """
    _tensor_other("logaddexp", other)
    _float_result(input, other, "logaddexp")
    return _binary_float(LOGADDEXP, input, other)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow (floating dtypes only)."""
    _tensor_other("logaddexp2", other)
    _float_result(input, other, "logaddexp2")
    return _binary_float(LOGADDEXP2, input, other)


def _float_result(input: Tensor, other: Tensor, name: str) -> None:
    dt = _dtype.result_type(input, other)
    if dt.np.kind != "f":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{dt._tensor_type[:-6]}'")


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either may be a number.

    >>> import flambeau as torch
    >>> torch.xlogy(torch.tensor([0., 2.]), torch.tensor([0., 1.]))
    tensor([0., 0.])
    """
    if not isinstance(input, Tensor):
        bd, a = arrays2(other, input)
        bd = as_float(bd)
        return record(XLOGY_SELF_SCALAR, (other,), _xlogy(np.asarray(a, bd.dtype), bd), (a,))
    if not isinstance(other, Tensor):
        ad, b = arrays2(input, other)
        ad = as_float(ad)
        return record(XLOGY_OTHER_SCALAR, (input,), _xlogy(ad, np.asarray(b, ad.dtype)), (b,))
    return _binary_float(XLOGY, input, other)


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 (either may be a number).

    >>> import flambeau as torch
    >>> torch.float_power(torch.tensor([2]), 2)
    tensor([4.], dtype=torch.float64)
    """
    if isinstance(input, Tensor):
        input = input.double()
    if isinstance(exponent, Tensor):
        exponent = exponent.double()
    elif isinstance(exponent, int) and not isinstance(exponent, bool):
        exponent = float(exponent)
    return pow(input, exponent)


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable floating-point value after ``input`` towards ``other``.

    >>> import flambeau as torch
    >>> (torch.nextafter(torch.tensor([1.]), torch.tensor([2.])) - 1).item() > 0
    True
    """
    _tensor_other("nextafter", other)
    _float_result(input, other, "nextafter")
    return binary(NEXTAFTER, input, other)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 below zero, 1 above, ``values`` at zero (PyTorch defines no derivative for it).

    >>> import flambeau as torch
    >>> torch.heaviside(torch.tensor([-1., 0., 2.]), torch.tensor([0.5]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    _tensor_other("heaviside", values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return binary(HEAVISIDE, input, values)


def _modulo(tensor_op, scalar_op, input, other) -> Tensor:
    if not isinstance(input, Tensor):
        if tensor_op is not REMAINDER:
            raise TypeError(f"fmod() received an invalid combination of arguments - got ({type(input).__name__}, Tensor), but expected one "
                            "of:\n * (Tensor input, Tensor other)\n * (Tensor input, Number other)")
        return binary(REMAINDER_RSCALAR, *_tensor_first(input, other))
    if isinstance(other, Tensor):
        return binary(tensor_op, input, other)
    ad, b = arrays2(input, other)
    return record(scalar_op, (input,), scalar_op.fwd(ad, b), (b,))


def remainder(input, other) -> Tensor:
    """Python's modulus: the result has the sign of ``other``.

    >>> import flambeau as torch
    >>> torch.remainder(torch.tensor([-3., 3.]), 2)
    tensor([1., 1.])
    """
    return _modulo(REMAINDER, REMAINDER_SCALAR, input, other)


def fmod(input: Tensor, other) -> Tensor:
    """C's ``fmod``: the result has the sign of ``input``.

    >>> import flambeau as torch
    >>> torch.fmod(torch.tensor([-3., 3.]), 2)
    tensor([-1.,  1.])
    """
    return _modulo(FMOD, FMOD_SCALAR, input, other)


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` keeping integer dtypes (PyTorch defines no derivative for it).

    >>> import flambeau as torch
    >>> torch.floor_divide(torch.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    if not isinstance(input, Tensor):
        input, other = _tensor_first(input, other)
    return binary(FLOOR_DIVIDE, input, other)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum (NaN propagates); ties share the gradient equally.

    >>> import flambeau as torch
    >>> torch.maximum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
    tensor([3., 5.])
    """
    _tensor_other("maximum", other)
    return binary(MAXIMUM, input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum (NaN propagates); ties share the gradient equally."""
    _tensor_other("minimum", other)
    return binary(MINIMUM, input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum ignoring NaN (NaN only where both are NaN).

    >>> import flambeau as torch
    >>> torch.fmax(torch.tensor([float('nan'), 1.]), torch.tensor([2., 3.]))
    tensor([2., 3.])
    """
    _tensor_other("fmax", other)
    return binary(FMAX, input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum ignoring NaN (NaN only where both are NaN)."""
    _tensor_other("fmin", other)
    return binary(FMIN, input, other)


def _promoted(*ts) -> tuple:
    """Tensors (numbers become 0-dim tensors) and their arrays in the common PyTorch dtype."""
    from .creation import scalar_tensor
    like = next(t for t in ts if isinstance(t, Tensor))
    ts = tuple(t if isinstance(t, Tensor) else scalar_tensor(t, like) for t in ts)
    dt = _dtype.result_type(*ts).np
    return ts, tuple(t._data.astype(dt, copy=False) for t in ts)


def _ternary(op, ts: tuple, attrs: tuple = ()) -> Tensor:
    ts, arrays = _promoted(*ts)
    check_broadcast([a.shape for a in arrays])
    return record(op, ts, op.fwd(*arrays, *attrs), attrs)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor.

    >>> import flambeau as torch
    >>> torch.lerp(torch.tensor([0., 10.]), torch.tensor([10., 20.]), 0.5)
    tensor([ 5., 15.])
    """
    _float_only(input, "lerp_kernel_scalar")
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"expected dtype {_c_name(input._data.dtype)} for `end` but got dtype {_c_name(end._data.dtype)}")
    if isinstance(weight, Tensor):
        return _ternary(LERP_TENSOR, (input, end, weight))
    return binary(LERP, input, end, (_bound(weight),))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``.

    >>> import flambeau as torch
    >>> torch.addcmul(torch.tensor([1.]), torch.tensor([2.]), torch.tensor([3.]), value=2)
    tensor([13.])
    """
    return _ternary(ADDCMUL, (input, tensor1, tensor2), (value,))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (``tensor1``/``tensor2`` must not both be integers).

    >>> import flambeau as torch
    >>> torch.addcdiv(torch.tensor([1.]), torch.tensor([3.]), torch.tensor([2.]), value=2)
    tensor([4.])
    """
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
                           "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
                           "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
                           "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value "
                           "* tensor1 / tensor2), for all dtypes.")
    return _ternary(ADDCDIV, (input, tensor1, tensor2), (value,))


# ---- predicates, logical and bitwise ops (no gradient) ---------------------------------------------

def _flag(data) -> Tensor:
    return _new_tensor(np.asarray(data), False, None, 0)


def isnan(input: Tensor) -> Tensor:
    """Where ``input`` is NaN (bool tensor).

    >>> import flambeau as torch
    >>> torch.isnan(torch.tensor([1., float('nan')]))
    tensor([False,  True])
    """
    return _flag(np.isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    """Where ``input`` is ±inf (bool tensor)."""
    return _flag(np.isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    """Where ``input`` is neither NaN nor ±inf (bool tensor)."""
    return _flag(np.isfinite(input._data))


def isposinf(input: Tensor) -> Tensor:
    """Where ``input`` is +inf (bool tensor)."""
    return _flag(np.isposinf(input._data))


def isneginf(input: Tensor) -> Tensor:
    """Where ``input`` is -inf (bool tensor)."""
    return _flag(np.isneginf(input._data))


def _pair(input, other) -> tuple:
    if not isinstance(input, Tensor):
        input, other = _tensor_first(input, other)
    return arrays2(input, other)


def _bool_op(ufunc, name: str):
    def fn(input: Tensor, other: Tensor) -> Tensor:
        _tensor_other(name, other)
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        try:
            return _flag(ufunc(a, b))
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of the truth values of ``input`` and ``other`` (bool tensor).\n\n"
                  f"    >>> import flambeau as torch\n    >>> torch.{name}(torch.tensor([True, False]), torch.tensor([True, True])).dtype\n"
                  "    torch.bool\n    ")
    return fn


logical_and = _bool_op(np.logical_and, "logical_and")
logical_or = _bool_op(np.logical_or, "logical_or")
logical_xor = _bool_op(np.logical_xor, "logical_xor")


def logical_not(input: Tensor) -> Tensor:
    """Elementwise ``not`` of the truth values (bool tensor).

    >>> import flambeau as torch
    >>> torch.logical_not(torch.tensor([0, 2]))
    tensor([ True, False])
    """
    return _flag(np.logical_not(input._data))


def _integral(d: np.ndarray, name: str) -> None:
    if d.dtype.kind not in "biu":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype.FROM_NP[d.dtype]._tensor_type[:-6]}\'')


def _bitwise_op(ufunc, name: str, kernel: str = ""):
    def fn(input, other) -> Tensor:
        a, b = _pair(input, other)
        _integral(np.asarray(a), kernel or name)
        if isinstance(b, np.ndarray):
            _integral(b, kernel or name)
        try:
            out = ufunc(a, b)
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None
        return _flag(np.asarray(out).astype(np.asarray(a).dtype, copy=False))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of integer or bool tensors.\n\n    >>> import flambeau as torch\n"
                  f"    >>> torch.{name}(torch.tensor([12]), torch.tensor([3]))\n    tensor([{int(ufunc(np.int64(12), 3))}])\n    ")
    return fn


bitwise_and = _bitwise_op(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise_op(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise_op(np.bitwise_xor, "bitwise_xor")


def _shift_left(a, b):
    bits = np.asarray(a).dtype.itemsize * 8   # PyTorch: shifting by the width or more gives 0
    return np.where(np.asarray(b) >= bits, 0, np.left_shift(a, np.minimum(b, bits - 1)))


def _shift_right(a, b):
    bits = np.asarray(a).dtype.itemsize * 8   # arithmetic: by the width or more gives 0 or -1
    return np.right_shift(a, np.minimum(b, bits - 1))


bitwise_left_shift = _bitwise_op(_shift_left, "bitwise_left_shift", "lshift")
bitwise_right_shift = _bitwise_op(_shift_right, "bitwise_right_shift", "rshift")


def isreal(input: Tensor) -> Tensor:
    """Whether each element is real: always true, as flambeau has no complex dtypes.

    >>> import flambeau as torch
    >>> torch.isreal(torch.tensor([1., 2.]))
    tensor([True, True])
    """
    return _flag(np.ones(input._data.shape, np.bool_))


def _invert(self: Tensor) -> Tensor:
    if self._data.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


def bitwise_not(input: Tensor) -> Tensor:
    """Bitwise complement of an integer tensor; ``not`` for bool.

    >>> import flambeau as torch
    >>> torch.bitwise_not(torch.tensor([0, 5]))
    tensor([-1, -6])
    """
    _integral(input._data, "bitwise_not")
    return _flag(np.invert(input._data))


def _same_dtype(input: Tensor, other: Tensor) -> None:
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{_dtype.FROM_NP[input._data.dtype]._tensor_type[:-6]} did not match "
                           f"{_dtype.FROM_NP[other._data.dtype]._tensor_type[:-6]}")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (bool tensor); infinities equal only themselves.

    >>> import flambeau as torch
    >>> torch.isclose(torch.tensor([1., 2.]), torch.tensor([1. + 1e-9, 2.1]))
    tensor([ True, False])
    """
    _tensor_other("isclose", other)
    _same_dtype(input, other)
    a, b = input._data, other._data
    close = (a == b) | (np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= atol + rtol * np.abs(b)))
    if equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    return _flag(close)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element is :func:`isclose`.

    >>> import flambeau as torch
    >>> torch.allclose(torch.tensor([1., 2.]), torch.tensor([1., 2. + 1e-9]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values.

    >>> import flambeau as torch
    >>> torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2]))
    True
    """
    a, b = arrays2(input, other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


# ---- in place ------------------------------------------------------------------------------------

def inplace(fn, self: Tensor, *args, **kwargs) -> Tensor:
    """Run out-of-place ``fn(self, ...)`` and write the result into ``self``, rebasing its history.

    The leaf check, the dtype check, the version bump and the graph rewiring happen here once,
    for every in-place op.
    """
    recording = STATE.enabled
    if recording and self._rg and self._grad_fn is None:
        raise leaf_inplace_error(self)
    if recording and self._base is not None and (self._rg or self._base._rg or any(isinstance(a, Tensor) and a._rg for a in args)):
        from .shape import inplace_on_view
        return inplace_on_view(fn, self, *args, **kwargs)
    r = fn(self, *args, **kwargs)
    write_into(self, r)
    if self.__dict__.get("_views"):
        from .shape import refresh_views  # views of self now derive from its new history
        refresh_views(self)
    return self


def write_into(self: Tensor, r: Tensor) -> None:
    """Copy result ``r`` into ``self``'s memory; if ``r`` was recorded, ``self`` takes its place in the graph."""
    rd = r._data
    sd = self._data
    if rd.dtype != sd.dtype and _dtype.FROM_NP[rd.dtype].category > _dtype.FROM_NP[sd.dtype].category:
        raise RuntimeError(f"result type {_dtype.FROM_NP[rd.dtype]._tensor_type[:-6]} can't be cast to the desired output type "
                           f"{_dtype.FROM_NP[sd.dtype]._tensor_type[:-6]}")
    if rd.shape != sd.shape:
        raise RuntimeError(f"output with shape {list(sd.shape)} doesn't match the broadcast shape {list(rd.shape)}")
    node = r._grad_fn
    if node is not None:
        saved = getattr(node, "_saved", None)
        if saved and saved[0] is self:
            # the op saved ``self`` as it was: keep that value alive for backward
            snap = _new_tensor(sd.copy(), self._rg, self._grad_fn, self._output_nr)
            node._saved = (snap, *saved[1:])
            node._vers = (0, *node._vers[1:])
    if sd.flags.writeable:
        np.copyto(sd, rd, casting="unsafe")
    else:
        raise RuntimeError("unsupported operation: the tensor's memory is read-only (an expanded view); clone() it first")
    self._version[0] += 1
    if node is not None:
        self._grad_fn, self._output_nr, self._rg = node, r._output_nr, True
        if getattr(node, "_out", None) is not None:
            node._out = (sd, self._version, self._version[0])


def _method_inplace(fn, name: str):
    ufunc, scalar_op = _UFUNCS.get(fn, (None, None))
    if ufunc is None:
        def method(self, *args, **kwargs):
            return inplace(fn, self, *args, **kwargs)
    else:
        def method(self, other, **kwargs):
            # nothing recorded, float data, a same-dtype tensor or a number: NumPy writes in place directly
            d = self._data
            if (not kwargs and d.dtype.kind == "f" and not (STATE.enabled and (self._rg or getattr(other, "_rg", False) or self._base is not None))
                    and (type(other) is float or type(other) is int or (type(other) is Tensor and other._data.dtype is d.dtype))
                    and "_views" not in self.__dict__):
                o = other._data if type(other) is Tensor else other
                if d.ndim == 0 and (type(o) is not np.ndarray or o.ndim == 0):
                    d[()] = scalar_op(d[()], o[()] if type(o) is np.ndarray else o)  # NumPy's scalar math: a fraction of a ufunc call
                else:
                    try:
                        ufunc(d, o, out=d)
                    except ValueError:
                        return inplace(fn, self, other)  # shapes that don't fit: the general path raises PyTorch's error
                self._version[0] += 1
                return self
            return inplace(fn, self, other, **kwargs)
    method.__name__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``: writes the result into this tensor and returns it."
    return method


_UFUNCS = {add: (np.add, operator.add), sub: (np.subtract, operator.sub), mul: (np.multiply, operator.mul),
           div: (np.true_divide, operator.truediv)}


# ---- Tensor methods and operators --------------------------------------------------------------

_METHODS = {"add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "abs": abs, "exp": exp, "log": log, "sqrt": sqrt,
            "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "reciprocal": reciprocal, "square": square,
            "subtract": sub, "multiply": mul, "divide": div, "true_divide": div, "negative": neg, "absolute": abs,
            "exp2": exp2, "expm1": expm1, "log2": log2, "log10": log10, "log1p": log1p, "rsqrt": rsqrt, "tan": tan, "asin": asin,
            "acos": acos, "atan": atan, "sinh": sinh, "cosh": cosh, "asinh": asinh, "acosh": acosh, "atanh": atanh, "arcsin": asin,
            "arccos": acos, "arctan": atan, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh, "erf": erf, "erfc": erfc,
            "erfinv": erfinv, "logit": logit, "sign": sign, "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "fix": trunc,
            "frac": frac, "nan_to_num": nan_to_num, "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
            "atan2": atan2, "arctan2": atan2, "hypot": hypot, "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide,
            "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv, "logical_and": logical_and, "logical_or": logical_or,
            "logical_xor": logical_xor, "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
            "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not, "deg2rad": deg2rad, "rad2deg": rad2deg, "sinc": sinc, "sgn": sgn,
            "copysign": copysign, "xlogy": xlogy, "float_power": float_power, "heaviside": heaviside,
            "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift, "nextafter": nextafter,
            "lgamma": lgamma, "digamma": digamma, "polygamma": _polygamma_method, "mvlgamma": mvlgamma, "i0": i0}
_NO_INPLACE = {"maximum": maximum, "minimum": minimum, "fmax": fmax, "fmin": fmin, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
               "isposinf": isposinf, "isneginf": isneginf, "isclose": isclose, "allclose": allclose, "equal": equal, "eq": eq, "ne": ne,
               "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt, "greater_equal": ge, "less": lt, "less_equal": le,
               "not_equal": ne, "positive": positive, "signbit": signbit, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "isreal": isreal}
for _name, _fn in {**_METHODS, **_NO_INPLACE}.items():
    setattr(Tensor, _name, _fn)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name + "_", _method_inplace(_fn, _name + "_"))
for _node, _names in {"Eq": ("eq",), "Ne": ("ne", "not_equal"), "Lt": ("lt", "less"), "Le": ("le", "less_equal"), "Gt": ("gt", "greater"),
                      "Ge": ("ge", "greater_equal")}.items():
    _fn = _compare_keep_dtype(_NO_INPLACE[_names[0]], _node)
    for _name in _names:
        setattr(Tensor, _name + "_", _method_inplace(_fn, _name + "_"))
Tensor.polygamma_ = _method_inplace(_polygamma_inplace, "polygamma_")

def _operator(op, slow, fwd, attrs: tuple = (), with_0d: tuple | None = None):
    """An operator dunder (``x + y``, ``x * 2`` ...). Float tensors with a tensor of the same dtype or a Python number go
    straight to ``fwd`` (the op's forward for these ``attrs``, as a C function of the two arrays) and the recording;
    everything else (promotion, subclasses, errors) goes through ``slow``, the public function, which gives the same result.
    ``with_0d`` optionally gives the op to record when the first, or the second, of two tensors is 0-d and the other not."""

    def method(self, other):
        if type(self) is Tensor:
            a = self._data
            dt = a.dtype
            if dt is F32 or dt is F64 or dt.kind == "f":
                t = type(other)
                if t is Tensor:
                    b = other._data
                    if dt is not b.dtype:
                        return slow(self, other)
                    rg = self._rg or other._rg
                elif t is float or t is int:
                    b = other
                    rg = self._rg
                else:
                    return slow(self, other)
                an = a.ndim
                if an == 0 and (t is not Tensor or b.ndim == 0):
                    out = fwd(a[()], b[()] if t is Tensor else b)  # NumPy's scalar math: a fraction of a ufunc call on 0-d arrays
                else:
                    if t is not Tensor:  # the number as a cached 0-d array: also what the node keeps, for a backward as quick
                        other = b = number_array(b, dt)
                    try:
                        out = fwd(a, b)
                    except ValueError:  # shapes that do not broadcast: the public function says so
                        return slow(self, other)
                if type(out) is not ndarray:
                    out = asarray(out)
                if rg and (not GRAD_OFF or STATE.enabled):
                    if with_0d is not None and t is Tensor:
                        if an == 0:
                            if b.ndim:
                                return with_0d[0].linker()(self, other, out, attrs)
                        elif b.ndim == 0:
                            return with_0d[1].linker()(self, other, out, attrs)
                    return (op._link or op.linker())(self, other, out, attrs)
                return _new_tensor(out, False, None, 0)
        return slow(self, other)
    method.__name__ = method.__qualname__ = slow.__name__
    method.__doc__ = slow.__doc__
    return method


Tensor.__add__ = Tensor.__radd__ = _operator(ADD, add, operator.add, (1,))
Tensor.__sub__ = _operator(SUB, sub, operator.sub, (1,))
Tensor.__rsub__ = lambda self, other: rsub(self, other)
Tensor.__mul__ = Tensor.__rmul__ = _operator(MUL, mul, operator.mul, (), (MUL_0D_A, MUL_0D_B))
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: reciprocal(self) * other


def _pow_operator(self, exponent):
    """``x ** 2``: a float tensor and a Python number go straight to the forward and the recording; the rest to ``pow``."""
    if type(self) is Tensor and (type(exponent) is int or type(exponent) is float):
        d = self._data
        dt = d.dtype
        if dt is F32 or dt is F64 or dt.kind == "f":
            return _record_one(POW_SCALAR, self, _power(d, exponent), (exponent,))
    return pow(self, exponent)


_pow_operator.__name__ = _pow_operator.__qualname__ = "pow"
_pow_operator.__doc__ = pow.__doc__
Tensor.__pow__ = _pow_operator
Tensor.__rpow__ = lambda self, other: _rpow(self, other) if not isinstance(other, Tensor) else pow(other, self)
Tensor.__neg__ = neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = abs
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__iadd__ = _method_inplace(add, "__iadd__")
Tensor.__isub__ = _method_inplace(sub, "__isub__")
Tensor.__imul__ = _method_inplace(mul, "__imul__")
Tensor.__itruediv__ = _method_inplace(div, "__itruediv__")
Tensor.__ipow__ = _method_inplace(pow, "__ipow__")
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__invert__ = _invert
Tensor.__lshift__ = bitwise_left_shift
Tensor.__rlshift__ = lambda self, other: bitwise_left_shift(other, self)
Tensor.__rshift__ = bitwise_right_shift
Tensor.__rrshift__ = lambda self, other: bitwise_right_shift(other, self)
Tensor.__ilshift__ = _method_inplace(bitwise_left_shift, "__ilshift__")
Tensor.__irshift__ = _method_inplace(bitwise_right_shift, "__irshift__")
Tensor.__imod__ = _method_inplace(remainder, "__imod__")
Tensor.__ifloordiv__ = _method_inplace(floor_divide, "__ifloordiv__")
Tensor.__iand__ = _method_inplace(bitwise_and, "__iand__")
Tensor.__ior__ = _method_inplace(bitwise_or, "__ior__")
Tensor.__ixor__ = _method_inplace(bitwise_xor, "__ixor__")
