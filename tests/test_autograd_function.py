"""Custom ``autograd.Function``: every ctx method, setup_context, once_differentiable, against PyTorch."""

import numpy as np
import pytest

from autograd_helpers import both, fl, leaf, same_error, torch


def functions(lib):
    """The same custom Functions, defined on ``lib``'s base class."""
    F = lib.autograd.Function

    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    class Scale(F):  # setup_context style, a non-tensor argument
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]
            ctx.seen_needs = ctx.needs_input_grad

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    class Needs(F):
        @staticmethod
        def forward(ctx, a, b):
            ctx.seen_needs = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            a = g * 2 if ctx.needs_input_grad[0] else None
            b = g * 3 if ctx.needs_input_grad[1] else None
            return a, b

    class AddOneInPlace(F):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.add_(1)

        @staticmethod
        def backward(ctx, g):
            return g

    class TwoOut(F):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1 is None, g2 is None)
            total = 0
            if g1 is not None:
                total = total + g1 * 2
            if g2 is not None:
                total = total + g2 * 3
            return total

    class TwoOutMaterialized(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1.detach().numpy().copy(), g2.detach().numpy().copy())
            return g1 * 2 + g2 * 3

    class ArgMaxToo(F):
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            ctx.g_idx = g_idx.detach().numpy().copy()
            return g * 2

    class OnceSquare(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            ctx.recording = g.requires_grad or lib.is_grad_enabled()
            return 2 * x * g

    class Identity(F):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongCount(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class SaveInt(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    return dict(Cube=Cube, Scale=Scale, Needs=Needs, AddOneInPlace=AddOneInPlace, TwoOut=TwoOut,
                TwoOutMaterialized=TwoOutMaterialized, ArgMaxToo=ArgMaxToo, OnceSquare=OnceSquare, Identity=Identity,
                WrongCount=WrongCount, SaveInt=SaveInt)


FN = {fl: functions(fl), torch: functions(torch)}


def test_save_for_backward_and_grad_fn_name():
    def f(lib):
        x = leaf(lib, [1., 2.])
        y = FN[lib]["Cube"].apply(x)
        assert type(y.grad_fn).__name__ == "CubeBackward" and y.grad_fn.name() == "CubeBackward"
        assert repr(y.grad_fn).startswith("<") and "CubeBackward object at" in repr(y.grad_fn)
        y.sum().backward()
        return y, x.grad
    both(f)


def test_saved_tensors_are_version_checked():
    def f(lib):
        x = leaf(lib, [1., 2.]).clone()
        y = FN[lib]["Cube"].apply(x)
        x.mul_(2)
        y.sum().backward()
    same_error(f)


def test_saved_tensors_freed_after_backward():
    def f(lib):
        x = leaf(lib, [1., 2.])
        y = FN[lib]["Cube"].apply(x)
        y.sum().backward()
        y.sum().backward()
    same_error(f)


def test_setup_context_style_and_needs_input_grad():
    def f(lib):
        x = leaf(lib, [1., 2.])
        y = FN[lib]["Scale"].apply(x, 3.0)
        assert y.grad_fn.seen_needs == (True, False)
        y.sum().backward()
        return x.grad
    both(f)


@pytest.mark.parametrize("rg", [(True, False), (False, True), (True, True)])
def test_needs_input_grad_is_known_in_forward_and_backward(rg):
    def f(lib):
        a, b = leaf(lib, [1., 2.], rg[0]), leaf(lib, [3., 4.], rg[1])
        y = FN[lib]["Needs"].apply(a, b)
        needs = y.grad_fn.seen_needs
        y.sum().backward()
        return a.grad, b.grad, needs
    a, b = f(fl), f(torch)
    assert a[2] == b[2] == rg
    for u, v in zip(a[:2], b[:2]):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u.numpy(), v.numpy())


def test_mark_dirty():
    def f(lib):
        x = leaf(lib, [1., 2.])
        a = x.clone()
        b = FN[lib]["AddOneInPlace"].apply(a)
        assert b is a and b.grad_fn is a.grad_fn and type(a.grad_fn).__name__ == "AddOneInPlaceBackward"
        (b * b).sum().backward()
        return b, x.grad, a._version_number if lib is fl else a._version
    both(f)
    same_error(lambda t: FN[t]["AddOneInPlace"].apply(leaf(t, [1., 2.])))


def test_set_materialize_grads_false_passes_none():
    def f(lib):
        x = leaf(lib, [1., 2.])
        a, b = FN[lib]["TwoOut"].apply(x)
        b.sum().backward()
        return x.grad, a.grad_fn.got
    a, b = f(fl), f(torch)
    assert a[1] == b[1] == (True, False)
    np.testing.assert_allclose(a[0].numpy(), b[0].numpy())


def test_materialized_grads_are_zeros():
    def f(lib):
        x = leaf(lib, [1., 2.])
        a, b = FN[lib]["TwoOutMaterialized"].apply(x)
        b.sum().backward()
        return x.grad, a.grad_fn.got[0]
    both(f)


def test_mark_non_differentiable():
    def f(lib):
        x = leaf(lib, [1., -2.])
        y, idx = FN[lib]["ArgMaxToo"].apply(x)
        assert not idx.requires_grad and idx.grad_fn is None
        y.sum().backward()
        return x.grad, y.grad_fn.g_idx
    both(f)


def test_once_differentiable_runs_without_recording_and_refuses_double_backward():
    def first(lib):
        x = leaf(lib, [1., 2.])
        (g,) = lib.autograd.grad(FN[lib]["OnceSquare"].apply(x).sum(), x, create_graph=True)
        assert g.grad_fn is None  # incoming grad did not require grad: nothing to differentiate
        return g
    both(first)

    def twice(lib):
        x = leaf(lib, [1., 2.])
        (g,) = lib.autograd.grad((FN[lib]["OnceSquare"].apply(x) ** 2).sum(), x, create_graph=True)
        assert g.requires_grad
        g.sum().backward()
    same_error(twice)


def test_returning_an_input_gives_a_view_with_the_node():
    def f(lib):
        x = leaf(lib, [1., 2.])
        y = FN[lib]["Identity"].apply(x)
        assert y is not x and y._base is x and type(y.grad_fn).__name__ == "IdentityBackward"
        (y * 3).sum().backward()
        return x.grad
    both(f)


def test_wrong_gradient_count_and_bad_saves():
    same_error(lambda t: FN[t]["WrongCount"].apply(leaf(t, [1., 2.])).sum().backward())
    same_error(lambda t: FN[t]["SaveInt"].apply(leaf(t, [1., 2.])))


def test_no_graph_without_inputs_requiring_grad():
    def f(lib):
        y = FN[lib]["Cube"].apply(leaf(lib, [1., 2.], False))
        assert y.grad_fn is None and not y.requires_grad
        return y
    both(f)


def test_custom_function_double_backward_and_gradcheck():
    """A backward written with differentiable ops is itself differentiable (create_graph)."""
    x = leaf(fl, [0.5, 1.5])
    assert fl.autograd.gradcheck(FN[fl]["Cube"].apply, (x,))
    assert fl.autograd.gradgradcheck(FN[fl]["Cube"].apply, (x,))

    def f(lib):
        x = leaf(lib, [0.5, 1.5])
        (g,) = lib.autograd.grad(FN[lib]["Cube"].apply(x).sum(), x, create_graph=True)
        return g, lib.autograd.grad(g.sum(), x)
    both(f)
