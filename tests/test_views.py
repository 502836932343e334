"""Views: shared memory with the base, shared version counters, strides, and in-place changes of views in the graph
(PyTorch's CopySlices re-basing), against PyTorch; grad_fn names and error messages of shape and indexing ops."""

import importlib
import os

import numpy as np
import pytest

import flambeau as fl
from autograd_helpers import error_of
from flambeau.ops import shape as fl_shape

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")


def F(lib):
    return torch.nn.functional if lib is torch else fl_shape


def name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


# ---- memory sharing ------------------------------------------------------------------------------

VIEWS = ["b.view(12)", "b.view(2, 6)[1]", "b.reshape(3, 4)", "b.t()", "b.T", "b.mT", "b.transpose(0, 1)", "b.permute(1, 0)",
         "b.unsqueeze(1)", "b.unsqueeze(0).squeeze(0)", "b.flatten()", "b.unflatten(1, (3, 1))", "b.movedim(0, 1)", "b[1]",
         "b[:, 1:]", "b[1:3, ::2]", "b[..., 0]", "b.narrow(1, 1, 2)", "b.split(2)[1]", "b.chunk(3, 1)[2]", "b.unbind(1)[1]",
         "b.swapaxes(0, 1)", "b.select(1, -1)", "b.view(2, 2, 3)[1].t()[2]", "list(b)[3]"]


@pytest.mark.parametrize("expr", VIEWS)
def test_view_shares_memory_and_version(expr):
    b = fl.tensor(np.arange(12.).reshape(4, 3))
    v = eval(expr)
    tb = torch.tensor(np.arange(12.).reshape(4, 3))
    tv = eval(expr, {"b": tb})
    assert v._base is b and tv._base is tb
    assert v.stride() == tv.stride() and v.storage_offset() == tv.storage_offset() and v.is_contiguous() == tv.is_contiguous()
    v.mul_(10)          # a change through the view shows in the base ...
    tv.mul_(10)
    np.testing.assert_array_equal(b.numpy(), tb.numpy())
    assert b._version[0] == v._version[0] == tb._version == tv._version == 1
    b.add_(1)           # ... and a change of the base shows in the view
    tb.add_(1)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    assert v._version[0] == tv._version == 2


@pytest.mark.parametrize("expr", ["b.flip(0)", "b.roll(1)", "b.repeat(2, 1)", "b.t().reshape(12)", "b[[0, 1]]", "b[b > 3]",
                                  "fl.cat([b, b])", "fl.stack([b])", "b.t().contiguous()", "b.clone()", "b.gather(0, fl.tensor([[0]]))"])
def test_copies_do_not_share(expr):
    b = fl.tensor(np.arange(12.).reshape(4, 3))
    c = eval(expr)
    assert c._base is None
    c.mul_(0)
    np.testing.assert_array_equal(b.numpy(), np.arange(12.).reshape(4, 3))


def test_view_of_view_has_the_root_as_base():
    b = fl.zeros(4, 3)
    v = b[1:].t()[0]
    assert v._base is b
    v.fill_(7)
    assert b[1:, 0].tolist() == [7, 7, 7] and b[0].tolist() == [0, 0, 0]


def test_expanded_view_is_not_writable():
    b = fl.zeros(3)
    e = b.expand(2, 3)
    assert e.stride() == (0, 1)
    with pytest.raises(RuntimeError):
        e.add_(1)


def test_contiguous_returns_self_when_contiguous():
    b = fl.zeros(3, 2)
    assert b.contiguous() is b
    assert b.t().contiguous() is not b


# ---- in-place changes of views in the graph (CopySlices) ----------------------------------------

