"""The recorded graph as a public API: ``Node``, and hooks on what nodes save for backward.

``saved_tensors_hooks(pack, unpack)``: while active, every tensor an op (or a custom Function's
``save_for_backward``) saves is stored as ``pack(tensor)``, and backward uses ``unpack(packed)``.

>>> import flambeau as torch
>>> x = torch.ones(3, requires_grad=True)
>>> seen = []
>>> with torch.autograd.graph.saved_tensors_hooks(lambda t: seen.append(t.shape) or t, lambda t: t):
...     y = (x * x).sum()
>>> seen
[flambeau.Size([3]), flambeau.Size([3])]
"""

from __future__ import annotations

from .function import Node
from .grad_mode import STATE, sync_extras

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu"]


class saved_tensors_hooks:
    """Context manager: pack every saved tensor with ``pack_hook`` and restore it with ``unpack_hook`` in backward.

    ``unpack_hook(pack_hook(t))`` must return a tensor equal to ``t`` (same shape and values).
    Hooks nest; the innermost pair applies.
    """

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        STATE.saved_hooks = STATE.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        sync_extras()
        return self

    def __exit__(self, *exc) -> None:
        STATE.saved_hooks = STATE.saved_hooks[:-1]
        sync_extras()


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors on the CPU (with ``pin_memory`` ignored): flambeau's tensors always are, so the hooks copy nothing."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: t, lambda t: t)
