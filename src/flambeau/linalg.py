"""``flambeau.linalg``: PyTorch's ``torch.linalg`` namespace. The ops (and their derivatives) live in ``ops/linalg.py``.

    >>> import flambeau as torch
    >>> torch.linalg.det(torch.eye(3)).item()
    1.0
"""

from .ops.linalg import (
    LinAlgError,
    linalg_cholesky,
    linalg_cross,
    linalg_det,
    linalg_eigh,
    linalg_eigvalsh,
    linalg_inv,
    linalg_matrix_power,
    linalg_pinv,
    linalg_qr,
    linalg_slogdet,
    linalg_solve,
    linalg_svd,
    linalg_svdvals,
    matmul,
)
from .ops.linalg import diagonal as _diagonal

__all__ = ["LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_power", "pinv", "qr",
           "slogdet", "solve", "svd", "svdvals"]

cholesky, cross, det, eigh, eigvalsh, inv = linalg_cholesky, linalg_cross, linalg_det, linalg_eigh, linalg_eigvalsh, linalg_inv
matrix_power, pinv, qr, slogdet = linalg_matrix_power, linalg_pinv, linalg_qr, linalg_slogdet
solve, svd, svdvals = linalg_solve, linalg_svd, linalg_svdvals


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """``A.diagonal(offset, dim1, dim2)`` with PyTorch's ``linalg`` defaults (the last two dims).

    >>> import flambeau as torch
    >>> torch.linalg.diagonal(torch.eye(2)).tolist()
    [1.0, 1.0]
    """
    return _diagonal(A, offset, dim1, dim2)
