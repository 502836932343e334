"""``autograd.functional`` and ``autograd.forward_ad`` against PyTorch on a battery of functions."""

import numpy as np
import pytest

from autograd_helpers import assert_same, both, fl, same_error, torch

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 3))


def inputs(lib, *shapes):
    rng = np.random.default_rng(len(shapes) * 10 + sum(map(len, shapes)))
    ts = tuple(lib.tensor(rng.uniform(0.5, 1.5, s)) for s in shapes)
    return ts


# (name, function of lib, input shapes); each function maps tensors to a tensor or a tuple of tensors
FUNCS = [
    ("square", lambda t: lambda x: x ** 2, [(3,)]),
    ("sin_exp", lambda t: lambda x: x.sin() * x.exp(), [(2, 2)]),
    ("matvec", lambda t: lambda x: t.tensor(A) @ x.tanh(), [(3,)]),
    ("two_in", lambda t: lambda x, y: x * y.sum() + y.mean(), [(2,), (3,)]),
    ("two_out", lambda t: lambda x: (x.exp(), (x * x).sum()), [(3,)]),
    ("two_two", lambda t: lambda x, y: (x @ y, (x.sigmoid() * 2).sum(1)), [(2, 3), (3,)]),
    ("reshape_sqrt", lambda t: lambda x: x.sqrt().reshape(3, 2).t(), [(2, 3)]),
]
SCALAR = [
    ("cubic", lambda t: lambda x: (x ** 3).sum(), [(3,)]),
    ("quad_form", lambda t: lambda x: (x * (t.tensor(A) @ x)).sum(), [(3,)]),
    ("rosen", lambda t: lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(), [(4,)]),
    ("two_in", lambda t: lambda x, y: (x.log() * y.sum()).sum() + (x * x).sum() * y.exp().sum(), [(2,), (2,)]),
    ("matrix", lambda t: lambda w: ((w @ w).tanh() ** 2).mean(), [(2, 2)]),
]


def _single(shapes):
    return len(shapes) == 1


def _call(lib, name_fn, shapes, transform, *extra, **kw):
    f = name_fn(lib)
    xs = inputs(lib, *shapes)
    args = xs[0] if _single(shapes) else xs
    return getattr(lib.autograd.functional, transform)(f, args, *extra, **kw)


