"""Elementwise ops: one row per op: node name, forward on arrays, derivative of each input.

Binary ops promote dtypes by PyTorch's rules and broadcast; the engine un-broadcasts their
gradients. Unary math on integer tensors computes in the default float dtype, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor, short_node_name
from ..autograd.grad_mode import STATE
from ..autograd.pitfalls import broadcast_explained, leaf_inplace_error
from . import defop, m, math_fn, record

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "rsub", "neg", "negative",
           "abs", "absolute", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "reciprocal", "square",
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"]

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


def _tensor_first(a, b) -> tuple:
    if isinstance(a, Tensor):
        return a, b
    from .creation import scalar_tensor
    return scalar_tensor(a, b), b


def binary(op, a, b, attrs: tuple = ()):
    """Run a binary op: promote, broadcast (PyTorch's error when shapes don't), record."""
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
    return record(op, (x,), op.fwd(as_float(x._data), *attrs), attrs)


def unary(op, x: Tensor, attrs: tuple = ()):
    return record(op, (x,), op.fwd(x._data, *attrs), attrs)


# ---- the ops -----------------------------------------------------------------------------------
#                                forward on arrays                        ∂ℒ/∂(first input)              ∂ℒ/∂(second input)
ADD = defop("AddBackward0",      lambda a, b, alpha: a + b if alpha == 1 else a + alpha * b,
                                                                          lambda g: g,                   lambda g, alpha: g * alpha,
            text=("∂(a+b)/∂a = 1", "∂(a+b)/∂b = 1"))
SUB = defop("SubBackward0",      lambda a, b, alpha: a - b if alpha == 1 else a - alpha * b,
                                                                          lambda g: g,                   lambda g, alpha: -g * alpha,
            text=("∂(a-b)/∂a = 1", "∂(a-b)/∂b = -1"))
RSUB = defop("RsubBackward1",    lambda a, b, alpha: b - a * alpha,       lambda g, alpha: -g * alpha,   None,
             text=("∂(b-a)/∂a = -1",))
MUL = defop("MulBackward0",      lambda a, b: a * b,                      lambda g, b: g * b,            lambda g, a: g * a,
            text=("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"))
DIV = defop("DivBackward0",      lambda a, b: a / b,                      lambda g, b: g / b,            lambda g, a, b: -g * a / (b * b),
            text=("∂(a/b)/∂a = 1/b", "∂(a/b)/∂b = -a/b²"))
POW_SCALAR = defop("PowBackward0", lambda x, exponent: x ** exponent,
                   lambda g, x, exponent: g * 0.0 if exponent == 0 else g * (exponent * x ** (exponent - 1)),
                   text=("∂(xⁿ)/∂x = n·xⁿ⁻¹",))
POW = defop("PowBackward1",      lambda a, b: a ** b,
                                 lambda g, a, b: g * (b * a ** (b - 1)),
                                 lambda g, a, b, out: g * m.where((a == 0) & (b >= 0), 0.0, out * m.log(a)),
            text=("∂(aᵇ)/∂a = b·aᵇ⁻¹", "∂(aᵇ)/∂b = aᵇ·ln a"))
RPOW = defop("PowBackward2",     lambda x, base: base ** x,
                                 lambda g, out, base: g * out * float(np.log(base)) if base != 0 else g * 0.0,
             text=("∂(cˣ)/∂x = cˣ·ln c",))
NEG = defop("NegBackward0",      lambda x: -x,                            lambda g: -g,                  text=("∂(-x)/∂x = -1",))
ABS = defop("AbsBackward0",      lambda x: np.abs(x),                     lambda g, x: g * m.sign(x),    text=("∂|x|/∂x = sign(x)",))
EXP = defop("ExpBackward0",      lambda x: np.exp(x),                     lambda g, out: g * out,        text=("∂(eˣ)/∂x = eˣ",))
LOG = defop("LogBackward0",      lambda x: np.log(x),                     lambda g, x: g / x,            text=("∂(ln x)/∂x = 1/x",))
SQRT = defop("SqrtBackward0",    lambda x: np.sqrt(x),                    lambda g, out: g / (2 * out),  text=("∂(√x)/∂x = 1/(2√x)",))
SIN = defop("SinBackward0",      lambda x: np.sin(x),                     lambda g, x: g * m.cos(x),     text=("∂(sin x)/∂x = cos x",))
COS = defop("CosBackward0",      lambda x: np.cos(x),                     lambda g, x: g * -m.sin(x),    text=("∂(cos x)/∂x = -sin x",))
TANH = defop("TanhBackward0",    lambda x: np.tanh(x),                    lambda g, out: g * (1 - out * out),
             text=("∂(tanh x)/∂x = 1 - tanh²x",))
SIGMOID = defop("SigmoidBackward0", lambda x: _sigmoid(x),                lambda g, out: g * out * (1 - out),
                text=("∂σ(x)/∂x = σ(x)·(1 - σ(x))",))
RELU = defop("ReluBackward0",    lambda x: np.maximum(x, 0),              lambda g, out: g * (out > 0),  text=("∂relu(x)/∂x = [x > 0]",))
RECIPROCAL = defop("ReciprocalBackward0", lambda x: 1 / x,                lambda g, out: -g * out * out, text=("∂(1/x)/∂x = -1/x²",))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of -|x| never overflows: sigmoid(-1000) is 0, not nan
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


math_fn("sign", np.sign)
math_fn("cos", np.cos)
math_fn("sin", np.sin)
math_fn("log", np.log)
math_fn("exp", np.exp)


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
    return binary(RSUB, input, other, (alpha,))


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
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            out = ad / bd
        except ValueError:
            raise broadcast_error(np.shape(ad), np.shape(bd), "div") from None
    return record(DIV, (input, other), out)


DIV_ROUNDED = defop("DivBackward1", lambda a, b, mode: _rounded(a, b, mode), lambda g: g * 0.0, lambda g: g * 0.0,
                    text=("∂round(a/b)/∂a = 0", "∂round(a/b)/∂b = 0"))


def _rounded(a, b, mode: str):
    if mode == "floor":
        return np.floor_divide(a, b)
    q = np.true_divide(a, b)
    return np.trunc(q).astype(q.dtype if np.result_type(a, b).kind == "f" else np.result_type(a, b), copy=False)


def _div_rounding(input, other, mode: str) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    if not isinstance(input, Tensor):
        input, other = _tensor_first(input, other)
    with np.errstate(divide="ignore", invalid="ignore"):
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
    if d.dtype.kind in "iu" and type(exponent) is int and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore"):
        return record(POW_SCALAR, (input,), d ** exponent, (exponent,))


def _rpow(x: Tensor, base) -> Tensor:
    d = x._data if type(base) is int and x._data.dtype.kind != "b" else as_float(x._data)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return record(RPOW, (x,), base ** d, (base,))


def neg(input: Tensor) -> Tensor:
    """``-input``."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                           "use the `~` or `logical_not()` operator instead.")
    return unary(NEG, input)


