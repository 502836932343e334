"""The core: graph recording, the backward walk, grad mode, leaves and in-place, errors as PyTorch's."""

import importlib
import os
import threading
import warnings

import numpy as np
import pytest

import flambeau as fl
from autograd_helpers import error_of

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")


def both(fn):
    """Run ``fn(lib)`` under flambeau and torch."""
    return fn(fl), fn(torch)


def same_error(fn):
    """``fn(lib)`` raises the same exception type and message under both libraries.

    flambeau may add an explanation after a blank line; PyTorch's text is the part before it.
    """
    f_err, t_err = error_of(lambda: fn(fl)), error_of(lambda: fn(torch))
    assert t_err[0] is not None, "torch raised nothing: the test is wrong"
    assert f_err[0] is t_err[0], (f_err, t_err)
    assert f_err[1].split("\n\n")[0].replace("flambeau.", "torch.") == t_err[1], (f_err[1], t_err[1])


# ---- graph and grad_fn --------------------------------------------------------------------------

def test_course_graph_and_gradient():
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    assert repr(y) == "tensor([3., 4., 5.], grad_fn=<AddBackward0>)"
    assert repr(y.grad_fn).startswith("<AddBackward0 object at 0x")
    z = (y * y * 3).mean()
    assert repr(z) == "tensor(50., grad_fn=<MeanBackward0>)"
    assert x.grad is None
    z.backward()
    assert repr(x.grad) == "tensor([ 6.,  8., 10.])"


