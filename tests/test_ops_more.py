"""In-place comparisons, LU, cdist, tensorinv/tensorsolve, householder_product, vander: what the op table can't check
(errors with PyTorch's type and message, gradients at kinks, graph behaviour), against PyTorch."""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")


def _both(fn):
    """``fn(lib)`` under flambeau and torch: both raise the same type and message, or both return."""
    out = []
    for lib in (flambeau, torch):
        try:
            out.append(("ok", fn(lib)))
        except Exception as e:  # noqa: BLE001  compared below
            out.append((type(e).__name__.lstrip("_"), str(e).split("\n")[0]))
    return out


def R(*shape, seed=0):
    return np.random.RandomState(seed).standard_normal(shape)


ERRORS = {
    "vander_N1": lambda t: t.linalg.vander(t.tensor([1., 2.]), N=1),
    "vander_scalar": lambda t: t.linalg.vander(t.tensor(2.)),
    "tensorinv_ind0": lambda t: t.linalg.tensorinv(t.ones(4, 6, 8), ind=0),
    "tensorinv_shape": lambda t: t.linalg.tensorinv(t.ones(4, 6, 8), ind=2),
    "tensorinv_singular": lambda t: t.linalg.tensorinv(t.zeros(2, 2), ind=1),
    "tensorinv_int": lambda t: t.linalg.tensorinv(t.ones(2, 2, dtype=t.int64), ind=1),
    "tensorsolve_shape": lambda t: t.linalg.tensorsolve(t.ones(6, 4, 2, 3), t.ones(6, 5)),
    "tensorsolve_dims": lambda t: t.linalg.tensorsolve(t.ones(6, 4, 2, 3), t.ones(6, 4), dims=(0, 2)),
    "tensorsolve_dtype": lambda t: t.linalg.tensorsolve(t.eye(6).reshape(2, 3, 6), t.ones(2, 3, dtype=t.float64)),
    "hh_1d": lambda t: t.linalg.householder_product(t.ones(3), t.ones(2)),
    "hh_wide": lambda t: t.linalg.householder_product(t.ones(3, 4), t.ones(2)),
    "hh_tau_long": lambda t: t.linalg.householder_product(t.ones(4, 3), t.ones(4)),
    "hh_tau_ndim": lambda t: t.linalg.householder_product(t.ones(4, 3), t.ones(2, 2)),
    "hh_tau_batch": lambda t: t.linalg.householder_product(t.ones(2, 4, 3), t.ones(3, 2)),
    "hh_dtype": lambda t: t.linalg.householder_product(t.ones(4, 3), t.ones(2, dtype=t.float64)),
    "hh_int": lambda t: t.linalg.householder_product(t.ones(4, 3, dtype=t.int64), t.ones(2, dtype=t.int64)),
    "hh_tau_scalar": lambda t: t.linalg.householder_product(t.ones(4, 3), t.tensor(1.)),
    "lu_1d": lambda t: t.linalg.lu(t.ones(3)),
    "lu_factor_1d": lambda t: t.linalg.lu_factor(t.ones(3)),
    "lu_factor_ex_1d": lambda t: t.linalg.lu_factor_ex(t.ones(3)),
    "lu_no_pivot": lambda t: t.linalg.lu(t.ones(3, 3), pivot=False),
    "lu_factor_no_pivot": lambda t: t.linalg.lu_factor(t.ones(3, 3), pivot=False),
    "lu_int": lambda t: t.linalg.lu_factor(t.ones(3, 3, dtype=t.int64)),
    "lu_factor_singular": lambda t: t.linalg.lu_factor(t.zeros(3, 3)),
    "lu_factor_singular_batch": lambda t: t.linalg.lu_factor(t.stack([t.eye(3), t.zeros(3, 3)])),
    "lu_factor_ex_check": lambda t: t.linalg.lu_factor_ex(t.ones(2, 2), check_errors=True),
    "lu_solve_1d": lambda t: t.linalg.lu_solve(*t.linalg.lu_factor(t.eye(3)), t.ones(3)),
    "cdist_1d": lambda t: t.cdist(t.ones(3), t.ones(3)),
    "cdist_1d_x2": lambda t: t.cdist(t.ones(2, 3), t.ones(3)),
    "cdist_cols": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 4)),
    "cdist_neg_p": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), p=-1),
    "cdist_mode": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3), compute_mode="x"),
    "cdist_int": lambda t: t.cdist(t.ones(2, 3, dtype=t.int64), t.ones(2, 3, dtype=t.int64)),
    "cdist_dtype": lambda t: t.cdist(t.ones(2, 3), t.ones(2, 3, dtype=t.float64)),
    "cdist_batch": lambda t: t.cdist(t.ones(2, 2, 3), t.ones(3, 2, 3)),
    "eq_leaf": lambda t: t.ones(3, requires_grad=True).eq_(1.),
    "eq_shape": lambda t: t.ones(2).eq_(t.ones(3)),
    "eq_broadcast_out": lambda t: t.ones(2).lt_(t.ones(2, 2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_as_torch(name):
    f, t = _both(ERRORS[name])
    assert f[0] == t[0] != "ok", (f, t)
    assert f[1] == t[1]


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, float("inf")])
def test_cdist_zero_distance_gradient(p):
    """Repeated points and shared coordinates: PyTorch's zero conventions where the distance or a difference is 0.
    (The matmul path, ``compute_mode='use_mm_for_euclid_dist'``, has no convention there: its value is rounding noise.)"""
    a, b = R(2, 4, 3), R(2, 5, 3, seed=1)
    b[0, 1], b[1, 0, 0], b[1, 2, :2] = a[0, 2], a[1, 0, 0], a[1, 3, :2]
    w = R(2, 4, 5, seed=2)
    grads = []
    for lib in (flambeau, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        d = lib.cdist(x, y, p=p, compute_mode="donot_use_mm_for_euclid_dist")
        (d * lib.tensor(w)).sum().backward()
        grads.append((d.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for f, t in zip(*grads):
        np.testing.assert_allclose(f, t, rtol=1e-7, atol=1e-7)


def test_inplace_comparisons_graph():
    """``y.eq_(…)`` keeps y's dtype and history: EqBackward0 (number) / EqBackward1 (tensor), zero gradients."""
    for lib in (flambeau, torch):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        w = lib.tensor([1., 2., 5.], requires_grad=True)
        z = (x * 1).eq_(2.)
        assert z.grad_fn.name() == "EqBackward0" and z.dtype == lib.float32 and z.tolist() == [0., 1., 0.]
        y = (x * 1).greater_equal_(w)
        assert y.grad_fn.name() == "GeBackward1" and y.tolist() == [1., 1., 0.]
        (z.sum() + y.sum()).backward()
        assert x.grad.tolist() == [0., 0., 0.] and w.grad.tolist() == [0., 0., 0.]
        i = lib.tensor([1, 2, 3])
        assert i.lt_(lib.tensor([2.5, 2.5, 2.5])).tolist() == [1, 1, 0] and i.dtype == lib.int64


def test_lu_pivots_and_singular_as_torch():
    """Pivots are LAPACK's (1-based int32, first largest |value|); a singular matrix gives info and no error from lu/lu_factor_ex."""
    ties = np.array([[[1., 2., 3.], [-1., 0., 1.], [1., 5., 2.]], [[0., 0., 0.], [0., 0., 0.], [0., 0., 0.]]])
    res = []
    for lib in (flambeau, torch):
        LU, piv, info = lib.linalg.lu_factor_ex(lib.tensor(ties))
        P, L, U = lib.linalg.lu(lib.tensor(ties))
        res.append((LU.numpy(), piv.numpy(), info.numpy(), P.numpy(), L.numpy(), U.numpy()))
    for f, t in zip(*res):
        assert f.dtype == t.dtype
        np.testing.assert_allclose(f, t, rtol=1e-12)


@pytest.mark.parametrize("name", ["eig", "eigvals"])
def test_eig_needs_complex(name):
    with pytest.raises(NotImplementedError, match=f"torch.linalg.{name}: flambeau has no complex tensors"):
        getattr(flambeau.linalg, name)(flambeau.eye(2))


LU_SOLVE_ERRORS = {
    "dtype": lambda t: t.linalg.lu_solve(*t.linalg.lu_factor(t.eye(3)), t.ones(3, 1, dtype=t.float64)),
    "not_square": lambda t: t.linalg.lu_solve(t.ones(3, 2), t.ones(2, dtype=t.int32), t.ones(3, 1)),
    "lu_1d": lambda t: t.linalg.lu_solve(t.ones(3), t.ones(3, dtype=t.int32), t.ones(3, 1)),
    "pivots_int64": lambda t: t.linalg.lu_solve(t.eye(3), t.ones(3, dtype=t.int64), t.ones(3, 1)),
    "shapes": lambda t: t.linalg.lu_solve(t.eye(3), t.ones(3, dtype=t.int32), t.ones(2, 1)),
    "shapes_right": lambda t: t.linalg.lu_solve(t.eye(3), t.ones(3, dtype=t.int32), t.ones(3, 2), left=False),
}


@pytest.mark.parametrize("name", list(LU_SOLVE_ERRORS))
def test_lu_solve_errors_as_torch(name):
    f, t = _both(LU_SOLVE_ERRORS[name])
    assert f[0] == t[0] != "ok", (f, t)
    assert f[1] == t[1]


def test_tensorinv_graph_names_as_pytorch():
    """tensorinv ends in an alias of inv's result (ReshapeAliasBackward0 ← LinalgInvExBackward0), as in PyTorch."""
    def chain(lib):
        B = lib.linalg.tensorinv(lib.tensor(R(4, 6, 24), requires_grad=True), ind=2)
        node, names = B.grad_fn, []
        while node is not None and node.name() != "torch::autograd::AccumulateGrad" and node.name() != "AccumulateGrad":
            names.append(node.name())
            node = node.next_functions[0][0]
        return names
    assert chain(flambeau) == chain(torch)
