"""Test problems shared by the optimisation examples."""

import flambeau as torch


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    """The Rosenbrock valley, minimum 0 at (1, 1, ..., 1): a classic hard case for first-order methods."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


START = [-1.2, 1.0]  # the textbook starting point
