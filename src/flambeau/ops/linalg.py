"""Linear algebra: products (matmul with all of its shape rules, einsum), matrix structure (diagonals,
triangles, trace) and the ``flambeau.linalg`` decompositions, each with its derivative.

Gradients are matrix expressions written once with ``@``, ``.mT`` and the helpers below, so they run
on arrays (plain backward) and on Tensors (double backward). Spectral gradients (``eigh``, ``svd``)
assume distinct eigen/singular values, ``det``/``inv``/``solve`` an invertible matrix, as PyTorch's.

``matmul`` is not one op: as in PyTorch it dispatches to ``dot``/``mv``/``mm``/``bmm`` and views, so
its ``grad_fn`` is the one PyTorch shows for each shape case.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new_tensor, _wrap_dim
from ..autograd.grad_mode import STATE
from ..autograd.pitfalls import matmul_explained
from ..return_types import _return_type
from . import apply, defop, m, math_fn, record
from .elementwise import broadcast_error, inplace
from .shape import RESHAPE_ALIAS, UNSAFE_VIEW, view_op

#: The letters an einsum subscript may use (``string.ascii_letters``, spelled out: one import less).
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

__all__ = ["matmul", "mm", "dot", "vdot", "inner", "mv", "bmm", "outer", "ger", "addmm", "addmv", "addr", "baddbmm", "addbmm",
           "einsum", "tensordot", "trace", "diag", "diagflat", "diag_embed", "diagonal", "tril", "triu", "kron", "det", "logdet",
           "slogdet", "inverse", "cholesky", "cholesky_inverse", "cholesky_solve", "qr", "svd", "pinverse", "matrix_power", "matrix_exp",
           "cross", "chain_matmul", "cdist", "orgqr"]


class LinAlgError(RuntimeError):
    """A matrix the decomposition cannot handle (singular, not positive-definite): ``flambeau.linalg.LinAlgError``."""


slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
svd_uv_result = namedtuple("svd", ["U", "S", "V"])
qr_result = namedtuple("qr", ["Q", "R"])
lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
inv_ex_result = namedtuple("inv_ex", ["inverse", "info"])
cholesky_ex_result = namedtuple("cholesky_ex", ["L", "info"])
solve_ex_result = namedtuple("solve_ex", ["result", "info"])


# ---- helpers formulas use (arrays or Tensors) ---------------------------------------------------

def _const(like, array: np.ndarray):
    """A constant next to ``like``: the array itself, or a Tensor without history when ``like`` is a Tensor."""
    return _new_tensor(array, False, None, 0) if isinstance(like, Tensor) else array


def _eye(like, n: int, cols: int | None = None):
    """The identity (``n × cols``) in ``like``'s dtype, as a constant next to ``like``."""
    return _const(like, np.eye(n, cols, dtype=(like._data if isinstance(like, Tensor) else like).dtype))


def _col(v):
    """``v[..., :, None]``."""
    return m.reshape(v, tuple(v.shape) + (1,))


