"""``torch.nn``: the functional interface (modules come with ``nn.Module``)."""

from . import functional
