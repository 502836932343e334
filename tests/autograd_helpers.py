"""Shared helpers of the autograd tests: run the same code under flambeau and PyTorch, compare results and errors."""

import importlib
import os

import numpy as np
import pytest

import flambeau as fl

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")


def as_np(x):
    """Tensors (or nested tuples/lists of them, or None) as NumPy arrays."""
    if x is None:
        return None
    if isinstance(x, tuple | list):
        return [as_np(v) for v in x]
    if isinstance(x, dict):
        return {k: as_np(v) for k, v in x.items()}
    if hasattr(x, "detach"):
        return np.asarray(x.detach().numpy())
    return np.asarray(x)


def assert_same(a, b, rtol=1e-7, atol=1e-10):
    """Results of both libraries agree (structure, None-ness, values)."""
    a, b = as_np(a), as_np(b)
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y, rtol, atol)
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            assert_same(a[k], b[k], rtol, atol)
    elif b is None:
        assert a is None
    else:
        assert a is not None and a.shape == b.shape, (a, b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def both(fn):
    """``fn(lib)`` under flambeau and under torch, compared."""
    a, b = fn(fl), fn(torch)
    assert_same(a, b)
    return a, b


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - whatever was raised is compared
        return type(e), str(e)
    return None, None


def same_error(fn, exact: bool = True):
    """``fn(lib)`` raises the same exception type (and message) under both libraries."""
    f_err, t_err = error_of(lambda: fn(fl)), error_of(lambda: fn(torch))
    assert t_err[0] is not None, "torch raised nothing: the test is wrong"
    assert f_err[0] is not None, f"flambeau raised nothing; torch raised {t_err}"
    assert issubclass(f_err[0], t_err[0]) or f_err[0].__name__ == t_err[0].__name__, (f_err, t_err)
    if exact:  # flambeau may append an explanation after PyTorch's own message
        f_msg = f_err[1].replace("flambeau.", "torch.")
        assert f_msg == t_err[1] or f_msg.startswith(t_err[1] + "\n"), (f_err[1], t_err[1])
    return f_err


def leaf(lib, values, requires_grad=True):
    return lib.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)
