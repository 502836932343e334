"""``flambeau.nn``: Module, Parameter, layers, losses, ``functional``, ``init`` and ``utils``.

>>> import flambeau as torch
>>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
>>> net(torch.ones(3, 2)).shape
flambeau.Size([3, 1])
"""

from .._missing import module_getattr
from . import functional, init, utils
from .modules import *
from .parameter import Parameter

__getattr__ = module_getattr("nn", "flambeau.nn")  # a PyTorch name flambeau lacks: NotImplementedError
