"""Solve ``H x = b`` by conjugate gradient using only Hessian-vector products (never forming H).

``H`` is the Hessian of an L2-regularised logistic-regression loss (symmetric positive definite).
Each CG iteration needs one ``H·v``, computed by ``autograd.functional.hvp`` (double backward): the
cost of two gradient evaluations, whatever the dimension. The answer is checked against
``np.linalg.solve`` on the explicit Hessian. Run: ``python examples/optimisation/hvp_conjugate_gradient.py``.
This is the inner solve of a Newton-CG (truncated Newton) optimiser.
"""

import numpy as np

import flambeau as torch
from flambeau.autograd.functional import hessian, hvp


def make_loss(n: int = 40, d: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = torch.tensor(rng.standard_normal((n, d)))
    labels = torch.tensor((rng.random(n) > 0.5).astype(np.float64))

    def loss(w: torch.Tensor) -> torch.Tensor:
        z = a @ w
        # log(1 + e^z) - y z, written with sigmoid: -log σ(-z) = log(1 + e^z)
        return (-(1 - (z.sigmoid())).log() - labels * z).mean() + 0.05 * (w * w).sum()
    return loss, d


def conjugate_gradient(matvec, b: np.ndarray, tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, int]:
    """Solve ``A x = b`` for symmetric positive definite ``A`` given only ``matvec(v) = A v``."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for it in range(1, max_iter + 1):
        ap = matvec(p)
        alpha = rr / (p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr_new = r @ r
        if np.sqrt(rr_new) < tol:
            return x, it
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, max_iter


def main() -> tuple[np.ndarray, np.ndarray, int]:
    loss, d = make_loss()
    w = torch.tensor(np.linspace(-0.5, 0.5, d))
    b = np.random.default_rng(1).standard_normal(d)

    def matvec(v: np.ndarray) -> np.ndarray:
        return hvp(loss, w, torch.tensor(v))[1].numpy()
    x, iters = conjugate_gradient(matvec, b)
    exact = np.linalg.solve(hessian(loss, w).numpy(), b)
    print(f"CG with Hessian-vector products: {iters} iterations, |x - solve(H, b)| = {np.linalg.norm(x - exact):.2e}")
    return x, exact, iters


if __name__ == "__main__":
    main()