def _row(v):
    """``v[..., None, :]``."""
    return m.reshape(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _scale(x, c):
    return x if c == 1 else x * c


# ---- products -----------------------------------------------------------------------------------
#                                forward            ∂ℒ/∂a                                ∂ℒ/∂b
MM = defop("MmBackward0",        lambda a, b: a @ b, lambda g, b: g @ b.mT,               lambda g, a: a.mT @ g,
           text=("∂(A·B)/∂A = g·Bᵀ", "∂(A·B)/∂B = Aᵀ·g"))
BMM = defop("BmmBackward0",      lambda a, b: a @ b, lambda g, b: g @ b.mT,               lambda g, a: a.mT @ g,
            text=("∂(A·B)/∂A = g·Bᵀ", "∂(A·B)/∂B = Aᵀ·g"))
DOT = defop("DotBackward0",      lambda a, b: np.dot(a, b), lambda g, b: g * b,           lambda g, a: g * a,
            text=("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"))
MV = defop("MvBackward0",        lambda a, b: a @ b, lambda g, b: m.outer(g, b),          lambda g, a: a.mT @ g,
           text=("∂(A·v)/∂A = g·vᵀ", "∂(A·v)/∂v = Aᵀ·g"))
VDOT = defop("VdotBackward0",    lambda a, b: np.dot(a, b), lambda g, b: g * b,           lambda g, a: g * a,
             text=("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"))


def _addmm_like(name: str, reduce_batch: bool = False):
    """``β·X + α·A·B`` (``addmm``, ``baddbmm``; ``addbmm`` sums the batch of products): gradients as mm's, scaled."""
    return defop(name, lambda x, a, b, beta, alpha: _plus_scaled(x, (a @ b).sum(0) if reduce_batch else a @ b, beta, alpha),
                 lambda g, beta: _scale(g, beta), lambda g, b, alpha: _scale(g @ b.mT, alpha), lambda g, a, alpha: _scale(a.mT @ g, alpha),
                 text=("∂(βX + αA·B)/∂X = β", "∂/∂A = α·g·Bᵀ", "∂/∂B = α·Aᵀ·g"))


ADDMM, BADDBMM, ADDBMM = _addmm_like("AddmmBackward0"), _addmm_like("BaddbmmBackward0"), _addmm_like("AddbmmBackward0", True)
ADDMV = defop("AddmvBackward0",  lambda x, a, b, beta, alpha: _plus_scaled(x, a @ b, beta, alpha),
              lambda g, beta: _scale(g, beta), lambda g, b, alpha: _scale(m.outer(g, b), alpha), lambda g, a, alpha: _scale(a.mT @ g, alpha),
              text=("∂(βx + αA·v)/∂x = β", "∂/∂A = α·g·vᵀ", "∂/∂v = α·Aᵀ·g"))
ADDR = defop("AddrBackward0",    lambda x, a, b, beta, alpha: _plus_scaled(x, np.outer(a, b), beta, alpha),
             lambda g, beta: _scale(g, beta), lambda g, b, alpha: _scale(g @ b, alpha), lambda g, a, alpha: _scale(g.mT @ a, alpha),
             text=("∂(βX + αu⊗v)/∂X = β", "∂/∂u = α·g·v", "∂/∂v = α·gᵀ·u"))
SQUEEZE4 = defop("SqueezeBackward4", lambda x, shape: x, lambda g, shape: m.reshape(g, shape), text=("reshape back",))


def _plus_scaled(x, p, beta, alpha):
    p = _scale(p, alpha)
    return p if beta == 0 else p + _scale(x, beta)


math_fn("outer", np.outer, lambda a, b: outer(a, b))


_C_TYPES = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int", "int32": "int", "int16": "short int",
            "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _same(x: Tensor, y: Tensor, how: str = "scalar") -> tuple:
    """The arrays of two operands that PyTorch requires to share a dtype (it does not promote them), or its error."""
    a, b = x._data, y._data
    if a.dtype != b.dtype:
        ta, tb = _type_name(a), _type_name(b)
        raise RuntimeError({"mm": f"expected m1 and m2 to have the same dtype, but got: {_C_TYPES[str(a.dtype)]} != {_C_TYPES[str(b.dtype)]}",
                            "mv": f"addmv input tensors must have the same dtype, but got {_type_name(np.result_type(a, b))}, {ta}, and {tb}",
                            "dot": f"dot : expected both vectors to have same dtype, but found {ta} and {tb}",
                            "scalar": f"expected scalar type {ta} but found {tb}"}[how])
    return a, b


def _type_name(d) -> str:
    return _dtype.FROM_NP[np.dtype(d.dtype if hasattr(d, "dtype") else d)]._tensor_type[:-6]


def _mat_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors.

    >>> import flambeau as torch
    >>> torch.mm(torch.ones(2, 3), torch.ones(3, 4)).shape
    flambeau.Size([2, 4])
    """
    a, b = _same(input, mat2, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise matmul_explained(_mat_error(a, b), "mm", a.shape, b.shape)
    return apply(MM, (input, mat2), (a, b))


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors.

    >>> import flambeau as torch
    >>> torch.dot(torch.tensor([1., 2.]), torch.tensor([3., 4.])).item()
    11.0
    """
    return apply(DOT, (input, tensor), _vectors(input, tensor))


def _vectors(input: Tensor, other: Tensor) -> tuple:
    """The arrays of two 1-D tensors of one length and dtype (``dot``, ``vdot``), or PyTorch's error."""
    a, b = _same(input, other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same number "
                           f"of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    return a, b


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product.

    >>> import flambeau as torch
    >>> torch.mv(torch.ones(2, 3), torch.ones(3)).tolist()
    [3.0, 3.0]
    """
    a, b = _same(input, vec, "mv")
    if a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0] if a.ndim else 0}), mat ({'x'.join(map(str, a.shape))}), "
                           f"vec ({b.shape[0] if b.ndim else 0})")
    return apply(MV, (input, vec), (a, b))


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size.

    >>> import flambeau as torch
    >>> torch.bmm(torch.ones(5, 2, 3), torch.ones(5, 3, 4)).shape
    flambeau.Size([5, 2, 4])
    """
    a, b = _same(input, mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
                           f"[{b.shape[0]}, {b.shape[1]}].")
    return apply(BMM, (input, mat2), (a, b))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors (a broadcast product, as in PyTorch: its node is ``MulBackward0``).

    >>> import flambeau as torch
    >>> torch.outer(torch.tensor([1., 2.]), torch.tensor([1., 10.])).tolist()
    [[1.0, 10.0], [2.0, 20.0]]
    """
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D" if input._data.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


def _add_product(op, name: str, input: Tensor, a: Tensor, b: Tensor, out_shape: tuple, beta, alpha) -> Tensor:
    if input._data.dtype != b._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_type_name(input._data)} and {_type_name(b._data)}")
    ad, bd = _same(a, b)
    x = input._data
    try:
        np.broadcast_shapes(x.shape, out_shape)
    except ValueError:
        raise RuntimeError(f"{name}: The expanded size of the tensor ({out_shape[-1]}) must match the existing size ({x.shape[-1]}) at "
                           f"non-singleton dimension {len(out_shape) - 1}.  Target sizes: {list(out_shape)}.  Tensor sizes: "
                           f"{list(x.shape)}") from None
    return apply(op, (input, a, b), (x, ad, bd), (beta, alpha))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``, ``input`` broadcasting to the product's shape.

    >>> import flambeau as torch
    >>> torch.addmm(torch.ones(2, 2), torch.ones(2, 3), torch.ones(3, 2), beta=0.5).tolist()
    [[3.5, 3.5], [3.5, 3.5]]
    """
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'mat1' if a.ndim != 2 else 'mat2'} must be a matrix, got {a.ndim if a.ndim != 2 else b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise _mat_error(a, b)
    return _add_product(ADDMM, "addmm", input, mat1, mat2, (a.shape[0], b.shape[1]), beta, alpha)


def _batches(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
                           f"[{b.shape[0]}, {b.shape[1]}].")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for batches of matrices.

    >>> import flambeau as torch
    >>> torch.baddbmm(torch.zeros(2, 1, 1), torch.ones(2, 1, 3), torch.ones(2, 3, 1)).tolist()
    [[[3.0]], [[3.0]]]
    """
    a, b = batch1._data, batch2._data
    _batches(a, b)
    return _add_product(BADDBMM, "baddbmm", input, batch1, batch2, (a.shape[0], a.shape[1], b.shape[2]), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * Σ_b batch1[b] @ batch2[b]``.

    >>> import flambeau as torch
    >>> torch.addbmm(torch.zeros(1, 1), torch.ones(2, 1, 3), torch.ones(2, 3, 1)).tolist()
    [[6.0]]
    """
    a, b = batch1._data, batch2._data
    _batches(a, b)
    return _add_product(ADDBMM, "addbmm", input, batch1, batch2, (a.shape[1], b.shape[2]), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``.

    >>> import flambeau as torch
    >>> torch.addmv(torch.ones(2), torch.ones(2, 3), torch.ones(3)).tolist()
    [4.0, 4.0]
    """
    a, b = mat._data, vec._data
    if a.ndim != 2 or b.ndim != 1 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0] if input._data.ndim else 1}), mat "
                           f"({'x'.join(map(str, a.shape))}), vec ({b.shape[0] if b.ndim else 0})")
    return _add_product(ADDMV, "addmv", input, mat, vec, (a.shape[0],), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> import flambeau as torch
    >>> torch.addr(torch.zeros(2, 2), torch.tensor([1., 2.]), torch.tensor([1., 3.])).tolist()
    [[1.0, 3.0], [2.0, 6.0]]
    """
    a, b = vec1._data, vec2._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec{1 if a.ndim != 1 else 2}, but got {a.ndim if a.ndim != 1 else b.ndim}-D")
    return _add_product(ADDR, "addr", input, vec1, vec2, (a.shape[0], b.shape[0]), beta, alpha)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors (conjugating the first for complex; flambeau is real).

    >>> import flambeau as torch
    >>> torch.vdot(torch.tensor([1., 2.]), torch.tensor([3., 4.])).item()
    11.0
    """
    return apply(VDOT, (input, other), _vectors(input, other))


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims of both (a product with a scalar).

    >>> import flambeau as torch
    >>> torch.inner(torch.ones(2, 3), torch.ones(4, 3)).shape
    flambeau.Size([2, 4])
    """
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes {list(input._data.shape)} and "
                           f"{list(other._data.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def linalg_multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first may be a row vector, the last a column vector).

    >>> import flambeau as torch
    >>> torch.linalg.multi_dot([torch.ones(2, 3), torch.ones(3, 4), torch.ones(4)]).tolist()
    [12.0, 12.0]
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0]._data.ndim, tensors[-1]._data.ndim
    shape = (tensors[0]._data.shape[:-1] if first == 2 else ()) + (tensors[-1]._data.shape[-1:] if last == 2 else ())
    if first == 1:
        tensors[0] = tensors[0].unsqueeze(0)
    if last == 1:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    out = tensors[0]
    for t in tensors[1:]:
        out = mm(out, t)
    return out.reshape(shape)


def linalg_vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """``(x * y).sum(dim)``: dot products of vectors along ``dim``, broadcasting the rest.

    >>> import flambeau as torch
    >>> torch.linalg.vecdot(torch.ones(2, 3), torch.ones(3)).tolist()
    [3.0, 3.0]
    """
    if x._data.ndim == 1 and y._data.ndim == 1:
        return vdot(x, y)
    return (x * y).sum(dim)


def _unsafe_view(t: Tensor, shape: tuple) -> Tensor:
    """``t`` reshaped into a new tensor that is not a view (PyTorch's ``_unsafe_view``)."""
    d = t._data
    return record(UNSAFE_VIEW, (t,), d.reshape(shape), (d.shape,))


def _needs_grad(t: Tensor) -> bool:
    return t._rg and STATE.enabled


def _folds(big: Tensor, small: Tensor, first_is_matrix: bool) -> bool:
    """Whether ``big`` (≥3-D) @ ``small`` (≤2-D) runs as one mm/mv on ``big`` seen as a matrix (PyTorch's choice)."""
    if _needs_grad(small):
        return True
    if first_is_matrix:
        return False
    d = big._data
    try:
        np.reshape(d, (-1, d.shape[-1]), copy=False)
    except ValueError:
        return False
    return True


def _fold(big: Tensor, small: Tensor) -> Tensor:
    """``big @ small`` with ``big`` ≥3-D and ``small`` 1-D or 2-D: one mm/mv on ``big`` flattened to a matrix."""
    shape = big._data.shape
    flat = big.reshape(-1, shape[-1])
    if small._data.ndim == 1:
        return _unsafe_view(mv(flat, small), shape[:-1])
    return _unsafe_view(mm(flat, small), shape[:-1] + (small._data.shape[-1],))


def _batched(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` through one bmm over the broadcast batch dims."""
    da, db = a._data.ndim, b._data.ndim
    a2 = a.unsqueeze(0) if da == 1 else a
    b2 = b.unsqueeze(-1) if db == 1 else b
    sa, sb = a2._data.shape, b2._data.shape
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise broadcast_error(sa[:-2], sb[:-2]) from None
    n = int(np.prod(batch))
    ae = a2.expand(batch + sa[-2:]).reshape(n, *sa[-2:])
    be = b2.expand(batch + sb[-2:]).reshape(n, *sb[-2:])
    out = batch + ((sa[-2],) if da > 1 else ()) + ((sb[-1],) if db > 1 else ())
    return _unsafe_view(bmm(ae, be), out)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D·1-D is a dot, a 1-D operand gains and loses a dim, batch dims broadcast.

    >>> import flambeau as torch
    >>> (torch.ones(2, 3) @ torch.ones(3)).shape
    flambeau.Size([2])
    >>> torch.matmul(torch.ones(5, 2, 3), torch.ones(3, 4)).shape
    flambeau.Size([5, 2, 4])
    """
    try:
        return _matmul(input, other)
    except RuntimeError as e:
        text = str(e.args[0]) if e.args else ""
        sa, sb = input._data.shape, other._data.shape
        if not sa or not sb or not text.startswith(_SHAPE_ERRORS):
            raise
        e.args = (text.split("\n\n")[0],)  # explained in the shapes the caller gave, not those of an inner product
        raise matmul_explained(e, "matmul", sa, sb) from None


_SHAPE_ERRORS = ("mat1 and mat2 shapes", "size mismatch", "inconsistent tensor size", "Expected size for first two", "The size of tensor a")


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da <= 2 and db <= 2:
        if da == 1:
            return dot(input, other) if db == 1 else _squeeze_first(mm(input.unsqueeze(0), other))
        return mv(input, other) if db == 1 else mm(input, other)
    a, b = input, other
    if da == 3 and db == 3 and (a._data.shape[0] == 1) != (b._data.shape[0] == 1):
        # PyTorch folds a batch of one that needs grad as a matrix (no expanded copy in backward)
        if a._data.shape[0] == 1 and _needs_grad(a):
            a = a.squeeze(0)
        elif b._data.shape[0] == 1 and _needs_grad(b):
            b = b.squeeze(0)
    da, db = a._data.ndim, b._data.ndim
    if db <= 2 and _folds(a, b, False):
        return _fold(a, b)
    if da <= 2 and _folds(b.mT, a, da == 2):
        if da == 1:
            return _fold(b.mT, a)
        return _fold(b.mT, a.mT).mT.contiguous()
    return _batched(a, b)


def _squeeze_first(t: Tensor) -> Tensor:
    d = t._data
    return record(SQUEEZE4, (t,), d.reshape(d.shape[1:]), (d.shape,))


# ---- einsum and tensordot: pairwise contractions, each an op whose gradient is an einsum ----------

def _einsum_grad(g, eq: str, k: int, ops: tuple, shapes: tuple):
    """∂ℒ/∂(operand k) of ``einsum(eq, *ops)``: an einsum of ``g`` with the other operands.

    A letter repeated in operand k (a diagonal) gets a fresh letter tied to it by an identity matrix;
    a letter only operand k has (summed away) comes back through a vector of ones.
    """
    ins, out = eq.split("->")
    subs = ins.split(",")
    terms = [out] + [s for i, s in enumerate(subs) if i != k]
    args = [g] + [x for i, x in enumerate(ops) if i != k]
    seen = set("".join(terms))
    free = iter(sorted(set(_LETTERS) - set(eq)))
    dt = (g._data if isinstance(g, Tensor) else g).dtype
    target = []
    for letter, n in zip(subs[k], shapes[k]):
        if letter in target:
            fresh = next(free)
            terms.append(letter + fresh)
            args.append(_eye(g, n))
            letter = fresh
        elif letter not in seen:
            terms.append(letter)
            args.append(_const(g, np.ones(n, dtype=dt)))
        seen.add(letter)
        target.append(letter)
    equation = f"{','.join(terms)}->{''.join(target)}"
    if isinstance(g, Tensor):
        return einsum(equation, *args)
    return np.einsum(equation, *args, optimize=len(args) > 2)


def _einsum1(name: str):
    return defop(name, lambda x, eq, shapes: np.einsum(eq, x),
                 lambda g, eq, shapes: _einsum_grad(g, eq, 0, (None,), shapes), text=("an einsum of g",))


def _einsum2(name: str):
    return defop(name, lambda a, b, eq, shapes: np.einsum(eq, a, b, optimize=True),
                 lambda g, b, eq, shapes: _einsum_grad(g, eq, 0, (None, b), shapes),
                 lambda g, a, eq, shapes: _einsum_grad(g, eq, 1, (a, None), shapes), text=("an einsum of g and b", "an einsum of g and a"))


# PyTorch's einsum is built from views, sums, products and bmm: its grad_fn is the last of them
EINSUM_PERMUTE, EINSUM_SUM = _einsum1("PermuteBackward0"), _einsum1("SumBackward1")
EINSUM_MUL, EINSUM_BMM = _einsum2("MulBackward0"), _einsum2("ViewBackward0")


def _parse(equation: str, shapes: list) -> tuple:
    """Explicit subscripts (ellipses spelled out as letters) and the output subscript of an einsum equation."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum(): {'more' if len(shapes) > len(ins) else 'fewer'} operands were provided than specified in the equation")
    pool = sorted(set(_LETTERS) - set(equation))
    n_ell = max([len(sh) - len(s) + 3 for s, sh in zip(ins, shapes) if "..." in s], default=0)
    ell = "".join(pool[:n_ell])
    subs = []
    for i, (s, sh) in enumerate(zip(ins, shapes)):
        if "..." in s:
            s = s.replace("...", ell[n_ell - (len(sh) - len(s) + 3):])
        if len(s) != len(sh):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does not match the number of dimensions "
                               f"({len(sh)}) for operand {i}{'' if '...' in ins[i] else ' and no ellipsis was given'}")
        subs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if c not in "".join(subs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        explicit = "".join(s.replace("...", "") for s in ins)
        out = ell + "".join(sorted(c for c in set(explicit) if explicit.count(c) == 1))
    sizes: dict = {}
    for i, (s, sh) in enumerate(zip(subs, shapes)):
        for c, n in zip(s, sh):
            if sizes.get(c, n) not in (n, 1) and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast with previously seen "
                                   f"size {sizes[c]}")
            sizes[c] = max(sizes.get(c, 1), n)
    return subs, out


def _contract(x: Tensor, y: Tensor, sx: str, sy: str, keep: str) -> Tensor:
    a, b = _same(x, y)
    op = EINSUM_BMM if set(sx + sy) - set(keep) else EINSUM_MUL
    return apply(op, (x, y), (a, b), (f"{sx},{sy}->{keep}", (a.shape, b.shape)))


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; ellipses and implicit outputs as in PyTorch.

    Several operands are contracted pairwise (in NumPy's greedy order), each pair one differentiable op.

    >>> import flambeau as torch
    >>> torch.einsum("ii->", torch.eye(3)).item()
    3.0
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ops = list(operands)
    subs, out = _parse(equation, [x._data.shape for x in ops])
    if len(ops) > 2:
        explicit = f"{','.join(subs)}->{out}"
        path = np.einsum_path(explicit, *[x._data for x in ops], optimize="greedy")[0][1:]
    else:
        path = [(0, 1)] if len(ops) == 2 else []
    for group in path:
        picked = sorted(group, reverse=True)
        xs = [ops.pop(i) for i in picked][::-1]
        ss = [subs.pop(i) for i in picked][::-1]
        x, s = xs[0], ss[0]
        for k in range(1, len(xs)):
            rest = "".join(ss[k + 1:] + subs)
            keep = "".join(dict.fromkeys(c for c in s + ss[k] if c in set(out + rest))) if rest else out
            x, s = _contract(x, xs[k], s, ss[k], keep), keep
        ops.append(x)
        subs.append(s)
    x, s = ops[0], subs[0]
    if s == out and len(operands) > 1:
        return x
    op = EINSUM_SUM if set(s) - set(out) else EINSUM_PERMUTE
    return apply(op, (x,), (x._data,), (f"{s}->{out}", (x._data.shape,)))


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Sum of products over ``dims``: the last ``dims`` dims of ``a`` with the first of ``b``, or two lists of dims.

    >>> import flambeau as torch
    >>> torch.tensordot(torch.ones(2, 3, 4), torch.ones(3, 4, 5)).shape
    flambeau.Size([2, 5])
    """
    na, nb = a._data.ndim, b._data.ndim
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, but got {len(da)} and {len(db)}")
    letters = _LETTERS
    sa, sb = list(letters[:na]), list(letters[na:na + nb])
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[x]} in dim {x} and second has "
                               f"size {b._data.shape[y]} in dim {y}")
        sb[_wrap_dim(y, nb)] = sa[_wrap_dim(x, na)]
    summed = set(sa) & set(sb)
    out_s = [c for c in sa if c not in summed] + [c for c in sb if c not in summed]
    result = einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out_s)}", a, b)
    return result if summed else result.reshape(result._data.shape)  # PyTorch's tensordot always ends in a view


# ---- diagonals, triangles, trace, kron ----------------------------------------------------------

def _diag_view(x: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """A writable view of the ``offset`` diagonal of dims ``d1``, ``d2``, as the last dim (PyTorch's layout)."""
    x = np.moveaxis(x, (d1, d2), (-2, -1))
    x = x[..., :, offset:] if offset >= 0 else x[..., -offset:, :]
    n = max(min(x.shape[-2], x.shape[-1]), 0)
    return np.lib.stride_tricks.as_strided(x, x.shape[:-2] + (n,), x.strides[:-2] + (x.strides[-2] + x.strides[-1],))


def _diag_scatter(x: np.ndarray, offset: int, d1: int, d2: int, shape: tuple) -> np.ndarray:
    """Zeros of ``shape`` with ``x`` on the ``offset`` diagonal of dims ``d1``, ``d2``."""
    z = np.zeros(shape, x.dtype)
    _diag_view(z, offset, d1, d2)[...] = x
    return z


def _diagonal_any(g, offset, d1, d2):
    return diagonal(g, offset, d1, d2) if isinstance(g, Tensor) else _diag_view(g, offset, d1, d2)


def _scatter_any(g, offset, d1, d2, shape):
    if isinstance(g, Tensor):
        return record(DIAG_SCATTER, (g,), _diag_scatter(g._data, offset, d1, d2, shape), (offset, d1, d2, shape))
    return _diag_scatter(g, offset, d1, d2, shape)


def _diag_taker(name: str, copy: bool):
    return defop(name, lambda x, offset, d1, d2, shape: _diag_view(x, offset, d1, d2).copy() if copy else _diag_view(x, offset, d1, d2),
                 lambda g, offset, d1, d2, shape: _scatter_any(g, offset, d1, d2, shape), text=("g back on the diagonal",))


def _diag_putter(name: str):
    return defop(name, lambda x, offset, d1, d2, shape: _diag_scatter(x, offset, d1, d2, shape),
                 lambda g, offset, d1, d2: _diagonal_any(g, offset, d1, d2), text=("the diagonal of g",))


DIAGONAL, DIAG_COPY = _diag_taker("DiagonalBackward0", False), _diag_taker("DiagonalBackward0_copy", True)
DIAG_EMBED, DIAG_SCATTER = _diag_putter("DiagEmbedBackward0"), _diag_putter("DiagonalBackwardBackward0")
TRIL = defop("TrilBackward0",   lambda x, diagonal: np.tril(x, diagonal), lambda g, diagonal: m.tril(g, diagonal), text=("tril of g",))
TRIU = defop("TriuBackward0",   lambda x, diagonal: np.triu(x, diagonal), lambda g, diagonal: m.triu(g, diagonal), text=("triu of g",))
TRACE = defop("TraceBackward0", lambda x, shape: np.trace(x), lambda g, shape: g * _eye(g, *shape), text=("∂tr(X)/∂X = I",))

math_fn("tril", np.tril)
math_fn("triu", np.triu)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of dims ``dim1``, ``dim2`` as the last dim: a view, as in PyTorch.

    >>> import flambeau as torch
    >>> torch.diagonal(torch.arange(9.).reshape(3, 3), 1).tolist()
    [1.0, 5.0]
    """
    d = input._data
    d1, d2 = _wrap_dim(dim1, d.ndim), _wrap_dim(dim2, d.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    attrs = (offset, d1, d2, d.shape)
    return view_op(DIAGONAL, input, _diag_view(d, *attrs[:3]), attrs)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1``, ``dim2``) with the last dim of ``input`` on their ``offset`` diagonal.

    >>> import flambeau as torch
    >>> torch.diag_embed(torch.tensor([1., 2.])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    d = input._data
    d1, d2 = _wrap_dim(dim1, d.ndim + 1), _wrap_dim(dim2, d.ndim + 1)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = d.shape[-1] + abs(offset)
    rest = iter(d.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(d.ndim + 1))
    return record(DIAG_EMBED, (input,), _diag_scatter(d, offset, d1, d2, shape), (offset, d1, d2, shape))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor put on a diagonal of a square matrix, or a matrix's diagonal as a 1-D tensor (a copy).

    >>> import flambeau as torch
    >>> torch.diag(torch.tensor([1., 2.]), 1).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    d = input._data
    if d.ndim == 1:
        n = d.shape[0] + abs(diagonal)
        return record(DIAG_EMBED, (input,), _diag_scatter(d, diagonal, 0, 1, (n, n)), (diagonal, 0, 1, (n, n)))
    if d.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {d.ndim}D")
    attrs = (diagonal, 0, 1, d.shape)
    return record(DIAG_COPY, (input,), DIAG_COPY.fwd(d, *attrs), attrs)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` on the ``offset`` diagonal of a square matrix.

    >>> import flambeau as torch
    >>> torch.diagflat(torch.tensor([[1., 2.]])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    return diag(input.reshape(-1), offset)


def _triangle(op, name: str):
    def fn(input: Tensor, diagonal: int = 0) -> Tensor:
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return apply(op, (input,), (input._data,), (diagonal,))
    fn.__name__ = name
    return fn


tril = _triangle(TRIL, "tril")
tril.__doc__ = """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims; the rest is zero.

    >>> import flambeau as torch
    >>> torch.tril(torch.ones(2, 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
triu = _triangle(TRIU, "triu")
triu.__doc__ = """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims; the rest is zero.

    >>> import flambeau as torch
    >>> torch.triu(torch.ones(2, 2)).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix.

    >>> import flambeau as torch
    >>> torch.trace(torch.eye(3)).item()
    3.0
    """
    d = input._data
    if d.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {d.ndim}")
    return apply(TRACE, (input,), (d,), (d.shape,))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: every element of ``input`` times the whole of ``other``, block by block.

    >>> import flambeau as torch
    >>> torch.kron(torch.eye(2), torch.ones(1, 2)).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    n = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (n - input._data.ndim) + input._data.shape
    sb = (1,) * (n - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(s for k in sa for s in (k, 1)))
    b = other.reshape(tuple(s for k in sb for s in (1, k)))
    return _unsafe_view(a * b, tuple(x * y for x, y in zip(sa, sb)))


# ---- flambeau.linalg: inverses, determinants, solves, decompositions ----------------------------

def _add(x, y):
    """``x + y`` where either may be absent (``None``): gradient terms of outputs nobody used."""
    return y if x is None else x if y is None else x + y


def _solve(a, b, left: bool, vec: bool):
    """``A⁻¹B`` (``left``) or ``BA⁻¹``; ``vec``: B is a (batch of) vector(s)."""
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    return np.linalg.solve(a, b[..., None])[..., 0] if vec else np.linalg.solve(a, b)


def _solve_any(a, b, left: bool, vec: bool):
    return linalg_solve(a, b, left=left) if isinstance(a, Tensor) else _solve(a, b, left, vec)


def _inv_any(a):
    return linalg_inv(a) if isinstance(a, Tensor) else np.linalg.inv(a)


def _solve_grad_a(g, a, out, left: bool, vec: bool):
    gb = _solve_any(a.mT, g, left, vec)
    if not left:
        return -(out.mT @ gb)
    return -(_col(gb) @ _col(out).mT) if vec else -(gb @ out.mT)


def _cholesky_grad(g, out, upper: bool):
    """Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), Φ = the lower triangle with half the diagonal."""
    L, gL = (out.mT, g.mT) if upper else (out, g)
    P = L.mT @ gL
    P = (m.tril(P) + m.tril(P, -1)) * 0.5
    S = _solve_any(L, _solve_any(L.mT, P, True, False), False, False)
    return (S + S.mT) * 0.5


def _qr_grad(g, out, mode: str):
    """Ā = (Q̄ + Q·copyltu(M))·R⁻ᵀ with M = R·R̄ᵀ − Q̄ᵀ·Q (m ≥ n). Wide A = Q·[X | Y]: the square rule for X with
    Q̄ + (Q·Y)·Ȳᵀ, and Q·Ȳ for the columns of Y."""
    Q, R = out
    gQ, gR = g
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    rows, cols = Q.shape[-2], R.shape[-1]
    if mode == "complete" and rows > cols:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if rows >= cols:
        return _qr_grad_tall(Q, R, gQ, gR)
    X, Y = R[..., :, :rows], R[..., :, rows:]
    gX, gY = (None, None) if gR is None else (gR[..., :, :rows], gR[..., :, rows:])
    if gY is not None:
        gQ = _add(gQ, (Q @ Y) @ gY.mT)
    left = _qr_grad_tall(Q, X, gQ, gX)
    right = m.zeros_like(Y) if gY is None else Q @ gY
    return _cat_last(left, right)


def _qr_grad_tall(Q, R, gQ, gR):
    M = _add(None if gR is None else R @ gR.mT, None if gQ is None else -(gQ.mT @ Q))
    b = _add(gQ, Q @ (m.tril(M) + m.tril(M, -1).mT))
    return _solve_any(R.mT, b, False, False)


def _cat_last(x, y):
    """``[x | y]`` along the last dim; on Tensors through constant selection matrices (differentiable)."""
    if not isinstance(x, Tensor):
        return np.concatenate([x, y], axis=-1)
    p, q = x.shape[-1], y.shape[-1]
    eye = np.eye(p + q, dtype=x._data.dtype)
    return x @ _const(x, eye[:p]) + y @ _const(y, eye[p:])


def _eigh_grad(g, out):
    """Ā = Q·(diag(λ̄) + skew(QᵀQ̄)/E)·Qᵀ, E_ij = λ_j − λ_i, skew(X) = (X − Xᵀ)/2: a symmetric gradient, as PyTorch's."""
    L, Q = out
    gL, gQ = g
    eye = _eye(L, L.shape[-1])
    inner = None if gL is None else _col(gL) * eye
    if gQ is not None:
        X = Q.mT @ gQ
        inner = _add(inner, (X - X.mT) * 0.5 / (_row(L) - _col(L) + eye))
    return Q @ inner @ Q.mT


def _svd_grad(g, out):
    """Ā = U·(J·S + S·K + diag(S̄))·Vᵀ + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ),
    J = F∘(UᵀŪ − ŪᵀU), K = F∘(VᵀV̄ − V̄ᵀV), F_ij = 1/(s_j² − s_i²) off the diagonal (full U, V: first k columns)."""
    U, S, Vh = out
    gU, gS, gVh = g
    k = S.shape[-1]
    if U.shape[-1] != k:
        U, gU = U[..., :k], None if gU is None else gU[..., :k]
    if Vh.shape[-2] != k:
        Vh, gVh = Vh[..., :k, :], None if gVh is None else gVh[..., :k, :]
    eye = _eye(S, k)
    s_row, s_col = _row(S), _col(S)
    inner = None if gS is None else _col(gS) * eye
    if gU is not None or gVh is not None:
        s2 = s_row * s_row
        F = (eye - 1) / (s2.mT - s2 - eye)
        if gU is not None:
            UgU = U.mT @ gU
            inner = _add(inner, F * (UgU - UgU.mT) * s_row)
        if gVh is not None:
            VgV = Vh @ gVh.mT
            inner = _add(inner, s_col * (F * (VgV - VgV.mT)))
    gA = None if inner is None else U @ inner @ Vh
    if gU is not None and U.shape[-2] > k:
        gA = _add(gA, ((gU - U @ (U.mT @ gU)) / s_row) @ Vh)
    if gVh is not None and Vh.shape[-1] > k:
        gA = _add(gA, U @ ((gVh - (gVh @ Vh.mT) @ Vh) / s_col))
    return gA


def _pinv(a, atol, rtol):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    if rtol is None:
        rtol = np.finfo(a.dtype).eps * max(a.shape[-2:]) if atol is None else 0.0
    smax = s[..., :1] if s.shape[-1] else s
    cutoff = np.maximum(0.0 if atol is None else atol, rtol * smax)
    with np.errstate(divide="ignore"):
        s_inv = np.where(s > cutoff, 1 / s, 0).astype(a.dtype)
    return (np.swapaxes(vh, -1, -2) * s_inv[..., None, :]) @ np.swapaxes(u, -1, -2)


def _pinv_grad(g, a, out):
    """Ā = −X⁺ᵀ·G·X⁺ᵀ + (I − A·X)·Gᵀ·X·Xᵀ + Xᵀ·X·Gᵀ·(I − X·A), X = A⁺ (A of constant rank)."""
    X, gt = out, g.mT
    return -(X.mT @ g @ X.mT) + (gt - a @ (X @ gt)) @ (X @ X.mT) + (X.mT @ X) @ (gt - (gt @ X) @ a)


def _cross_np(a, b, dim):
    return np.cross(a, b, axis=dim)


math_fn("cross", _cross_np, lambda a, b, dim: linalg_cross(a, b, dim=dim))

#                                          forward                                      ∂ℒ/∂A (∂ℒ/∂B)
INV = defop("LinalgInvExBackward0",       lambda a: np.linalg.inv(a),                   lambda g, out: -(out.mT @ g @ out.mT),
            text=("∂(A⁻¹)/∂A: −A⁻ᵀ·g·A⁻ᵀ",))
DET = defop("LinalgDetBackward0",         lambda a: np.linalg.det(a),                   lambda g, a, out: _col(_col(g * out)) * _inv_any(a).mT,
            text=("∂det A/∂A = det A·A⁻ᵀ",))
SLOGDET = defop("LinalgSlogdetBackward0", lambda a: tuple(np.linalg.slogdet(a)),
                lambda g, a: None if g[1] is None else _col(_col(g[1])) * _inv_any(a).mT, nout=2, text=("∂log|det A|/∂A = A⁻ᵀ",))
SOLVE = defop("LinalgSolveExBackward0",   lambda a, b, left, vec: _solve(a, b, left, vec),
              _solve_grad_a, lambda g, a, left, vec: _solve_any(a.mT, g, left, vec), text=("−A⁻ᵀ·g·Xᵀ", "A⁻ᵀ·g"))
CHOLESKY_EX, CHOLESKY = (defop(name, lambda a, upper: np.linalg.cholesky(a, upper=upper), _cholesky_grad, text=(_cholesky_grad.__doc__,))
                         for name in ("LinalgCholeskyExBackward0", "CholeskyBackward0"))
QR = defop("LinalgQrBackward0",           lambda a, mode: _qr(a, mode),                 _qr_grad, nout=2, text=(_qr_grad.__doc__,))
EIGH = defop("LinalgEighBackward0",       lambda a, UPLO: tuple(np.linalg.eigh(a, UPLO)), lambda g, out: _eigh_grad(g, out), nout=2,
             text=(_eigh_grad.__doc__,))
SVD = defop("LinalgSvdBackward0",         lambda a, full_matrices: tuple(np.linalg.svd(a, full_matrices)), lambda g, out: _svd_grad(g, out),
            nout=3, text=(_svd_grad.__doc__,))
PINV = defop("LinalgPinvBackward0",       lambda a, atol, rtol: _pinv(a, atol, rtol),   _pinv_grad, text=(_pinv_grad.__doc__,))
CROSS = defop("LinalgCrossBackward0",     lambda a, b, dim: _cross_np(a, b, dim),       lambda g, b, dim: m.cross(b, g, dim),
              lambda g, a, dim: m.cross(g, a, dim), text=("∂(a×b)/∂a = b×g", "∂(a×b)/∂b = g×a"))


def _qr(a, mode: str):
    if mode == "r":
        return np.empty((0,), a.dtype), np.linalg.qr(a, "r")
    return tuple(np.linalg.qr(a, mode))


def _square(name: str, A: Tensor, arg: str = "A") -> np.ndarray:
    """``A``'s array after PyTorch's checks: floating, at least 2-D, square matrices."""
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are {d.shape[-2]} by {d.shape[-1]} matrices")
    return _floating(name, d)


def _floating(name: str, d: np.ndarray) -> np.ndarray:
    if d.dtype.kind != "f" or d.dtype == np.float16:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_type_name(d)}")
    return d


def _matrix(name: str, A: Tensor) -> np.ndarray:
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    return _floating(name, d)


def _failure(name: str, d: np.ndarray, what: str) -> LinAlgError:
    """PyTorch's error for a singular (``what='singular'``) or non positive-definite matrix, naming where it fails."""
    flat = d.reshape((-1,) + d.shape[-2:])
    for b, x in enumerate(flat):
        k = _first_failure(x, what)
        if k:
            where = f"(Batch element {b}): " if d.ndim > 2 else ""
            if what == "singular":
                return LinAlgError(f"{name}: {where}The diagonal element {k} is zero, the {'inversion' if 'inv' in name else 'solve'} "
                                   f"could not be completed because the input matrix is singular.")
            return LinAlgError(f"{name}: {where}The factorization could not be completed because the input is not positive-definite "
                               f"(the leading minor of order {k} is not positive-definite).")
    return LinAlgError(f"{name}: the input matrix is {what}")


def _first_failure(x: np.ndarray, what: str) -> int:
    """1-based index of the first zero pivot (LU with partial pivoting) or non positive-definite leading minor; 0 if none."""
    n = x.shape[0]
    if what != "singular":
        for k in range(1, n + 1):
            try:
                np.linalg.cholesky(x[:k, :k])
            except np.linalg.LinAlgError:
                return k
        return 0
    u = x.astype(np.float64)
    for j in range(n):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        if u[p, j] == 0:
            return j + 1
        u[[j, p]] = u[[p, j]]
        u[j + 1:, j:] -= np.outer(u[j + 1:, j] / u[j, j], u[j, j:])
    return 0


def linalg_inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch): ``flambeau.linalg.inv``.

    >>> import flambeau as torch
    >>> torch.linalg.inv(torch.tensor([[2., 0.], [0., 4.]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return _inv(A, "linalg.inv")


def _inv(A: Tensor, name: str) -> Tensor:
    d = _square("linalg.inv", A)
    try:
        return apply(INV, (A,), (d,))
    except np.linalg.LinAlgError:
        raise _failure(name, d, "singular") from None


def linalg_det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch).

    >>> import flambeau as torch
    >>> torch.linalg.det(torch.tensor([[2., 1.], [1., 2.]])).item()
    3.0
    """
    return apply(DET, (A,), (_square("linalg.det", A),))


def linalg_slogdet(A: Tensor) -> tuple:
    """``(sign, log|det A|)``: the determinant without overflow.

    >>> import flambeau as torch
    >>> torch.linalg.slogdet(torch.tensor([[-2., 0.], [0., 1.]])).sign.item()
    -1.0
    """
    return slogdet_result(*apply(SLOGDET, (A,), (_square("linalg.slogdet", A),)))


def linalg_solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (or ``X A = B`` with ``left=False``); B may be a vector or a batch of them.

    >>> import flambeau as torch
    >>> torch.linalg.solve(torch.tensor([[2., 0.], [0., 4.]]), torch.tensor([2., 2.])).tolist()
    [1.0, 0.5]
    """
    a = _square("linalg.solve", A)
    b = B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {_type_name(a)} and B of type "
                           f"{_type_name(b)} instead")
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vec and not left:
        raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not supported for left=False. In this case "
                           "linalg.solve is equivalent to B / A.squeeze(-1)")
    rows = b.shape[-1] if vec else (b.shape[-2] if left else b.shape[-1])
    if rows != a.shape[-1]:
        cols = 1 if vec else b.shape[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
                           f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-1] if vec else b.shape[-2]}x{cols})")
    try:
        return apply(SOLVE, (A, B), (a, b), (left, vec))
    except np.linalg.LinAlgError:
        raise _failure("linalg.solve", a, "singular") from None


