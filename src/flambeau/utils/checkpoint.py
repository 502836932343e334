"""Activation checkpointing: trade compute for memory by recomputing a segment's forward during backward.

``checkpoint(fn, *args)`` runs ``fn`` normally, recording the graph, but keeps none of the tensors
its ops save for backward (a ``saved_tensors_hooks`` pack hook swaps each for its position). The
first time backward needs one of them, ``fn`` is run again on the same inputs (with the same
random state when flambeau has one) and the recomputed tensors are handed out instead, each
dropped once used, so only one segment's activations are alive at a time.

>>> import flambeau as torch
>>> from flambeau.utils.checkpoint import checkpoint
>>> x = torch.tensor([0.5, 1.0], requires_grad=True)
>>> checkpoint(lambda t: (t.exp() * t).sum(), x, use_reentrant=False).backward()
>>> x.grad
tensor([2.4731, 5.4366])
"""

from __future__ import annotations

import flambeau

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Recomputation:
    """The saved tensors of one checkpointed call, recomputed on first demand."""

    def __init__(self, fn, args: tuple, kwargs: dict, rng_state) -> None:
        self.fn, self.args, self.kwargs, self.rng_state = fn, args, kwargs, rng_state
        self.count = 0
        self.values: list | None = None

    def pack(self, t: Tensor) -> int:
        self.count += 1
        return self.count - 1

    def unpack(self, index: int) -> Tensor:
        if self.values is None or index >= len(self.values) or self.values[index] is None:
            self._recompute()  # first use, or a second backward through a retained graph
        if index >= len(self.values):
            raise RuntimeError("checkpoint: the recomputed forward saved fewer tensors than the original one: "
                               "the checkpointed function must run the same operations each time")
        t = self.values[index]
        self.values[index] = None  # handed out once: backward frees it as soon as the node has used it
        return t

    def _recompute(self) -> None:
        values: list = []
        args = tuple(a.detach().requires_grad_(a._rg) if isinstance(a, Tensor) else a for a in self.args)
        if self.rng_state is not None:
            saved_state = flambeau.get_rng_state()
            flambeau.set_rng_state(self.rng_state)
        try:
            with enable_grad(), saved_tensors_hooks(lambda t: values.append(t) or len(values) - 1, lambda i: values[i]):
                self.fn(*args, **self.kwargs)
        finally:
            if self.rng_state is not None:
                flambeau.set_rng_state(saved_state)
        self.values = values


def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, keeping no intermediate activations: backward recomputes them.

    Gradients flow to the inputs and to every tensor ``function`` uses (parameters included);
    the result is identical to calling ``function`` directly. Both ``use_reentrant`` settings
    use this (non-reentrant) mechanism.
    """
    if context_fn is not None:
        raise NotImplementedError("checkpoint(context_fn=...) is not supported by flambeau")
    get_state = getattr(flambeau, "get_rng_state", None)
    rng_state = get_state() if preserve_rng_state and get_state is not None else None
    rec = _Recomputation(function, args, kwargs, rng_state)
    with saved_tensors_hooks(rec.pack, rec.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in ``segments`` checkpointed chunks; the last chunk runs normally."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = max(len(functions) // segments, 1)

    def run(chunk):
        def forward(x):
            for f in chunk:
                x = f(x)
            return x
        return forward
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(functions[start:end]), input, use_reentrant=use_reentrant, **kwargs)
    return run(functions[end:])(input)
