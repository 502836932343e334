"""Linear algebra rows. Spectral and inverse ops get well-conditioned inputs built inside the row
(``spd``: symmetric positive-definite with spread eigenvalues; ``wc``: a random matrix plus 3·I)."""

from . import C, R, Row


def spd(t, a):
    return a @ a.mT + 3 * t.eye(a.shape[-1], dtype=a.dtype)


def wc(t, a):
    return a + 3 * t.eye(a.shape[-1], dtype=a.dtype)


def signs(t, v):
    """±1 per column making the first row of ``v`` non-negative: eigen/singular vectors are unique only up to sign
    (LAPACK builds may differ), so rows compare them in this gauge; gradients flow through the fixed signs."""
    return t.where(v[..., :1, :] < 0, -1.0, 1.0).to(v.dtype)


def eigh_fixed(t, a, **kw):
    L, Q = t.linalg.eigh(a, **kw)
    return L, Q * signs(t, Q)


def svd_fixed(t, a, **kw):
    U, S, Vh = t.linalg.svd(a, **kw)
    k = S.shape[-1]  # full_matrices: the extra columns of U (rows of Vh) are any basis of the complement; compare the first k
    s = signs(t, U[..., :k])
    return U[..., :k] * s, S, Vh[..., :k, :] * s.mT


def torch_svd_fixed(t, a):
    U, S, V = t.svd(a)
    s = signs(t, U)
    return U * s, S, V * s


