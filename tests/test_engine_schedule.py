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
