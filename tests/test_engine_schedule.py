"""The backward walk's schedule: a node runs once every gradient it can still receive has arrived.

Each case is checked against a closed form and against PyTorch: graphs where a node is used several times, where some of
its consumers are not reachable from the root, several roots feeding each other, graphs extended after a retained backward.
"""

import importlib
import os

import numpy as np
import pytest

import flambeau as fl

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")

X = [0.5, -1.25, 2.0]


def grads(lib, build):
    """``build(lib, x)`` runs one or more backward passes; the leaf's gradient as a NumPy array."""
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    build(lib, x)
    return x.grad.detach().numpy() if lib is torch else x.grad.numpy()


def check(build, expected):
    ours, theirs = grads(fl, build), grads(torch, build)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_a_consumer_outside_the_backward_does_not_hold_the_node_back():
    def build(lib, x):
        y = x * 2
        (y * y).sum()  # a second use of y, not reachable from the loss below
        y.sum().backward()
    check(build, np.full(3, 2.0))


def test_diamond_sums_both_branches_before_the_shared_node_runs():
    def build(lib, x):
        y = x.exp()
        (y * y + y.sin()).sum().backward()
    x = np.array(X)
    check(build, 2 * np.exp(2 * x) + np.cos(np.exp(x)) * np.exp(x))


def test_nested_diamonds_many_levels():
    def build(lib, x):
        y = x
        for _ in range(200):
            y = y * 0.5 + y * 0.5 + y.tanh() * 0.0  # every level reuses y three times
        y.sum().backward()
    check(build, np.ones(3))


def test_one_root_feeding_another():
    def build(lib, x):
        l1 = (x * x).sum()
        l2 = l1 * 3
        lib.autograd.backward([l1, l2])
    check(build, 8 * np.array(X))


def test_a_leaf_as_a_root_and_through_an_op():
    def build(lib, x):
        lib.autograd.backward([x, x * 2], [lib.ones(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)])
    check(build, np.full(3, 3.0))


def test_a_retained_graph_extended_after_its_first_backward():
    def build(lib, x):
        y = x * x
        y.sum().backward(retain_graph=True)
        z = y * 2  # a new use of y, made after the first backward
        (y.sum() + z.sum()).backward()
    x = np.array(X)
    check(build, 2 * x + 3 * 2 * x)


def test_each_output_of_a_multi_output_node_used_once():
    def build(lib, x):
        a, b, c = x.split(1)
        (a * b * c).sum().backward()
    x = np.array(X)
    check(build, np.array([x[1] * x[2], x[0] * x[2], x[0] * x[1]]))


def test_one_output_used_twice_the_other_unused():
    def build(lib, x):
        values, _ = x.sort()
        (values * values + values).sum().backward()
    x = np.array(X)
    check(build, 2 * x + 1)


def test_the_same_array_handed_to_two_leaves_is_not_shared_between_their_grads():
    a = fl.tensor([1., 2.], requires_grad=True)
    b = fl.tensor([3., 4.], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad._data is not b.grad._data
    (a + b).sum().backward()  # accumulating into one must leave the other as it is
    np.testing.assert_array_equal(a.grad.numpy(), [2., 2.])
    np.testing.assert_array_equal(b.grad.numpy(), [2., 2.])


def test_a_multi_output_node_with_one_output_used_once():
    def build(lib, x):
        a, _, _ = x.split(1)
        (a * 3).sum().backward()
    check(build, np.array([3.0, 0.0, 0.0]))


def test_a_custom_function_with_two_outputs_one_used():
    def build(lib, x):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t * 2, t * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2 * 3
        _, b = Two.apply(x)
        b.sum().backward()
    check(build, np.full(3, 3.0))


def identity_with(lib, during_backward):
    """A custom Function passing its input through, whose backward first calls ``during_backward()``."""
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            during_backward()
            return g
    return Identity


def grad_mode_seen(lib):
    """Grad mode inside a custom backward and inside a tensor hook during a plain backward, and after it."""
    seen = {}
    Spy = identity_with(lib, lambda: seen.__setitem__("custom", lib.is_grad_enabled()))
    x = lib.tensor(X, requires_grad=True)
    Spy.apply(x).sum().backward()
    seen["after plain"] = lib.is_grad_enabled()
    y = x * 2
    h = y.register_hook(lambda g: seen.__setitem__("hook", lib.is_grad_enabled()))
    y.sum().backward()
    h.remove()
    seen["after hooked"] = lib.is_grad_enabled()
    Spy.apply(x).sum().backward()  # the hook is removed: the plain walk again
    seen["custom after removal"] = seen["custom"]
    with lib.no_grad():
        (x * 1).sum()
    seen["x.grad"] = x.grad.tolist()
    return seen


def test_grad_mode_during_and_after_backward_is_pytorchs():
    assert grad_mode_seen(fl) == grad_mode_seen(torch)
    assert grad_mode_seen(fl)["custom"] is False


def accumulate_after_create_graph(lib):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    first = x.grad
    facts = [type(first.grad_fn).__name__, first.requires_grad, first.tolist()]
    (x * x * x).sum().backward()  # plain: added in place, the tensor keeps its grad_fn
    facts += [x.grad is first, type(x.grad.grad_fn).__name__, x.grad.tolist()]
    x.grad = None
    (x * 3 + x * 2).sum().backward(create_graph=True)  # gradients that need no graph: no copy is recorded
    facts += [x.grad.requires_grad, x.grad.tolist()]
    x.grad = None
    (x ** 3).sum().backward(create_graph=True)
    x.grad.sum().backward()  # second order through the copy: d/dx 3x² summed = 6x, added to 3x²
    facts.append(x.grad.tolist())
    return facts


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_accumulating_into_a_grad_made_with_create_graph_is_pytorchs():
    ours, theirs = accumulate_after_create_graph(fl), accumulate_after_create_graph(torch)
    assert ours[:2] == theirs[:2] and ours[3:5] == theirs[3:5] and ours[6] == theirs[6]
    for i in (2, 5, 7, 8):
        np.testing.assert_allclose(ours[i], theirs[i], rtol=1e-12)
    x = np.array(X)
    np.testing.assert_allclose(ours[8], 3 * x ** 2 + 6 * x, rtol=1e-12)
    assert ours[0] == "CopyBackwards" and ours[3] is True


def hook_registered_during_backward(lib):
    """A custom backward registers a hook on a tensor whose node has not run yet: the hook runs, in grad mode off."""
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    y = x * 2
    seen = []
    Register = identity_with(lib, lambda: y.register_hook(lambda grad: (seen.append(lib.is_grad_enabled()), grad * 10)[1]))
    Register.apply(y).sum().backward()
    return x.grad.tolist(), seen, lib.is_grad_enabled()


def test_a_hook_registered_during_a_plain_backward_runs_as_in_pytorch():
    ours, theirs = hook_registered_during_backward(fl), hook_registered_during_backward(torch)
    assert ours == theirs == ([20.0, 20.0, 20.0], [False], True)


def test_hooks_on_freed_tensors_leave_the_count_that_keeps_the_plain_walk():
    import gc

    from flambeau.autograd.function import HOOKS
    gc.collect()
    before = HOOKS[0]
    for _ in range(3):  # the teaching loop: retain_grad and a hook on a temporary, every iteration
        x = fl.tensor(X, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 1)
        (y * y).sum().backward()
        assert HOOKS[0] == before + 2
    h = x.register_post_accumulate_grad_hook(lambda t: None)
    assert HOOKS[0] == before + 3
    h.remove()
    h.remove()  # a second remove changes nothing
    del x, y
    gc.collect()
    assert HOOKS[0] == before
