"""Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d: weights and settings; the arithmetic is ``F.conv*``."""

from __future__ import annotations

import math

from ..._tensor import Size, Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import _ntuple, factory, param_or_none
from .linear import _uniform_bias
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _n = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        tup = _ntuple(self._n)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in tup(stride)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = tup(kernel_size), tup(stride)
        self.padding = padding if isinstance(padding, str) else tup(padding)
        self.dilation, self.output_padding = tup(dilation), tup(output_padding)
        self.groups, self.padding_mode = groups, padding_mode
        kw = factory(device, dtype)
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, *self.kernel_size, **kw))
        param_or_none(self, "bias", empty(out_channels, **kw) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, init._calculate_fan_in_and_fan_out(self.weight)[0])

    def _padded(self, input: Tensor) -> tuple[Tensor, tuple | str]:
        """The input padded by ``padding_mode`` (then the conv pads nothing), or as is with the conv's own zero padding."""
        if self.padding_mode == "zeros":
            return input, self.padding
        pads = tuple(p for k in reversed(self.padding) for p in (k, k))
        return F.pad(input, pads, mode=self.padding_mode), (0,) * self._n

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """A forward convolution: ``_conv`` (``F.conv1d`` / ``F.conv2d``) over the padded input."""

    _conv = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return self._conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) inputs.

    >>> import flambeau as torch
    >>> torch.nn.Conv1d(2, 4, 3)(torch.ones(1, 2, 10)).shape
    flambeau.Size([1, 4, 8])
    """

    _n = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) inputs.

    >>> import flambeau as torch
    >>> torch.nn.Conv2d(1, 6, 3, padding=1)(torch.ones(2, 1, 8, 8)).shape
    flambeau.Size([2, 6, 8, 8])
    """

    _n = 2
    _conv = staticmethod(F.conv2d)


class _ConvTranspose(_ConvNd):
    """A transposed convolution: ``_conv`` (``F.conv_transpose1d`` / ``F.conv_transpose2d``), the gradient of the forward one."""

    transposed = True
    _conv = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         output_padding, device=device, dtype=dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        if output_size is None:
            return self.output_padding
        n = self._n
        output_size = list(output_size)[-n:]
        smallest = [(input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
                    for d in range(n)]
        largest = [s + st - 1 for s, st in zip(smallest, self.stride)]
        if not all(lo <= o <= hi for lo, o, hi in zip(smallest, output_size, largest)):
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {smallest} to {largest} "
                             f"(for an input of {Size(input.shape[-n:])!r})")
        return tuple(o - lo for o, lo in zip(output_size, smallest))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return self._conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                          self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """The gradient of Conv1d w.r.t. its input, as a layer (upsampling convolution over (N, C, L) inputs).

    >>> import flambeau as torch
    >>> torch.nn.ConvTranspose1d(3, 2, 2, stride=2)(torch.ones(1, 3, 4)).shape
    flambeau.Size([1, 2, 8])
    """

    _n = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """The gradient of Conv2d w.r.t. its input, as a layer (upsampling convolution).

    >>> import flambeau as torch
    >>> torch.nn.ConvTranspose2d(3, 2, 2, stride=2)(torch.ones(1, 3, 4, 4)).shape
    flambeau.Size([1, 2, 8, 8])
    """

    _n = 2
    _conv = staticmethod(F.conv_transpose2d)