def _cholesky(op, name: str, A: Tensor, upper: bool) -> Tensor:
    d = _square(name, A)
    try:
        return apply(op, (A,), (d,), (upper,))
    except np.linalg.LinAlgError:
        raise _failure(name, d, "positive-definite") from None


def linalg_cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """The lower-triangular L with ``A = L Lᵀ`` for a symmetric positive-definite A (``upper=True``: ``Lᵀ``).

    >>> import flambeau as torch
    >>> torch.linalg.cholesky(torch.tensor([[4., 2.], [2., 2.]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    return _cholesky(CHOLESKY_EX, "linalg.cholesky", A, upper)


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky`` (deprecated in PyTorch for ``linalg.cholesky``): the same factor, node ``CholeskyBackward0``.

    >>> import flambeau as torch
    >>> torch.cholesky(torch.tensor([[4.]])).tolist()
    [[2.0]]
    """
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch release.\n"
                  "L = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\n"
                  "should be replaced with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for all valid "
                  "(symmetric positive definite) inputs.", UserWarning, stacklevel=2)
    return _cholesky(CHOLESKY, "cholesky", input, upper)


def linalg_qr(A: Tensor, mode: str = "reduced") -> tuple:
    """``(Q, R)`` with ``A = Q R``, Q orthonormal columns, R upper triangular; ``mode``: reduced, complete or r.

    >>> import flambeau as torch
    >>> Q, R = torch.linalg.qr(torch.tensor([[3., 1.], [4., 2.]]))
    >>> [round(x, 4) for x in R.diagonal().tolist()]
    [-5.0, 0.4]
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    return qr_result(*apply(QR, (A,), (_matrix("linalg.qr", A),), (mode,)))


def qr(input: Tensor, some: bool = True, *, out=None) -> tuple:
    """``torch.qr``: ``linalg.qr(input, 'reduced' if some else 'complete')`` (deprecated in PyTorch).

    >>> import flambeau as torch
    >>> torch.qr(torch.ones(3, 2)).R.shape
    flambeau.Size([2, 2])
    """
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\nThe boolean "
                  "parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
                  "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning, stacklevel=2)
    return linalg_qr(input, "reduced" if some else "complete")


def linalg_eigh(A: Tensor, UPLO: str = "L", *, out=None) -> tuple:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, reading its ``UPLO`` triangle.

    >>> import flambeau as torch
    >>> torch.linalg.eigh(torch.tensor([[2., 1.], [1., 2.]])).eigenvalues.tolist()
    [1.0, 3.0]
    """
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return eigh_result(*apply(EIGH, (A,), (_square("linalg.eigh", A),), (UPLO,)))


