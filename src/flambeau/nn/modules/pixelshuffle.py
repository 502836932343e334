"""PixelShuffle and PixelUnshuffle: settings-only modules over ``F.pixel_shuffle`` / ``F.pixel_unshuffle``."""

from __future__ import annotations

from ._table import settings_module

__all__ = ["PixelShuffle", "PixelUnshuffle"]

PixelShuffle = settings_module("PixelShuffle", "pixel_shuffle", (("upscale_factor",),), lambda s: f"upscale_factor={s.upscale_factor}",
                               """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r).

    >>> import flambeau as torch
    >>> torch.nn.PixelShuffle(2)(torch.ones(1, 8, 3, 3)).shape
    flambeau.Size([1, 2, 6, 6])
    """, module=__name__)
PixelUnshuffle = settings_module("PixelUnshuffle", "pixel_unshuffle", (("downscale_factor",),),
                                 lambda s: f"downscale_factor={s.downscale_factor}",
                                 """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W): the inverse of PixelShuffle.

    >>> import flambeau as torch
    >>> torch.nn.PixelUnshuffle(2)(torch.ones(1, 2, 6, 6)).shape
    flambeau.Size([1, 8, 3, 3])
    """, module=__name__)
