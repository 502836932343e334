"""``flambeau.optim``: optimizers (one update loop each, on NumPy arrays in place) and ``lr_scheduler``."""

from .._missing import module_getattr
from . import lr_scheduler
from .adam import Adam, AdamW
from .adaptive import Adadelta, Adagrad, Adamax, NAdam, RAdam, RMSprop
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS", "lr_scheduler"]

__getattr__ = module_getattr("optim", "flambeau.optim")  # a PyTorch name flambeau lacks: NotImplementedError
