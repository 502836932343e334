"""Shape and view rows."""

from . import R, Row

ROWS = [
    Row("reshape", lambda t, a: t.reshape(a, (4, 3)), (R(3, 4),)),
    Row("view", lambda t, a: a.view(-1), (R(3, 4),)),
    Row("transpose", lambda t, a: t.transpose(a, 0, 1), (R(3, 4),)),
    Row("swapaxes", lambda t, a: t.swapaxes(a, 0, 2), (R(2, 3, 4),), covers=("swapdims",)),
    Row("contiguous", lambda t, a: a.t().contiguous(), (R(3, 4),)),
    Row("t", lambda t, a: t.t(a), (R(3, 4),)),
    Row("T", lambda t, a: a.T, (R(3, 4),), covers=()),
    Row("permute", lambda t, a: t.permute(a, (2, 0, 1)), (R(2, 3, 4),)),
    Row("unsqueeze", lambda t, a: t.unsqueeze(a, 1), (R(3, 4),)),
    Row("squeeze", lambda t, a: t.squeeze(a), (R(3, 1, 4),)),
    Row("expand", lambda t, a: a.expand(2, 3, 4), (R(3, 1),)),
    Row("flatten", lambda t, a: t.flatten(a), (R(2, 3, 4),)),
    Row("clone", lambda t, a: t.clone(a), (R(3),)),
]
