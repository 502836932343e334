"""``torch.nn.functional``: PyTorch's functional neural-network API; every op lives in :mod:`flambeau.ops.nn`.

>>> import flambeau as torch
>>> import flambeau.nn.functional as F
>>> F.relu(torch.tensor([-1., 1.]))
tensor([0., 1.])
"""

from ..ops.nn import *  # noqa: F403
from ..ops.nn import __all__  # noqa: F401