def abs(input: Tensor) -> Tensor:
    """``|input|``; its gradient at 0 is 0."""
    return unary(ABS, input)


def exp(input: Tensor) -> Tensor:
    """``e ** input``."""
    return unary_float(EXP, input)


def log(input: Tensor) -> Tensor:
    """Natural logarithm (``-inf`` at 0, ``nan`` below)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return unary_float(LOG, input)


def sqrt(input: Tensor) -> Tensor:
    """Square root (``nan`` below 0)."""
    with np.errstate(invalid="ignore"):
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
    with np.errstate(divide="ignore"):
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
subtract, multiply, divide, true_divide, negative, absolute = sub, mul, div, div, neg, abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


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
            node._saved = (snap,) + saved[1:]
            node._vers = (0,) + node._vers[1:]
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
    def method(self, *args, **kwargs):
        return inplace(fn, self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``: writes the result into this tensor and returns it."
    return method


# ---- Tensor methods and operators --------------------------------------------------------------

for _name, _fn in {"add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "abs": abs, "exp": exp, "log": log,
                   "sqrt": sqrt, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "reciprocal": reciprocal,
                   "square": square, "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "subtract": sub, "multiply": mul,
                   "divide": div, "true_divide": div, "negative": neg, "absolute": abs, "greater": gt, "greater_equal": ge,
                   "less": lt, "less_equal": le, "not_equal": ne}.items():
    setattr(Tensor, _name, _fn)
for _name, _fn in {"add_": add, "sub_": sub, "mul_": mul, "div_": div, "pow_": pow, "neg_": neg, "abs_": abs, "exp_": exp,
                   "log_": log, "sqrt_": sqrt, "sin_": sin, "cos_": cos, "tanh_": tanh, "sigmoid_": sigmoid, "relu_": relu,
                   "reciprocal_": reciprocal, "square_": square, "subtract_": sub, "multiply_": mul, "divide_": div,
                   "true_divide_": div, "negative_": neg, "absolute_": abs}.items():
    setattr(Tensor, _name, _method_inplace(_fn, _name))

Tensor.__add__ = Tensor.__radd__ = add
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: rsub(self, other)
Tensor.__mul__ = Tensor.__rmul__ = mul
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: reciprocal(self) * other
Tensor.__pow__ = pow
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
