"""``flambeau.func`` transforms against ``torch.func``."""

import numpy as np
import pytest

from autograd_helpers import both, fl, same_error, torch

RNG = np.random.default_rng(11)
X = RNG.uniform(0.5, 1.5, (3,))
Y = RNG.standard_normal((3,))
M = RNG.standard_normal((4, 3))
B = RNG.standard_normal((5, 3))


def T(lib, a):
    return lib.tensor(a)


def f_scalar(x, y):
    return (x.sin() * y).sum() + (x ** 3).sum() * y.exp().sum()


def test_grad_argnums_has_aux_and_grad_and_value():
    both(lambda t: t.func.grad(f_scalar)(T(t, X), T(t, Y)))
    both(lambda t: t.func.grad(f_scalar, argnums=1)(T(t, X), T(t, Y)))
    both(lambda t: t.func.grad(f_scalar, argnums=(0, 1))(T(t, X), T(t, Y)))
    both(lambda t: t.func.grad_and_value(f_scalar, argnums=(1, 0))(T(t, X), T(t, Y)))
    both(lambda t: t.func.grad(lambda x: (f_scalar(x, x), {"x2": x * 2}), has_aux=True)(T(t, X)))
    both(lambda t: t.func.grad_and_value(lambda x: (f_scalar(x, x), x.sum()), has_aux=True)(T(t, X)))


def test_grad_over_pytrees_and_results_are_detached():
    def f(lib):
        p = {"w": T(lib, M), "b": [T(lib, Y[:1]), T(lib, X)]}
        g = lib.func.grad(lambda p, v: ((p["w"] @ v).tanh().sum() + p["b"][0] * p["b"][1].sum()).sum())(p, T(lib, X))
        assert g["w"].grad_fn is None and not g["w"].requires_grad
        return g
    both(f)


def test_higher_order_grad():
    both(lambda t: t.func.grad(t.func.grad(lambda x: x.sin() * x ** 2))(T(t, np.array(0.7))))
    both(lambda t: t.func.grad(t.func.grad(t.func.grad(lambda x: x.exp() * x)))(T(t, np.array(0.3))))


def test_grad_errors():
    same_error(lambda t: t.func.grad(lambda x: x * 2)(T(t, X)))
    same_error(lambda t: t.func.grad(lambda x: x.sum(), argnums=2)(T(t, X)), exact=False)


def test_vjp_jvp_linearize():
    def vjp(lib):
        out, fn = lib.func.vjp(lambda x, y: (x * y, x.exp()), T(lib, X), T(lib, Y))
        return out, fn((lib.ones(3, dtype=lib.float64), T(lib, Y)))
    both(vjp)
    both(lambda t: t.func.jvp(lambda x, y: (x * y).tanh(), (T(t, X), T(t, Y)), (T(t, Y), T(t, X))))

    def lin(lib):
        out, fn = lib.func.linearize(lambda x: x.sin() * x, T(lib, X))
        return out, fn(T(lib, Y)), fn(T(lib, X))
    both(lin)


@pytest.mark.parametrize("which", ["jacrev", "jacfwd"])
def test_jacobians(which):
    both(lambda t: getattr(t.func, which)(lambda x: (T(t, M) @ x).sin())(T(t, X)))
    both(lambda t: getattr(t.func, which)(lambda x, y: x * y.sum(), argnums=(0, 1))(T(t, X), T(t, Y)))
    both(lambda t: getattr(t.func, which)(lambda x: (x.exp(), x.sum()))(T(t, X)))
    both(lambda t: getattr(t.func, which)(lambda x: (x ** 2, x.sum()), has_aux=True)(T(t, X)))


def test_hessian_and_jac_of_jac():
    both(lambda t: t.func.hessian(f_scalar)(T(t, X), T(t, Y)))
    both(lambda t: t.func.hessian(f_scalar, argnums=1)(T(t, X), T(t, Y)))
    both(lambda t: t.func.jacrev(t.func.jacrev(lambda x: (x ** 3).sum()))(T(t, X)))


def test_vmap_in_dims_out_dims_nested():
    both(lambda t: t.func.vmap(t.dot)(T(t, M), T(t, M)))
    both(lambda t: t.func.vmap(lambda w, x: w @ x, in_dims=(None, 0))(T(t, M), T(t, B)))
    both(lambda t: t.func.vmap(lambda x: x * 2, in_dims=1, out_dims=1)(T(t, M)))
    both(lambda t: t.func.vmap(lambda x: (x.sum(), x * 2), out_dims=(0, 1))(T(t, M)))
    both(lambda t: t.func.vmap(t.func.vmap(lambda a, b: a * b + 1))(T(t, M), T(t, M)))
    both(lambda t: t.func.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))({"a": T(t, M), "b": T(t, X)}))
    both(lambda t: t.func.vmap(lambda x: x[1:].sum(0), in_dims=-1)(T(t, M)))


def test_vmap_errors():
    same_error(lambda t: t.func.vmap(lambda a, b: a + b)(T(t, M), T(t, X)))
    same_error(lambda t: t.func.vmap(lambda a: a, in_dims=(0, 0))(T(t, M)), exact=False)
    same_error(lambda t: t.func.vmap(lambda a: a, in_dims=3)(T(t, M)))


class _Module:
    """A minimal module (parameters in ``_parameters``, children in ``_modules``) so functional_call is tested on its own."""

    def __init__(self, params: dict, children: dict | None = None, fn=None) -> None:
        self.__dict__["_parameters"] = params
        self.__dict__["_buffers"] = {}
        self.__dict__["_modules"] = children or {}
        self.fn = fn

    def __getattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                return self.__dict__[store][name]
        raise AttributeError(name)

    def __call__(self, x):
        return self.fn(self, x)


