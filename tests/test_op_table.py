"""The op table's checks: forward and gradients vs PyTorch (live and golden), gradcheck, broadcasting, coverage."""

import gc
import importlib
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import flambeau
from flambeau.autograd.gradcheck import gradcheck, gradgradcheck
from flambeau.ops import G, Op
from op_table import all_rows
from op_table.runner import run

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")

ROWS = all_rows()
IDS = [r.name for _, r in ROWS]
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-7, 1e-10)}


def _close(a, b, dtype, row, what):
    rtol, atol = TOL[dtype]
    if dtype == "float32":  # a row may loosen float32 tolerances (long sums); float64 is always 1e-7
        rtol, atol = max(rtol, row.rtol), max(atol, row.atol)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{row.name}: {what} ({dtype})")


def _same_meta(fo, to):
    assert tuple(fo.shape) == tuple(to.shape)
    assert str(fo.dtype).replace("flambeau.", "torch.") == str(to.dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family,row", ROWS, ids=IDS)
def test_vs_torch(family, row, dtype):
    """Forward values, dtype and shape, and every input gradient, against PyTorch."""
    if dtype not in row.dtypes:
        pytest.skip(f"{row.name} is not defined for {dtype}")
    f_out, f_grads, f_t = run(row, flambeau, dtype)
    t_out, t_grads, t_t = run(row, torch, dtype)
    assert len(f_out) == len(t_out)
    for a, b, fo, to in zip(f_out, t_out, f_t, t_t):
        _same_meta(fo, to)
        _close(a, b, dtype, row, "forward")
    assert len(f_grads) == len(t_grads)
    for i, (a, b) in enumerate(zip(f_grads, t_grads)):
        assert (a is None) == (b is None), f"{row.name}: grad {i} presence differs"
        if a is not None:
            _close(a, b, dtype, row, f"grad of input {i}")


@pytest.mark.parametrize("family,row", ROWS, ids=IDS)
def test_golden(family, row):
    """Against outputs captured from PyTorch (runs without torch installed)."""
    path = os.path.join(os.path.dirname(__file__), "golden", f"ops_{family}.npz")
    golden = np.load(path)
    f_out, f_grads, _ = run(row, flambeau, "float64")
    keys = [k for k in golden.files if k.startswith(row.name + "/")]
    assert keys, f"no golden values for {row.name}: run tests/golden/make_op_golden.py {family}"
    for k, o in enumerate(f_out):
        np.testing.assert_allclose(o, golden[f"{row.name}/out{k}"], rtol=1e-7, atol=1e-10)
    for i, g in enumerate(f_grads):
        if f"{row.name}/grad{i}" in golden.files:
            np.testing.assert_allclose(g, golden[f"{row.name}/grad{i}"], rtol=1e-7, atol=1e-10)
        else:
            assert g is None


@pytest.mark.parametrize("family,row", [(f, r) for f, r in ROWS if r.grad], ids=[r.name for _, r in ROWS if r.grad])
def test_gradcheck(family, row):
    """Analytical gradients against central finite differences, in float64."""
    from op_table import tensors_for
    ins = tensors_for(row, flambeau, "float64")
    diff_idx = [i for i, x in enumerate(ins) if isinstance(x, flambeau.Tensor) and x.requires_grad]

    def f(*diff):
        args = list(ins)
        for i, d in zip(diff_idx, diff):
            args[i] = d
        return row.fn(flambeau, *args)
    assert gradcheck(f, tuple(ins[i] for i in diff_idx), eps=1e-6, atol=1e-5, rtol=1e-4)
    assert gradcheck(f, tuple(ins[i] for i in diff_idx), eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


NO_GRADIENT_REACHES = {"vector_norm_p0"}  # rows whose inputs get no gradient at all (None, as in PyTorch: see test_vs_torch)
OWN_MEMORY = [(f, r) for f, r in ROWS if r.grad and r.name not in NO_GRADIENT_REACHES]


@pytest.mark.parametrize("family,row", OWN_MEMORY, ids=[r.name for _, r in OWN_MEMORY])
def test_leaf_grads_own_their_memory(family, row):
    """A leaf adopts the array its gradient arrives in when that array has no base: so no formula may hand on a saved
    input, an output or a shared (read-only) constant as a gradient; a view is fine (the leaf copies it)."""
    from op_table.runner import outputs, weights
    ins, outs = outputs(row, flambeau, "float64")
    diff = [x for x in ins if isinstance(x, flambeau.Tensor) and x.requires_grad]
    used = [(o, w) for o, w in zip(outs, weights(row, outs)) if getattr(o, "requires_grad", False)]
    assert diff and used, f"{row.name}: nothing to differentiate"
    sum((o * flambeau.tensor(w, dtype=o.dtype)).sum() for o, w in used).backward()
    kept = [x._data for x in ins if isinstance(x, flambeau.Tensor)] + [o._data for o in outs if isinstance(o, flambeau.Tensor)]
    grads = [x.grad._data for x in diff if x.grad is not None]
    assert grads, f"{row.name}: no input received a gradient (list it in NO_GRADIENT_REACHES if PyTorch gives none either)"
    for i, g in enumerate(grads):
        assert g.base is None and g.flags.writeable, f"{row.name}: grad {i} is not an array of its own"
        assert not any(np.shares_memory(g, a) for a in kept + grads[:i]), f"{row.name}: grad {i} shares memory"


BROADCAST = [(f, r) for f, r in ROWS if r.broadcast]


@pytest.mark.parametrize("family,row", BROADCAST, ids=[r.name for _, r in BROADCAST])
@settings(max_examples=20, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_shapes(family, row, shapes):
    """Hypothesis-generated broadcastable shapes: forward and gradients (un-broadcast) match PyTorch."""
    in_shapes = shapes.input_shapes
    f_out, f_grads, _ = run(row, flambeau, "float64", shapes=in_shapes)
    t_out, t_grads, _ = run(row, torch, "float64", shapes=in_shapes)
    for a, b in zip(f_out, t_out):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    for a, b in zip(f_grads, t_grads):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


OP_MODULES = ["elementwise", "reduce", "shape", "join", "indexing", "linalg", "nn"]


def test_every_op_has_a_row():
    """An op exported by flambeau's op modules without a row in the table is a failure."""
    covered = {r.name for _, r in ROWS} | {c for _, r in ROWS for c in r.covers}
    missing = []
    for mod in OP_MODULES:
        m = importlib.import_module(f"flambeau.ops.{mod}")
        missing += [f"{mod}.{n}" for n in m.__all__ if n not in covered]
    assert not missing, f"ops without a row in tests/op_table: {missing}"


GRAD_ROWS = [(f, r) for f, r in ROWS if r.grad]


def _diff_fn(row, ins):
    """The row as a function of its differentiable inputs only (the others stay fixed)."""
    diff_idx = [i for i, x in enumerate(ins) if isinstance(x, flambeau.Tensor) and x.requires_grad]

    def f(*diff):
        args = list(ins)
        for i, d in zip(diff_idx, diff):
            args[i] = d
        return row.fn(flambeau, *args)
    return f, tuple(ins[i] for i in diff_idx)


@pytest.mark.parametrize("family,row", GRAD_ROWS, ids=[r.name for _, r in GRAD_ROWS])
def test_gradgradcheck(family, row):
    """Second derivatives (double backward through the formulas run on Tensors) against finite differences, in float64.

    A row whose ``gradgrad`` is a reason string must really fail the check: the reason is verified, not a silent skip.
    """
    from op_table import tensors_for
    f, diff = _diff_fn(row, tensors_for(row, flambeau, "float64"))
    if row.gradgrad is True:
        assert gradgradcheck(f, diff, eps=1e-6, atol=1e-5, rtol=1e-4)
    else:
        assert isinstance(row.gradgrad, str) and row.gradgrad, f"{row.name}: gradgrad must be True or a reason"
        with pytest.raises((NotImplementedError, RuntimeError)):
            gradgradcheck(f, diff, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("family,row", GRAD_ROWS, ids=[r.name for _, r in GRAD_ROWS])
def test_forward_ad_matches_reverse_mode(family, row):
    """Forward-mode Jacobian (dual tensors; tangents derived from the op's one formula) equals backward's, in float64."""
    from flambeau.autograd.forward_ad import forward_jacobian
    from flambeau.autograd.gradcheck import get_analytical_jacobian
    from op_table import tensors_for
    f, diff = _diff_fn(row, tensors_for(row, flambeau, "float64"))
    fwd, rev = forward_jacobian(f, diff), get_analytical_jacobian(f, diff)
    assert len(fwd) == len(rev) == len(diff)
    for i, (fi, ri) in enumerate(zip(fwd, rev)):
        assert len(fi) == len(ri)
        for k, (a, b) in enumerate(zip(fi, ri)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{row.name}: input {i}, output {k}")


def test_every_declared_op_builds_its_node_class():
    """An op reads its formulas' parameter names and compiles its node class on first use, not at import: every op
    declared (the op table's rows reach most, not all) does so without error, its rules naming each formula's values."""
    ops = [o for o in gc.get_objects() if type(o) is Op]
    assert len(ops) > 250
    for op in ops:
        cls = op.node_cls
        assert cls.__name__ == op.name and cls._op is op
        assert len(op.rules) == len(op.formulas) == op.n_in
        for (f, plan), formula in zip(op.rules, op.formulas):
            assert f is formula and all(i == G or 0 <= i for i in plan)