def linalg_eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix.

    >>> import flambeau as torch
    >>> torch.linalg.eigvalsh(torch.tensor([[2., 1.], [1., 2.]])).tolist()
    [1.0, 3.0]
    """
    return linalg_eigh(A, UPLO)[0]


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None) -> tuple:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending.

    >>> import flambeau as torch
    >>> torch.linalg.svd(torch.tensor([[3., 0.], [0., -4.]])).S.tolist()
    [4.0, 3.0]
    """
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend.")
    return svd_result(*apply(SVD, (A,), (_matrix("linalg.svd", A),), (full_matrices,)))


def linalg_svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values, descending.

    >>> import flambeau as torch
    >>> torch.linalg.svdvals(torch.tensor([[3., 0.], [0., -4.]])).tolist()
    [4.0, 3.0]
    """
    return linalg_svd(A, False, driver=driver)[1]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None) -> tuple:
    """``torch.svd``: ``(U, S, V)``, V (not Vh) so ``input = U diag(S) Vᵀ``; without ``compute_uv``, U and V are zeros.

    >>> import flambeau as torch
    >>> torch.svd(torch.eye(2)).V.shape
    flambeau.Size([2, 2])
    """
    if not compute_uv:
        from .creation import zeros
        d = input._data
        S = linalg_svdvals(input)
        return svd_uv_result(zeros(d.shape[:-2] + (d.shape[-2],) * 2, dtype=input.dtype),
                             S, zeros(d.shape[:-2] + (d.shape[-1],) * 2, dtype=input.dtype))
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return svd_uv_result(U, S, Vh.mT)


def linalg_pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """The Moore–Penrose pseudo-inverse; singular values below ``max(atol, rtol·σ_max)`` count as zero.

    >>> import flambeau as torch
    >>> torch.linalg.pinv(torch.tensor([[2., 0.], [0., 0.]])).tolist()
    [[0.5, 0.0], [0.0, 0.0]]
    """
    return apply(PINV, (A,), (_matrix("linalg.pinv", A),), (atol, rtol))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv(input, rtol=rcond)``.

    >>> import flambeau as torch
    >>> torch.pinverse(torch.tensor([[2.], [0.]])).tolist()
    [[0.5, 0.0]]
    """
    return linalg_pinv(input, rtol=rcond)


