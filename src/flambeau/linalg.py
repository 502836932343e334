"""``flambeau.linalg``: PyTorch's ``torch.linalg`` namespace. The ops (and their derivatives) live in ``ops/linalg.py``.

    >>> import flambeau as torch
    >>> torch.linalg.det(torch.eye(3)).item()
    1.0
"""

from ._missing import module_getattr
from ._tensor import Tensor
from .ops.linalg import (
    LinAlgError,
    linalg_cholesky,
    linalg_cholesky_ex,
    linalg_cond,
    linalg_cross,
    linalg_det,
    linalg_eig,
    linalg_eigh,
    linalg_eigvals,
    linalg_eigvalsh,
    linalg_householder_product,
    linalg_inv,
    linalg_inv_ex,
    linalg_lstsq,
    linalg_lu,
    linalg_lu_factor,
    linalg_lu_factor_ex,
    linalg_lu_solve,
    linalg_matrix_exp,
    linalg_matrix_power,
    linalg_matrix_rank,
    linalg_multi_dot,
    linalg_pinv,
    linalg_qr,
    linalg_slogdet,
    linalg_solve,
    linalg_solve_ex,
    linalg_solve_triangular,
    linalg_svd,
    linalg_svdvals,
    linalg_tensorinv,
    linalg_tensorsolve,
    linalg_vander,
    linalg_vecdot,
    matmul,
)
from .ops.linalg import diagonal as _diagonal
from .ops.reduce import matrix_norm, vector_norm

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex", "lstsq", "matmul",
           "matrix_exp", "matrix_power", "matrix_rank", "multi_dot", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular",
           "svd", "svdvals", "vecdot", "vector_norm", "matrix_norm", "norm", "eig", "eigvals", "householder_product", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "tensorinv", "tensorsolve", "vander"]

cholesky, cross, det, eigh, eigvalsh, inv = linalg_cholesky, linalg_cross, linalg_det, linalg_eigh, linalg_eigvalsh, linalg_inv
matrix_power, pinv, qr, slogdet = linalg_matrix_power, linalg_pinv, linalg_qr, linalg_slogdet
solve, svd, svdvals = linalg_solve, linalg_svd, linalg_svdvals
cholesky_ex, inv_ex, solve_ex, multi_dot, vecdot = linalg_cholesky_ex, linalg_inv_ex, linalg_solve_ex, linalg_multi_dot, linalg_vecdot
matrix_exp, matrix_rank, cond, solve_triangular = linalg_matrix_exp, linalg_matrix_rank, linalg_cond, linalg_solve_triangular
lstsq = linalg_lstsq
eig, eigvals, householder_product, tensorinv, tensorsolve, vander = (linalg_eig, linalg_eigvals, linalg_householder_product, linalg_tensorinv,
                                                                     linalg_tensorsolve, linalg_vander)
lu, lu_factor, lu_factor_ex, lu_solve = linalg_lu, linalg_lu_factor, linalg_lu_factor_ex, linalg_lu_solve


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``A.diagonal(offset, dim1, dim2)`` with PyTorch's ``linalg`` defaults (the last two dims).

    >>> import flambeau as torch
    >>> torch.linalg.diagonal(torch.eye(2)).tolist()
    [1.0, 1.0]
    """
    return _diagonal(A, offset, dim1, dim2)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, chosen as ``torch.linalg.norm`` does: by ``dim`` (an int: vector; a pair:
    matrix), or with ``dim=None`` by the input's dims (1-D: vector, 2-D: matrix; no ``ord``: the 2-norm of all).

    >>> import flambeau as torch
    >>> torch.linalg.norm(torch.tensor([3., 4.])).item()
    5.0
    """
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if isinstance(dim, int) or len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)

__getattr__ = module_getattr("linalg", "flambeau.linalg")  # a PyTorch name flambeau lacks: NotImplementedError
