"""The random draws data loading makes, in PyTorch's order, from the flambeau generator."""

from __future__ import annotations

import flambeau


def randperm(n: int, generator=None) -> list[int]:
    """A random permutation of ``range(n)`` as a list."""
    return flambeau.randperm(n, generator=generator).tolist()


def randint(high: int, size: int, generator=None) -> list[int]:
    return flambeau.randint(high, (size,), dtype=flambeau.int64, generator=generator).tolist()


def seed(generator=None) -> int:
    """A 64-bit seed drawn as ``torch.empty((), dtype=torch.int64).random_(generator=...)``."""
    return int(flambeau.empty((), dtype=flambeau.int64).random_(generator=generator).item())


def seeded_generator(value: int):
    """A fresh generator seeded with ``value``."""
    g = flambeau.Generator()
    g.manual_seed(value)
    return g
