"""Linear algebra rows."""

from . import R, Row

ROWS = [
    Row("matmul", lambda t, a, b: t.matmul(a, b), (R(3, 4), R(4, 5)), covers=("matmul", "mm")),
    Row("matmul_batched", lambda t, a, b: a @ b, (R(2, 3, 4), R(4, 5)), covers=("matmul",)),
    Row("matmul_vec", lambda t, a, b: a @ b, (R(4), R(4, 5)), covers=("matmul",)),
    Row("dot", lambda t, a, b: t.dot(a, b), (R(4), R(4))),
    Row("mv", lambda t, a, b: t.mv(a, b), (R(3, 4), R(4))),
    Row("bmm", lambda t, a, b: t.bmm(a, b), (R(2, 3, 4), R(2, 4, 5))),
    Row("outer", lambda t, a, b: t.outer(a, b), (R(3), R(4))),
]
