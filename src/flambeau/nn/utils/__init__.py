"""``nn.utils``: gradient clipping and parameter/vector conversion."""

from ..._missing import module_getattr
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__getattr__ = module_getattr("nn.utils", "flambeau.nn.utils")  # a PyTorch name flambeau lacks: NotImplementedError
