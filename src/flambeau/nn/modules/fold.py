"""Unfold and Fold: sliding-window patches to columns and back, settings-only modules over ``F.unfold`` / ``F.fold``."""

from __future__ import annotations

from ._table import settings_module

__all__ = ["Unfold", "Fold"]

_WINDOW = (("dilation", 1), ("padding", 0), ("stride", 1))


def _window_repr(s) -> str:
    return f"kernel_size={s.kernel_size}, dilation={s.dilation}, padding={s.padding}, stride={s.stride}"


Unfold = settings_module("Unfold", "unfold", (("kernel_size",), *_WINDOW), _window_repr,
                         """Extract sliding local blocks of a (N, C, H, W) input as columns: (N, C·∏kernel_size, L).

    >>> import flambeau as torch
    >>> torch.nn.Unfold(kernel_size=2)(torch.ones(1, 3, 4, 4)).shape
    flambeau.Size([1, 12, 9])
    """, module=__name__)
Fold = settings_module("Fold", "fold", (("output_size",), ("kernel_size",), *_WINDOW),
                       lambda s: f"output_size={s.output_size}, {_window_repr(s)}",
                       """Sum columns (N, C·∏kernel_size, L) back into a (N, C, *output_size) image: the adjoint of Unfold.

    >>> import flambeau as torch
    >>> torch.nn.Fold(output_size=(3, 3), kernel_size=2)(torch.ones(1, 4, 4)).shape
    flambeau.Size([1, 1, 3, 3])
    """, module=__name__)
