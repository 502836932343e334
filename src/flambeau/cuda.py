"""``torch.cuda`` seen from a library that computes on the CPU: no CUDA device is ever available.

Scripts that pick their device with ``torch.cuda.is_available()`` or seed every generator run unchanged; anything that
would need a GPU raises ``NotImplementedError`` naming it.

>>> import flambeau as torch
>>> torch.cuda.is_available(), torch.cuda.device_count()
(False, 0)
"""

from __future__ import annotations

from ._missing import NotImplementedInFlambeau

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """``False``: flambeau has no CUDA device."""
    return False


def device_count() -> int:
    """``0``: flambeau has no CUDA device."""
    return 0


def is_initialized() -> bool:
    """``False``: there is no CUDA state to initialise."""
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed: with no CUDA device, PyTorch ignores this call as well."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed: with no CUDA device, PyTorch ignores this call as well."""


def __getattr__(name: str):
    raise NotImplementedInFlambeau(f"torch.cuda.{name} is not implemented in flambeau: it computes on the CPU only")