@pytest.mark.parametrize("expr", [
    "x + 2", "2 + x", "x - 2", "2 - x", "x * 2", "x / 2", "2 / x", "x ** 2", "x ** x", "2 ** x", "-x", "x.abs()",
    "x.exp()", "x.log()", "x.sqrt()", "x.sin()", "x.cos()", "x.tanh()", "x.sigmoid()", "x.relu()", "x.sum()", "x.sum(0)",
    "x.mean()", "x.mean(0)", "x.reshape(3, 1)", "x.view(3)", "x.unsqueeze(0).t()", "x.unsqueeze(0).T",
    "x.unsqueeze(0).transpose(0, 1)", "x @ x", "x.unsqueeze(0) @ x.unsqueeze(1)", "x.clone()", "x.double()", "x[0]", "x[1:]",
    "x[None]", "x.unsqueeze(0).mm(x.unsqueeze(1))",
])
def test_grad_fn_names(expr):
    def name(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        return type(eval(expr, {"x": x}).grad_fn).__name__
    f, t = both(name)
    assert f == t


def test_next_functions():
    x = fl.tensor([1., 2.], requires_grad=True)
    c = fl.tensor([1., 1.])
    nf = (x * c + 2).grad_fn.next_functions
    assert type(nf[0][0]).__name__ == "MulBackward0" and nf[1] == (None, 0)
    inner = nf[0][0].next_functions
    assert type(inner[0][0]).__name__ == "AccumulateGrad" and inner[0][0].variable is x
    assert inner[1] == (None, 0)
    assert (x * 2).grad_fn.next_functions[0][0] is (x + 1).grad_fn.next_functions[0][0]  # one accumulator per leaf
    assert (x * 2).grad_fn.name() == "MulBackward0"


def test_result_of_constants_does_not_require_grad():
    a = fl.tensor([1., 2.])
    assert (a * 2).grad_fn is None and not (a * 2).requires_grad
    with fl.no_grad():
        x = fl.ones(2, requires_grad=True)
        assert (x * 2).grad_fn is None


# ---- backward -------------------------------------------------------------------------------------

def test_gradients_accumulate_until_zeroed():
    w = fl.tensor([1., 2., 3.], requires_grad=True)
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    assert w.grad.tolist() == [4., 4., 4.]
    w.grad.zero_()
    assert w.grad.tolist() == [0., 0., 0.]


def test_second_backward_raises_and_retain_graph_allows_it():
    same_error(lambda t: _twice(t, retain=False))
    x = fl.tensor([1., 2.], requires_grad=True)
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == [4., 8.]


def _twice(t, retain):
    x = t.tensor([1., 2.], requires_grad=True)
    z = (x * x).sum()
    z.backward(retain_graph=retain)
    z.backward()


def test_graph_without_saved_tensors_can_backward_twice():
    def run(t):
        x = t.tensor([1., 2.], requires_grad=True)
        z = (x + 2).sum()
        z.backward()
        z.backward()
        return x.grad.tolist()
    f, tt = both(run)
    assert f == tt == [2., 2.]


def test_non_scalar_backward():
    same_error(lambda t: (t.tensor([1., 2.], requires_grad=True) * 2).backward())

    def run(t):
        x = t.tensor([1., 2.], requires_grad=True)
        (x * x).backward(t.tensor([1., 10.]))
        return x.grad.tolist()
    f, tt = both(run)
    assert f == tt == [2., 40.]


def test_backward_errors():
    same_error(lambda t: t.zeros(2, 3).sum().backward())
    same_error(lambda t: t.ones(3, requires_grad=True).backward(t.ones(3), inputs=[]))


def test_backward_inputs_only_accumulates_there():
    a = fl.tensor([1., 2.], requires_grad=True)
    b = fl.tensor([3., 4.], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3., 4.] and b.grad is None


def test_broadcast_gradient_is_unbroadcast_and_keeps_dtype():
    def run(t):
        a = t.ones(3, 1, requires_grad=True)
        b = t.ones(4, dtype=t.float64, requires_grad=True)
        (a * b).sum().backward()
        return a.grad.tolist(), str(a.grad.dtype).split(".")[1], b.grad.tolist(), str(b.grad.dtype).split(".")[1]
    f, t = both(run)
    assert f == t


def test_same_leaf_twice_and_grads_are_not_shared():
    x = fl.tensor([1., 2.], requires_grad=True)
    y = fl.tensor([1., 2.], requires_grad=True)
    (x + y).sum().backward()
    x.grad.zero_()
    assert y.grad.tolist() == [1., 1.]
    z = fl.tensor([3.], requires_grad=True)
    (z + z).sum().backward()
    assert z.grad.tolist() == [2.]


def test_chain_of_100000_ops_backwards_without_recursion():
    x = fl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


# ---- hooks and retain_grad --------------------------------------------------------------------------

def test_hooks_replace_gradient_and_can_be_removed():
    def run(t):
        x = t.tensor([1., 2.], requires_grad=True)
        h = x.register_hook(lambda g: g * 10)
        y = x * 2
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        first = x.grad.tolist()
        h.remove()
        x.grad = None
        (x * 2).sum().backward()
        return first, x.grad.tolist()
    f, t = both(run)
    assert f == t == ([40., 40.], [2., 2.])


def test_retain_grad():
    def run(t):
        x = t.tensor([1., 2.], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward()
        return y.grad.tolist(), y.retains_grad
    f, t = both(run)
    assert f == t


def test_grad_setter_checks_shape_and_dtype():
    same_error(lambda t: setattr(t.tensor([1., 2., 3.], requires_grad=True), "grad", t.zeros(2)))
    x = fl.tensor([1., 2.], requires_grad=True)
    x.grad = fl.ones(2)
    assert x.grad.tolist() == [1., 1.]
    with pytest.raises(RuntimeError, match="dtype"):
        x.grad = fl.ones(2, dtype=fl.float64)


def test_non_leaf_grad_warns_like_pytorch():
    W = fl.tensor(0.0, requires_grad=True)
    W = W - 0.1 * fl.tensor(1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert W.grad is None
    assert caught and caught[0].category is UserWarning
    assert str(caught[0].message).startswith("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.")
    assert caught[0].filename == __file__  # points at the user's line


# ---- grad mode ---------------------------------------------------------------------------------------

def test_grad_mode_context_managers_and_decorators():
    x = fl.ones(2, requires_grad=True)
    with fl.no_grad():
        assert not (x * 2).requires_grad
        with fl.enable_grad():
            assert (x * 2).requires_grad
    with fl.set_grad_enabled(False):
        assert not fl.is_grad_enabled()
    assert fl.is_grad_enabled()
    with fl.inference_mode():
        assert not (x * 2).requires_grad

    @fl.no_grad()
    def f():
        return (x * 2).requires_grad

    @fl.set_grad_enabled(False)
    def g():
        return fl.is_grad_enabled()
    assert fl.is_grad_enabled()
    assert f() is False and g() is False and fl.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with fl.no_grad():
        t = threading.Thread(target=lambda: seen.append(fl.is_grad_enabled()))
        t.start()
        t.join()
        assert not fl.is_grad_enabled()
    assert seen == [True]


def test_ops_follow_their_own_threads_grad_mode_whichever_thread_turned_it_off():
    from flambeau.autograd.grad_mode import GRAD_OFF
    x = fl.ones(2, requires_grad=True)
    off, back_on, seen = threading.Event(), threading.Event(), []

    def other():
        with fl.no_grad():
            off.set()
            back_on.wait(5)
            seen.extend([(x * 2).requires_grad, x.sum().requires_grad, (x ** 2).requires_grad])
        seen.append((x * 2).requires_grad)
    t = threading.Thread(target=other)
    t.start()
    off.wait(5)
    assert (x * 2).requires_grad and x.tanh().requires_grad and len(GRAD_OFF) == 1  # off there, on here
    back_on.set()
    t.join()
    assert seen == [False, False, False, True] and not GRAD_OFF
    with fl.no_grad():
        with fl.set_grad_enabled(False):
            with fl.inference_mode():
                assert not (x * 2).requires_grad and len(GRAD_OFF) == 1
            with fl.enable_grad():
                assert (x * 2).requires_grad and not GRAD_OFF
        try:
            with fl.enable_grad():
                raise ValueError
        except ValueError:
            assert not (x * 2).requires_grad
    assert (x * 2).requires_grad and not GRAD_OFF
    (x * x).sum().backward(create_graph=True)  # the engine sets the mode for its walk and restores it
    assert x.sum().requires_grad and not GRAD_OFF


# ---- leaves and in-place ---------------------------------------------------------------------------------

def test_inplace_on_leaf_requiring_grad_is_refused_and_allowed_under_no_grad():
    same_error(lambda t: t.tensor([1., 2.], requires_grad=True).add_(1))
    W = fl.tensor(1.0, requires_grad=True)
    W.grad = fl.tensor(2.0)
    with fl.no_grad():
        W -= 0.1 * W.grad
    assert W.is_leaf and W.requires_grad and abs(W.item() - 0.8) < 1e-7


def test_random_fill_of_a_leaf_requiring_grad_is_refused_outside_no_grad():
    same_error(lambda t: t.zeros(3, requires_grad=True).normal_())
    same_error(lambda t: t.zeros(3, requires_grad=True).uniform_(-1, 1))
    w = fl.zeros(3, requires_grad=True)
    with fl.no_grad():
        w.uniform_(-1, 1)
    assert w.is_leaf and w.requires_grad and (w.abs() > 0).all()


def test_version_counter_errors_match_pytorch():
    def saved_input_changed(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a * 1
        c = b * b
        b.add_(1)
        c.sum().backward()

    def saved_output_changed(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a.exp()
        b.add_(1)
        b.sum().backward()

    def saved_leaf_changed(t):
        k = t.tensor([1., 2.])
        a = t.tensor([1., 2.], requires_grad=True)
        c = a * k
        k.add_(1)
        c.sum().backward()
    for fn in (saved_input_changed, saved_output_changed, saved_leaf_changed):
        same_error(fn)


def test_inplace_on_non_leaf_rebases_history():
    def run(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a * 2
        b.mul_(3)
        b.exp_()
        b.sum().backward()
        return type(b.grad_fn).__name__, a.grad.tolist()
    f, t = both(run)
    assert f[0] == t[0]
    np.testing.assert_allclose(f[1], t[1], rtol=1e-6)


def test_inplace_dtype_check():
    same_error(lambda t: t.arange(5).add_(1.5))


def test_requires_grad_rules():
    same_error(lambda t: t.tensor([1, 2], requires_grad=True))
    same_error(lambda t: t.tensor([1, 2]).requires_grad_())
    same_error(lambda t: (t.tensor([1.], requires_grad=True) * 2).requires_grad_(False))
    x = fl.randn(3, requires_grad=True)
    x.requires_grad_(False)
    assert not x.requires_grad


def test_detach_shares_memory_and_leaves_graph():
    x = fl.tensor([1., 2.], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0
    assert x.tolist() == [5., 2.]


# ---- tensor basics -----------------------------------------------------------------------------------

def test_conversions_and_errors():
    same_error(lambda t: t.tensor([1., 2.], requires_grad=True).numpy())
    same_error(lambda t: f"{t.tensor([1., 2.]):.3f}")
    same_error(lambda t: len(t.tensor(1.)))
    same_error(lambda t: iter(t.tensor(1.)))
    same_error(lambda t: bool(t.tensor([1., 2.])))
    same_error(lambda t: float(t.tensor([1., 2.])))
    same_error(lambda t: [1, 2, 3][t.tensor(1.)])
    same_error(lambda t: t.tensor([1., 2., 3.]).item())
    same_error(lambda t: t.tensor([[1., 2.]]).view(3))
    same_error(lambda t: t.tensor([[1., 2.], [3., 4.]]).t().view(4))
    same_error(lambda t: t.ones(1, 3).mm(t.ones(1, 3)))
    same_error(lambda t: t.ones(3) @ t.ones(2))
    same_error(lambda t: t.ones(2) + t.ones(3))
    same_error(lambda t: t.ones(2, 2).sum(dim=5))
    assert f"{fl.tensor(2.5):.3f}" == "2.500"
    assert [1, 2, 3][fl.tensor(1)] == 2
    assert int(fl.tensor([1.7])) == 1 and float(fl.tensor(2)) == 2.0 and bool(fl.tensor([0.])) is False


def test_metadata():
    t = fl.zeros(2, 3, dtype=fl.float64)
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.dim() == 2 and t.ndim == 2
    assert t.numel() == 6 and repr(t.shape) == "flambeau.Size([2, 3])" and str(t.device) == "cpu"
    assert t.dtype is fl.float64 and repr(t.dtype) == "flambeau.float64" and t.is_leaf
    assert len(t) == 2 and [r.shape for r in t] == [(3,), (3,)]
    assert t.tolist() == [[0.] * 3] * 2 and np.asarray(t).shape == (2, 3)


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    t = fl.from_numpy(a)
    a[1] = 7
    assert t.tolist() == [0., 7., 0.]


def test_creation_dtypes_match_pytorch():
    cases = [lambda t: t.tensor([1., 2.]), lambda t: t.tensor([1, 2]), lambda t: t.tensor([True]), lambda t: t.tensor(3),
             lambda t: t.tensor(np.arange(3, dtype=np.float64)), lambda t: t.zeros(2), lambda t: t.ones(2, dtype=t.int32),
             lambda t: t.full((2,), 7), lambda t: t.full((2,), 7.0), lambda t: t.arange(5), lambda t: t.arange(0, 1, 0.25),
             lambda t: t.linspace(0, 1, 5), lambda t: t.eye(3), lambda t: t.zeros_like(t.tensor([1, 2])),
             lambda t: t.ones_like(t.tensor([1., 2.])), lambda t: t.full_like(t.tensor([1., 2.]), 3), lambda t: t.empty(2, 3)]
    for make in cases:
        f, t = both(make)
        assert str(f.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        assert tuple(f.shape) == tuple(t.shape)
        if make is not cases[-1]:
            np.testing.assert_allclose(np.asarray(f, dtype=np.float64), t.numpy().astype(np.float64), rtol=1e-6)


PROMOTION = [("float32", "float64"), ("int64", "float16"), ("int32", "int64"), ("uint8", "int8"), ("bool", "int32"),
             ("bool", "float32"), ("int16", "uint8"), ("float16", "float32")]


@pytest.mark.parametrize("da,db", PROMOTION)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_type_promotion_matches_pytorch(da, db, zero_dim):
    def run(t):
        a = t.ones(3, dtype=getattr(t, da))
        b = t.ones((), dtype=getattr(t, db)) if zero_dim else t.ones(3, dtype=getattr(t, db))
        return [str((a + b).dtype).split(".")[1], str((b * a).dtype).split(".")[1], str(t.promote_types(a.dtype, b.dtype)).split(".")[1]]
    f, t = both(run)
    assert f == t


@pytest.mark.parametrize("dt", ["int64", "int32", "bool", "float16", "float64"])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_scalar_promotion_matches_pytorch(dt, scalar):
    def run(t):
        a = t.ones(3, dtype=getattr(t, dt))
        out = []
        for f in (lambda: a * scalar, lambda: a / scalar if scalar is not True else a * 1, lambda: a.exp() if dt != "bool" else a * 1):
            out.append(str(f().dtype).split(".")[1])
        return out
    f, t = both(run)
    assert f == t


def test_autograd_grad_and_create_graph():
    def run(t):
        x = t.tensor(3.0, requires_grad=True)
        (dx,) = t.autograd.grad(x ** 3, x, create_graph=True)
        (ddx,) = t.autograd.grad(dx, x)
        return dx.item(), ddx.item(), type(dx.grad_fn).__name__
    f, t = both(run)
    assert f == t
