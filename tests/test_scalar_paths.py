"""0-d tensors take NumPy's scalar math in the operators, the in-place updates and the accumulation into ``.grad``.

The results must be bit for bit what NumPy's ufuncs give on the same 0-d arrays (the general path), and PyTorch's
within the project's tolerances (float64 1e-7, float32 1e-5 relative; float16 one unit in the last place).
"""

import importlib
import operator
import os

import numpy as np
import pytest

import flambeau as fl

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")

DTYPES = ["float16", "float32", "float64"]
RTOL = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-7}
VALUES = [(0.1, 0.7), (3.0e4, 2.5), (-1.5, 1e-3), (1.0, 3.0)]
OPS = [("+", operator.add, np.add), ("-", operator.sub, np.subtract), ("*", operator.mul, np.multiply)]


def as_array(t):
    return np.asarray(t.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x, y", VALUES)
def test_operators_on_0d_tensors(dtype, x, y):
    npd = np.dtype(dtype)
    a, b = np.array(x, npd), np.array(y, npd)
    for _, op, ufunc in OPS:
        for lhs, rhs, arrays in ((fl.tensor(a), fl.tensor(b), (a, b)), (fl.tensor(a), y, (a, y)), (x, fl.tensor(b), (x, b))):
            ours = op(lhs, rhs)
            expected = np.asarray(ufunc(*arrays))
            assert ours.numpy().dtype == expected.dtype and ours.numpy().tobytes() == expected.tobytes()
            theirs = op(torch.tensor(lhs.numpy()) if isinstance(lhs, fl.Tensor) else lhs,
                        torch.tensor(rhs.numpy()) if isinstance(rhs, fl.Tensor) else rhs)
            np.testing.assert_allclose(ours.numpy().astype(np.float64), as_array(theirs).astype(np.float64), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x, y", VALUES)
def test_inplace_updates_of_0d_tensors(dtype, x, y):
    npd = np.dtype(dtype)
    for name, ufunc in (("__iadd__", np.add), ("__isub__", np.subtract), ("__imul__", np.multiply), ("__itruediv__", np.true_divide)):
        for other in (np.array(y, npd), y):
            w = fl.tensor(np.array(x, npd), requires_grad=True)
            tw = torch.tensor(np.array(x, npd), requires_grad=True)
            with fl.no_grad():
                r = getattr(w, name)(fl.tensor(other) if isinstance(other, np.ndarray) else other)
            with torch.no_grad():
                getattr(tw, name)(torch.tensor(other) if isinstance(other, np.ndarray) else other)
            assert r is w and w._version_number == tw._version == 1
            expected = np.array(x, npd)
            ufunc(expected, other, out=expected)
            assert w.detach().numpy().tobytes() == expected.tobytes()
            np.testing.assert_allclose(w.detach().numpy().astype(np.float64), as_array(tw).astype(np.float64), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_course_loop_on_a_0d_weight_matches_torch(dtype):
    def run(lib):
        X = lib.arange(1, 9, dtype=getattr(lib, dtype))
        Y = 2 * X
        W = lib.tensor(0.0, dtype=getattr(lib, dtype), requires_grad=True)
        trace = []
        for epoch in range(20):
            loss = ((W * X - Y) ** 2).mean()
            loss.backward()
            if epoch % 2:  # every other epoch the gradients of two passes accumulate before the step
                with lib.no_grad():
                    W -= 0.001 * W.grad
                W.grad.zero_()
            trace.append([float(loss), float(W), float(W.grad)])
        return np.array(trace)
    np.testing.assert_allclose(run(fl), run(torch), rtol=10 * RTOL[dtype], atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (8,), (3, 5), (7, 1, 3)])
def test_mean_of_all_backward_divides_once_in_scalar_math(dtype, shape):
    from flambeau.ops.reduce import expand_back, mean_back
    npd = np.dtype(dtype)
    for g in (1.0, 0.1, -3.7, 6.0e4):
        g0 = np.array(g, npd)
        ours = mean_back(g0, shape, None)
        general = expand_back(g0, shape, None) / int(np.prod(shape))
        assert ours.shape == shape and ours.dtype == general.dtype and ours.tobytes() == general.tobytes()
        x = np.ones(shape, npd)
        t = torch.tensor(x, requires_grad=True)
        t.mean().backward(torch.tensor(g0))
        np.testing.assert_allclose(ours.astype(np.float64), t.grad.numpy().astype(np.float64), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES + ["int64"])
@pytest.mark.parametrize("exponent", [2, 3, 0.5, -0.5, 2.0, 0, -1])
def test_power_operator_matches_pow_and_torch(dtype, exponent):
    x = np.array([0.5, 1.5, 2.0, 3.0]).astype(dtype)
    if dtype == "int64" and exponent == -1:
        for lib in (fl, torch):
            with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
                lib.tensor(x) ** exponent
        return
    rg = dtype != "int64"
    a = fl.tensor(x, requires_grad=rg)
    ta = torch.tensor(x, requires_grad=rg)
    ours, theirs = a ** exponent, ta ** exponent
    assert ours.detach().numpy().tobytes() == fl.pow(a, exponent).detach().numpy().tobytes()
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=RTOL.get(dtype, 1e-7))
    if rg:
        assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__ == "PowBackward0"
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8,), (3, 4), (2, 1, 5)])
@pytest.mark.parametrize("zero_d_first", [True, False])
def test_a_0d_factor_times_a_tensor_gets_its_gradient_as_one_dot_product(dtype, shape, zero_d_first):
    rng = np.random.RandomState(3)
    w0, x0 = np.array(0.75, dtype), rng.randn(*shape).astype(dtype)
    g0 = rng.randn(*shape).astype(dtype)

    def run(lib, create_graph=False):
        w, x = lib.tensor(w0, requires_grad=True), lib.tensor(x0, requires_grad=True)
        y = w * x if zero_d_first else x * w
        assert type(y.grad_fn).__name__ == "MulBackward0"
        (y * lib.tensor(g0)).sum().backward(create_graph=create_graph)
        if not create_graph:
            return w.grad.detach().numpy(), x.grad.detach().numpy()
        gw = w.grad
        w.grad = x.grad = None
        (gw * gw).backward()  # second order through Σ g·x: d(gw²)/dx = 2·gw·g
        return gw.detach().numpy(), x.grad.detach().numpy()

    for create_graph in (False, True):
        (ours_w, ours_x), (theirs_w, theirs_x) = run(fl, create_graph), run(torch, create_graph)
        assert ours_w.shape == () and ours_w.dtype == np.dtype(dtype)
        tol = {"float16": 2e-2, "float32": 1e-5, "float64": 1e-7}[dtype]  # float16: sums of 8-40 products round differently
        np.testing.assert_allclose(ours_w.astype(np.float64), theirs_w.astype(np.float64), rtol=tol)
        np.testing.assert_allclose(ours_x.astype(np.float64), theirs_x.astype(np.float64), rtol=tol, atol=tol)
    expected = (g0.astype(np.float64) * x0).sum()
    np.testing.assert_allclose(run(fl)[0].astype(np.float64), expected, rtol={"float16": 2e-2}.get(dtype, 1e-5))


