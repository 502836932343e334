"""Indexing rows: ``t[key]``, ``t[key] = v``, gather/scatter, index_*, masked_*, take, nonzero, where."""

from . import A, B, I, R, Row


def _set(key):
    def fn(t, a, v):
        y = a * 1
        y[key(t)] = v
        return y
    return fn


def _ix(t, *rows):
    return t.tensor(list(rows))


ROWS = [
    Row("getitem_basic", lambda t, a: a[1:, None, 0], (R(3, 4),), covers=("__getitem__",)),
    Row("getitem_ellipsis", lambda t, a: a[..., ::2], (R(2, 3, 4),), covers=("__getitem__",)),
    Row("getitem_int_tensor", lambda t, a, i: a[i], (R(3, 4), I(5)), covers=("__getitem__",)),
    Row("getitem_0d_tensor", lambda t, a: a[t.tensor(1), t.tensor([0, 0])], (R(3, 4),), covers=("__getitem__",)),
    Row("getitem_lists", lambda t, a: a[[0, 0, 2], :, [1, 1, 3]], (R(3, 2, 4),), covers=("__getitem__",)),
    Row("getitem_mask", lambda t, a, m: a[m], (R(3, 4), B(3, 4)), covers=("__getitem__",)),
    Row("getitem_mask_dim", lambda t, a: a[:, t.tensor([True, False, True, True])], (R(3, 4),), covers=("__getitem__",)),
    Row("setitem_slice", _set(lambda t: (slice(None), 1)), (R(3, 4), R(3)), covers=("__setitem__",)),
    Row("setitem_index", _set(lambda t: t.tensor([2, 0])), (R(3, 4), R(4)), covers=("__setitem__",)),
    Row("setitem_scalar", lambda t, a: _set(lambda t: 1)(t, a, 2.5), (R(3, 4),), covers=("__setitem__",)),
    Row("index_select", lambda t, a: t.index_select(a, 1, t.tensor([3, 0, 3])), (R(3, 4),)),
    Row("gather", lambda t, a: t.gather(a, 1, _ix(t, [0, 0], [3, 1], [2, 2])), (R(3, 4),)),
    Row("scatter", lambda t, a, s: t.scatter(a, 0, _ix(t, [0, 1, 2], [2, 0, 1]), s), (R(3, 3), R(2, 3))),
    Row("scatter_value", lambda t, a: a.scatter(1, _ix(t, [0], [2], [1]), -1.5), (R(3, 3),), covers=("scatter",)),
    Row("scatter_add", lambda t, a, s: t.scatter_add(a, 0, _ix(t, [0, 1, 0], [0, 1, 0]), s), (R(3, 3), R(2, 3))),
    *(Row(f"scatter_reduce_{r}{'' if inc else '_noself'}",
          lambda t, a, s, r=r, inc=inc: t.scatter_reduce(a, 0, _ix(t, [0, 1, 0], [0, 1, 0]), s, r, include_self=inc),
          (R(3, 3) if r != "prod" else A(3, 3), R(2, 3) if r != "prod" else A(2, 3)), covers=("scatter_reduce",))
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)),
    Row("index_add", lambda t, a, s: t.index_add(a, 0, t.tensor([2, 0, 2]), s, alpha=1.5), (R(3, 2), R(3, 2))),
    Row("index_copy", lambda t, a, s: t.index_copy(a, 1, t.tensor([2, 0]), s), (R(3, 4), R(3, 2))),
    Row("index_fill", lambda t, a: t.index_fill(a, 1, t.tensor([2, 0]), -2.0), (R(3, 4),)),
    Row("index_fill_tensor", lambda t, a, v: a.index_fill(1, t.tensor([1]), v), (R(3, 4), R()), covers=("index_fill",)),
    Row("index_put", lambda t, a, v: t.index_put(a, (t.tensor([0, 2]), t.tensor([1, 3])), v), (R(3, 4), R(2))),
    Row("index_put_accumulate", lambda t, a, v: a.index_put((t.tensor([0, 0, 2]),), v, accumulate=True), (R(3, 4), R(4)),
        covers=("index_put",)),
    Row("masked_fill", lambda t, a, m: t.masked_fill(a, m, 0.5), (R(3, 4), B(4))),
    Row("masked_fill_tensor", lambda t, a, m, v: a.masked_fill(m, v), (R(3, 4), B(3, 4), R()), covers=("masked_fill",)),
    Row("masked_select", lambda t, a, m: t.masked_select(a, m), (R(3, 4), B(3, 1))),
    Row("masked_scatter", lambda t, a, m, s: t.masked_scatter(a, m, s), (R(3, 4), B(3, 4), R(13))),
    Row("take", lambda t, a: t.take(a, t.tensor([[0, 11], [-1, 0]])), (R(3, 4),)),
    Row("take_along_dim", lambda t, a: t.take_along_dim(a, t.tensor([[0, 2, 1, 1]]), 0), (R(3, 4),)),
    Row("take_along_dim_flat", lambda t, a: t.take_along_dim(a, t.tensor([5, 0])), (R(3, 4),), covers=("take_along_dim",)),
    Row("put", lambda t, a, s: t.put(a, t.tensor([[0, 11], [-2, 5]]), s), (R(3, 4), R(2, 2))),
    Row("put_accumulate", lambda t, a, s: a.put(t.tensor([0, 0, -1]), s, accumulate=True), (R(3, 4), R(3)), covers=("put",)),
    Row("put_", lambda t, a, s: (a * 1).put_(t.tensor([1, 2]), s), (R(3, 4), R(2)), covers=("put",)),
    Row("searchsorted", lambda t, a: t.searchsorted(t.tensor([-1., 0., 1.], dtype=a.dtype), a, right=True), (R(3, 4),), grad=False),
    Row("bucketize", lambda t, a: t.bucketize(a, t.tensor([-1., 0., 1.], dtype=a.dtype)), (R(3, 4),), grad=False),
    Row("nonzero", lambda t, a: t.nonzero(a > 0), (R(3, 4),), grad=False, covers=("nonzero", "argwhere")),
    Row("nonzero_tuple", lambda t, a: t.nonzero(a > 0, as_tuple=True), (R(3, 4),), grad=False, covers=("nonzero",)),
    Row("argwhere", lambda t, a: t.argwhere(a), (I(3, 4),), grad=False),
    Row("where_indices", lambda t, a: t.where(a > 0), (R(3, 4),), grad=False, covers=("where",)),
    Row("where", lambda t, c, a, b: t.where(c, a, b), (B(3, 4), R(3, 4), R(4))),
    # in place, through ``inplace``: the base's gradient is g zeroed where it was overwritten
    Row("masked_fill_", lambda t, a, m: (a * 1).masked_fill_(m, 1.0), (R(3, 4), B(3, 4)), covers=("masked_fill",)),
    Row("index_add_", lambda t, a, s: (a * 1).index_add_(1, t.tensor([0, 0]), s), (R(3, 4), R(3, 2)), covers=("index_add",)),
    Row("scatter_", lambda t, a, s: (a * 1).scatter_(1, _ix(t, [1], [0], [2]), s), (R(3, 4), R(3, 1)), covers=("scatter",)),
    Row("index_put_", lambda t, a, v: (a * 1).index_put_((t.tensor([1]),), v), (R(3, 4), R(4)), covers=("index_put",)),
]