def _mlp(lib, rng):
    """Two linear layers with tanh; flambeau's stand-in module, or a real torch.nn.Module with the same parameters."""
    shapes = {"l1": (5, 3), "l2": (2, 5)}
    values = {c: (rng.standard_normal(s), rng.standard_normal(s[0])) for c, s in shapes.items()}
    if lib is torch:
        class MLP(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.l1, self.l2 = torch.nn.Linear(3, 5).double(), torch.nn.Linear(5, 2).double()

            def forward(self, x):
                return self.l2(self.l1(x).tanh())
        model = MLP()
        with torch.no_grad():
            for c, (w, b) in values.items():
                getattr(model, c).weight.copy_(torch.tensor(w))
                getattr(model, c).bias.copy_(torch.tensor(b))
        return model, {k: v.detach() for k, v in model.named_parameters()}

    def lin(p, x):
        return x @ p.weight.t() + p.bias
    children = {c: _Module({"weight": lib.tensor(w), "bias": lib.tensor(b)}, fn=lin) for c, (w, b) in values.items()}
    model = _Module({}, children, fn=lambda m, x: m.l2(m.l1(x).tanh()))
    return model, {f"{c}.{n}": v for c, sub in children.items() for n, v in sub._parameters.items()}


def test_per_sample_gradients_of_an_mlp_with_functional_call():
    def run(lib):
        rng = np.random.default_rng(5)
        model, params = _mlp(lib, rng)
        x, y = lib.tensor(rng.standard_normal((6, 3))), lib.tensor(rng.standard_normal((6, 2)))

        def loss(p, xi, yi):
            out = lib.func.functional_call(model, p, (xi.unsqueeze(0),))
            return ((out - yi) ** 2).mean()
        per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
        if lib is fl:
            assert model.l1.weight is params["l1.weight"]  # restored
        return per_sample
    f_res, _ = both(run)
    assert tuple(f_res["l1.weight"].shape) == (6, 5, 3)


def _counted(fn):
    calls = []

    def wrapper(*args):
        calls.append(1)
        return fn(*args)
    return wrapper, calls


VECTORISED = [
    ("elementwise", lambda t: lambda x, w: (x * w - 1).exp().tanh() / (1 + x ** 2) + 2 ** x.sigmoid(), (0, None)),
    ("reductions", lambda t: lambda x, w: x.sum(0) + x.mean(-1, keepdim=True) + (x * x).sum(), (0, None)),
    ("matmul", lambda t: lambda x, w: (x @ w.t()).relu() @ w + w.t() @ x[:, 0] + x @ (x.mT @ x), (0, None)),
    ("indexing", lambda t: lambda x, w: x[1:, None, ::2] * x[t.tensor([2, 0])].sum() + x[..., 0].unsqueeze(-1), (0, None)),
    ("shapes", lambda t: lambda x, w: x.reshape(-1).view(2, 6).permute(1, 0).flatten().expand(2, 12) + x.T.reshape(1, 12), (0, None)),
    ("batched_both", lambda t: lambda x, w: (x * w.sum()).transpose(0, 1).squeeze() @ w, (0, 0)),
]


@pytest.mark.parametrize("name,fn,in_dims", VECTORISED, ids=[v[0] for v in VECTORISED])
def test_vmap_runs_the_function_once_for_batch_friendly_ops(name, fn, in_dims):
    rng = np.random.default_rng(2)
    xs, w = rng.standard_normal((5, 3, 4)), rng.standard_normal((3, 4))
    w_arg = np.stack([w * k for k in range(5)]) if in_dims[1] == 0 else w

    def run(lib):
        f, calls = _counted(fn(lib))
        out = lib.func.vmap(f, in_dims=in_dims)(lib.tensor(xs), lib.tensor(w_arg))
        return out, len(calls)
    (a, na), (b, nb) = run(fl), run(torch)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert na == nb == 1


def test_vmap_vectorises_top_level_functions_too():
    def run(lib):
        f, calls = _counted(lambda x, w: lib.exp(x).sum() * lib.ones(2, dtype=lib.float64) + lib.sum(lib.mul(x, w)) + lib.matmul(x, w))
        return lib.func.vmap(f, in_dims=(0, None))(lib.tensor(M), lib.tensor(M[0])), len(calls)
    (a, na), (b, _) = run(fl), run(torch)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert na == 1  # torch.exp(x), torch.sum(...), torch.matmul(...) ran once on the whole batch


def test_vmap_falls_back_to_a_loop_for_other_operations():
    def run(lib):
        f, calls = _counted(lambda x: lib.cumsum(x, 0).sum() * lib.ones(2, dtype=lib.float64) + x.sum())
        return lib.func.vmap(f)(lib.tensor(M)), len(calls)
    (a, na), (b, _) = run(fl), run(torch)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert na == 1 + len(M)  # the batched try, then one call per sample


def test_per_sample_gradients_are_vectorised():
    def run(lib):
        rng = np.random.default_rng(4)
        p = {"w": lib.tensor(rng.standard_normal((3, 4))), "v": lib.tensor(rng.standard_normal((4, 2)))}
        x, y = lib.tensor(rng.standard_normal((7, 3))), lib.tensor(rng.standard_normal((7, 2)))
        loss, calls = _counted(lambda p, x, y: (((x @ p["w"]).tanh() @ p["v"] - y) ** 2).mean())
        g = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(p, x, y)
        return g, len(calls)
    (a, na), (b, _) = run(fl), run(torch)
    for k in a:
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-10, atol=1e-12)
        assert a[k].grad_fn is None
    assert na == 1
