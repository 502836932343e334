"""``torch.backends`` seen from a library that computes with NumPy on the CPU.

``torch.backends.cudnn`` is there with its flags, so the usual reproducibility lines run; cuDNN itself is never
available, and the flags change nothing (flambeau's algorithms are deterministic).

>>> import flambeau as torch
>>> torch.backends.cudnn.deterministic = True
>>> torch.backends.cudnn.benchmark = False
>>> torch.backends.cudnn.is_available()
False
"""

from __future__ import annotations

from ._missing import NotImplementedInFlambeau

__all__ = ["cudnn"]


class _Cudnn:
    """The flags of ``torch.backends.cudnn``, with PyTorch's defaults."""

    def __init__(self) -> None:
        self.enabled = True
        self.benchmark = False
        self.deterministic = False
        self.allow_tf32 = True

    @staticmethod
    def is_available() -> bool:
        """``False``: there is no cuDNN without a CUDA device."""
        return False

    @staticmethod
    def version() -> None:
        """``None``: no cuDNN library is loaded."""
        return None


cudnn = _Cudnn()


def __getattr__(name: str):
    raise NotImplementedInFlambeau(f"torch.backends.{name} is not implemented in flambeau: it computes with NumPy on the CPU")