NUMBERS = [1, 2, 3, -1, 7, 0.1, -0.3, 1 / 3, 2.5, 1e-8, 65504, -65504, 3001, 2049, 1e-30, 65000.7, 1e4 + 0.1, 5e-324, 0, 0.0, -0.0,
           float("nan"), float("inf"), -float("inf"), 1e300, 2 ** 70]


@pytest.mark.parametrize("dtype", DTYPES)
def test_operators_with_python_numbers_give_numpys_bits(dtype):
    x = (np.random.RandomState(0).randn(40) * 100).astype(dtype)
    x[:3] = [0.0, -0.0, np.inf]
    t = fl.tensor(x)
    with np.errstate(all="ignore"):
        for v in NUMBERS + NUMBERS:  # twice: the second time from the cache
            for op, ufunc in ((operator.add, np.add), (operator.sub, np.subtract), (operator.mul, np.multiply)):
                for ours, expected in ((op(t, v), ufunc(x, v)), (op(v, t), ufunc(v, x))):
                    assert ours.numpy().dtype == expected.dtype and ours.numpy().tobytes() == expected.tobytes(), (v, op)


def test_the_cache_of_python_numbers_stays_small():
    from flambeau.ops.elementwise import _NUMBERS
    t = fl.ones(3)
    for k in range(3000):
        t * (k + 0.5)
    assert len(_NUMBERS[np.dtype(np.float32)]) <= 1024


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_product_with_a_python_number_backpropagates_numpys_bits_and_matches_torch_to_second_order(dtype):
    x = np.random.RandomState(1).randn(6).astype(dtype)
    g = np.random.RandomState(2).randn(6).astype(dtype)
    for v in (2, 0.1, -0.3, 1 / 3, 0, 65000.7, 1e300):  # kept as a cached 0-d array, or as the number itself
        for make in (lambda t, v=v: t * v, lambda t, v=v: v * t):
            a = fl.tensor(x, requires_grad=True)
            make(a).backward(fl.tensor(g))
            with np.errstate(all="ignore"):
                assert a.grad.numpy().tobytes() == (g * v).tobytes(), v
            if abs(v) > 1e4:
                continue  # float16 overflows: nothing left to compare
            ours, theirs = [], []
            for lib, out in ((fl, ours), (torch, theirs)):
                a = lib.tensor(x, requires_grad=True)
                (ga,) = lib.autograd.grad((make(a) ** 2).sum(), a, create_graph=True)
                (gga,) = lib.autograd.grad((ga * make(a)).sum(), a)
                out += [ga.detach().numpy(), gga.numpy()]
            for o, t in zip(ours, theirs):
                np.testing.assert_allclose(o, t, rtol=RTOL[dtype], atol=RTOL[dtype])