CASES = [
    "y = x * 1; y[0:2].mul_(3); out = y; names = [y]",
    "y = x * 1; v = y.view(12); v.add_(w); out = y; names = [y, v]",
    "y = x * 1; v = y.view(12); v.mul_(w); out = v * 2; names = [y, v]",
    "y = x * 1; a = y[0:2]; b = y[1:3]; a.mul_(3); out = b; names = [y, a, b]",
    "y = x * 1; a = y.t(); y.mul_(2); out = a.exp(); names = [y, a]",
    "y = x * 1; a = y[:, 1]; a.exp_(); out = y * y; names = [y, a]",
    "y = x * 1; a = y[:, 1:]; b = a[1]; b.mul_(w[:2]); out = y + a.sum(); names = [y, a, b]",
    "y = x * 1; y[1] = w[:3] * 2; out = y; names = [y]",
    "y = x * 1; v = y[1]; v[0] = w[0]; out = y; names = [y, v]",
    "y = t.zeros(4, 3, dtype=t.float64); v = y[1:]; v.copy_(x[1:] * w[:3]); out = y; names = [y, v]",
    "y = x.sin(); v = y[2]; v.masked_fill_(v > 0.5, 0.); out = y.exp(); names = [y, v]",
    "y = x * 1; v = y.t()[1]; v.index_add_(0, t.tensor([0, 0]), w[:2]); out = y * x; names = [y, v]",
    "y = x * 1; v = y[1:3]; v.zero_(); out = y; names = [y, v]",
    "y = x * 2; v = y.unsqueeze(0)[0, 1]; v.div_(w[:3]); out = v * y[1]; names = [y, v]",
    "y = x.t() * 1; v = y[1]; v.mul_(w[:4]); out = y.exp(); names = [y, v]",             # a root that is not C-contiguous
    "y = x.t() * 1; v = y[:, 1:3].t(); v.sub_(w[:3]); out = y; names = [y, v]",
]


def _run_case(lib, code, create_graph=False):
    x = lib.tensor(np.arange(12.).reshape(4, 3) / 7 + 0.1, dtype=lib.float64, requires_grad=True)
    w = lib.tensor(np.linspace(1, 2, 12), dtype=lib.float64, requires_grad=True)
    ns = {"x": x, "w": w, "t": lib}
    exec(code, ns)
    out = ns["out"]
    weight = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)), dtype=lib.float64)
    loss = (out * weight).sum()
    names = [name(v) for v in ns["names"]]
    if not create_graph:
        loss.backward()
        return names, out.detach().numpy().copy(), x.grad.numpy().copy(), None if w.grad is None else w.grad.numpy().copy()
    gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True, allow_unused=True)
    (gx * gx).sum().backward()
    return names, gx.detach().numpy().copy(), None if x.grad is None else x.grad.numpy().copy()