def linalg_matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """``A`` multiplied by itself ``n`` times (by repeated squaring); ``n = 0`` gives I, ``n < 0`` powers of ``A⁻¹``.

    >>> import flambeau as torch
    >>> torch.linalg.matrix_power(torch.tensor([[1., 1.], [0., 1.]]), 3).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    d = A._data
    if d.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are {d.shape[-2]} by {d.shape[-1]} matrices")
    if n == 0:
        return A.clone().copy_(_new_tensor(np.eye(d.shape[-1], dtype=d.dtype), False, None, 0))
    if n == 1:
        return A.clone()
    if n < 0:
        A, n = linalg_inv(A), -n
    result = None
    while n:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    return result


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcasting the other dims).

    >>> import flambeau as torch
    >>> torch.linalg.cross(torch.tensor([1., 0., 0.]), torch.tensor([0., 1., 0.])).tolist()
    [0.0, 0.0, 1.0]
    """
    a, b = _same(input, other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    k = _wrap_dim(dim, a.ndim)
    if a.shape[k] != 3 or b.shape[k] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[k]} and {b.shape[k]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    return apply(CROSS, (input, other), (a, b), (k - a.ndim,))


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """``torch.cross``: ``linalg.cross`` along ``dim``; without ``dim``, the first dim of size 3 (deprecated in PyTorch).

    >>> import flambeau as torch
    >>> torch.cross(torch.tensor([0., 1., 0.]), torch.tensor([0., 0., 1.]), dim=0).tolist()
    [1.0, 0.0, 0.0]
    """
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim explicitly or "
                      "simply use torch.linalg.cross.\nThe default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim)


def _ex(result, fn, A: Tensor, check_errors: bool, *args, **kwargs):
    """``(fn(A, ...), info)`` with ``info`` 0 for every matrix (a failure raises: flambeau has no partial LAPACK results)."""
    try:
        out = fn(A, *args, **kwargs)
    except LinAlgError:
        if check_errors:
            raise
        raise NotImplementedError(f"{fn.__name__.replace('_', '.', 1)}_ex(check_errors=False) on a matrix that fails: flambeau cannot "
                                  "return LAPACK's partial result; check the input first") from None
    info = _new_tensor(np.zeros(A._data.shape[:-2], np.int32), False, None, 0)
    return result(out, info)


def linalg_inv_ex(A: Tensor, *, check_errors: bool = False, out=None) -> tuple:
    """``(inverse, info)``: ``linalg.inv`` with a LAPACK status per matrix (0: success).

    >>> import flambeau as torch
    >>> torch.linalg.inv_ex(torch.eye(2)).info.item()
    0
    """
    return _ex(inv_ex_result, linalg_inv, A, check_errors)


def linalg_cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None) -> tuple:
    """``(L, info)``: ``linalg.cholesky`` with a LAPACK status per matrix (0: success).

    >>> import flambeau as torch
    >>> torch.linalg.cholesky_ex(torch.eye(2)).L.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _ex(cholesky_ex_result, linalg_cholesky, A, check_errors, upper=upper)


def linalg_solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None) -> tuple:
    """``(result, info)``: ``linalg.solve`` with a LAPACK status per matrix (0: success).

    >>> import flambeau as torch
    >>> torch.linalg.solve_ex(torch.eye(2), torch.ones(2)).result.tolist()
    [1.0, 1.0]
    """
    return _ex(solve_ex_result, linalg_solve, A, check_errors, B, left=left)


def _chol_inverse_grad(g, L, out, upper: bool):
    """X = (L·Lᵀ)⁻¹: L̄ = −X·(g + gᵀ)·X·L (upper: −U·X·(g + gᵀ)·X)."""
    S = out @ (g + g.mT) @ out
    return -(L @ S) if upper else -(S @ L)


def _chol_solve_grad_l(g, L, out, upper: bool):
    """X = (L·Lᵀ)⁻¹·B: with Ā = −B̄·Xᵀ, B̄ = (L·Lᵀ)⁻¹·g: L̄ = (Ā + Āᵀ)·L (upper: U·(Ā + Āᵀ))."""
    gA = -(_chol_solve_any(g, L, upper) @ out.mT)
    return L @ (gA + gA.mT) if upper else (gA + gA.mT) @ L


def _chol_solve_np(b, L, upper: bool):
    U, Lo = (L, np.swapaxes(L, -1, -2)) if upper else (np.swapaxes(L, -1, -2), L)
    return np.linalg.solve(U, np.linalg.solve(Lo, b))


def _chol_solve_any(b, L, upper: bool):
    return cholesky_solve(b, L, upper) if isinstance(b, Tensor) else _chol_solve_np(b, L, upper)


CHOLESKY_INVERSE = defop("CholeskyInverseBackward0", lambda L, upper: np.linalg.inv(_gram(L, upper)), _chol_inverse_grad,
                         text=(_chol_inverse_grad.__doc__,))
CHOLESKY_SOLVE = defop("CholeskySolveBackward0", lambda b, L, upper: _chol_solve_np(b, L, upper),
                       lambda g, L, upper: _chol_solve_any(g, L, upper), _chol_solve_grad_l,
                       text=("(L·Lᵀ)⁻¹·g", _chol_solve_grad_l.__doc__))


def _gram(L, upper: bool):
    return np.swapaxes(L, -1, -2) @ L if upper else L @ np.swapaxes(L, -1, -2)


def cholesky_inverse(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """The inverse of ``A = L Lᵀ`` (``upper``: ``Uᵀ U``) from its Cholesky factor.

    >>> import flambeau as torch
    >>> torch.cholesky_inverse(torch.tensor([[2., 0.], [0., 1.]])).tolist()
    [[0.25, 0.0], [0.0, 1.0]]
    """
    d = _square("cholesky_inverse", input, "input")
    return apply(CHOLESKY_INVERSE, (input,), (d,), (upper,))


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """The solution X of ``A X = input`` for ``A = L Lᵀ`` given its Cholesky factor ``input2`` (``upper``: ``Uᵀ U``).

    >>> import flambeau as torch
    >>> torch.cholesky_solve(torch.ones(2, 1), torch.tensor([[2., 0.], [0., 1.]])).tolist()
    [[0.25], [1.0]]
    """
    b, L = _same(input, input2)
    _square("cholesky_solve", input2, "input2")
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions instead")
    return apply(CHOLESKY_SOLVE, (input, input2), (b, L), (upper,))


# Padé(13) coefficients of exp (Higham 2005, "The scaling and squaring method for the matrix exponential revisited")
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0, 10559470521600.0,
           670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a: np.ndarray) -> np.ndarray:
    """exp(A) by scaling and squaring with a degree-13 Padé approximant (one scaling for the whole batch)."""
    b = _PADE13
    norm = float(np.abs(a).sum(axis=-2).max()) if a.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    a = a / 2.0 ** s
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r.astype(a.dtype, copy=False)


def _matrix_exp_grad(g, a):
    """Ā = the top-right block of exp([[Aᵀ, g], [0, Aᵀ]]) (the Fréchet derivative of exp at Aᵀ in direction g)."""
    n = a.shape[-1]
    if isinstance(a, Tensor):
        e11, e12 = (_const(a, np.array(m_, dtype=a._data.dtype)) for m_ in ([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 0.0]]))
        return linalg_matrix_exp(kron(e11, a.mT) + kron(e12, g))[..., :n, n:]
    block = np.zeros(np.broadcast_shapes(a.shape, g.shape)[:-2] + (2 * n, 2 * n), np.result_type(a, g))
    block[..., :n, :n] = block[..., n:, n:] = np.swapaxes(a, -1, -2)
    block[..., :n, n:] = g
    return _expm(block)[..., :n, n:]


MATRIX_EXP = defop("LinalgMatrixExpBackward0", lambda a: _expm(a), _matrix_exp_grad, text=(_matrix_exp_grad.__doc__,))


def linalg_matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential ``Σ Aᵏ/k!`` of a square matrix (or of each in a batch).

    >>> import flambeau as torch
    >>> torch.linalg.matrix_exp(torch.zeros(2, 2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return apply(MATRIX_EXP, (A,), (_square("linalg.matrix_exp", A),))


def matrix_exp(A: Tensor) -> Tensor:
    """``torch.matrix_exp``: ``linalg.matrix_exp``.

    >>> import flambeau as torch
    >>> torch.matrix_exp(torch.zeros(1, 1)).tolist()
    [[1.0]]
    """
    return linalg_matrix_exp(A)


def _tri(a, upper: bool, unit: bool, eye: bool = True):
    """The triangle of ``a`` a triangular solve reads (``unit``: strict, with ones on the diagonal when ``eye``)."""
    t = m.triu(a, 1 if unit else 0) if upper else m.tril(a, -1 if unit else 0)
    return t + _eye(a, a.shape[-1]) if unit and eye else t


SOLVE_TRIANGULAR = defop("LinalgSolveTriangularBackward0",
                         lambda a, b, upper, left, unit: _solve(_tri(a, upper, unit), b, left, False),
                         lambda g, a, out, upper, left, unit: _tri(_solve_grad_a(g, _tri(a, upper, unit), out, left, False), upper, unit, False),
                         lambda g, a, upper, left, unit: _solve_any(_tri(a, upper, unit).mT, g, left, False),
                         text=("the triangle of linalg.solve's ∂ℒ/∂A", "linalg.solve's ∂ℒ/∂B"))


def linalg_solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``left=False``: ``X A = B``) reading only the ``upper`` or lower triangle of A
    (``unitriangular``: its diagonal taken as ones).

    >>> import flambeau as torch
    >>> torch.linalg.solve_triangular(torch.tensor([[2., 1.], [9., 1.]]), torch.ones(2, 1), upper=True).tolist()
    [[0.0], [1.0]]
    """
    a = _square("linalg.solve_triangular", A)
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    a, b = _same(A, B)
    try:
        return apply(SOLVE_TRIANGULAR, (A, B), (a, b), (upper, left, unitriangular))
    except np.linalg.LinAlgError:
        raise NotImplementedError("linalg.solve_triangular of a singular triangular matrix (PyTorch returns inf/nan) is not supported "
                                  "by flambeau") from None


