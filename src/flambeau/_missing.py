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


class _MissingAttribute:
    """Stands on ``Tensor`` for an attribute PyTorch's Tensor has and flambeau lacks: reading it raises
    ``NotImplementedInFlambeau``. (A ``Tensor.__getattr__`` would do the same but take every attribute read of every tensor
    off the interpreter's fast path.)"""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        raise missing("Tensor", self.name, "")


def install_tensor_placeholders(cls: type) -> None:
    """Put a :class:`_MissingAttribute` on ``cls`` for each PyTorch Tensor attribute it lacks."""
    from ._not_implemented import NAMES
    for name in NAMES["Tensor"]:
        if name not in cls.__dict__:
            setattr(cls, name, _MissingAttribute(name))


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