@pytest.mark.parametrize("code", CASES)
def test_inplace_on_view_gradients_and_names(code):
    f, t = _run_case(fl, code), _run_case(torch, code)
    assert f[0] == t[0]
    for a, b in zip(f[1:], t[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("code", [CASES[2], CASES[5], CASES[10], CASES[13]])
def test_inplace_on_view_double_backward(code):
    f, t = _run_case(fl, code, create_graph=True), _run_case(torch, code, create_graph=True)
    for a, b in zip(f[1:], t[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


def test_copy_slices_links_old_history():
    x = fl.ones(3, requires_grad=True)
    y = x * 2
    old = y.grad_fn
    y[1:].mul_(3)
    assert name(y) == "CopySlices" and y.grad_fn.next_functions[0] == (old, 0)


@pytest.mark.parametrize("code", [
    "y = x * 1; v = y[1:]; z = v * v; y.mul_(2); z.sum().backward()",            # v saved, changed through its base
    "y = x.exp(); v = y[2]; v.mul_(2); y.sin().sum().backward()",                # exp's saved output changed through a view
    "y = x * 1; v = y.t(); z = y * y; v[0] = 1.; z.sum().backward()",            # y saved, changed through a view
])
def test_saved_value_changed_through_a_view_is_an_error(code):
    def fn(lib):
        x = lib.ones(4, 3, dtype=lib.float64, requires_grad=True)
        exec(code, {"x": x})
    f, t = error_of(lambda: fn(fl)), error_of(lambda: fn(torch))
    assert t[0] is RuntimeError and f[0] is RuntimeError
    assert f[1].split("\n\n")[0].replace("flambeau", "torch") == t[1]  # flambeau explains after a blank line


@pytest.mark.parametrize("code", [
    "x[0:2].mul_(2)", "(x * 1).unbind()[0].mul_(2)", "(x * 1).split(2)[1].add_(1)", "(x * 1).chunk(2)[0].add_(1)",
    "x.t().zero_()", "x[0].copy_(x[1])",
    "y = x * 1\nwith t.no_grad(): v = y[0]\nv.mul_(2)", "y = x * 1\nwith t.no_grad(): v = y.unbind()[0]\nv.mul_(2)",
    "t.zeros(2, 3).unbind()[0].add_(x[0])", "with t.no_grad(): v = x[0]\nv.mul_(2)",
])
def test_inplace_on_view_errors(code):
    def fn(lib):
        x = lib.ones(4, 3, requires_grad=True)
        exec(code, {"x": x, "t": lib})
    f, t = error_of(lambda: fn(fl)), error_of(lambda: fn(torch))
    assert t[0] is not None and f == t


def test_inplace_on_view_without_grad_stays_plain():
    b = fl.zeros(3)
    b[1:].add_(1)
    assert b.grad_fn is None and b.tolist() == [0, 1, 1]


# ---- grad_fn names ------------------------------------------------------------------------------

NAMES = [
    "y.view(12)", "y.reshape(2, 6)", "y.t().reshape(12)", "y.flatten()", "y.unflatten(1, (3, 1))", "y.squeeze((0,))",
    "y.movedim(0, 1)", "y.repeat(2, 1)", "F.tile(y, (2,))", "y.repeat_interleave(2)", "y.repeat_interleave(F.tensor([1, 2, 1, 0]), dim=0)",
    "y.flip(0)", "y.roll(1, 0)", "y.narrow(1, 0, 2)", "F.broadcast_to(y[0], (2, 3))", "y.expand_as(F.zeros(2, 4, 3))",
    "F.cat([y, y])", "F.stack([y, y])", "F.hstack([y, y])", "F.vstack([y[0], y[1]])", "y.split(2)[0]", "y.split([1, 3])[1]",
    "y.chunk(2, 1)[0]", "y.unbind(1)[2]", "y.contiguous()", "y.t().contiguous()", "y.mT", "y[...]", "y[None]", "y[1]", "y[1:]",
    "y[[0, 0]]", "y[y > 0]", "y.index_select(0, F.tensor([0]))", "y.gather(0, F.tensor([[0, 3]]))",
    "y.scatter(0, F.tensor([[0, 1]]), y[:1, :2])", "y.scatter(0, F.tensor([[0, 1]]), 1.5)", "y.scatter_add(0, F.tensor([[0, 1]]), y)",
    "y.scatter_reduce(0, F.tensor([[0, 1]]), y, 'amax')", "y.index_add(0, F.tensor([0, 0]), y[:2])",
    "y.index_copy(0, F.tensor([0, 1]), y[:2])", "y.index_fill(0, F.tensor([0, 1]), 2.0)", "y.index_fill(0, F.tensor([1]), y[0, 0])",
    "y.index_put((F.tensor([0, 1]),), y[0])", "y.masked_fill(y > 0, 2.0)", "y.masked_fill(y > 0, y[0, 0])", "y.masked_select(y > 0)",
    "y.masked_scatter(y > 0, y.flatten())", "F.take(y, F.tensor([0, 11]))", "F.take_along_dim(y, F.tensor([[0], [1], [2], [0]]), 1)",
    "P(y, (1, 2))", "P(y[None], (1, 2), mode='reflect')", "P(y[None], (1, 2, 1, 1), mode='reflect')",
    "P(y[None], (1, 2), mode='replicate')", "P(y[None], (2, 3), mode='circular')",
    "y[F.tensor(1)]", "y.select(0, 2)", "P(y[None, None], (1, 2, 1, 1), mode='replicate')",
]


@pytest.mark.parametrize("expr", NAMES)
def test_grad_fn_names(expr):
    def run(lib):
        x = lib.tensor(np.arange(12.).reshape(4, 3) - 5, requires_grad=True)
        return name(eval(expr, {"y": x * 1, "F": lib, "P": F(lib).pad}))
    assert run(fl) == run(torch)


# ---- errors -------------------------------------------------------------------------------------

ERRORS = """y[4]
y[:, 3]
y[::-1]
y[t.tensor([True, False])]
y[:, t.tensor([True, False])]
y[1:, None, t.tensor([True, False])]
y[0, t.tensor([True, False])]
y.view(2, 2, 3)[0, ..., t.tensor([[True] * 3] * 3)]
y[t.tensor([0.5])]
y[t.tensor([0, 4])]
y.gather(0, t.tensor([[0, 5]]))
y.gather(0, t.tensor([0]))
y.gather(0, t.tensor([[0.]]))
y.scatter(0, t.tensor([[0, 9]]), 1.5)
y.scatter(0, t.tensor([[0, 1]]), t.ones(1, 1, dtype=t.float64))
y.scatter(0, t.tensor([[0, 1]]), t.ones(2, 2))
y.index_select(0, t.tensor([0, 4]))
y.index_select(0, t.tensor([0.]))
y.index_select(0, t.tensor([[0]]))
y.index_add(0, t.tensor([0, 7]), t.ones(2, 3, dtype=t.float64))
y.index_add(0, t.tensor([0, 1]), t.ones(3, 3, dtype=t.float64))
y.index_add(0, t.tensor([0, 1]), t.ones(2, 3))
y.index_copy(0, t.tensor([0, 7]), t.ones(2, 3, dtype=t.float64))
y.index_copy(0, t.tensor([0, 1]), t.ones(3, 3, dtype=t.float64))
y.index_fill(0, t.tensor([0, 1]), t.tensor([2.0, 1.0]))
y.index_fill(0, t.tensor([0.]), 1)
y.index_put((t.tensor([0, 9]),), t.tensor(1., dtype=t.float64))
y.masked_fill(t.tensor([1, 0, 1]), 2.0)
y.masked_fill(t.tensor([True, False, True]), t.tensor([1., 2.]))
y.masked_select(t.tensor([1, 0, 1]))
y.masked_fill_(t.ones(2, 4, 3, dtype=t.bool), 2.0)
y.masked_scatter(t.tensor([True, False, True]), t.ones(3, dtype=t.float64))
t.take(y, t.tensor([12]))
t.take(y, t.tensor([-13]))
t.take(y, t.tensor([0.]))
y.scatter_reduce(0, t.tensor([[0, 1]]), y, 'bad')
t.cat([y, y[:, :2]])
t.cat([y, y[0]])
t.stack([y, y[:, :2]])
t.cat([])
t.stack([])
t.stack([y, y], dim=3)
y.split([1, 2])
y.chunk(0)
y.repeat(2)
y.flip(0, 0)
y.roll((1, 2), 0)
y.narrow(0, 3, 2)
y.unflatten(1, (2, 2))
t.broadcast_tensors(y, t.ones(2))
t.tensor(1.).unbind()
P(y, (1, 2, 3))
P(y, (1, 1, 1, 1, 1, 1))
P(y[None], (3, 3), mode='reflect')
P(y, (1, 1), mode='reflect', value=2)
P(y[None], (4, 0), mode='circular')
P(y[None], (1, 1), mode='bogus')
y.select(0, 4)
y.view(3, 4).t().view(12)
y.expand(5, 3)""".splitlines()


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_as_pytorch(expr):
    def run(lib):
        y = lib.tensor(np.arange(12.).reshape(4, 3))
        return error_of(lambda: eval(expr, {"t": lib, "y": y, "P": F(lib).pad}))
    f, t = run(fl), run(torch)
    assert t[0] is not None, "torch raised nothing: the test is wrong"
    assert f[0] is t[0] and f[1].split("\n\n")[0].replace("flambeau", "torch") == t[1], (f, t)


# ---- edge cases: empty pieces, single outputs, mixed dtypes -------------------------------------

EDGES = ["x.unbind(2)", "x[:1].unbind(0)", "x[:, :0].unbind(1)", "x.split(10)", "x[:0].chunk(3)", "t.cat([x, t.zeros(0, dtype=t.float64)])",
         "t.cat([t.zeros(0, dtype=t.float64), x])", "t.stack([x[0]] * 3, 2)", "x.repeat(0, 1, 1)", "x.flip(())", "x.roll(0)", "x[x > 100]",
         "x.expand(2, -1, -1, -1)", "t.cat([x.int(), x])", "t.stack([x.int(), x])", "x.unflatten(-1, (-1, 1))", "x[[[0]]]",
         "x.gather(2, t.zeros(2, 3, 0, dtype=t.long))", "t.take(x, t.tensor([], dtype=t.long))", "x.index_select(0, t.tensor([], dtype=t.long))",
         "x.tile((2, 1, 1, 1))", "x.repeat_interleave(0, dim=0)", "x.narrow(2, 0, 0)", "t.hstack([t.tensor(1.), t.tensor(2.)])"]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("expr", EDGES)
def test_edge_cases(expr):
    def run(t):
        x = t.tensor(np.arange(24.).reshape(2, 3, 4), dtype=t.float64, requires_grad=True)
        r = eval(expr)
        rs = r if isinstance(r, tuple) else (r,)
        used = [o for o in rs if o.requires_grad and o.numel()]
        if used:
            sum((o.double() * (1 + t.arange(o.numel(), dtype=t.float64).reshape(o.shape))).sum() for o in used).backward()
        return ([tuple(o.shape) for o in rs], [str(o.dtype).split(".")[1] for o in rs], [o.detach().numpy().tolist() for o in rs],
                None if x.grad is None else x.grad.numpy().tolist())
    assert run(fl) == run(torch)


@pytest.mark.parametrize("code", ["y.unsqueeze_(0)", "y.squeeze_()", "y.squeeze_(1)", "y.squeeze_((1,))", "y.transpose_(0, 2)",
                                  "y.swapaxes_(0, 2)", "y.swapdims_(0, 2)", "y[:, 0].t_()", "x.unsqueeze_(0)"])
def test_inplace_restride(code):
    def run(lib):
        x = lib.tensor(np.arange(6.).reshape(3, 1, 2), requires_grad=True)
        y = x * 1
        try:
            r = eval(code)
        except RuntimeError as e:
            return str(e).split("\n\n")[0]  # flambeau explains after a blank line
        out = (r * lib.arange(6.).reshape(r.shape)).sum()
        out.backward()
        return name(r), tuple(r.shape), r is y, y._version if lib is torch else y._version[0], r.stride(), x.grad.tolist()
    assert run(fl) == run(torch)


MORE = ["y.ravel()", "y.t().ravel()", "t.atleast_1d(y[0, 0])", "t.atleast_2d(y[0])", "t.atleast_3d(y[0])", "t.atleast_3d(y)",
        "t.atleast_3d(y[0, 0])", "t.atleast_2d(y)", "t.atleast_1d(y[0, 0], y)", "t.atleast_2d([y[0], y[1, 1]])", "t.dstack([y, y])",
        "t.column_stack([y[0], y[1]])", "t.column_stack([y, y[1]])", "t.row_stack([y[0], y[1]])", "y.tensor_split(3)",
        "y.tensor_split([1, 3], dim=1)", "y.tensor_split([3, 1], dim=1)", "y.hsplit(2)", "y.vsplit([1])", "y[None].dsplit(6)", "y.rot90()",
        "y.rot90(2)", "y.rot90(3, (1, 0))", "y.rot90(-1)", "y.rot90(0)", "y.unfold(1, 2, 2)", "y.unfold(0, 3, 1)",
        "y.as_strided((2, 2), (1, 2))", "y.as_strided((2, 2), (1, 2), 3)", "y.as_strided_((2, 2), (1, 3), 1)", "y.put(t.tensor([0, 1]), w[:2])",
        "t.put(y, t.tensor([0, 0, -1]), w[:3], accumulate=True)", "y.hsplit(5)", "y.rot90(1, (0, 0))", "y.unfold(1, 7, 1)",
        "y.as_strided((5, 5), (6, 1))", "y[0].hsplit(2)", "y.tensor_split(t.tensor(2))", "y.tensor_split(0)", "t.broadcast_shapes((2, 1), (3,))",
        "t.broadcast_shapes((2, 2), (3,))", "y.put(t.tensor([0, 1]), w[:3])", "y.put(t.tensor([0, 24]), w[:2])",
        "t.searchsorted(t.tensor([1, 3, 5]), t.tensor([3, 6]), right=True)", "t.bucketize(t.tensor([3, 6]), t.tensor([1, 3, 5]))",
        "t.searchsorted(t.tensor([[1, 3, 5], [2, 4, 6]]), t.tensor([[3], [3]]))", "t.searchsorted(t.tensor([1., 3]), t.tensor(2.0))",
        "t.bucketize(t.tensor([[3.5, 6]]), t.tensor([1., 3, 5]), right=True, out_int32=True)", "y[0, 0].hsplit(1)", "y[0].vsplit(1)",
        "y.dsplit(1)", "y.vsplit(3)"]


@pytest.mark.parametrize("expr", MORE)
def test_more_shape_ops(expr):
    """Values, shapes, dtypes, grad_fn names, gradients, view-ness (or the error) as PyTorch's."""
    def run(t):
        x = t.tensor(np.arange(24.).reshape(4, 6), dtype=t.float64, requires_grad=True)
        w = t.tensor(np.linspace(1, 2, 5), dtype=t.float64, requires_grad=True)
        y = x * 1
        try:
            r = eval(expr)
        except Exception as e:  # noqa: BLE001 - compared with torch's
            return type(e).__name__, str(e).replace("flambeau", "torch")
        if isinstance(r, tuple | list) and r and not isinstance(r[0], t.Tensor):
            return tuple(r)
        rs = r if isinstance(r, tuple) else (r,)
        used = [o for o in rs if o.requires_grad and o.numel()]
        if used:
            sum((o.double() * (1 + t.arange(o.numel(), dtype=t.float64).reshape(o.shape))).sum() for o in used).backward()
        return ([tuple(o.shape) for o in rs], [name(o) for o in rs], [str(o.dtype).split(".")[1] for o in rs],
                [o.detach().numpy().tolist() for o in rs], None if x.grad is None else x.grad.numpy().tolist(),
                None if w.grad is None else w.grad.numpy().tolist(), [o._base is y for o in rs])
    assert run(fl) == run(torch)
