"""RNN, LSTM, GRU and their cells, built from tensor ops (matmul, sigmoid, tanh, stack).

The input projection x·W_ihᵀ + b_ih is one matmul over the whole sequence; only the recurrence
h·W_hhᵀ loops over time. Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n). An LSTM with
``proj_size`` projects each new hidden state by W_hrᵀ (hidden_size -> proj_size); its cell state keeps hidden_size.
"""

from __future__ import annotations

import math

from ..._tensor import Tensor
from ...ops.creation import empty, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import factory
from .module import Module

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, gi: Tensor, h, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None):
    """One recurrence step given the input part ``gi`` = x·W_ihᵀ + b_ih; ``h`` is (h, c) for LSTM. Returns the new state.

    ``w_hr`` (LSTM with projections) maps the new hidden state o·tanh(c) to proj_size.
    """
    hx = h[0] if mode == "LSTM" else h
    gh = hx @ w_hh.t()
    if b_hh is not None:
        gh = gh + b_hh
    if mode == "RNN_TANH":
        return (gi + gh).tanh()
    if mode == "RNN_RELU":
        return F.relu(gi + gh)
    if mode == "LSTM":
        H = h[1].shape[-1]
        g = gi + gh
        i, f, c_in, o = g[..., :H].sigmoid(), g[..., H:2 * H].sigmoid(), g[..., 2 * H:3 * H].tanh(), g[..., 3 * H:].sigmoid()
        c = f * h[1] + i * c_in
        new_h = o * c.tanh()
        return (new_h if w_hr is None else new_h @ w_hr.t()), c
    H = hx.shape[-1]
    r = (gi[..., :H] + gh[..., :H]).sigmoid()
    z = (gi[..., H:2 * H] + gh[..., H:2 * H]).sigmoid()
    n = (gi[..., 2 * H:] + r * gh[..., 2 * H:]).tanh()
    return (1 - z) * n + z * hx


def _input_part(x: Tensor, w_ih: Tensor, b_ih: Tensor | None) -> Tensor:
    gi = x @ w_ih.t()
    return gi + b_ih if b_ih is not None else gi


class RNNBase(Module):
    """Shared parameters and the layer/direction loop of RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element being zeroed")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        kw = factory(device, dtype)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional, self.proj_size = bias, batch_first, float(dropout), bidirectional, proj_size
        dirs = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else out_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gate, size_in)), ("weight_hh", (gate, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(empty(*shape, **kw)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    def _weights(self, layer: int, direction: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda n: getattr(self, n + sfx) if self.bias or "weight" in n else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), getattr(self, "weight_hr" + sfx) if self.proj_size else None

    def _initial(self, input: Tensor, hx, batch: int):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, batch, self.hidden_size)
        h_shape = (self.num_layers * dirs, batch, self.proj_size or self.hidden_size)
        if hx is None:
            z = zeros(*h_shape, dtype=input.dtype)
            return (z, zeros(*shape, dtype=input.dtype)) if self.mode == "LSTM" else z
        if self.mode != "LSTM":
            if tuple(hx.shape) != shape:
                raise RuntimeError(f"Expected hidden size {shape}, got {list(hx.shape)}")
            return hx
        for k, (h, want) in enumerate(zip(hx, (h_shape, shape))):
            if tuple(h.shape) != want:
                raise RuntimeError(f"Expected hidden[{k}] size {want}, got {list(h.shape)}")
        return hx

    def forward(self, input: Tensor, hx=None):
        from ... import stack
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}")
        hx = self._initial(input, hx, input.shape[1])
        dirs = 2 if self.bidirectional else 1
        x, finals = input, []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                k = layer * dirs + d
                h = (hx[0][k], hx[1][k]) if self.mode == "LSTM" else hx[k]
                gi = _input_part(x, w_ih, b_ih)
                steps = range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])
                seq = [None] * x.shape[0]
                for t in steps:
                    h = _step(self.mode, gi[t], h, w_hh, b_hh, w_hr)
                    seq[t] = h[0] if self.mode == "LSTM" else h
                outs.append(stack(seq))
                finals.append(h)
            x = outs[0] if dirs == 1 else _cat_last(outs)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if self.mode == "LSTM":
            h_n = (stack([h for h, _ in finals]), stack([c for _, c in finals]))
        else:
            h_n = stack(finals)
        if not batched:
            return x.squeeze(1), (tuple(h.squeeze(1) for h in h_n) if self.mode == "LSTM" else h_n.squeeze(1))
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _cat_last(parts: list) -> Tensor:
    from ... import cat
    return cat(parts, dim=-1)


class RNN(RNNBase):
    """Elman RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu), over layers and directions.

    >>> import flambeau as torch
    >>> out, h = torch.nn.RNN(3, 5, batch_first=True)(torch.ones(2, 4, 3))
    >>> out.shape, h.shape
    (flambeau.Size([2, 4, 5]), flambeau.Size([1, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh", bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)



class LSTM(RNNBase):
    """Long short-term memory; ``forward(x, (h0, c0))`` returns ``output, (h_n, c_n)``.

    >>> import flambeau as torch
    >>> out, (h, c) = torch.nn.LSTM(3, 5, num_layers=2)(torch.ones(4, 2, 3))
    >>> out.shape, c.shape
    (flambeau.Size([4, 2, 5]), flambeau.Size([2, 2, 5]))
    >>> out, (h, c) = torch.nn.LSTM(3, 5, proj_size=2)(torch.ones(4, 2, 3))
    >>> out.shape, h.shape, c.shape
    (flambeau.Size([4, 2, 2]), flambeau.Size([1, 2, 2]), flambeau.Size([1, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
                         device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (reset, update, new gates).

    >>> import flambeau as torch
    >>> out, h = torch.nn.GRU(3, 5, bidirectional=True)(torch.ones(4, 2, 3))
    >>> out.shape, h.shape
    (flambeau.Size([4, 2, 10]), flambeau.Size([2, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step of RNN/LSTM/GRU, parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        kw = factory(device, dtype)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(empty(gate, input_size, **kw))
        self.weight_hh = Parameter(empty(gate, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(empty(gate, **kw))
            self.bias_hh = Parameter(empty(gate, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        RNNBase.reset_parameters(self)

    def forward(self, input: Tensor, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            hx = (z, zeros(input.shape[0], self.hidden_size, dtype=input.dtype)) if self._mode == "LSTM" else z
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if self._mode == "LSTM" else hx.unsqueeze(0)
        h = _step(self._mode, _input_part(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        if batched:
            return h
        return tuple(t.squeeze(0) for t in h) if self._mode == "LSTM" else h.squeeze(0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step.

    >>> import flambeau as torch
    >>> torch.nn.RNNCell(3, 4)(torch.ones(2, 3)).shape
    flambeau.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self._mode = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')``.

    >>> import flambeau as torch
    >>> h, c = torch.nn.LSTMCell(3, 4)(torch.ones(2, 3)); c.shape
    flambeau.Size([2, 4])
    """

    _mode = "LSTM"


class GRUCell(RNNCellBase):
    """One GRU step.

    >>> import flambeau as torch
    >>> torch.nn.GRUCell(3, 4)(torch.ones(2, 3)).shape
    flambeau.Size([2, 4])
    """

    _mode = "GRU"
