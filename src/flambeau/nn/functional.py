"""``torch.nn.functional``: PyTorch's functional neural-network API.

Every op lives in :mod:`flambeau.ops.nn`; ``pad`` is the shape op of :mod:`flambeau.ops.shape`.

>>> import flambeau as torch
>>> import flambeau.nn.functional as F
>>> F.relu(torch.tensor([-1., 1.]))
tensor([0., 1.])
"""

from .._missing import module_getattr
from ..ops.nn import *  # noqa: F403
from ..ops.nn import __all__ as _nn_all
from ..ops.shape import pad

__all__ = [*_nn_all, "pad"]

__getattr__ = module_getattr("nn.functional", "flambeau.nn.functional")  # a PyTorch name flambeau lacks: NotImplementedError