def linalg_matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None, out=None) -> Tensor:
    """The number of singular values above ``max(atol, rtol·σ_max)`` (``tol``: an absolute tolerance).

    >>> import flambeau as torch
    >>> torch.linalg.matrix_rank(torch.ones(3, 3)).item()
    1
    """
    if tol is not None:
        atol, rtol = tol, 0.0
    d = _matrix("linalg.matrix_rank", A)
    s = np.linalg.svd(d, compute_uv=False)
    if rtol is None:
        rtol = np.finfo(d.dtype).eps * max(d.shape[-2:]) if atol is None else 0.0
    cutoff = np.maximum(0.0 if atol is None else atol, rtol * (s[..., :1] if s.shape[-1] else s))
    return _new_tensor(np.asarray((s > cutoff).sum(-1), dtype=np.int64), False, None, 0)


def linalg_cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """The condition number in the 2-norm (``p`` None or 2: σ_max/σ_min; -2: σ_min/σ_max).

    >>> import flambeau as torch
    >>> torch.linalg.cond(torch.tensor([[2., 0.], [0., 1.]])).item()
    2.0
    """
    if p not in (None, 2, -2):
        raise NotImplementedError(f"linalg.cond with p={p!r} is not supported by flambeau yet (only p=None, 2, -2)")
    s = linalg_svdvals(A)
    hi, lo = s[..., :1], s[..., -1:]
    return (lo / hi if p == -2 else hi / lo).squeeze(-1)


def _pinv_any(a, rtol):
    return linalg_pinv(a, rtol=rtol) if isinstance(a, Tensor) else _pinv(a, None, rtol)


LSTSQ = defop("LinalgLstsqBackward0", lambda a, b, rtol: _pinv(a, None, rtol) @ b,
              lambda g, a, b, rtol: _pinv_grad(g @ b.mT if b.ndim > 1 else m.outer(g, b), a, _pinv_any(a, rtol)),
              lambda g, a, rtol: _pinv_any(a, rtol).mT @ g,
              text=("linalg.pinv's ∂ℒ/∂A for ∂ℒ/∂A⁺ = g·Bᵀ", "A⁺ᵀ·g"))


def linalg_lstsq(A: Tensor, B: Tensor, rcond=None, *, driver: str | None = None) -> tuple:
    """The least-squares solution of ``A X ≈ B`` (minimum norm when A lacks rank), with PyTorch's CPU outputs per
    ``driver``: ``gelsy`` (default) gives the rank; ``gelsd``/``gelss`` also the residuals (m > n, full rank) and singular values.

    >>> import flambeau as torch
    >>> torch.linalg.lstsq(torch.tensor([[1., 0.], [0., 1.], [0., 0.]]), torch.ones(3, 1)).solution.tolist()
    [[1.0], [1.0]]
    """
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), but got {driver}")
    driver = driver or "gelsy"
    a, b = _same(A, B)
    _matrix("torch.linalg.lstsq", A)
    rows, cols = a.shape[-2:]
    rtol = rcond if rcond is not None and rcond > 0 else None
    X = apply(LSTSQ, (A, B), (a, b), (rtol,))
    empty = _new_tensor(np.empty((0,), a.dtype), False, None, 0)
    s = np.linalg.svd(a, compute_uv=False)
    cutoff = (rtol if rtol is not None else np.finfo(a.dtype).eps * max(rows, cols)) * (s[..., :1] if s.shape[-1] else s)
    rank_np = (s > cutoff).sum(-1).astype(np.int64)
    rank = _new_tensor(np.empty((0,), np.int64) if driver == "gels" else np.asarray(rank_np), False, None, 0)
    residuals = empty
    if driver != "gelsy" and rows > cols and np.all(rank_np == cols):
        residuals = ((matmul(A, X) - B) ** 2).sum(-2)
    svals = _new_tensor(s, False, None, 0) if driver in ("gelsd", "gelss") else empty
    return lstsq_result(X, residuals, rank, svals)


def chain_matmul(*matrices, out=None) -> Tensor:
    """``torch.chain_matmul`` (deprecated in PyTorch): ``linalg.multi_dot(matrices)``.

    >>> import flambeau as torch
    >>> torch.chain_matmul(torch.ones(1, 2), torch.ones(2, 1)).tolist()
    [[2.0]]
    """
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
                  "instead, which accepts a list of two or more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    return matrices[0].clone() if len(matrices) == 1 else linalg_multi_dot(matrices)


def det(input: Tensor) -> Tensor:
    """``torch.det``: ``linalg.det``.

    >>> import flambeau as torch
    >>> torch.det(torch.tensor([[1., 2.], [3., 4.]])).item()
    -2.0
    """
    return linalg_det(input)


def inverse(input: Tensor, *, out=None) -> Tensor:
    """``torch.inverse``: ``linalg.inv``.

    >>> import flambeau as torch
    >>> torch.inverse(torch.tensor([[4.]])).tolist()
    [[0.25]]
    """
    return linalg_inv(input)


def slogdet(input: Tensor) -> tuple:
    """``torch.slogdet``: ``linalg.slogdet``.

    >>> import flambeau as torch
    >>> torch.slogdet(torch.eye(2)).logabsdet.item()
    0.0
    """
    return linalg_slogdet(input)


def logdet(input: Tensor) -> Tensor:
    """``log det(input)``: nan for a negative determinant, -inf for zero.

    >>> import flambeau as torch
    >>> torch.logdet(torch.eye(2)).item()
    0.0
    """
    sign, logabs = linalg_slogdet(input)
    return logabs.where(sign >= 0, float("nan"))


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``torch.matrix_power``: ``linalg.matrix_power``.

    >>> import flambeau as torch
    >>> torch.matrix_power(torch.tensor([[2.]]), 3).tolist()
    [[8.0]]
    """
    return linalg_matrix_power(input, n)


# ---- LU with partial pivoting -------------------------------------------------------------------

def _lu_np(a: np.ndarray) -> tuple:
    """LAPACK ``getrf`` on each matrix of a batch: ``(LU packed, 1-based int32 pivots, int32 info)``.

    Partial pivoting takes the first largest ``|value|`` of each column, as LAPACK does, so the factors equal
    PyTorch's. One NumPy step per column, over the whole batch; a zero pivot is recorded in ``info`` and skipped.
    """
    rows, cols = a.shape[-2:]
    k = min(rows, cols)
    lu = a.reshape((-1, rows, cols)).copy()
    nb = lu.shape[0]
    batch = np.arange(nb)
    piv = np.empty((nb, k), np.int32)
    info = np.zeros(nb, np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = lu[batch, j].copy()
        lu[batch, j] = lu[batch, p]
        lu[batch, p] = top
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        with np.errstate(divide="ignore"):
            inv = np.where(zero, 1, 1 / np.where(zero, 1, pivot)).astype(lu.dtype)
        lu[:, j + 1:, j] *= inv[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    shape = a.shape[:-2]
    return lu.reshape(a.shape), piv.reshape(shape + (k,)), info.reshape(shape)


def _perm_np(piv: np.ndarray, rows: int, dtype) -> np.ndarray:
    """The permutation matrix P (``A = P L U``) of LAPACK's row interchanges ``piv`` (1-based)."""
    k = piv.shape[-1]
    swaps = piv.reshape((-1, k)).astype(np.int64) - 1
    batch = np.arange(swaps.shape[0])
    perm = np.tile(np.arange(rows), (swaps.shape[0], 1))
    for j in range(k):
        p = swaps[:, j]
        top = perm[:, j].copy()
        perm[:, j] = perm[batch, p]
        perm[batch, p] = top
    P = np.zeros((swaps.shape[0], rows, rows), dtype)
    P[batch[:, None], perm, np.arange(rows)] = 1
    return P.reshape(piv.shape[:-1] + (rows, rows))


