"""MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d: settings for ``F.*_pool*``."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from ._utils import _single
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample",
           "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return getattr(F, self._fn)(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                                    return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) inputs.

    >>> import flambeau as torch
    >>> torch.nn.MaxPool1d(2)(torch.arange(4.).view(1, 1, 4))
    tensor([[[1., 3.]]])
    """

    _fn = "max_pool1d"


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W) inputs.

    >>> import flambeau as torch
    >>> torch.nn.MaxPool2d(2)(torch.ones(1, 1, 4, 4)).shape
    flambeau.Size([1, 1, 2, 2])
    """

    _fn = "max_pool2d"


class AvgPool1d(Module):
    """Mean over sliding windows of (N, C, L) inputs.

    >>> import flambeau as torch
    >>> torch.nn.AvgPool1d(2)(torch.arange(4.).view(1, 1, 4))
    tensor([[[0.5000, 2.5000]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over sliding windows of (N, C, H, W) inputs.

    >>> import flambeau as torch
    >>> torch.nn.AvgPool2d(2)(torch.ones(1, 1, 4, 4)).shape
    flambeau.Size([1, 1, 2, 2])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    _fn = ""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        if self.return_indices:
            return getattr(F, self._fn)(input, self.output_size, return_indices=True)
        return getattr(F, self._fn)(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of (N, C, L) inputs to a fixed length.

    >>> import flambeau as torch
    >>> torch.nn.AdaptiveAvgPool1d(2)(torch.arange(4.).view(1, 1, 4))
    tensor([[[0.5000, 2.5000]]])
    """

    _fn = "adaptive_avg_pool1d"

    def __init__(self, output_size) -> None:
        super().__init__(output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (H_out, W_out).

    >>> import flambeau as torch
    >>> torch.nn.AdaptiveAvgPool2d(1)(torch.ones(2, 3, 5, 5)).shape
    flambeau.Size([2, 3, 1, 1])
    """

    _fn = "adaptive_avg_pool2d"

    def __init__(self, output_size) -> None:
        super().__init__(output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling to a fixed output size (H_out, W_out).

    >>> import flambeau as torch
    >>> torch.nn.AdaptiveMaxPool2d((1, 2))(torch.arange(8.).view(1, 1, 2, 4))
    tensor([[[[5., 7.]]]])
    """

    _fn = "adaptive_max_pool2d"


class Upsample(Module):
    """Resize by ``scale_factor`` or to ``size`` with ``F.interpolate``.

    >>> import flambeau as torch
    >>> torch.nn.Upsample(scale_factor=2)(torch.ones(1, 1, 2, 2)).shape
    flambeau.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size, self.scale_factor, self.mode = size, float(scale_factor) if isinstance(scale_factor, int) else scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-D nearest-neighbour upsampling: ``Upsample(size, scale_factor, mode='nearest')``.

    >>> import flambeau as torch
    >>> torch.nn.UpsamplingNearest2d(scale_factor=2)(torch.ones(1, 1, 2, 3)).shape
    flambeau.Size([1, 1, 4, 6])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-D bilinear upsampling with corners aligned: ``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``.

    >>> import flambeau as torch
    >>> torch.nn.UpsamplingBilinear2d(size=(3, 5))(torch.ones(1, 1, 2, 3)).shape
    flambeau.Size([1, 1, 3, 5])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
