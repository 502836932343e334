"""A Module for every activation of ``nn.functional``; the simple ones are one table row each.

>>> import flambeau as torch
>>> torch.nn.LeakyReLU(0.2)
LeakyReLU(negative_slope=0.2)
>>> torch.nn.Softmax(dim=1)(torch.zeros(1, 2))
tensor([[0.5000, 0.5000]])
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._table import functional, settings_module
from ._utils import factory
from .module import Module

_ip = lambda s: ", inplace=True" if s.inplace else ""  # noqa: E731
_only_ip = lambda s: "inplace=True" if s.inplace else ""  # noqa: E731
_dim = lambda s: f"dim={s.dim}"  # noqa: E731
_I = ("inplace", False)
_sigmoid = lambda input: input.sigmoid()  # noqa: E731  (nn.Sigmoid and nn.Tanh call the tensor op, as in PyTorch)
_tanh = lambda input: input.tanh()  # noqa: E731

#  class          F function     constructor parameters                        extra_repr
_ROWS = [
    ("ReLU",        "relu",        (_I,),                                        _only_ip),
    ("ReLU6",       "relu6",       (_I,),                                        _only_ip),
    ("ELU",         "elu",         (("alpha", 1.0), _I),                         lambda s: f"alpha={s.alpha}{_ip(s)}"),
    ("CELU",        "celu",        (("alpha", 1.0), _I),                         lambda s: f"alpha={s.alpha}{_ip(s)}"),
    ("SELU",        "selu",        (_I,),                                        _only_ip),
    ("GELU",        "gelu",        (("approximate", "none"),),                   lambda s: f"approximate={s.approximate!r}"),
    ("SiLU",        "silu",        (_I,),                                        _only_ip),
    ("Mish",        "mish",        (_I,),                                        _only_ip),
    ("LeakyReLU",   "leaky_relu",  (("negative_slope", 0.01), _I),               lambda s: f"negative_slope={s.negative_slope}{_ip(s)}"),
    ("RReLU",       "rrelu",       (("lower", 1.0 / 8), ("upper", 1.0 / 3), _I), lambda s: f"lower={s.lower}, upper={s.upper}{_ip(s)}"),
    ("Hardtanh",    "hardtanh",    (("min_val", -1.0), ("max_val", 1.0), _I),    lambda s: f"min_val={s.min_val}, max_val={s.max_val}{_ip(s)}"),
    ("Hardsigmoid", "hardsigmoid", (_I,),                                        _only_ip),
    ("Hardswish",   "hardswish",   (_I,),                                        _only_ip),
    ("Threshold",   "threshold",   (("threshold",), ("value",), _I),             lambda s: f"threshold={s.threshold}, value={s.value}{_ip(s)}"),
    ("Sigmoid",     _sigmoid,      (),                                           None),
    ("Tanh",        _tanh,         (),                                           None),
    ("LogSigmoid",  "logsigmoid",  (),                                           None),
    ("Tanhshrink",  "tanhshrink",  (),                                           None),
    ("Softsign",    "softsign",    (),                                           None),
    ("Softplus",    "softplus",    (("beta", 1.0), ("threshold", 20.0)),         lambda s: f"beta={s.beta}, threshold={s.threshold}"),
    ("Softshrink",  "softshrink",  (("lambd", 0.5),),                            lambda s: str(s.lambd)),
    ("Hardshrink",  "hardshrink",  (("lambd", 0.5),),                            lambda s: str(s.lambd)),
    ("GLU",         "glu",         (("dim", -1),),                               _dim),
    ("Softmax",     "softmax",     (("dim", None),),                             _dim),
    ("LogSoftmax",  "log_softmax", (("dim", None),),                             _dim),
    ("Softmin",     "softmin",     (("dim", None),),                             _dim),
]

_CALL = {"RReLU": lambda self: {"training": self.training}}

for _name, _fn, _params, _repr in _ROWS:
    globals()[_name] = settings_module(_name, _fn, _params, _repr, f"Applies ``{_name.lower()}`` element-wise (or along ``dim``).",
                                       call=_CALL.get(_name), module=__name__)


class Softmax2d(Module):
    """Softmax over the channel dim of (N, C, H, W) or (C, H, W) inputs.

    >>> import flambeau as torch
    >>> torch.nn.Softmax2d()(torch.zeros(1, 2, 1, 1)).flatten()
    tensor([0.5000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3)


class PReLU(Module):
    """LeakyReLU with a learned slope (one, or one per channel), initialised to ``init``.

    >>> import flambeau as torch
    >>> torch.nn.PReLU()
    PReLU(num_parameters=1)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(empty(num_parameters, **factory(device, dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return functional("prelu", "PReLU")(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


__all__ = [r[0] for r in _ROWS] + ["Softmax2d", "PReLU", "MultiheadAttention"]

from .attention import MultiheadAttention  # noqa: E402  (PyTorch keeps it in activation)
