"""``flambeau.special``: PyTorch's ``torch.special`` namespace. The ops (and their derivatives) live in ``ops/``.

    >>> import flambeau as torch
    >>> round(torch.special.gammaln(torch.tensor(4.)).item(), 6)  # log 3!
    1.791759
"""

from ._missing import module_getattr
from .ops.elementwise import digamma, erf, erfc, erfinv, exp2, expm1, i0, i0e, i1, i1e, lgamma, log1p, logit, mvlgamma, polygamma, sinc, xlogy
from .ops.elementwise import round as round
from .ops.elementwise import sigmoid as expit
from .ops.reduce import logsumexp

gammaln = lgamma
psi = digamma
multigammaln = mvlgamma

__all__ = ["gammaln", "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "erf", "erfc", "erfinv", "expit", "exp2",
           "expm1", "log1p", "logit", "sinc", "xlogy", "round", "logsumexp"]

__getattr__ = module_getattr("special", "flambeau.special")  # a PyTorch name flambeau lacks: NotImplementedError
