"""A Module for every loss of ``nn.functional``: one table row each (settings, buffers, the F function).

>>> import flambeau as torch
>>> torch.nn.MSELoss()(torch.tensor([1., 2.]), torch.tensor([1., 4.]))
tensor(2.)
"""

from __future__ import annotations

import warnings

from ._table import settings_module
from .module import Module

_SA, _RD, _RE = ("size_average", None), ("reduce", None), ("reduction", "mean")
_W = ("weight", None)
_TENSOR_SETTINGS = ("weight", "pos_weight")


def _legacy_reduction(size_average, reduce) -> str:
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_reduction_of(size_average, reduce)}' instead.", UserWarning, stacklevel=4)
    return _reduction_of(size_average, reduce)


def _reduction_of(size_average, reduce) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _loss_setup(self, settings: dict) -> dict:
    """Fold the legacy ``size_average``/``reduce`` into ``reduction``; register tensor settings as buffers."""
    sa, rd = settings.pop("size_average", None), settings.pop("reduce", None)
    if sa is not None or rd is not None:
        settings["reduction"] = _legacy_reduction(sa, rd)
    for name in _TENSOR_SETTINGS:
        if name in settings:
            self.register_buffer(name, settings[name])
    return settings


class _Loss(Module):
    reduction: str


#  class                      F function                            constructor parameters (PyTorch's order and defaults)
_ROWS = [
    ("L1Loss",                    "l1_loss",                           (_SA, _RD, _RE)),
    ("MSELoss",                   "mse_loss",                          (_SA, _RD, _RE)),
    ("CrossEntropyLoss",          "cross_entropy",                     (_W, _SA, ("ignore_index", -100), _RD, _RE, ("label_smoothing", 0.0))),
    ("NLLLoss",                   "nll_loss",                          (_W, _SA, ("ignore_index", -100), _RD, _RE)),
    ("BCELoss",                   "binary_cross_entropy",              (_W, _SA, _RD, _RE)),
    ("BCEWithLogitsLoss",         "binary_cross_entropy_with_logits",  (_W, _SA, _RD, _RE, ("pos_weight", None))),
    ("KLDivLoss",                 "kl_div",                            (_SA, _RD, _RE, ("log_target", False))),
    ("HuberLoss",                 "huber_loss",                        (_RE, ("delta", 1.0))),
    ("SmoothL1Loss",              "smooth_l1_loss",                    (_SA, _RD, _RE, ("beta", 1.0))),
    ("SoftMarginLoss",            "soft_margin_loss",                  (_SA, _RD, _RE)),
    ("PoissonNLLLoss",            "poisson_nll_loss",                  (("log_input", True), ("full", False), _SA, ("eps", 1e-8), _RD, _RE)),
    ("GaussianNLLLoss",           "gaussian_nll_loss",                 (("*",), ("full", False), ("eps", 1e-6), _RE)),
    ("HingeEmbeddingLoss",        "hinge_embedding_loss",              (("margin", 1.0), _SA, _RD, _RE)),
    ("MarginRankingLoss",         "margin_ranking_loss",               (("margin", 0.0), _SA, _RD, _RE)),
    ("CosineEmbeddingLoss",       "cosine_embedding_loss",             (("margin", 0.0), _SA, _RD, _RE)),
    ("TripletMarginLoss",         "triplet_margin_loss",               (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False), _SA, _RD, _RE)),
    ("MultiMarginLoss",           "multi_margin_loss",                 (("p", 1), ("margin", 1.0), _W, _SA, _RD, _RE)),
    ("MultiLabelMarginLoss",      "multilabel_margin_loss",            (_SA, _RD, _RE)),
    ("MultiLabelSoftMarginLoss",  "multilabel_soft_margin_loss",       (_W, _SA, _RD, _RE)),
]

for _name, _fn, _params in _ROWS:
    globals()[_name] = settings_module(_name, _fn, _params, None, f"The loss ``F.{_fn}`` as a Module (``reduction`` 'mean', 'sum' or 'none').",
                                       base=_Loss, setup=_loss_setup, module=__name__)

__all__ = [r[0] for r in _ROWS]
