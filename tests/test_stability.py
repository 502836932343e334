"""Numerical edge cases of the elementwise and reduction ops, each checked against PyTorch."""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
LIBS = (flambeau, torch)



def both(fn, *arrays, grad=True):
    """``fn(lib, *tensors)`` under flambeau and torch: (output, input grads) of each, as NumPy."""
    res = []
    for lib in LIBS:
        xs = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *xs)
        grads = []
        if grad and out.requires_grad:
            out.sum().backward()
            grads = [None if x.grad is None else x.grad.numpy() for x in xs]
        res.append((out.detach().numpy(), grads))
    return res


def assert_same(fn, *arrays, grad=True, rtol=1e-7):
    (fo, fg), (to, tg) = both(fn, *arrays, grad=grad)
    np.testing.assert_allclose(fo, to, rtol=rtol, atol=0, equal_nan=True)
    assert len(fg) == len(tg)
    for a, b in zip(fg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)


def test_logsumexp_of_huge_values():
    x = np.array([[1e4, 1e4 + 1, -1e4], [-1e4, -1e4, -1e4 - 3]])
    assert_same(lambda t, a: t.logsumexp(a, 1), x)
    assert_same(lambda t, a: t.logsumexp(a, (0, 1)), x)
    assert_same(lambda t, a: t.logsumexp(a, 0), np.array([[np.inf, 1.0], [-np.inf, -np.inf]]), grad=False)


def test_sigmoid_far_out():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    assert_same(lambda t, a: t.sigmoid(a), x)
    (fo, fg), _ = both(lambda t, a: t.sigmoid(a), x)
    assert fo[0] == 0.0 and fo[-1] == 1.0 and np.isfinite(fg[0]).all()


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0], [1.5, -2.0, 3.0, 0.5]])
def test_prod_with_zeros(values):
    x = np.array(values)
    assert_same(lambda t, a: t.prod(a), x)
    m = np.array([values, [1.0, 0.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]])
    assert_same(lambda t, a: t.prod(a, 1), m)
    assert_same(lambda t, a: a.prod(0, keepdim=True) * t.tensor([1.0, 2.0, 3.0, 4.0], dtype=a.dtype), m)


def test_prod_gradient_at_a_single_zero_is_the_product_of_the_others():
    x = flambeau.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 4.0], [1.0, 2.0, 3.0, 0.0]])
def test_cumprod_with_zeros(values):
    w = np.array([0.5, -1.0, 2.0, 1.5])
    assert_same(lambda t, a: t.cumprod(a, 0) * t.tensor(w), np.array(values))
    m = np.array([values, values[::-1]])
    assert_same(lambda t, a: t.cumprod(a, 1) * t.tensor(w), m)


@pytest.mark.parametrize("fn", [
    lambda t, a: a.norm(),
    lambda t, a: t.norm(a, p=3, dim=1),
    lambda t, a: t.norm(a, p=1),
    lambda t, a: t.linalg.vector_norm(a, dim=0),
    lambda t, a: t.linalg.matrix_norm(a),
    lambda t, a: t.norm(a, p=float("inf")),
])
def test_norm_at_the_origin_has_zero_gradient(fn):
    z = np.zeros((2, 3))
    (fo, fg), (to, tg) = both(fn, z)
    np.testing.assert_array_equal(fo, to)
    np.testing.assert_array_equal(fg[0], tg[0])
    assert not np.isnan(fg[0]).any()


def test_norm_with_a_zero_row():
    assert_same(lambda t, a: t.norm(a, dim=1), np.array([[0.0, 0.0], [3.0, 4.0]]))


@pytest.mark.parametrize("exponent", [0, 0.0, 2, 2.0, 0.5, 1, 3])
def test_pow_with_zero_base(exponent):
    x = np.array([0.0, 1.0, -0.0, 2.0])
    assert_same(lambda t, a: a ** exponent, x)
    assert_same(lambda t, a: t.pow(a, exponent), x)


def test_pow_tensor_exponent_at_zero_base():
    a = np.array([0.0, 0.0, 0.0, 2.0])
    b = np.array([0.0, 2.0, 0.5, 0.0])
    assert_same(lambda t, x, y: t.pow(x, y), a, b)
    assert_same(lambda t, y: 0.0 ** y, b)


