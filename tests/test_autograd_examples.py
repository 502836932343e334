"""The optimisation examples run and reach what they claim."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "optimisation"))


@pytest.fixture(autouse=True)
def _quiet(capsys):
    yield


def test_newton_with_exact_hessians_converges_on_rosenbrock():
    import newton_rosenbrock
    x, iters = newton_rosenbrock.main()
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-10)
    assert iters < 20


def test_lbfgs_beats_gradient_descent():
    import lbfgs_vs_gd
    res = lbfgs_vs_gd.main(max_iter_gd=5000)
    iters, reached, x = res["lbfgs"]
    assert reached and iters < 100
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-3)
    assert res["gradient descent"][0] > 5 * iters


def test_per_sample_gradient_norms_match_a_loop():
    import per_sample_grad_norms
    norms, loop = per_sample_grad_norms.main(batch=8)
    assert norms.shape == (8,)
    np.testing.assert_allclose(norms, loop, rtol=1e-10)


def test_hvp_conjugate_gradient_solves_the_newton_system():
    import hvp_conjugate_gradient
    x, exact, iters = hvp_conjugate_gradient.main()
    np.testing.assert_allclose(x, exact, rtol=1e-8, atol=1e-10)
    assert iters <= len(x) + 1
