"""Reduction rows."""

from . import R, Row

ROWS = [
    Row("sum", lambda t, a: t.sum(a), (R(3, 4),)),
    Row("sum_dim", lambda t, a: t.sum(a, dim=1, keepdim=True), (R(3, 4),), covers=("sum",)),
    Row("sum_dims", lambda t, a: a.sum((0, 2)), (R(2, 3, 4),), covers=("sum",)),
    Row("mean", lambda t, a: t.mean(a), (R(3, 4),)),
    Row("mean_dim", lambda t, a: t.mean(a, -1), (R(3, 4),), covers=("mean",)),
]
