"""MultiheadAttention, built from ``F.linear``, ``F.softmax``, ``F.dropout`` and batched matmul.

Shapes inside: (N, L, E) -> per head (N, H, L, D) with D = E / H; weights (N, H, L, S). ``add_bias_kv`` appends the
learnt ``bias_k``/``bias_v`` as one more key/value position, ``add_zero_attn`` a zero one (per head); the masks get a
column that lets every query attend there.
"""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...ops.creation import empty, zeros
from ...ops.join import cat
from .. import functional as F
from .. import init
from ._utils import factory, param_or_none
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of MultiheadAttention (a Linear; the name is PyTorch's)."""


def _additive_mask(mask: Tensor, like: Tensor) -> Tensor:
    """A boolean mask (True = may not attend) as 0/-inf to add to scores; float masks are added as they are."""
    if mask._data.dtype == np.bool_:
        return _wrap(np.where(mask._data, -np.inf, 0.0).astype(like._data.dtype))
    return mask


def _open_column(masks: list) -> list:
    """Additive masks with one more key position, open to every query (PyTorch pads with zeros)."""
    return [None if m is None else F.pad(m, (0, 1)) for m in masks]


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads: softmax(Q·Kᵀ/√d)·V, with input and output projections.

    >>> import flambeau as torch
    >>> mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> out, w = mha(torch.ones(3, 5, 8), torch.ones(3, 5, 8), torch.ones(3, 5, 8))
    >>> out.shape, w.shape
    (flambeau.Size([3, 5, 8]), flambeau.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False,
                 add_zero_attn: bool = False, kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        kw = factory(device, dtype)
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        same = self._qkv_same_embed_dim
        param_or_none(self, "in_proj_weight", empty(3 * embed_dim, embed_dim, **kw) if same else None)
        for name, dim in (("q_proj_weight", embed_dim), ("k_proj_weight", self.kdim), ("v_proj_weight", self.vdim)):
            param_or_none(self, name, None if same else empty(embed_dim, dim, **kw))
        param_or_none(self, "in_proj_bias", empty(3 * embed_dim, **kw) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            param_or_none(self, "bias_k", empty(1, 1, embed_dim, **kw))
            param_or_none(self, "bias_v", empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self) -> tuple:
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return ws, bs

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
        batched = query.dim() == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        L, N, E = query.shape
        S = key.shape[0]
        H, D = self.num_heads, self.head_dim
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        (wq, wk, wv), (bq, bk, bv) = self._projections()
        heads = lambda x, n: x.reshape(n, N * H, D).transpose(0, 1)  # (n, N, E) -> (N·H, n, D)
        q = heads(F.linear(query, wq, bq), L) * math.sqrt(1.0 / D)
        k, v = F.linear(key, wk, bk), F.linear(value, wv, bv)
        masks = [None if m is None else _additive_mask(m, q) for m in (attn_mask, key_padding_mask)]
        if self.bias_k is not None:
            k, v = cat([k, self.bias_k.repeat(1, N, 1)]), cat([v, self.bias_v.repeat(1, N, 1)])
            masks, S = _open_column(masks), S + 1
        k, v = heads(k, S), heads(v, S)
        if self.add_zero_attn:
            k, v = cat([k, zeros(N * H, 1, D, dtype=k.dtype)], 1), cat([v, zeros(N * H, 1, D, dtype=v.dtype)], 1)
            masks, S = _open_column(masks), S + 1
        attn_mask, key_padding_mask = masks
        scores = q @ k.transpose(-2, -1)  # (N·H, L, S)
        if attn_mask is not None:
            scores = scores + attn_mask.reshape(-1, L, S)
        if key_padding_mask is not None:
            scores = (scores.reshape(N, H, L, S) + key_padding_mask.reshape(N, 1, 1, S)).reshape(N * H, L, S)
        weights = F.softmax(scores, dim=-1)
        if self.dropout > 0.0:
            weights = F.dropout(weights, p=self.dropout, training=self.training)
        out = (weights @ v).transpose(0, 1).reshape(L * N, E)
        out = self.out_proj(out).reshape(L, N, E)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, S)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights if batched else weights.squeeze(0)