@pytest.mark.parametrize("name,fn,shapes", FUNCS, ids=[f[0] for f in FUNCS])
@pytest.mark.parametrize("kw", [{}, {"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}, {"create_graph": True}],
                         ids=["reverse", "vectorize", "forward", "create_graph"])
def test_jacobian(name, fn, shapes, kw):
    both(lambda t: _call(t, fn, shapes, "jacobian", **kw))


def _vs(lib, like):
    rng = np.random.default_rng(3)
    vs = tuple(lib.tensor(rng.standard_normal(tuple(o.shape))) for o in like)
    return vs


@pytest.mark.parametrize("name,fn,shapes", FUNCS, ids=[f[0] for f in FUNCS])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_and_jvp(name, fn, shapes, create_graph):
    def run(lib, which):
        f = fn(lib)
        xs = inputs(lib, *shapes)
        args = xs[0] if _single(shapes) else xs
        outs = f(*xs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        v = _vs(lib, outs if which == "vjp" else xs)
        v = v[0] if len(v) == 1 else v
        return getattr(lib.autograd.functional, which)(f, args, v, create_graph=create_graph)
    both(lambda t: run(t, "vjp"))
    both(lambda t: run(t, "jvp"))


@pytest.mark.parametrize("name,fn,shapes", SCALAR, ids=[f[0] for f in SCALAR])
@pytest.mark.parametrize("kw", [{}, {"create_graph": True}, {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}],
                         ids=["plain", "create_graph", "forward_outer"])
def test_hessian(name, fn, shapes, kw):
    both(lambda t: _call(t, fn, shapes, "hessian", **kw))


@pytest.mark.parametrize("name,fn,shapes", SCALAR, ids=[f[0] for f in SCALAR])
@pytest.mark.parametrize("which", ["hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(name, fn, shapes, which, create_graph):
    def run(lib):
        xs = inputs(lib, *shapes)
        v = _vs(lib, xs)
        return getattr(lib.autograd.functional, which)(fn(lib), xs[0] if _single(shapes) else xs, v[0] if len(v) == 1 else v,
                                                      create_graph=create_graph)
    both(run)


def test_create_graph_results_are_differentiable():
    def run(lib):
        x = lib.tensor(np.array([0.5, 1.0, 1.5]), requires_grad=True)
        h = lib.autograd.functional.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        _, j = lib.autograd.functional.jvp(lambda a: a.exp() * a, x, lib.ones(3, dtype=lib.float64), create_graph=True)
        (g2,) = lib.autograd.grad(j.sum(), x)
        return h, g, g2
    both(run)


def test_strict_and_errors():
    def const(lib):
        return lambda x: lib.ones(2, dtype=lib.float64)

    def x2(lib):
        return inputs(lib, (2,))[0]
    same_error(lambda t: t.autograd.functional.vjp(const(t), x2(t), t.ones(2, dtype=t.float64), strict=True))
    same_error(lambda t: t.autograd.functional.vjp(lambda a: a * 2, x2(t)))
    same_error(lambda t: t.autograd.functional.jvp(lambda a: a * 2, x2(t), t.ones(3, dtype=t.float64)))
    same_error(lambda t: t.autograd.functional.jacobian(lambda a: 3, x2(t)), exact=False)
    same_error(lambda t: t.autograd.functional.hessian(lambda a: a * 2, x2(t)))
    same_error(lambda t: t.autograd.functional.jacobian(lambda a: a * 2, x2(t), strategy="forward-mode"))
    same_error(lambda t: t.autograd.functional.jacobian(lambda a: a * 2, x2(t), strategy="sideways"))
    # not strict: an output independent of the input gives zeros
    both(lambda t: t.autograd.functional.jacobian(lambda a, b: a * 2, inputs(t, (2,), (3,))))


# ---- forward_ad ------------------------------------------------------------------------------------

def test_dual_tensors_give_the_jvp():
    def run(lib):
        fwAD = lib.autograd.forward_ad
        x, y = inputs(lib, (3,), (3,))
        v = lib.tensor(np.array([1.0, -2.0, 0.5]))
        with fwAD.dual_level():
            d = fwAD.make_dual(x, v)
            out = (d.sin() * y + d ** 2).sum() * d
            p, tan = fwAD.unpack_dual(out)
            _, none = fwAD.unpack_dual(y)
            _, own = fwAD.unpack_dual(d)
        assert none is None
        return p, tan, own
    both(run)


def test_two_duals_and_errors():
    def run(lib):
        fwAD = lib.autograd.forward_ad
        x, y = inputs(lib, (2, 2), (2,))
        with fwAD.dual_level():
            a = fwAD.make_dual(x, lib.ones(2, 2, dtype=lib.float64))
            b = fwAD.make_dual(y, lib.tensor(np.array([0.5, 2.0])))
            return fwAD.unpack_dual((a @ b).exp()).tangent
    both(run)
    same_error(lambda t: t.autograd.forward_ad.make_dual(t.ones(2), t.ones(2)))

    def bad_size(lib):
        with lib.autograd.forward_ad.dual_level():
            lib.autograd.forward_ad.make_dual(lib.ones(2), lib.ones(3))
    same_error(bad_size)


def test_forward_ad_unpack_outside_level_has_no_tangent():
    fwAD = fl.autograd.forward_ad
    x = fl.tensor(np.array([1.0, 2.0]))
    with fwAD.dual_level():
        y = fwAD.make_dual(x, fl.ones(2, dtype=fl.float64)) * 3
    assert fwAD.unpack_dual(y).tangent is None
    assert_same(fwAD.unpack_dual(y).primal, torch.tensor([3.0, 6.0], dtype=torch.float64))


def test_make_dual_under_no_grad_says_it_is_not_supported():
    """Tangents ride on the recorded graph: under no_grad there would be none, so flambeau refuses rather than returning no tangent."""
    fwAD = fl.autograd.forward_ad
    with fl.no_grad(), fwAD.dual_level():
        with pytest.raises(NotImplementedError, match="make_dual under no_grad"):
            fwAD.make_dual(fl.ones(2, dtype=fl.float64), fl.ones(2, dtype=fl.float64))


def test_dual_tensors_report_and_print_as_pytorch():
    """Inside a dual level, tensors computed only from duals report no grad and print their tangent, as in PyTorch."""
    def run(lib):
        fa = lib.autograd.forward_ad
        x, t = lib.tensor([1., 2.]), lib.tensor([1., 0.])
        p = lib.tensor([0.5, 1.5], requires_grad=True)
        seen = []
        with fa.dual_level():
            d = fa.make_dual(x, t)
            w = d.sin() * 2
            z = d * p
            seen += [repr(d), repr(w), repr(d.double()), repr(fa.make_dual(lib.tensor(3.), lib.tensor(1.))), repr(x)]
            seen += [(v.requires_grad, v.grad_fn is None, v.is_leaf) for v in (d, w, z)]
            seen.append(z.grad_fn.name())
            with pytest.raises(RuntimeError) as e:
                w.sum().backward()
            seen.append(str(e.value).split("\n\n")[0])
        seen += [repr(w), w.requires_grad]
        return [s.replace("flambeau", "torch") if isinstance(s, str) else s for s in seen]
    assert run(fl) == run(torch)
