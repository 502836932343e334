"""What reaching a PyTorch name flambeau lacks raises: ``NotImplementedError`` naming it (also an ``AttributeError``, so
``hasattr`` and ``getattr(..., default)`` keep working)."""

from __future__ import annotations


class NotImplementedInFlambeau(NotImplementedError, AttributeError):
    """A PyTorch feature flambeau does not have (yet)."""


def missing(namespace: str, name: str, default: str) -> AttributeError:
    """The error for ``name`` not found in ``namespace`` (``""`` is ``torch`` itself, ``"Tensor"``, ``"nn"`` ...)."""
    from ._not_implemented import NAMES
    if name in NAMES.get(namespace, ()):
        where = ".".join(filter(None, ("torch", namespace, name)))
        return NotImplementedInFlambeau(f"{where} is not implemented in flambeau")
    return AttributeError(default)


def module_getattr(namespace: str, module: str):
    """A module-level ``__getattr__`` for ``flambeau.<namespace>`` that names PyTorch features flambeau lacks.

    >>> import flambeau.nn
    >>> flambeau.nn.Transformer  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    NotImplementedInFlambeau: torch.nn.Transformer is not implemented in flambeau
    """
    def __getattr__(name: str):
        raise missing(namespace, name, f"module '{module}' has no attribute '{name}'")
    return __getattr__
