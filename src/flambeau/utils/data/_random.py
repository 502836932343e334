"""The random draws data loading makes, in PyTorch's order, from the flambeau generator.

Until ``flambeau._random`` is present (``flambeau.randperm``, ``Tensor.random_``, ``flambeau.Generator``),
a NumPy generator stands in; this module is the one place that knows.
"""

from __future__ import annotations

import numpy as np

import flambeau

_FALLBACK = np.random.default_rng()


def _native(generator) -> bool:
    return hasattr(flambeau, "randperm") and not isinstance(generator, np.random.Generator)


def randperm(n: int, generator=None) -> list[int]:
    """A random permutation of ``range(n)`` as a list."""
    if _native(generator):
        return flambeau.randperm(n, generator=generator).tolist()
    return (generator if generator is not None else _FALLBACK).permutation(n).tolist()


def randint(high: int, size: int, generator=None) -> list[int]:
    if _native(generator):
        return flambeau.randint(high, (size,), dtype=flambeau.int64, generator=generator).tolist()
    return (generator if generator is not None else _FALLBACK).integers(0, high, size).tolist()


def seed(generator=None) -> int:
    """A 64-bit seed drawn as ``torch.empty((), dtype=torch.int64).random_(generator=...)``."""
    if _native(generator):
        return int(flambeau.empty((), dtype=flambeau.int64).random_(generator=generator).item())
    return int((generator if generator is not None else _FALLBACK).integers(0, 2**63 - 1))


def seeded_generator(value: int):
    """A fresh generator seeded with ``value``."""
    if hasattr(flambeau, "Generator"):
        g = flambeau.Generator()
        g.manual_seed(value)
        return g
    return np.random.default_rng(value)