def _lu_split(lu, rows: int, cols: int):
    """``(L, U)`` of a packed factorization (arrays or Tensors): unit lower ``rows × k``, upper ``k × cols``."""
    k = min(rows, cols)
    return m.tril(lu[..., :, :k], -1) + _eye(lu, rows, k), m.triu(lu[..., :k, :])


def _lu_grad(P, L, U, gL, gU):
    """Ā = P·L⁻ᵀ·(tril₋₁(Lᵀ·L̄) + triu(Ū·Uᵀ))·U⁻ᵀ for square A. Wide A = P·L·[U₁ | U₂]: U₂'s gradient adds
    −tril₋₁(Ū₂·U₂ᵀ) to the inner term and L⁻ᵀ·Ū₂ as the last columns; tall A (L = [L₁; L₂]) adds −triu(L₂ᵀ·L̄₂) and
    L̄₂·U⁻ᵀ as the last rows. Either gradient may be absent."""
    rows, cols = L.shape[-2], U.shape[-1]
    k = min(rows, cols)
    L1, U1 = L[..., :k, :], U[..., :, :k]
    gL1, gU1 = None if gL is None else gL[..., :k, :], None if gU is None else gU[..., :, :k]
    inner = _add(None if gL1 is None else m.tril(L1.mT @ gL1, -1), None if gU1 is None else m.triu(gU1 @ U1.mT))
    extra = None
    if cols > rows and gU is not None:
        gU2 = gU[..., :, k:]
        inner = _add(inner, -m.tril(gU2 @ U[..., :, k:].mT, -1))
        extra = _solve_any(L1.mT, gU2, True, False)
    if rows > cols and gL is not None:
        gL2 = gL[..., k:, :]
        inner = _add(inner, -m.triu(L[..., k:, :].mT @ gL2))
        extra = _solve_any(U1.mT, gL2, False, False)
    gA = _solve_any(L1.mT, _solve_any(U1.mT, inner, False, False), True, False)
    if rows != cols:
        if extra is None:
            extra = m.zeros_like(U[..., :, k:] if cols > rows else L[..., k:, :])
        gA = _cat_last(gA, extra) if cols > rows else _cat_last(gA.mT, extra.mT).mT
    return P @ gA


def _lu_factor_grad(g, out, pivots):
    """linalg.lu's gradient with L̄ = tril₋₁(LŪ), Ū = triu(LŪ) of the packed factors."""
    rows, cols = out.shape[-2:]
    k = min(rows, cols)
    L, U = _lu_split(out, rows, cols)
    P = _const(out, _perm_np(pivots, rows, (out._data if isinstance(out, Tensor) else out).dtype))
    return _lu_grad(P, L, U, m.tril(g[..., :, :k], -1), m.triu(g[..., :k, :]))


LU = defop("LinalgLuBackward0", lambda a, P: _lu_split(_lu_np(a)[0], *a.shape[-2:]),
           lambda g, out, P: _lu_grad(_const(out[0], P), out[0], out[1], g[0], g[1]), nout=2, text=(_lu_grad.__doc__,))
LU_FACTOR = defop("LinalgLuFactorExBackward0", lambda a, pivots: _lu_np(a)[0], _lu_factor_grad, text=(_lu_factor_grad.__doc__,))
lu_factor_result = _return_type("linalg_lu_factor", ("LU", "pivots"))
lu_factor_ex_result = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
lu_result = _return_type("linalg_lu", ("P", "L", "U"))


def _lu_input(name: str, A: Tensor, pivot: bool, arg_name: str | None = None) -> np.ndarray:
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{arg_name or name}: Expected tensor with 2 or more dimensions. Got size: {list(d.shape)} instead")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    if d.dtype.kind != "f" or d.dtype == np.float16:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_type_name(d)}'")
    return d


def linalg_lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None) -> tuple:
    """``(LU, pivots, info)``: the packed factors of ``A = P L U`` (partial pivoting), LAPACK's 1-based int32 row
    interchanges, and per matrix the 1-based index of the first zero pivot (0 when there is none).

    >>> import flambeau as torch
    >>> torch.linalg.lu_factor_ex(torch.tensor([[0., 1.], [2., 3.]])).pivots.tolist()
    [2, 2]
    """
    d = _lu_input("linalg.lu_factor_ex", A, pivot, "torch.lu_factor")
    lu, piv, info = _lu_np(d)
    if check_errors and info.any():
        raise _lu_singular("torch.linalg.lu_factor_ex", info)
    LU_ = record(LU_FACTOR, (A,), lu, (piv,))
    return lu_factor_ex_result(LU_, _new_tensor(piv, False, None, 0), _new_tensor(info, False, None, 0))