def test_division_by_zero():
    a = np.array([1.0, -1.0, 0.0, 2.0])
    b = np.array([0.0, 0.0, 0.0, -0.0])
    assert_same(lambda t, x, y: x / y, a, b)
    assert_same(lambda t, x: 1 / x, b)
    assert_same(lambda t, x: t.reciprocal(x), b)
    assert_same(lambda t, x, y: t.div(x, y, rounding_mode="floor"), a, b, grad=False)
    assert_same(lambda t, x, y: t.div(x, y, rounding_mode="trunc"), a, b, grad=False)
    assert_same(lambda t, x, y: t.remainder(x, y), a, b, grad=False)
    assert_same(lambda t, x, y: t.fmod(x, y), a, b, grad=False)
    ints = np.array([1, -1, 0])
    assert_same(lambda t, x: x / t.zeros(3, dtype=t.int64), ints, grad=False)


@pytest.mark.parametrize("fn", [lambda t, a: a // 0, lambda t, a: t.remainder(a, 0), lambda t, a: t.fmod(a, 0),
                                lambda t, a: t.div(a, 0, rounding_mode="trunc")])
def test_integer_division_by_zero_raises(fn):
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(lib, lib.tensor([1, 2]))


def test_error_function_family_is_precise_in_float64():
    x = np.concatenate([np.linspace(-6, 6, 4001), [0.0, 1e-300, -1e-12, 2.5, 5.9]])
    assert_same(lambda t, a: t.erf(a), x)
    assert_same(lambda t, a: t.erfc(a), x)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 4001), [0.0, 1e-300, 1 - 1e-15]])
    assert_same(lambda t, a: t.erfinv(a), y)
    assert_same(lambda t, a: t.erfinv(a), np.array([-1.0, 1.0, 1.5, np.nan]), grad=False)
    assert_same(lambda t, a: t.erfc(a), np.array([10.0, 26.0, 30.0, -30.0, np.inf, -np.inf, np.nan]), grad=False)


def test_max_min_ties_share_the_gradient_as_pytorch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    for fn in (lambda t, a: t.amax(a, 1), lambda t, a: t.amin(a, (0, 1)), lambda t, a: a.max(), lambda t, a: a.min(),
               lambda t, a: a.max(1).values, lambda t, a: t.median(a), lambda t, a: t.norm(a, p=float("inf"), dim=1),
               lambda t, a: t.maximum(a, t.tensor([1.0, 3.0, 0.0], dtype=a.dtype)),
               lambda t, a: t.fmin(a, t.tensor([1.0, 3.0, 2.0], dtype=a.dtype)), lambda t, a: t.cummax(a, 1).values * 2,
               lambda t, a: t.cummin(a, 0).values, lambda t, a: sum(t.aminmax(a, dim=1)), lambda t, a: t.aminmax(a).min * 3):
        assert_same(fn, x)


def test_nan_handling():
    x = np.array([[1.0, np.nan, 2.0], [np.inf, -np.inf, 0.5]])
    for fn in (lambda t, a: t.nansum(a), lambda t, a: t.nansum(a, 1), lambda t, a: t.nan_to_num(a),
               lambda t, a: t.nan_to_num(a, nan=2.0, posinf=9.0), lambda t, a: t.fmax(a, t.tensor([0.0, 5.0, np.nan], dtype=a.dtype)),
               lambda t, a: t.clamp(a, -1.0, 1.0)):
        assert_same(fn, x)
    for fn in (lambda t, a: t.isnan(a), lambda t, a: t.isinf(a), lambda t, a: t.isfinite(a), lambda t, a: t.median(a, 1).values,
               lambda t, a: t.sort(a, 1).values, lambda t, a: t.amax(a, 0), lambda t, a: t.maximum(a, a[[1, 0]])):
        assert_same(fn, x, grad=False)


def test_logit_outside_the_unit_interval():
    x = np.array([-0.5, 0.0, 0.05, 0.5, 1.0, 1.5])
    assert_same(lambda t, a: t.logit(a), x)
    assert_same(lambda t, a: t.logit(a, eps=0.1), x)


def test_xlogy_sinc_logaddexp_edges():
    a = np.array([0.0, 0.0, 0.0, 2.0, 1.0])
    b = np.array([0.0, 3.0, np.nan, 0.0, np.inf])
    assert_same(lambda t, x, y: t.xlogy(x, y), a, b)
    assert_same(lambda t, x: t.sinc(x), np.array([0.0, 1.0, -0.5, 1e-9]))
    big = np.array([1e4, -1e4, 1e308, -np.inf])
    assert_same(lambda t, x, y: t.logaddexp(x, y), big, big[::-1].copy())
    assert_same(lambda t, x, y: t.logaddexp2(x, y), big, np.array([1e4, 3.0, 1.0, -np.inf]))
