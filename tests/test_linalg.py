"""Linear algebra beyond the op table: grad_fn names (matmul's per shape case), second derivatives and errors, vs PyTorch."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import flambeau
from op_table import families, tensors_for
from op_table.runner import to_np, weights

torch = pytest.importorskip("torch")

ROWS = [r for r in families()["linalg"] if r.grad]


def _chain(t) -> list:
    """Node names along the first input edge, from the output down to the leaf."""
    names, node = [], t.grad_fn
    while node is not None and "AccumulateGrad" not in node.name():
        names.append(node.name().replace("torch::autograd::", ""))
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return names


MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 6)), ((1, 3, 4), (2, 4, 5)),
                 ((2, 3, 4), (1, 4, 5)), ((1, 3, 4), (4, 5)), ((2, 3, 4), (3, 2, 4, 5))]


@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)], ids=["both", "a", "b"])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_graph_as_pytorch(sa, sb, rg):
    """matmul dispatches as PyTorch does: same grad_fn at the top, same mm/mv/bmm underneath, same values."""
    rng = np.random.RandomState(0)
    xa, xb = rng.standard_normal(sa), rng.standard_normal(sb)
    f = flambeau.tensor(xa, requires_grad=rg[0]) @ flambeau.tensor(xb, requires_grad=rg[1])
    t = torch.tensor(xa, requires_grad=rg[0]) @ torch.tensor(xb, requires_grad=rg[1])
    fc, tc = _chain(f), _chain(t)
    assert fc[0] == tc[0]
    core = {"MmBackward0", "MvBackward0", "BmmBackward0", "DotBackward0"}
    assert [n for n in fc if n in core] == [n for n in tc if n in core]
    np.testing.assert_allclose(to_np(f), to_np(t), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3), dims=st.tuples(*[st.integers(1, 3)] * 3),
       vec=st.sampled_from(["", "a", "b"]), rg=st.sampled_from([(True, True), (True, False), (False, True)]))
def test_matmul_broadcasting(batch, dims, vec, rg):
    """Hypothesis batch shapes (and 1-D operands): values, gradients and the top grad_fn match PyTorch."""
    n, k, p = dims
    sa = (k,) if vec == "a" else batch.input_shapes[0] + (n, k)
    sb = (k,) if vec == "b" else batch.input_shapes[1] + (k, p)
    rng = np.random.RandomState(0)
    xa, xb = rng.standard_normal(sa), rng.standard_normal(sb)
    res = []
    for lib in (flambeau, torch):
        a, b = lib.tensor(xa, requires_grad=rg[0]), lib.tensor(xb, requires_grad=rg[1])
        out = a @ b
        (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        res.append((to_np(out), [None if x.grad is None else to_np(x.grad) for x in (a, b)], out.grad_fn.name()))
    (fo, fg, fn), (to, tg, tn) = res
    assert fo.shape == to.shape and fn == tn
    np.testing.assert_allclose(fo, to, rtol=1e-10, atol=1e-12)
    for x, y in zip(fg, tg):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


GRAD_FNS = {
    "addmm": lambda t, a: t.addmm(a[0], a, a.mT), "einsum_mm": lambda t, a: t.einsum("ij,jk->ik", a, a),
    "einsum_sum": lambda t, a: t.einsum("ij->j", a), "einsum_perm": lambda t, a: t.einsum("ij->ji", a),
    "einsum_mul": lambda t, a: t.einsum("ij,ij->ij", a, a), "tensordot": lambda t, a: t.tensordot(a, a),
    "trace": lambda t, a: t.trace(a), "diag_1d": lambda t, a: t.diag(a[0]), "diag_2d": lambda t, a: t.diag(a, 1),
    "diagonal": lambda t, a: a.diagonal(), "tril": lambda t, a: a.tril(), "triu": lambda t, a: a.triu(), "kron": lambda t, a: t.kron(a, a),
    "outer": lambda t, a: t.outer(a[0], a[1]), "inv": lambda t, a: t.linalg.inv(a), "inverse": lambda t, a: t.inverse(a),
    "det": lambda t, a: t.det(a), "logdet": lambda t, a: t.logdet(a @ a.mT), "slogdet": lambda t, a: t.linalg.slogdet(a)[1],
    "solve": lambda t, a: t.linalg.solve(a, a), "cholesky": lambda t, a: t.linalg.cholesky(a @ a.mT),
    "cholesky_old": lambda t, a: t.cholesky(a @ a.mT), "qr": lambda t, a: t.linalg.qr(a)[0], "eigh": lambda t, a: t.linalg.eigh(a)[1],
    "eigvalsh": lambda t, a: t.linalg.eigvalsh(a), "svd": lambda t, a: t.linalg.svd(a)[2], "svdvals": lambda t, a: t.linalg.svdvals(a),
    "torch_svd_v": lambda t, a: t.svd(a)[2], "pinv": lambda t, a: t.linalg.pinv(a), "pinverse": lambda t, a: t.pinverse(a),
    "matrix_power_0": lambda t, a: t.linalg.matrix_power(a, 0), "matrix_power_1": lambda t, a: t.matrix_power(a, 1),
    "matrix_power_3": lambda t, a: t.matrix_power(a, 3), "matrix_power_-1": lambda t, a: t.matrix_power(a, -1),
    "cross": lambda t, a: t.linalg.cross(a, a.mT), "diag_embed": lambda t, a: t.diag_embed(a),
    "addmv": lambda t, a: t.addmv(a[0], a, a[1]), "addr": lambda t, a: t.addr(a, a[0], a[1]),
    "baddbmm": lambda t, a: t.baddbmm(a, a[None], a[None]), "addbmm": lambda t, a: t.addbmm(a, a[None], a[None]),
    "vdot": lambda t, a: t.vdot(a[0], a[1]), "inner": lambda t, a: t.inner(a, a), "multi_dot": lambda t, a: t.linalg.multi_dot([a, a, a]),
    "vecdot": lambda t, a: t.linalg.vecdot(a, a), "diagflat": lambda t, a: t.diagflat(a), "inv_ex": lambda t, a: t.linalg.inv_ex(a)[0],
    "cholesky_ex": lambda t, a: t.linalg.cholesky_ex(a @ a.mT)[0], "solve_ex": lambda t, a: t.linalg.solve_ex(a, a[0])[0],
    "cholesky_inverse": lambda t, a: t.cholesky_inverse(a.tril()), "cholesky_solve": lambda t, a: t.cholesky_solve(a, a.tril()),
    "matrix_exp": lambda t, a: t.matrix_exp(a), "tensordot_outer": lambda t, a: t.tensordot(a, a, dims=0),
    "solve_triangular": lambda t, a: t.linalg.solve_triangular(a, a, upper=False), "cond": lambda t, a: t.linalg.cond(a),
    "lstsq": lambda t, a: t.linalg.lstsq(a, a).solution,
    "einsum_three": lambda t, a: t.einsum("ij,jk,kl->il", a, a, a), "kron_1d": lambda t, a: t.kron(a[0], a[1]),
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_grad_fn_names(name):
    x = np.random.RandomState(1).standard_normal((3, 3)) + 3 * np.eye(3)
    with pytest.warns(UserWarning) if name == "cholesky_old" else _nothing():
        f = GRAD_FNS[name](flambeau, flambeau.tensor(x, requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = GRAD_FNS[name](torch, torch.tensor(x, requires_grad=True))
    assert f.grad_fn.name() == t.grad_fn.name().replace("torch::autograd::", "")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _second(lib, row):
    """Gradients of ⟨∂ℒ/∂inputs, w⟩ with respect to the inputs: second derivatives through create_graph=True."""
    ins = tensors_for(row, lib, "float64")
    out = row.fn(lib, *ins)
    outs = out if isinstance(out, tuple) else (out,)
    diff = [x for x in ins if getattr(x, "requires_grad", False)]
    loss = sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights(row, outs)))
    grads = lib.autograd.grad(loss, diff, create_graph=True, allow_unused=True)
    rng = np.random.RandomState(7)
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads if g is not None and g.requires_grad)
    if not isinstance(total, lib.Tensor):
        return []
    return [None if g is None else to_np(g) for g in lib.autograd.grad(total, diff, allow_unused=True)]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_double_backward(row):
    """Every linear-algebra derivative is itself differentiable, and its derivative is PyTorch's (where PyTorch has one:
    cdist's backward is not differentiable there; test_op_table's gradgradcheck checks ours against finite differences)."""
    f = _second(flambeau, row)
    if row.name.startswith("cdist") and "mm" not in row.name:
        with pytest.raises(NotImplementedError, match="_cdist_backward"):
            _second(torch, row)
        assert row.gradgrad is True
        return
    t = _second(torch, row)
    assert len(f) == len(t)
    for a, b in zip(f, t):
        if a is None or b is None:  # unused: PyTorch may give None or zeros
            assert a is None or not np.any(a)
            assert b is None or not np.any(b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=row.name)


ERRORS = {
    "inv_shape": lambda t: t.linalg.inv(t.ones(3, 4)), "inv_1d": lambda t: t.linalg.inv(t.ones(3)),
    "inv_singular": lambda t: t.linalg.inv(t.zeros(3, 3)), "inv_int": lambda t: t.linalg.inv(t.ones(3, 3, dtype=t.long)),
    "cholesky_not_pd": lambda t: t.linalg.cholesky(-t.eye(3)), "det_shape": lambda t: t.linalg.det(t.ones(2, 3)),
    "solve_shapes": lambda t: t.linalg.solve(t.eye(3), t.ones(4)), "trace_3d": lambda t: t.trace(t.ones(2, 2, 2)),
    "cross_len": lambda t: t.linalg.cross(t.ones(3, 2), t.ones(3, 2)), "eigh_shape": lambda t: t.linalg.eigh(t.ones(2, 3)),
    "matrix_power_shape": lambda t: t.linalg.matrix_power(t.ones(2, 3), 2), "qr_mode": lambda t: t.linalg.qr(t.ones(3, 3), mode="x"),
    "tril_1d": lambda t: t.tril(t.ones(3)), "diag_3d": lambda t: t.diag(t.ones(2, 2, 2)),
    "einsum_sizes": lambda t: t.einsum("ij,jk", t.ones(2, 3), t.ones(2, 3)), "einsum_operands": lambda t: t.einsum("ij,jk", t.ones(2, 3)),
    "einsum_output_unknown": lambda t: t.einsum("ij->k", t.ones(2, 2)), "einsum_output_twice": lambda t: t.einsum("ij->ii", t.ones(2, 2)),
    "tensordot_sizes": lambda t: t.tensordot(t.ones(2, 3), t.ones(4, 3), dims=1), "matmul_0d": lambda t: t.matmul(t.ones(()), t.ones(3)),
    "mm_shapes": lambda t: t.mm(t.ones(2, 3), t.ones(4, 2)), "bmm_batch": lambda t: t.ones(2, 3, 4) @ t.ones(2, 5, 6),
    "mm_dtypes": lambda t: t.mm(t.ones(2, 2), t.ones(2, 2, dtype=t.float64)),
    "mm_long_float": lambda t: t.ones(2, 2, dtype=t.long) @ t.ones(2, 2),
    "mv_dtypes": lambda t: t.mv(t.ones(2, 2), t.ones(2, dtype=t.float64)),
    "bmm_dtypes": lambda t: t.ones(2, 2, 2) @ t.ones(2, 2, 2, dtype=t.float64),
    "dot_dtypes": lambda t: t.ones(2) @ t.ones(2, dtype=t.float64),
    "fold_dtypes": lambda t: t.ones(2, 2, 2) @ t.ones(2, 2, dtype=t.float64),
    "einsum_dtypes": lambda t: t.einsum("ij,jk", t.ones(2, 2), t.ones(2, 2, dtype=t.float64)),
    "addmm_dtypes": lambda t: t.addmm(t.ones(2, 2, dtype=t.float64), t.ones(2, 2), t.ones(2, 2)),
    "tensordot_dtypes": lambda t: t.tensordot(t.ones(2, 2), t.ones(2, 2, dtype=t.float64)),
    "cross_dtypes": lambda t: t.linalg.cross(t.ones(3), t.ones(3, dtype=t.float64)),
    "qr_grad_r_mode": lambda t: t.linalg.qr(t.ones(3, 3, requires_grad=True), mode="r")[1].sum().backward(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_as_pytorch(name):
    with pytest.raises(Exception) as te:
        ERRORS[name](torch)
    with pytest.raises(Exception) as fe:
        ERRORS[name](flambeau)
    assert str(fe.value).split("\n\n")[0] == str(te.value)  # shape errors go on to explain after a blank line
    assert isinstance(fe.value, RuntimeError)
    if isinstance(te.value, torch.linalg.LinAlgError):
        assert isinstance(fe.value, flambeau.linalg.LinAlgError)


@pytest.mark.parametrize("some", [True, False])
def test_torch_svd_without_uv(some):
    x = np.random.RandomState(3).standard_normal((2, 4, 3))
    f, t = flambeau.svd(flambeau.tensor(x), some=some, compute_uv=False), torch.svd(torch.tensor(x), some=some, compute_uv=False)
    for a, b in zip(f, t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["cholesky", "qr"])
def test_deprecated_aliases_warn_as_pytorch(name):
    """PyTorch warns once per process (so it is not asked again here); flambeau gives its text."""
    with pytest.warns(UserWarning, match=f"torch.{name} is deprecated in favor of torch.linalg.{name} and will be removed"):
        getattr(flambeau, name)(flambeau.tensor(np.eye(3) * 2))


@pytest.mark.parametrize("kw", [{}, {"atol": 0.5}, {"rtol": 0.3}, {"tol": 1.0}, {"hermitian": True}])
def test_matrix_rank(kw):
    x = np.random.RandomState(4).standard_normal((2, 4, 3)) @ np.diag([1.0, 0.4, 0.0])
    x = x @ np.swapaxes(x, -1, -2)  # symmetric 4×4 of rank 2
    f, t = flambeau.linalg.matrix_rank(flambeau.tensor(x), **kw), torch.linalg.matrix_rank(torch.tensor(x), **kw)
    assert f.dtype == flambeau.int64 and f.tolist() == t.tolist()


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_lstsq_outputs(driver, shape):
    rng = np.random.RandomState(5)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (2,))
    f = flambeau.linalg.lstsq(flambeau.tensor(a), flambeau.tensor(b), driver=driver)
    t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for x, y in zip(f, t):
        assert tuple(x.shape) == tuple(y.shape) and str(x.dtype)[9:] == str(y.dtype)[6:]
        np.testing.assert_allclose(to_np(x), to_np(y), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gradient_of_a_non_symmetric_leaf(uplo):
    """eigh reads one triangle; its gradient is PyTorch's symmetric one, also for a leaf that is not symmetric."""
    rng = np.random.RandomState(6)
    x = rng.standard_normal((2, 4, 4))
    x = x @ np.swapaxes(x, -1, -2) + 4 * np.eye(4)
    x[..., 0, 3] += 0.3
    w1, w2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4, 4))
    grads = []
    for lib in (flambeau, torch):
        a = lib.tensor(x, requires_grad=True)
        L, Q = lib.linalg.eigh(a, UPLO=uplo)
        Q = Q * lib.where(Q[..., :1, :] < 0, -1.0, 1.0).to(Q.dtype)
        ((L * lib.tensor(w1)).sum() + (Q * lib.tensor(w2)).sum()).backward()
        grads.append(to_np(a.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-11)


def test_diagonal_is_a_writable_view():
    t = flambeau.zeros(3, 3)
    t.diagonal().add_(1.0)
    assert t.tolist() == torch.eye(3).tolist()


def test_inplace_triangles():
    x = np.arange(9.0).reshape(3, 3)
    f, t = flambeau.tensor(x), torch.tensor(x)
    f.tril_(-1)
    t.tril_(-1)
    np.testing.assert_array_equal(to_np(f), to_np(t))


def test_tensor_methods_where_pytorch_has_them():
    from flambeau.ops import linalg
    names = linalg.__all__ + [n + "_" for n in linalg.__all__]
    assert [n for n in names if hasattr(torch.Tensor, n) != hasattr(flambeau.Tensor, n)] == []
