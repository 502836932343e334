"""Linear algebra: matmul with all of its shape rules, and its 2-D and 1-D special cases.

Gradients are matmuls themselves (``g @ bᵀ``, ``aᵀ @ g``), computed only for inputs that need
them: a constant weight matrix costs no extra matmul.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import apply, defop, math_fn, record
from .elementwise import arrays2

__all__ = ["matmul", "mm", "dot", "mv", "bmm", "outer"]

#                                forward            ∂ℒ/∂a                                ∂ℒ/∂b
MM = defop("MmBackward0",        lambda a, b: a @ b, lambda g, b: g @ b.mT,               lambda g, a: a.mT @ g,
           text=("∂(A·B)/∂A = g·Bᵀ", "∂(A·B)/∂B = Aᵀ·g"))
BMM = defop("BmmBackward0",      lambda a, b: a @ b, lambda g, b: g @ b.mT,               lambda g, a: a.mT @ g,
            text=("∂(A·B)/∂A = g·Bᵀ", "∂(A·B)/∂B = Aᵀ·g"))
MATMUL = defop("MatmulBackward0", lambda a, b: a @ b, lambda g, b: g @ b.mT, lambda g, a: a.mT @ g,
               text=("∂(A·B)/∂A = g·Bᵀ", "∂(A·B)/∂B = Aᵀ·g"))
DOT = defop("DotBackward0",      lambda a, b: np.dot(a, b), lambda g, b: g * b,                  lambda g, a: g * a,
            text=("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"))
MV = defop("MvBackward0",        lambda a, b: a @ b, lambda g, b: m_outer(g, b),         lambda g, a: a.mT @ g,
           text=("∂(A·v)/∂A = g·vᵀ", "∂(A·v)/∂v = Aᵀ·g"))
OUTER = defop("OuterBackward0",  lambda a, b: np.outer(a, b), lambda g, b: g @ b,                  lambda g, a: a @ g,
              text=("∂(a⊗b)/∂a = g·b", "∂(a⊗b)/∂b = gᵀ·a"))


def m_outer(a, b):
    return outer(a, b) if isinstance(a, Tensor) else np.outer(a, b)


math_fn("outer", np.outer)


def _mat_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    a, b = arrays2(input, mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise _mat_error(a, b)
    return apply(MM, (input, mat2), (a, b))


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    a, b = arrays2(input, tensor)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same number "
                           f"of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    return apply(DOT, (input, tensor), (a, b))


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    a, b = arrays2(input, vec)
    if a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0] if a.ndim else 0}), mat ({'x'.join(map(str, a.shape))}), "
                           f"vec ({b.shape[0] if b.ndim else 0})")
    return apply(MV, (input, vec), (a, b))


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size."""
    a, b = arrays2(input, mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
                           f"[{b.shape[0]}, {b.shape[1]}].")
    return apply(BMM, (input, mat2), (a, b))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    a, b = arrays2(input, vec2)
    return apply(OUTER, (input, vec2), (a, b))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy's (and PyTorch's) rules: 1-D·1-D is a dot, 1-D operands gain and lose a dim,
    batch dims broadcast.

    >>> import flambeau as torch
    >>> (torch.ones(2, 3) @ torch.ones(3)).shape
    flambeau.Size([2])
    """
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return dot(input, other)
    if a.ndim == 2 and b.ndim == 2:
        return mm(input, other)
    if a.ndim == 2 and b.ndim == 1:
        return mv(input, other)
    if a.ndim == 1:
        return matmul(input.unsqueeze(0), other).squeeze(-2)
    if b.ndim == 1:
        return matmul(input, other.unsqueeze(-1)).squeeze(-1)
    a, b = arrays2(input, other)
    try:
        out = np.matmul(a, b)
    except ValueError:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[-3] if a.ndim > 2 else 1}, "
                           f"{a.shape[-1]}] but got: [{b.shape[-3] if b.ndim > 2 else 1}, {b.shape[-2]}].") from None
    return record(MATMUL, (input, other), out)


Tensor.matmul = Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.mm = mm
Tensor.dot = dot
Tensor.mv = mv
Tensor.bmm = bmm
Tensor.outer = outer
