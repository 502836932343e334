"""``autograd.grad`` and ``backward``: the full API, higher-order derivatives, against PyTorch."""

import numpy as np
import pytest

from autograd_helpers import both, leaf, same_error, torch


def test_grad_of_several_outputs_and_inputs_with_grad_outputs():
    def f(lib):
        x, y = leaf(lib, [1., 2., 3.]), leaf(lib, [0.5, -1., 2.])
        a, b = x * y, (x.exp() * y).sum()
        return lib.autograd.grad((a, b), (x, y), grad_outputs=(lib.tensor(np.array([1., 2., 3.])), None))
    both(f)


def test_grad_single_tensor_grad_output():
    both(lambda t: t.autograd.grad(leaf(t, [1., 2.]) * 3, leaf(t, [1., 2.]), t.ones(2, dtype=t.float64), allow_unused=True))


def test_allow_unused_and_materialize_grads():
    def f(lib, **kw):
        x, z = leaf(lib, [1., 2.]), leaf(lib, [3., 4.])
        return lib.autograd.grad((x * 2).sum(), (x, z), **kw)
    both(lambda t: f(t, allow_unused=True))
    both(lambda t: f(t, materialize_grads=True))
    same_error(lambda t: f(t))
    same_error(lambda t: f(t, allow_unused=False, materialize_grads=True))


def test_grad_errors():
    same_error(lambda t: t.autograd.grad(leaf(t, [1., 2.]) * 2, leaf(t, [1., 2.])))  # non-scalar without grad_outputs
    same_error(lambda t: t.autograd.grad(leaf(t, [1., 2.], False) * 2, leaf(t, [1., 2.])))
    same_error(lambda t: t.autograd.grad(leaf(t, [1.]).sum(), leaf(t, [1.], False)))

    def shape_mismatch(lib):
        x = leaf(lib, [1., 2.])
        return lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.float64))
    same_error(shape_mismatch)


def test_retain_graph_and_second_call():
    def f(lib, retain):
        x = leaf(lib, [1., 2.])
        y = (x.exp() * x).sum()
        g1 = lib.autograd.grad(y, x, retain_graph=retain)
        return g1 + lib.autograd.grad(y, x)
    both(lambda t: f(t, True))
    same_error(lambda t: f(t, False))


@pytest.mark.parametrize("expr", [
    "(x ** 3).sum()", "(x.sin() * x.exp()).sum()", "(x.tanh() / (1 + x * x)).sum()", "(x.sigmoid() * x.log()).sum()",
    "(x.unsqueeze(0) @ x.unsqueeze(1)).sum() ** 2", "((x - x.mean()) ** 2).mean()", "(x.sqrt() * x.cos()).sum()",
    "(x.reshape(3, 1) * x.exp()).sum()", "(x[1:] * x[:2].exp()).sum()",
])
def test_third_derivative_via_create_graph(expr):
    """d/dx, d²/dx² (Hessian row sums) and d³/dx³ with create_graph, as PyTorch computes them."""
    def f(lib):
        x = leaf(lib, [0.5, 1.2, 2.0])
        y = eval(expr)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = lib.autograd.grad((h * h).sum(), x)
        return g, h, t
    both(f)


def test_backward_create_graph_then_backward_again():
    def f(lib):
        x = leaf(lib, [0.5, 1.5])
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        x.grad = None
        g.sum().backward()
        return g, x.grad
    both(f)


def test_hessian_vector_product_by_double_backward():
    def f(lib):
        a = lib.tensor(np.array([[2., 1.], [1., 3.]]))
        x = leaf(lib, [1., -1.])
        y = (x @ a @ x) + (x ** 4).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        v = lib.tensor(np.array([1., 2.]))
        return lib.autograd.grad(g, x, v)
    both(f)


def test_grad_of_grad_with_respect_to_grad_outputs():
    def f(lib):
        x, v = leaf(lib, [1., 2.]), leaf(lib, [3., 4.])
        (g,) = lib.autograd.grad(x.sin(), x, v, create_graph=True)
        return lib.autograd.grad(g.sum(), (x, v))
    both(f)


def test_backward_inputs_argument():
    def f(lib):
        x, y = leaf(lib, [1., 2.]), leaf(lib, [3., 4.])
        (x * y).sum().backward(inputs=[y])
        return x.grad, y.grad
    both(f)


def test_is_grads_batched():
    def f(lib, create_graph):
        x = leaf(lib, [1., 2., 3.])
        y = x.exp() * x
        (jac,) = lib.autograd.grad(y, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True, create_graph=create_graph)
        return jac, (lib.autograd.grad(jac.sum(), x) if create_graph else None)
    both(lambda t: f(t, False))
    both(lambda t: f(t, True))
    same_error(lambda t: t.autograd.grad(leaf(t, [1., 2.]) * 2, leaf(t, [1., 2.]), t.ones(2), is_grads_batched=True))


def test_torch_oracle_is_real():
    assert torch.__version__


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_broadcast_differently_into_one_slot_are_fitted_before_adding(create_graph):
    """x reaches the product both as (3,) broadcast to (3, 3) and through reshape: the two parts are summed separately."""
    def f(lib):
        x = leaf(lib, [1., 2., 3.])
        return lib.autograd.grad((x.reshape(3, 1) * x).sum(), x, create_graph=create_graph)
    both(f)
