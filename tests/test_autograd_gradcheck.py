"""gradcheck / gradgradcheck: PyTorch's signature, and failure reports that say exactly what is wrong."""

import warnings

import numpy as np
import pytest

from autograd_helpers import fl, leaf, torch


def wrong(lib, factor=3.0, twice_wrong=False):
    """x * 2 whose backward claims x * factor (and, optionally, a backward whose own derivative is wrong)."""
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2 if not twice_wrong else x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if twice_wrong:  # right value, but built from a detached x: its own derivative in x is lost
                return g * 2 * x.detach()
            return g * factor
    return Wrong.apply


def test_passes_on_correct_functions():
    x, y = leaf(fl, [0.5, -1.0, 2.0]), leaf(fl, [[1.0, 2.0], [3.0, 4.0]])
    assert fl.autograd.gradcheck(lambda a: (a.sin() * a).sum(), (x,))
    assert fl.autograd.gradcheck(lambda a, b: (a[:2] @ b, b.exp()), (x, y))
    assert fl.autograd.gradgradcheck(lambda a, b: (a[:2] @ b).tanh(), (x, y))
    assert fl.autograd.gradcheck(lambda a: a.exp(), x)  # a single tensor is accepted as inputs


def test_wrong_backward_report_names_input_output_element_and_both_jacobians():
    x = leaf(fl, [1.0, 2.0])
    with pytest.raises(fl.autograd.GradcheckError) as err:
        fl.autograd.gradcheck(wrong(fl), (x,))
    msg = str(err.value)
    with pytest.raises(RuntimeError) as t_err:
        torch.autograd.gradcheck(wrong(torch), (leaf(torch, [1.0, 2.0]),))
    assert msg.splitlines()[0] == str(t_err.value).splitlines()[0] == "Jacobian mismatch for output 0 with respect to input 0,"
    assert "2 of 4 entries differ; first at input 0 element (0,) (flat 0), output 0 element (0,) (flat 0)" in msg
    assert "analytical 3.0 vs numerical 1.99999" in msg
    assert "numerical:[[" in msg
    assert "analytical:[[3. 0.]\n [0. 3.]]" in msg
    assert isinstance(err.value, RuntimeError)


def test_report_for_the_second_input_and_output():
    a, b = leaf(fl, [1.0, 2.0]), leaf(fl, [[0.5, 1.5, 2.5]])
    bad = wrong(fl, 5.0)
    with pytest.raises(fl.autograd.GradcheckError, match="Jacobian mismatch for output 1 with respect to input 1") as err:
        fl.autograd.gradcheck(lambda u, v: (u * 2, bad(v)), (a, b))
    assert "first at input 1 element (0, 0) (flat 0), output 1 element (0, 0) (flat 0)" in str(err.value)


def test_raise_exception_false_returns_false():
    assert fl.autograd.gradcheck(wrong(fl), (leaf(fl, [1.0]),), raise_exception=False) is False
    assert torch.autograd.gradcheck(wrong(torch), (leaf(torch, [1.0]),), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_double_backward():
    x = leaf(fl, [1.0, 2.0])
    assert fl.autograd.gradcheck(wrong(fl, twice_wrong=True), (x,))  # first derivative right
    with pytest.raises(fl.autograd.GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        fl.autograd.gradgradcheck(wrong(fl, twice_wrong=True), (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        torch.autograd.gradgradcheck(wrong(torch, twice_wrong=True), (leaf(torch, [1.0, 2.0]),))


def test_tolerances_and_errors_as_pytorch():
    x = leaf(fl, [1.0])
    assert fl.autograd.gradcheck(wrong(fl, 2.001), (x,), atol=0.01, rtol=0)
    assert not fl.autograd.gradcheck(wrong(fl, 2.001), (x,), atol=1e-4, rtol=0, raise_exception=False)
    for lib in (fl, torch):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            lib.autograd.gradcheck(lambda a: a * 2, (leaf(lib, [1.0], requires_grad=False),))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fl.autograd.gradcheck(lambda a: a * 2, (fl.tensor(np.array([1.0], dtype=np.float32), requires_grad=True),), eps=1e-3, atol=1e-2)
    assert any("Input #0 requires gradient and is not a double precision floating point" in str(m.message) for m in w)


@pytest.mark.parametrize("factor", [2.0, 2.1, 3.0])
def test_fast_mode_agrees_with_pytorch(factor):
    """fast_mode compares vᵀJu for random unit u, v: right and wrong derivatives get the same verdict as in PyTorch."""
    verdicts = [lib.autograd.gradcheck(wrong(lib, factor), (leaf(lib, [0.5, -1.0, 2.0]),), fast_mode=True, raise_exception=False)
                for lib in (fl, torch)]
    assert verdicts == [factor == 2.0] * 2


def test_fast_mode_checks_every_pair_and_forward_mode():
    x, y = leaf(fl, [[0.5, -1.0], [2.0, 0.3]]), leaf(fl, [1.5, 0.7])
    f = lambda a, b: (a @ b, (a.sin() * b).sum(), b.exp())  # noqa: E731
    assert fl.autograd.gradcheck(f, (x, y), fast_mode=True, check_forward_ad=True)
    assert fl.autograd.gradgradcheck(lambda a, b: a.tanh() @ b, (x, y), fast_mode=True)
    with pytest.raises(fl.autograd.GradcheckError) as e:  # the wrong pair is the second output w.r.t. the second input
        fl.autograd.gradcheck(lambda a, b: (a * 2, wrong(fl)(b)), (x, y), fast_mode=True)
    msg = str(e.value)
    assert msg.startswith("Jacobian mismatch for output 1 with respect to input 1,\nnumerical:")
    assert "Numerical:\n[[2. 0.]\n [0. 2.]]\nAnalytical:\n[[3. 0.]\n [0. 3.]]" in msg
    assert abs(float(msg.rsplit("is: ", 1)[1].rstrip(".\n")) - 1.0) < 1e-6


def test_check_forward_ad():
    x = leaf(fl, [0.5, 1.5])
    assert fl.autograd.gradcheck(lambda a: (a.exp() * a.sin(), a.sum()), (x,), check_forward_ad=True)
    assert fl.autograd.gradcheck(lambda a: a.tanh(), (x,), check_forward_ad=True, check_backward_ad=False)


def test_large_jacobians_are_summarised():
    x = leaf(fl, np.linspace(0.1, 1.0, 30))
    with pytest.raises(fl.autograd.GradcheckError, match="summarised"):
        fl.autograd.gradcheck(wrong(fl), (x,))
