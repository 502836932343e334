"""Indexing rows."""

from . import B, I, R, Row

ROWS = [
    Row("getitem_basic", lambda t, a: a[1:, None, 0], (R(3, 4),), covers=("__getitem__",)),
    Row("getitem_int_tensor", lambda t, a, i: a[i], (R(3, 4), I(5)), covers=("__getitem__",)),
    Row("getitem_mask", lambda t, a, m: a[m], (R(3, 4), B(3, 4)), covers=("__getitem__",)),
    Row("where", lambda t, c, a, b: t.where(c, a, b), (B(3, 4), R(3, 4), R(4))),
]