def _lu_singular(name: str, info: np.ndarray) -> RuntimeError:
    flat = info.reshape(-1)
    b = int(np.flatnonzero(flat)[0])
    where = f"(Batch element {b}): " if info.ndim else ""
    return RuntimeError(f"{name}: {where}U[{flat[b]},{flat[b]}] is zero and using it on lu_solve would result in a division by zero. If you "
                       "still want to perform the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def linalg_lu_factor(A: Tensor, *, pivot: bool = True, out=None) -> tuple:
    """``(LU, pivots)`` of ``A = P L U``, as :func:`linalg_lu_factor_ex`; a singular matrix raises ``RuntimeError``.

    >>> import flambeau as torch
    >>> torch.linalg.lu_factor(torch.tensor([[0., 1.], [2., 3.]])).LU.tolist()
    [[2.0, 3.0], [0.0, 1.0]]
    """
    d = _lu_input("linalg.lu_factor", A, pivot, "torch.lu_factor")
    lu, piv, info = _lu_np(d)
    if info.any():
        raise _lu_singular("torch.linalg.lu_factor", info)
    return lu_factor_result(record(LU_FACTOR, (A,), lu, (piv,)), _new_tensor(piv, False, None, 0))


def linalg_lu(A: Tensor, *, pivot: bool = True, out=None) -> tuple:
    """``(P, L, U)`` with ``A = P L U``: P a permutation, L unit lower triangular (``m × k``), U upper (``k × n``).

    >>> import flambeau as torch
    >>> torch.linalg.lu(torch.tensor([[0., 1.], [2., 3.]])).P.tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    d = _lu_input("linalg.lu", A, pivot)
    lu, piv, _ = _lu_np(d)
    P = _perm_np(piv, d.shape[-2], d.dtype)
    L, U = record(LU, (A,), _lu_split(lu, *d.shape[-2:]), (P,))
    return lu_result(_new_tensor(P, False, None, 0), L, U)


def _lu_solve_left(lu, P, b, adjoint: bool):
    """A⁻¹B (``adjoint``: A⁻ᵀB) for ``A = P L U`` packed in ``lu`` (arrays or Tensors)."""
    L, U = _lu_split(lu, *lu.shape[-2:])
    if adjoint:
        return P @ _solve_any(L.mT, _solve_any(U.mT, b, True, False), True, False)
    return _solve_any(U, _solve_any(L, P.mT @ b, True, False), True, False)


def _lu_solve_any(lu, P, b, left: bool, adjoint: bool):
    """``left``: A⁻¹B; else B·A⁻¹ = (A⁻ᵀBᵀ)ᵀ; ``adjoint`` solves with Aᵀ."""
    P = _const(lu, P)
    return _lu_solve_left(lu, P, b, adjoint) if left else _lu_solve_left(lu, P, b.mT, not adjoint).mT


def _lu_solve_grad(g, lu, out, P, left: bool, adjoint: bool):
    """X = U⁻¹Y, Y = L⁻¹PᵀB: Ū = −U⁻ᵀX̄·Xᵀ, L̄ = −L⁻ᵀ(U⁻ᵀX̄)·Yᵀ. Adjoint, X = P·W, W = L⁻ᵀZ, Z = U⁻ᵀB:
    L̄ = −W·(L⁻¹PᵀX̄)ᵀ, Ū = −Z·(U⁻¹L⁻¹PᵀX̄)ᵀ. The packed gradient is tril₋₁(L̄) + triu(Ū); right solves transpose."""
    if not left:
        g, out, adjoint = g.mT, out.mT, not adjoint
    P = _const(lu, P)
    L, U = _lu_split(lu, *lu.shape[-2:])
    if adjoint:
        W = P.mT @ out
        gZ = _solve_any(L, P.mT @ g, True, False)
        gL, gU = -(W @ gZ.mT), -((L.mT @ W) @ _solve_any(U, gZ, True, False).mT)
    else:
        gY = _solve_any(U.mT, g, True, False)
        gL, gU = -(_solve_any(L.mT, gY, True, False) @ (U @ out).mT), -(gY @ out.mT)
    return m.tril(gL, -1) + m.triu(gU)


LU_SOLVE = defop("LinalgLuSolveBackward0", lambda lu, b, P, left, adjoint: _lu_solve_any(lu, P, b, left, adjoint),
                 _lu_solve_grad, lambda g, lu, P, left, adjoint: _lu_solve_any(lu, P, g, left, not adjoint),
                 text=(_lu_solve_grad.__doc__, "the solve with the adjoint of A"))


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False, out=None) -> Tensor:
    """The solution X of ``A X = B`` from ``(LU, pivots) = linalg.lu_factor(A)`` (``left=False``: ``X A = B``;
    ``adjoint``: with Aᵀ), differentiable in LU and B.

    >>> import flambeau as torch
    >>> LU, piv = torch.linalg.lu_factor(torch.tensor([[0., 1.], [2., 3.]]))
    >>> torch.linalg.lu_solve(LU, piv, torch.tensor([[1.], [5.]])).tolist()
    [[1.0], [1.0]]
    """
    lu = _square("torch.linalg.lu_solve", LU)
    b = B._data
    if b.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if lu.dtype != b.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type {_type_name(lu)} and B of type "
                           f"{_type_name(b)} instead")
    if pivots._data.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    n = lu.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
                           f"({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    P = _perm_np(pivots._data, n, lu.dtype)
    return apply(LU_SOLVE, (LU, B), (lu, b), (P, left, adjoint))

# ---- composed from differentiable ops: Vandermonde, tensor inverse and solve, Householder products ----

def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix ``[1, x, x², …, x^(N-1)]`` of the last dimension (``N`` defaults to its size).

    >>> import flambeau as torch
    >>> torch.linalg.vander(torch.tensor([1., 2., 3.])).tolist()
    [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0], [1.0, 3.0, 9.0]]
    """
    n = N if N is not None else (x.shape[-1] if x.ndim else 0)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .join import cat
    col = x.unsqueeze(-1)
    powers = col.expand(*x.shape, n - 1).cumprod(-1)
    return cat([_new_tensor(np.ones(col.shape, powers._data.dtype), False, None, 0), powers], -1)


def _prod(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def linalg_tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse of A seen as a matrix of its first ``ind`` dims by the rest: ``tensordot(tensorinv(A), A, ind) = I``.

    >>> import flambeau as torch
    >>> torch.linalg.tensorinv(torch.eye(4).reshape(4, 2, 2), ind=1).shape
    flambeau.Size([2, 2, 4])
    """
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    left, right = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if _prod(right) != _prod(left):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
                           f"{_prod(right)} != {_prod(left)}")
    inv = _inv(A.reshape(_prod(left), _prod(right)), "inv")
    d = inv._data
    return view_op(RESHAPE_ALIAS, inv, d.reshape(right + left), (d.shape,))  # PyTorch's reshape of inv's result is an alias


def linalg_tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) = B`` (``dims``: dims of A moved to the end first).

    >>> import flambeau as torch
    >>> torch.linalg.tensorsolve(torch.eye(4).reshape(2, 2, 4), torch.ones(2, 2)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    right = tuple(A.shape[B.ndim:])
    n = B.numel()
    if _prod(right) != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), but got "
                           f"{_prod(right)} != {n}")
    return linalg_solve(A.reshape(n, n), B.reshape(n)).reshape(right)


def _householder_qs(a, tau) -> tuple:
    """V (A below the diagonal, ones on it) and ``[Q₀ = I, Q₁, …]``, ``Q_i = Q_{i−1}·(I − τ_i v_i v_iᵀ)``, v_i = column i of V
    (arrays or Tensors)."""
    rows, cols = a.shape[-2:]
    V = m.tril(a, -1) + _eye(a, rows, cols)
    Qs = [_eye(a, rows)]
    for i in range(tau.shape[-1]):
        v = V[..., :, i:i + 1]
        Qs.append(Qs[-1] - (Qs[-1] @ v) @ (tau[..., i:i + 1, None] * v.mT))
    return V, Qs


def _householder_np(a: np.ndarray, tau: np.ndarray) -> np.ndarray:
    return np.broadcast_to(_householder_qs(a, tau)[1][-1][..., :, :a.shape[-1]], a.shape).copy()


def _householder_grads(g, a, tau, which: int):
    """Back through the reflectors, last first: with G = ∂ℒ/∂Q_i (g padded with zero columns), τ̄_i = −(G v)ᵀ(Q_{i−1} v),
    v̄_i = −τ_i (Gᵀ Q_{i−1} v + Q_{i−1}ᵀ G v), then G ← G − τ_i (G v) v_iᵀ. Ā is the strictly lower part of the v̄ columns."""
    rows, cols = a.shape[-2:]
    k = tau.shape[-1]
    if k == 0:
        return m.zeros_like(a if which == 0 else tau)
    V, Qs = _householder_qs(a, tau)
    G = g @ _eye(g, cols, rows)
    ek, ec = _eye(g, k), _eye(g, cols)  # one-hot rows placing column i of Ā, entry i of τ̄
    grad = None
    for i in reversed(range(k)):
        v, t, Q = V[..., :, i:i + 1], tau[..., i:i + 1, None], Qs[i]
        Gv, Qv = G @ v, Q @ v
        if which == 0:
            grad = _add(grad, (-t * (G.mT @ Qv + Q.mT @ Gv)) @ ec[i:i + 1])
        else:
            grad = _add(grad, -(Qv.mT @ Gv)[..., 0] * ek[i])
        G = G - (t * Gv) @ v.mT
    return m.tril(grad, -1) if which == 0 else grad


HOUSEHOLDER = defop("LinalgHouseholderProductBackward0", lambda a, tau: _householder_np(a, tau),
                    lambda g, a, tau: _householder_grads(g, a, tau, 0), lambda g, a, tau: _householder_grads(g, a, tau, 1),
                    text=(_householder_grads.__doc__, "τ̄ from the same pass"))


def linalg_householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """The first n columns of ``H₁ H₂ … H_k``, ``H_i = I − τ_i v_i v_iᵀ`` with v_i the i-th column of A below the
    diagonal and 1 on it (LAPACK's ``orgqr``: Q from ``geqrf``'s reflectors). One matmul update per reflector; the
    gradient runs the same steps backwards.

    >>> import flambeau as torch
    >>> torch.linalg.householder_product(torch.zeros(2, 1), torch.tensor([2.])).tolist()
    [[-1.0], [0.0]]
    """
    name = "torch.linalg.householder_product"
    a, t = A._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if a.shape[-1] < t.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if t.ndim != a.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to {t.ndim} and input.ndim "
                           f"is equal to {a.ndim}")
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got {list(t.shape[:-1])}")
    if t.dtype != a.dtype:
        raise RuntimeError(f"{name}: tau dtype {_type_name(t)} does not match input dtype {_type_name(a)}")
    if a.dtype.kind != "f" or a.dtype == np.float16:
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{_type_name(a)}'")
    return apply(HOUSEHOLDER, (A, tau), (a, t))


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``torch.orgqr``: ``linalg.householder_product``.

    >>> import flambeau as torch
    >>> torch.orgqr(torch.zeros(2, 1), torch.tensor([0.])).tolist()
    [[1.0], [0.0]]
    """
    return linalg_householder_product(input, tau)


# ---- pairwise distances -------------------------------------------------------------------------

def _cdist_np(x1: np.ndarray, x2: np.ndarray, p: float) -> np.ndarray:
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(x1.dtype)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return np.sqrt((diff * diff).sum(-1))
    if p == np.inf:
        return np.max(diff, -1, initial=0)
    return (diff ** p).sum(-1) ** (1 / p)


def _cdist_pairs(g, x1, x2, out, p: float):
    """∂ℒ/∂x1 per pair of rows (``… × P × R × M``): g·sign(d)·|d|^(p−1)/dist^(p−1), d = x1_i − x2_j, with PyTorch's
    zeros where the distance is 0 (and where d is 0); p = ∞: g·sign(d) where |d| is the distance."""
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    g, dist = g[..., None], out[..., None]
    if p == 0:
        return m.zeros_like(diff)
    if p == 1:
        return m.sign(diff) * g
    if p == np.inf:
        return m.sign(diff) * m.where(m.abs(diff) == dist, g, 0.0)
    at_zero = dist == 0
    if p == 2:
        return m.where(at_zero, 0.0, diff * (g / m.where(at_zero, 1.0, dist)))
    ad = m.abs(diff)
    at_zero = at_zero | (ad == 0)
    ratio = m.where(at_zero, 1.0, ad) / m.where(at_zero, 1.0, dist)
    return m.where(at_zero, 0.0, m.sign(diff) * ratio ** (p - 1) * g)


def _euclid_np(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """‖x1_i − x2_j‖ through one matmul of ``[−2·x1, ‖x1‖², 1]`` and ``[x2, 1, ‖x2‖²]``, floored at 1e-15 (PyTorch's
    ``_euclidean_dist``, used for p = 2 when it pays)."""
    n1, n2 = (x1 * x1).sum(-1, keepdims=True), (x2 * x2).sum(-1, keepdims=True)
    a = np.concatenate([-2 * x1, n1, np.ones_like(n1)], -1)
    b = np.concatenate([x2, np.ones_like(n2), n2], -1)
    return np.sqrt(np.maximum(a @ np.swapaxes(b, -1, -2), 1e-30))


CDIST = defop("CdistBackward0", lambda x1, x2, p: _cdist_np(x1, x2, p),
              lambda g, x1, x2, out, p: m.sum(_cdist_pairs(g, x1, x2, out, p), -2),
              lambda g, x1, x2, out, p: -m.sum(_cdist_pairs(g, x1, x2, out, p), -3), text=(_cdist_pairs.__doc__, "−Σ_i of x1's pairs"))
EUCLID = defop("EuclideanDistBackward0", lambda x1, x2: _euclid_np(x1, x2),
               lambda g, x1, x2, out: x1 * m.sum(g / out, -1, True) - (g / out) @ x2,
               lambda g, x1, x2, out: x2 * m.sum(g / out, -2)[..., None] - (g / out).mT @ x1,
               text=("x1·Σ_j r_ij − r·x2, r = g/dist", "x2·Σ_i r_ij − rᵀ·x1"))
_CDIST_MODES = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distance between each row of ``x1`` (``… × P × M``) and each row of ``x2`` (``… × R × M``),
    batch dims broadcast. For p = 2 with more than 25 rows on a side (or ``compute_mode='use_mm_for_euclid_dist'``)
    it goes through a matmul, as PyTorch does.

    >>> import flambeau as torch
    >>> torch.cdist(torch.tensor([[0., 0.]]), torch.tensor([[3., 4.], [1., 0.]])).tolist()
    [[5.0, 1.0]]
    """
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    a, b = x1._data, x2._data
    for name, d in (("X1", a), ("X2", b)):
        if d.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {d.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    for name, d in (("X1", a), ("X2", b)):
        if d.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_type_name(d)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(a)} but found {_type_name(b)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise broadcast_error(a.shape[:-2], b.shape[:-2]) from None
    rows, cols = a.shape[-2], b.shape[-2]
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (compute_mode in _CDIST_MODES[:2] and (rows > 25 or cols > 25))):
        return apply(EUCLID, (x1, x2), (a, b)).view(*batch, rows, cols)
    return apply(CDIST, (x1, x2), (a, b), (float(p),))


def _no_complex(name: str):
    def fn(A: Tensor, *, out=None):
        raise NotImplementedError(f"torch.linalg.{name}: flambeau has no complex tensors (a real matrix's eigenvalues may be complex)")
    fn.__name__ = f"linalg_{name}"
    fn.__doc__ = f"``torch.linalg.{name}`` needs complex tensors, which flambeau does not have: raises ``NotImplementedError``."
    return fn


linalg_eig, linalg_eigvals = _no_complex("eig"), _no_complex("eigvals")


# ---- Tensor methods ----------------------------------------------------------------------------

Tensor.matmul = Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
for _name in ("mm", "dot", "vdot", "inner", "mv", "bmm", "outer", "ger", "addmm", "addmv", "addr", "baddbmm", "addbmm", "diagflat", "trace",
              "cholesky_inverse", "cholesky_solve", "diag", "diag_embed", "diagonal", "tril", "triu", "kron",
              "det", "logdet", "slogdet", "inverse", "cholesky", "qr", "svd", "pinverse", "matrix_power", "matrix_exp", "cross", "orgqr"):
    setattr(Tensor, _name, globals()[_name])
Tensor.tril_ = lambda self, diagonal=0: inplace(tril, self, diagonal)
Tensor.triu_ = lambda self, diagonal=0: inplace(triu, self, diagonal)
for _fn in (addmm, addmv, addr, baddbmm, addbmm):
    setattr(Tensor, _fn.__name__ + "_", lambda self, a, b, *, beta=1, alpha=1, _fn=_fn: inplace(_fn, self, a, b, beta=beta, alpha=alpha))