ROWS = [
    # matmul: every shape rule (the node PyTorch shows differs per case; tests/test_linalg.py checks them)
    Row("matmul", lambda t, a, b: t.matmul(a, b), (R(3, 4), R(4, 5)), covers=("matmul", "mm")),
    Row("matmul_dot", lambda t, a, b: a @ b, (R(4), R(4)), covers=("matmul",)),
    Row("matmul_mv", lambda t, a, b: a @ b, (R(3, 4), R(4)), covers=("matmul",)),
    Row("matmul_vec", lambda t, a, b: a @ b, (R(4), R(4, 5)), covers=("matmul",)),
    Row("matmul_batched", lambda t, a, b: a @ b, (R(2, 3, 4), R(4, 5)), covers=("matmul",)),
    Row("matmul_batched_vec", lambda t, a, b: a @ b, (R(2, 3, 4), R(4)), covers=("matmul",)),
    Row("matmul_vec_batched", lambda t, a, b: a @ b, (R(4), R(2, 4, 5)), covers=("matmul",)),
    Row("matmul_mat_batched", lambda t, a, b: a @ b, (R(3, 4), R(2, 4, 5)), covers=("matmul",)),
    Row("matmul_const_mat_batched", lambda t, a, b: a @ b, (R(3, 4, grad=False), R(2, 4, 5)), covers=("matmul",)),
    Row("matmul_bmm", lambda t, a, b: a @ b, (R(2, 3, 4), R(2, 4, 5)), covers=("matmul",)),
    Row("matmul_broadcast", lambda t, a, b: t.matmul(a, b), (R(2, 1, 3, 4), R(5, 4, 6)), covers=("matmul",)),
    Row("matmul_ones_batch", lambda t, a, b: a @ b, (R(1, 3, 4), R(2, 4, 5)), covers=("matmul",)),
    Row("linalg_matmul", lambda t, a, b: t.linalg.matmul(a, b), (R(2, 3, 4), R(3, 2, 4, 5)), covers=("linalg.matmul",)),
    Row("dot", lambda t, a, b: t.dot(a, b), (R(4), R(4))),
    Row("mv", lambda t, a, b: t.mv(a, b), (R(3, 4), R(4))),
    Row("bmm", lambda t, a, b: t.bmm(a, b), (R(2, 3, 4), R(2, 4, 5))),
    Row("outer", lambda t, a, b: t.outer(a, b), (R(3), R(4)), covers=("outer", "ger")),
    Row("addmm", lambda t, x, a, b: t.addmm(x, a, b, beta=0.5, alpha=2.0), (R(3, 5), R(3, 4), R(4, 5))),
    Row("addmm_bcast", lambda t, x, a, b: x.addmm(a, b), (R(5), R(3, 4), R(4, 5)), covers=("addmm",)),
    Row("addmv", lambda t, x, a, b: t.addmv(x, a, b, beta=2.0, alpha=-1.0), (R(3), R(3, 4), R(4))),
    Row("addr", lambda t, x, a, b: x.addr(a, b, alpha=0.5), (R(1, 4), R(3), R(4))),
    Row("baddbmm", lambda t, x, a, b: t.baddbmm(x, a, b, beta=0.5), (R(3, 5), R(2, 3, 4), R(2, 4, 5))),
    Row("addbmm", lambda t, x, a, b: t.addbmm(x, a, b, alpha=2.0), (R(3, 5), R(2, 3, 4), R(2, 4, 5))),
    Row("vdot", lambda t, a, b: t.vdot(a, b), (R(4), R(4))),
    Row("inner", lambda t, a, b: t.inner(a, b), (R(2, 3), R(4, 3))),
    Row("inner_scalar", lambda t, a, b: a.inner(b), (R(), R(3)), covers=("inner",)),
    Row("linalg_multi_dot", lambda t, a, b, c: t.linalg.multi_dot([a, b, c]), (R(3), R(3, 4), R(4, 2)), covers=("linalg.multi_dot",)),
    Row("linalg_vecdot", lambda t, a, b: t.linalg.vecdot(a, b, dim=0), (R(3, 2), R(3, 1)), covers=("linalg.vecdot",)),
    # einsum and tensordot
    Row("einsum_mm", lambda t, a, b: t.einsum("ij,jk->ik", a, b), (R(3, 4), R(4, 5)), covers=("einsum",)),
    Row("einsum_batch", lambda t, a, b: t.einsum("bij,bjk->bik", a, b), (R(2, 3, 4), R(2, 4, 5)), covers=("einsum",)),
    Row("einsum_three", lambda t, a, b, c: t.einsum("ij,jk,kl->il", a, b, c), (R(2, 3), R(3, 4), R(4, 5)), covers=("einsum",)),
    Row("einsum_list", lambda t, a, b, c: t.einsum("i,ij,j", [a, b, c]), (R(3), R(3, 4), R(4)), covers=("einsum",)),
    Row("einsum_ellipsis", lambda t, a, b: t.einsum("...ij,...jk", a, b), (R(2, 3, 4), R(4, 5)), covers=("einsum",)),
    Row("einsum_outer", lambda t, a, b: t.einsum("i,j->ij", a, b), (R(3), R(4)), covers=("einsum",)),
    Row("einsum_diag", lambda t, a: t.einsum("ii->i", a), (R(3, 3),), covers=("einsum",)),
    Row("einsum_trace", lambda t, a: t.einsum("ii", a), (R(3, 3),), covers=("einsum",)),
    Row("einsum_sum", lambda t, a: t.einsum("ij->j", a), (R(3, 4),), covers=("einsum",)),
    Row("einsum_summed_only", lambda t, a, b: t.einsum("ij,j->", a, b), (R(3, 4), R(4)), covers=("einsum",)),
    Row("einsum_repeated", lambda t, a, b: t.einsum("ii,i->i", a, b), (R(3, 3), R(3)), covers=("einsum",)),
    Row("tensordot", lambda t, a, b: t.tensordot(a, b), (R(2, 3, 4), R(3, 4, 5))),
    Row("tensordot_outer", lambda t, a, b: t.tensordot(a, b, dims=0), (R(2), R(3)), covers=("tensordot",)),
    Row("tensordot_lists", lambda t, a, b: t.tensordot(a, b, dims=([0, 2], [1, 0])), (R(2, 3, 4), R(4, 2, 5)), covers=("tensordot",)),
    # structure: trace, diagonals, triangles, kron
    Row("trace", lambda t, a: t.trace(a), (R(3, 4),)),
    Row("diag", lambda t, a: t.diag(a), (R(3),)),
    Row("diag_offset", lambda t, a: t.diag(a, -1), (R(3),), covers=("diag",)),
    Row("diag_2d", lambda t, a: t.diag(a, 1), (R(3, 4),), covers=("diag",)),
    Row("diagonal", lambda t, a: t.diagonal(a, 1), (R(3, 4),)),
    Row("diagonal_dims", lambda t, a: a.diagonal(offset=-1, dim1=2, dim2=0), (R(4, 3, 3),), covers=("diagonal",)),
    Row("linalg_diagonal", lambda t, a: t.linalg.diagonal(a, offset=1), (R(2, 3, 4),), covers=("linalg.diagonal",)),
    Row("diag_embed", lambda t, a: t.diag_embed(a, 1), (R(2, 3),)),
    Row("diag_embed_dims", lambda t, a: t.diag_embed(a, -1, dim1=0, dim2=2), (R(2, 3),), covers=("diag_embed",)),
    Row("diagflat", lambda t, a: t.diagflat(a, 1), (R(2, 2),)),
    Row("tril", lambda t, a: t.tril(a), (R(3, 4),)),
    Row("tril_batched", lambda t, a: a.tril(-1), (R(2, 3, 4),), covers=("tril",)),
    Row("triu", lambda t, a: t.triu(a, 1), (R(3, 4),)),
    Row("kron", lambda t, a, b: t.kron(a, b), (R(2, 3), R(3, 2))),
    Row("kron_mixed", lambda t, a, b: t.kron(a, b), (R(2), R(2, 3)), covers=("kron",)),
    # flambeau.linalg
    Row("linalg_inv", lambda t, a: t.linalg.inv(wc(t, a)), (R(3, 3),), covers=("linalg.inv",)),
    Row("inverse", lambda t, a: t.inverse(wc(t, a)), (R(2, 3, 3),)),
    Row("linalg_det", lambda t, a: t.linalg.det(wc(t, a)), (R(3, 3),), covers=("linalg.det",)),
    Row("det", lambda t, a: t.det(wc(t, a)), (R(2, 3, 3),)),
    Row("linalg_slogdet", lambda t, a: tuple(t.linalg.slogdet(a - 3 * t.eye(3, dtype=a.dtype))), (R(3, 3),),
        covers=("linalg.slogdet", "slogdet")),
    Row("logdet", lambda t, a: t.logdet(spd(t, a)), (R(3, 3),)),
    Row("linalg_solve", lambda t, a, b: t.linalg.solve(wc(t, a), b), (R(3, 3), R(3, 2)), covers=("linalg.solve",)),
    Row("linalg_solve_vec", lambda t, a, b: t.linalg.solve(wc(t, a), b), (R(2, 3, 3), R(2, 3)), covers=("linalg.solve",)),
    Row("linalg_solve_bcast", lambda t, a, b: t.linalg.solve(wc(t, a), b), (R(3, 3), R(2, 3, 4)), covers=("linalg.solve",)),
    Row("linalg_solve_right", lambda t, a, b: t.linalg.solve(wc(t, a), b, left=False), (R(3, 3), R(2, 3)), covers=("linalg.solve",)),
    Row("linalg_solve_triangular", lambda t, a, b: t.linalg.solve_triangular(wc(t, a), b, upper=True), (R(3, 3), R(3, 2)),
        covers=("linalg.solve_triangular",)),
    Row("linalg_solve_triangular_lower_right_unit", lambda t, a, b: t.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        (R(2, 3, 3), R(2, 4, 3)), covers=("linalg.solve_triangular",)),
    Row("linalg_lstsq", lambda t, a, b: t.linalg.lstsq(a, b).solution, (R(5, 3), R(5, 2)), covers=("linalg.lstsq",)),
    Row("linalg_lstsq_wide_batched", lambda t, a, b: t.linalg.lstsq(a, b).solution, (R(2, 3, 4), R(2, 3, 2)), covers=("linalg.lstsq",)),
    Row("linalg_lstsq_gelsd", lambda t, a, b: t.linalg.lstsq(a, b, driver="gelsd")[:2], (R(2, 5, 3), R(2, 5, 2)), covers=("linalg.lstsq",)),
    Row("linalg_cond", lambda t, a: t.linalg.cond(a), (R(2, 3, 3),), covers=("linalg.cond",)),
    Row("linalg_cond_neg", lambda t, a: t.linalg.cond(a, -2), (R(4, 3),), covers=("linalg.cond",)),
    Row("chain_matmul", lambda t, a, b, c: t.chain_matmul(a, b, c), (R(2, 3), R(3, 4), R(4, 2))),
    Row("linalg_cholesky", lambda t, a: t.linalg.cholesky(spd(t, a)), (R(2, 3, 3),), covers=("linalg.cholesky",)),
    Row("linalg_cholesky_upper", lambda t, a: t.linalg.cholesky(spd(t, a), upper=True), (R(3, 3),), covers=("linalg.cholesky",)),
    Row("cholesky", lambda t, a: t.cholesky(spd(t, a)), (R(3, 3),)),
    Row("linalg_inv_ex", lambda t, a: t.linalg.inv_ex(wc(t, a))[0], (R(3, 3),), covers=("linalg.inv_ex",)),
    Row("linalg_cholesky_ex", lambda t, a: t.linalg.cholesky_ex(spd(t, a))[0], (R(3, 3),), covers=("linalg.cholesky_ex",)),
    Row("linalg_solve_ex", lambda t, a, b: t.linalg.solve_ex(wc(t, a), b)[0], (R(3, 3), R(3)), covers=("linalg.solve_ex",)),
    Row("cholesky_inverse", lambda t, a: t.cholesky_inverse(t.linalg.cholesky(spd(t, a))), (R(3, 3),)),
    Row("cholesky_inverse_upper", lambda t, a: t.cholesky_inverse(t.linalg.cholesky(spd(t, a), upper=True), upper=True), (R(3, 3),),
        covers=("cholesky_inverse",)),
    Row("cholesky_solve", lambda t, b, a: t.cholesky_solve(b, t.linalg.cholesky(spd(t, a))), (R(2, 3, 2), R(3, 3))),
    Row("cholesky_solve_upper", lambda t, b, a: b.cholesky_solve(t.linalg.cholesky(spd(t, a), upper=True), upper=True), (R(3, 2), R(3, 3)),
        covers=("cholesky_solve",)),
    Row("linalg_qr", lambda t, a: tuple(t.linalg.qr(a)), (R(4, 3),), covers=("linalg.qr", "qr")),
    Row("linalg_qr_square_batched", lambda t, a: tuple(t.linalg.qr(a, mode="complete")), (R(2, 3, 3),), covers=("linalg.qr",)),
    Row("linalg_qr_wide", lambda t, a: tuple(t.linalg.qr(a)), (R(2, 3, 5),), covers=("linalg.qr",)),
    Row("linalg_qr_wide_r_only", lambda t, a: t.linalg.qr(a)[1], (R(3, 4),), covers=("linalg.qr",)),
    Row("linalg_qr_q_only", lambda t, a: t.linalg.qr(a)[0], (R(4, 3),), covers=("linalg.qr",)),
    Row("linalg_eigh", lambda t, a: eigh_fixed(t, spd(t, a)), (R(3, 3),), covers=("linalg.eigh",)),
    Row("linalg_eigh_upper", lambda t, a: eigh_fixed(t, spd(t, a), UPLO="U"), (R(2, 4, 4),), covers=("linalg.eigh",)),
    Row("linalg_eigvalsh", lambda t, a: t.linalg.eigvalsh(spd(t, a)), (R(3, 3),), covers=("linalg.eigvalsh",)),
    Row("linalg_svd", lambda t, a: svd_fixed(t, a, full_matrices=False), (R(4, 3),), covers=("linalg.svd",)),
    Row("linalg_svd_wide", lambda t, a: svd_fixed(t, a, full_matrices=False), (R(2, 3, 5),), covers=("linalg.svd",)),
    Row("linalg_svd_full", lambda t, a: svd_fixed(t, a, full_matrices=True), (R(4, 3),), covers=("linalg.svd",)),
    Row("linalg_svdvals", lambda t, a: t.linalg.svdvals(a), (R(4, 3),), covers=("linalg.svdvals",)),
    Row("svd", lambda t, a: torch_svd_fixed(t, a), (R(4, 3),)),
    Row("linalg_pinv", lambda t, a: t.linalg.pinv(a), (R(4, 3),), covers=("linalg.pinv",)),
    Row("pinverse", lambda t, a: t.pinverse(a), (R(3, 5),)),
    Row("matrix_power", lambda t, a: t.matrix_power(a, 3), (R(3, 3),)),
    Row("linalg_matrix_power_neg", lambda t, a: t.linalg.matrix_power(wc(t, a), -2), (R(2, 3, 3),), covers=("linalg.matrix_power",)),
    Row("matrix_power_0", lambda t, a, n: a.matrix_power(n), (R(3, 3), C(0)), covers=("matrix_power",)),
    Row("matrix_power_1", lambda t, a, n: a.matrix_power(n), (R(3, 3), C(1)), covers=("matrix_power",)),
    Row("matrix_exp", lambda t, a: t.matrix_exp(a), (R(3, 3),)),
    Row("matrix_exp_method", lambda t, a: a.matrix_exp(), (R(3, 3),), covers=("matrix_exp",)),
    Row("linalg_matrix_exp_batched", lambda t, a: t.linalg.matrix_exp(2 * a), (R(2, 3, 3),), covers=("linalg.matrix_exp",)),
    Row("linalg_cross", lambda t, a, b: t.linalg.cross(a, b), (R(4, 3), R(1, 3)), covers=("linalg.cross",)),
    Row("cross", lambda t, a, b: t.cross(a, b, dim=0), (R(3, 2), R(3, 2))),
    # built from other ops
    Row("linalg_vander", lambda t, x: t.linalg.vander(x), (R(2, 3),), covers=("linalg.vander",)),
    Row("linalg_vander_N", lambda t, x: t.linalg.vander(x, N=5), (R(3),), covers=("linalg.vander",)),
    Row("linalg_tensorinv", lambda t, a: t.linalg.tensorinv(wc(t, a).reshape(2, 3, 6), ind=2), (R(6, 6),), covers=("linalg.tensorinv",)),
    Row("linalg_tensorsolve", lambda t, a, b: t.linalg.tensorsolve(wc(t, a).reshape(2, 3, 6), b), (R(6, 6), R(2, 3)),
        covers=("linalg.tensorsolve",)),
    Row("linalg_tensorsolve_dims", lambda t, a, b: t.linalg.tensorsolve(wc(t, a).reshape(2, 3, 6).movedim(2, 0), b, dims=(0,)),
        (R(6, 6), R(2, 3)), covers=("linalg.tensorsolve",)),
    Row("linalg_householder_product", lambda t, a, tau: t.linalg.householder_product(a, tau), (R(4, 3), R(2)),
        covers=("linalg.householder_product",)),
    Row("orgqr", lambda t, a, tau: a.orgqr(tau), (R(2, 5, 3), R(2, 3))),
    # LU (partial pivoting as LAPACK's: same pivots, same factors)
    Row("linalg_lu", lambda t, a: tuple(t.linalg.lu(a))[1:], (R(2, 4, 4),), covers=("linalg.lu",)),
    Row("linalg_lu_P", lambda t, a: t.linalg.lu(a).P, (R(4, 4),), grad=False, covers=("linalg.lu",)),
    Row("linalg_lu_wide", lambda t, a: tuple(t.linalg.lu(a))[1:], (R(3, 5),), covers=("linalg.lu",)),
    Row("linalg_lu_tall", lambda t, a: tuple(t.linalg.lu(a))[1:], (R(2, 5, 3),), covers=("linalg.lu",)),
    Row("linalg_lu_tall_L_only", lambda t, a: t.linalg.lu(a).L, (R(5, 3),), covers=("linalg.lu",)),
    Row("linalg_lu_wide_U_only", lambda t, a: t.linalg.lu(a).U, (R(3, 5),), covers=("linalg.lu",)),
    Row("linalg_lu_factor", lambda t, a: t.linalg.lu_factor(a).LU, (R(2, 4, 4),), covers=("linalg.lu_factor",)),
    Row("linalg_lu_factor_pivots", lambda t, a: t.linalg.lu_factor(a).pivots.to(t.int64), (R(2, 4, 4),), grad=False, covers=("linalg.lu_factor",)),
    Row("linalg_lu_factor_ex_wide", lambda t, a: t.linalg.lu_factor_ex(a).LU, (R(3, 5),), covers=("linalg.lu_factor_ex",)),
    Row("linalg_lu_factor_ex_tall", lambda t, a: t.linalg.lu_factor_ex(a).LU, (R(5, 3),), covers=("linalg.lu_factor_ex",)),
    Row("linalg_lu_solve", lambda t, a, b: t.linalg.lu_solve(*t.linalg.lu_factor(wc(t, a)), b), (R(2, 3, 3), R(2, 3, 2)),
        covers=("linalg.lu_solve",)),
    Row("linalg_lu_solve_adjoint_right", lambda t, a, b: t.linalg.lu_solve(*t.linalg.lu_factor(wc(t, a)), b, left=False, adjoint=True),
        (R(3, 3), R(2, 3)), covers=("linalg.lu_solve",)),
    # pairwise distances (zero-distance gradients: tests/test_linalg_more.py)
    Row("cdist", lambda t, a, b: t.cdist(a, b), (R(2, 4, 3), R(2, 5, 3))),
    Row("cdist_p1", lambda t, a, b: t.cdist(a, b, p=1), (R(4, 3), R(5, 3)), covers=("cdist",)),
    Row("cdist_p0", lambda t, a, b: t.cdist(a, b, p=0), (R(4, 3), R(5, 3)), covers=("cdist",)),
    Row("cdist_p_half", lambda t, a, b: t.cdist(a, b, p=0.5), (R(4, 3), R(5, 3)), covers=("cdist",)),
    Row("cdist_p3_broadcast", lambda t, a, b: t.cdist(a, b, p=3), (R(2, 1, 4, 3), R(3, 5, 3)), covers=("cdist",)),
    Row("cdist_inf", lambda t, a, b: t.cdist(a, b, p=float("inf")), (R(4, 3), R(5, 3)), covers=("cdist",)),
    Row("cdist_mm", lambda t, a, b: t.cdist(a, b), (R(30, 3), R(4, 3)), covers=("cdist",)),
    Row("cdist_mm_batched", lambda t, a, b: t.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), (R(2, 1, 4, 3), R(3, 5, 3)), covers=("cdist",)),
]
