"""flambeau: PyTorch's autograd in pure Python on NumPy.

Use it as a drop-in::

    >>> import flambeau as torch
    >>> x = torch.tensor([1., 2., 3.], requires_grad=True)
    >>> ((x + 2) ** 2 * 3).mean().backward()
    >>> x.grad
    tensor([ 6.,  8., 10.])

This module only re-exports; each name lives in the module that defines it.
"""

__version__ = "0.1.0"

import warnings as _warnings

# Float errors give inf/nan silently, as PyTorch's do: NumPy's RuntimeWarnings raised from flambeau's
# own code are ignored (user code keeps NumPy's settings; no per-op cost).
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"flambeau(\.|$)")

# Tensor first: the autograd package builds on it
from . import _tensor
from ._tensor import Size, Tensor, device, from_numpy, is_tensor, numel

# isort: split
from . import _random as random
from . import autograd, return_types
from ._dtype import *
from ._dtype import bool, dtype, finfo, float, iinfo, int
from ._messages import *
from ._random import *
from ._settings import *
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .autograd.grad_mode import *
from .ops.creation import *
from .ops.elementwise import *
from .ops.indexing import *
from .ops.join import *
from .ops.linalg import *
from .ops.nn import log_softmax, pixel_shuffle, pixel_unshuffle, rms_norm, softmax  # also top-level in PyTorch
from .ops.reduce import *
from .ops.shape import *

# torch.detach(x) is x.detach(), and so on
detach, is_floating_point, is_complex, is_nonzero = Tensor.detach, Tensor.is_floating_point, Tensor.is_complex, Tensor.is_nonzero

# a top-level op that is also a Tensor method dispatches to subclasses' overrides (vmap batches it)
for _name, _fn in list(globals().items()):
    if callable(_fn) and not isinstance(_fn, type) and Tensor.__dict__.get(_name) is _fn:
        globals()[_name] = _tensor.dispatching(_name, _fn)
for _name in random.TENSOR_METHODS:  # uniform_, normal_, bernoulli_ ... as Tensor methods
    setattr(Tensor, _name, getattr(random, _name))
del _name, _fn

# isort: split
from . import _missing, linalg, special

_missing.install_tensor_placeholders(Tensor)  # x.stft and the like: NotImplementedError naming them

# Packages a script may never touch load on first use: ``import flambeau`` stays close to NumPy's own import time.
_LAZY = {"nn": "nn", "optim": "optim", "utils": "utils", "func": "func", "viz": "viz", "save": "serialization", "load": "serialization",
         "cuda": "cuda", "backends": "backends"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        from ._missing import missing
        raise missing("", name, f"module 'flambeau' has no attribute {name!r}")
    from importlib import import_module
    loaded = import_module(f".{module}", __name__)
    return loaded if module == name else getattr(loaded, name)


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
