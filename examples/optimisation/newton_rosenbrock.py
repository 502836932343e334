"""Newton's method with exact Hessians (``autograd.functional.hessian``) on the Rosenbrock function.

Each step solves ``H(x) d = -∇f(x)``, the gradient and Hessian coming from flambeau's autograd
(the Hessian is the Jacobian of the gradient, by double backward). Run it:
``python examples/optimisation/newton_rosenbrock.py``.
"""

import numpy as np
from problems import START, rosenbrock

import flambeau as torch
from flambeau.autograd.functional import hessian


def newton(f, x0, tol: float = 1e-10, max_iter: int = 50) -> tuple[np.ndarray, int]:
    """Minimise ``f`` from ``x0`` with pure Newton steps; returns ``(x, iterations)``."""
    x = torch.tensor(np.asarray(x0, dtype=np.float64))
    for it in range(1, max_iter + 1):
        x.requires_grad_(True)
        (g,) = torch.autograd.grad(f(x), x)
        h = hessian(f, x.detach())
        step = np.linalg.solve(h.numpy(), -g.numpy())
        x = torch.tensor(x.detach().numpy() + step)
        print(f"iter {it:2d}  x = {x.numpy()}  f = {f(x).item():.3e}  |grad| = {np.linalg.norm(g.numpy()):.3e}")
        if np.linalg.norm(step) < tol:
            break
    return x.numpy(), it


def main() -> tuple[np.ndarray, int]:
    x, iters = newton(rosenbrock, START)
    print(f"Newton converged to {x} in {iters} iterations")
    return x, iters


if __name__ == "__main__":
    main()
