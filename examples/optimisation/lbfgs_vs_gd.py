"""L-BFGS against gradient descent on the Rosenbrock function: iterations to reach f < 1e-8.

Both use flambeau's autograd for gradients and the same (weak Wolfe) line search. The
L-BFGS two-loop recursion is written out here (a small loop over the stored curvature pairs), so
the comparison does not depend on an optimizer class (``flambeau.optim.LBFGS`` was not on
the main branch when this was written). Run:
``python examples/optimisation/lbfgs_vs_gd.py``.
"""

import numpy as np
from problems import START, rosenbrock

import flambeau as torch

TARGET = 1e-8


def value_and_grad(f, x: np.ndarray) -> tuple[float, np.ndarray]:
    t = torch.tensor(x, requires_grad=True)
    y = f(t)
    y.backward()
    return y.item(), t.grad.numpy().copy()


def line_search(f, x, fx, g, d, step: float = 1.0) -> tuple[np.ndarray, float, np.ndarray]:
    """A step along descent direction ``d`` meeting the weak Wolfe conditions (bisection, doubling while too short)."""
    lo, hi, slope = 0.0, np.inf, g @ d
    for _ in range(100):
        x_new = x + step * d
        f_new, g_new = value_and_grad(f, x_new)
        if f_new > fx + 1e-4 * step * slope:  # not enough decrease: too long
            hi = step
        elif g_new @ d < 0.9 * slope:  # still descending steeply: too short
            lo = step
        else:
            break
        step = (lo + hi) / 2 if hi < np.inf else 2 * lo
    return x_new, f_new, g_new


def lbfgs_direction(g: np.ndarray, pairs: list) -> np.ndarray:
    """``-H·g`` by the two-loop recursion over the stored ``(s, y)`` pairs (oldest first)."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (y @ s)
        alphas.append(a)
        q -= a * y
    if pairs:
        s, y = pairs[-1]
        q *= (s @ y) / (y @ y)
    for (s, y), a in zip(pairs, reversed(alphas)):
        q += s * (a - (y @ q) / (y @ s))
    return -q


def minimise(f, x0, method: str, history: int = 10, max_iter: int = 50000) -> tuple[np.ndarray, int]:
    """Iterate until ``f < TARGET``; returns ``(x, iterations)`` (``max_iter`` if never reached)."""
    x = np.asarray(x0, dtype=np.float64)
    fx, g = value_and_grad(f, x)
    pairs: list = []
    for it in range(1, max_iter + 1):
        if method == "lbfgs":
            d = lbfgs_direction(g, pairs)
            x_new, f_new, g_new = line_search(f, x, fx, g, d)
            s, y = x_new - x, g_new - g
            if s @ y > 1e-12:
                pairs = (pairs + [(s, y)])[-history:]
        else:
            x_new, f_new, g_new = line_search(f, x, fx, g, -g, step=1e-3)
        x, fx, g = x_new, f_new, g_new
        if fx < TARGET:
            return x, it
    return x, max_iter


def main(max_iter_gd: int = 50000) -> dict:
    results = {}
    for method, cap in (("lbfgs", 1000), ("gradient descent", max_iter_gd)):
        x, iters = minimise(rosenbrock, START, "lbfgs" if method == "lbfgs" else "gd", max_iter=cap)
        reached = rosenbrock(torch.tensor(x)).item() < TARGET
        results[method] = (iters, reached, x)
        print(f"{method:>16}: {'reached' if reached else 'did not reach'} f < {TARGET:g} after {iters} iterations, x = {x}")
    return results


if __name__ == "__main__":
    main()
