"""Shape, view, join and padding rows (``flambeau.ops.shape`` and ``flambeau.ops.join``)."""

from . import R, Row


def F(t):
    """``nn.functional`` of the library (flambeau's ``pad`` lives in ``ops.shape``)."""
    nn = getattr(t, "nn", None)
    if nn is not None and hasattr(nn, "functional"):
        return nn.functional
    from flambeau.ops import shape
    return shape


ROWS = [
    Row("reshape", lambda t, a: t.reshape(a, (4, 3)), (R(3, 4),)),
    Row("reshape_copy", lambda t, a: a.t().reshape(-1), (R(3, 4),), covers=("reshape",)),
    Row("view", lambda t, a: a.view(-1), (R(3, 4),)),
    Row("view_as", lambda t, a, b: a.view_as(b), (R(3, 4), R(2, 6, grad=False)), covers=("view_as", "reshape_as")),
    Row("transpose", lambda t, a: t.transpose(a, 0, 1), (R(3, 4),)),
    Row("swapaxes", lambda t, a: t.swapaxes(a, 0, 2), (R(2, 3, 4),), covers=("swapdims",)),
    Row("contiguous", lambda t, a: a.t().contiguous(), (R(3, 4),)),
    Row("t", lambda t, a: t.t(a), (R(3, 4),)),
    Row("T", lambda t, a: a.T, (R(3, 4),), covers=()),
    Row("mT", lambda t, a: a.mT, (R(2, 3, 4),), covers=()),
    Row("permute", lambda t, a: t.permute(a, (2, 0, 1)), (R(2, 3, 4),)),
    Row("movedim", lambda t, a: t.movedim(a, (0, 1), (2, 0)), (R(2, 3, 4),), covers=("movedim", "moveaxis")),
    Row("unsqueeze", lambda t, a: t.unsqueeze(a, 1), (R(3, 4),)),
    Row("squeeze", lambda t, a: t.squeeze(a), (R(3, 1, 4),)),
    Row("squeeze_dims", lambda t, a: t.squeeze(a, (0, 2)), (R(1, 3, 1, 4),), covers=("squeeze",)),
    Row("expand", lambda t, a: a.expand(2, 3, 4), (R(3, 1),)),
    Row("expand_as", lambda t, a, b: a.expand_as(b), (R(3, 1), R(2, 3, 4, grad=False)), covers=()),
    Row("broadcast_to", lambda t, a: t.broadcast_to(a, (2, 3, 4)), (R(1, 4),)),
    Row("broadcast_to_shapes", lambda t, a: t.broadcast_to(a, t.broadcast_shapes((3, 1), (4,))), (R(1, 4),), covers=("broadcast_shapes",)),
    Row("broadcast_tensors", lambda t, a, b: t.broadcast_tensors(a, b), (R(3, 1), R(4)), broadcast=True),
    Row("flatten", lambda t, a: t.flatten(a), (R(2, 3, 4),)),
    Row("flatten_dims", lambda t, a: t.flatten(a, 1), (R(2, 3, 4),), covers=("flatten",)),
    Row("unflatten", lambda t, a: t.unflatten(a, 1, (2, -1)), (R(3, 4),)),
    Row("repeat", lambda t, a: a.repeat(2, 1, 3), (R(3, 2),), covers=()),
    Row("tile", lambda t, a: t.tile(a, (2,)), (R(3, 2),)),
    Row("repeat_interleave", lambda t, a: t.repeat_interleave(a, 2, dim=1), (R(3, 2),)),
    Row("repeat_interleave_tensor", lambda t, a: a.repeat_interleave(t.tensor([1, 0, 3])), (R(3),), covers=("repeat_interleave",)),
    Row("flip", lambda t, a: t.flip(a, (0, 2)), (R(2, 3, 4),)),
    Row("fliplr", lambda t, a: t.fliplr(a), (R(2, 3),)),
    Row("flipud", lambda t, a: t.flipud(a), (R(2, 3),)),
    Row("roll", lambda t, a: t.roll(a, (1, -2), (0, 1)), (R(3, 4),)),
    Row("roll_flat", lambda t, a: t.roll(a, 5), (R(3, 4),), covers=("roll",)),
    Row("narrow", lambda t, a: t.narrow(a, 1, 1, 2), (R(3, 4),)),
    Row("rot90", lambda t, a: t.rot90(a, 1, (0, 2)), (R(2, 3, 4),)),
    Row("rot90_back", lambda t, a: a.rot90(-1), (R(2, 3),), covers=("rot90",)),
    Row("ravel", lambda t, a: t.ravel(a.t()), (R(3, 4),)),
    Row("atleast_1d", lambda t, a: t.atleast_1d(a), (R(),)),
    Row("atleast_2d", lambda t, a, b: t.atleast_2d(a, b), (R(3), R(2, 2))),
    Row("atleast_3d", lambda t, a, b: t.atleast_3d([a, b]), (R(3), R(2, 2))),
    Row("meshgrid", lambda t, a, b, c: t.meshgrid(a, b, c, indexing="ij"), (R(2), R(3), R()), covers=("meshgrid",)),
    Row("meshgrid_xy", lambda t, a, b: t.meshgrid(a, b, indexing="xy"), (R(2), R(3)), covers=("meshgrid",)),
    Row("unfold", lambda t, a: a.unfold(1, 3, 2), (R(2, 7),), covers=()),
    Row("as_strided", lambda t, a: t.as_strided(a, (2, 2), (1, 3), 1), (R(3, 4),)),
    Row("select", lambda t, a: t.select(a, 1, -1), (R(3, 4),)),
    Row("clone", lambda t, a: t.clone(a), (R(3),)),
    Row("pad_constant", lambda t, a: F(t).pad(a, (1, 2, 0, 1), value=0.5), (R(3, 4),), covers=("pad",)),
    Row("pad_crop", lambda t, a: F(t).pad(a, (-1, 2)), (R(3, 4),), covers=("pad",)),
    Row("pad_reflect1d", lambda t, a: F(t).pad(a, (2, 1), mode="reflect"), (R(2, 3, 4),), covers=("pad",)),
    Row("pad_reflect2d", lambda t, a: F(t).pad(a, (1, 2, 2, 1), mode="reflect"), (R(2, 3, 4),), covers=("pad",)),
    Row("pad_replicate1d", lambda t, a: F(t).pad(a, (2, 3), mode="replicate"), (R(2, 3, 4),), covers=("pad",)),
    Row("pad_circular1d", lambda t, a: F(t).pad(a, (3, 1), mode="circular"), (R(2, 3, 3),), covers=("pad",)),
    Row("pad_circular2d", lambda t, a: F(t).pad(a, (1, 2, 2, 1), mode="circular"), (R(1, 2, 3, 4),), covers=("pad",)),
    Row("pad_replicate2d", lambda t, a: F(t).pad(a, (1, 0, 2, 3), mode="replicate"), (R(1, 2, 3, 4),), covers=("pad",)),
    # join.py
    Row("cat", lambda t, a, b: t.cat([a, b], 1), (R(3, 2), R(3, 4)), covers=("cat", "concat", "concatenate")),
    Row("cat_three", lambda t, a, b, c: t.cat((a, b, c)), (R(1, 3), R(2, 3), R(1, 3, grad=False)), covers=("cat",)),
    Row("stack", lambda t, a, b: t.stack([a, b], -1), (R(3, 2), R(3, 2))),
    Row("hstack", lambda t, a, b: t.hstack([a, b]), (R(3, 2), R(3, 1))),
    Row("vstack", lambda t, a, b: t.vstack([a, b]), (R(3), R(2, 3)), covers=("vstack", "row_stack")),
    Row("dstack", lambda t, a, b: t.dstack([a, b]), (R(3), R(1, 3))),
    Row("column_stack", lambda t, a, b: t.column_stack([a, b]), (R(3), R(3, 2))),
    Row("tensor_split", lambda t, a: t.tensor_split(a, 3, 1), (R(2, 7),)),
    Row("tensor_split_indices", lambda t, a: a.tensor_split([1, 5, 3]), (R(6, 2),), covers=("tensor_split",)),
    Row("hsplit", lambda t, a: t.hsplit(a, 2), (R(2, 4),)),
    Row("vsplit", lambda t, a: t.vsplit(a, [1]), (R(3, 2),)),
    Row("dsplit", lambda t, a: t.dsplit(a, 3), (R(1, 2, 3),)),
    Row("split", lambda t, a: t.split(a, 2, 1), (R(3, 5),)),
    Row("split_sizes", lambda t, a: a.split([1, 3]), (R(4, 2),), covers=("split",)),
    Row("split_some_used", lambda t, a: a.split(2)[1] * 2, (R(5, 2),), covers=("split",)),
    Row("chunk", lambda t, a: t.chunk(a, 3, 1), (R(2, 7),)),
    Row("unbind", lambda t, a: t.unbind(a, 1), (R(3, 2),)),
    Row("iter", lambda t, a: tuple(a), (R(3, 2),), covers=("__iter__",)),
]
