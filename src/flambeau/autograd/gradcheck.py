"""Gradient checking: analytical derivatives against central finite differences.

``gradcheck`` compares the Jacobian that backward computes (one vector-Jacobian product per output
element) with the one finite differences give; ``gradgradcheck`` does the same for the gradient
itself (``autograd.grad(..., create_graph=True)`` as a function of the inputs and of the incoming
gradients), which checks every second derivative.

>>> import numpy as np, flambeau as torch
>>> x = torch.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
>>> torch.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
True
>>> torch.autograd.gradgradcheck(lambda t: t.sin() * t, (x,))
True
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "get_numerical_jacobian", "get_analytical_jacobian"]

_FULL_PRINT = 400  # Jacobians with at most this many entries are printed whole in a failure report


class GradcheckError(RuntimeError):
    """The analytical and numerical derivatives disagree (the message says where)."""


def _tensors(inputs) -> tuple:
    from .._tensor import Tensor
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(func, inputs: tuple) -> tuple:
    """The floating-point tensor outputs of ``func`` (integer/bool outputs have no derivative)."""
    from .._tensor import Tensor
    out = func(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))
    return tuple(o for o in outs if o._data.dtype.kind == "f")


def _differentiable(x) -> bool:
    return getattr(x, "_rg", False)


def get_numerical_jacobian(func, inputs, eps: float = 1e-3) -> list:
    """``J[i][k]``: d(output k)/d(input i) by central differences, shape ``(input numel, output numel)``.

    Only inputs that require grad get a Jacobian (``None`` for the others).
    """
    from .grad_mode import no_grad
    inputs = _tensors(inputs)
    jac = []
    with no_grad():
        n_out = [o._data.size for o in _outputs(func, inputs)]
        for x in inputs:
            if not _differentiable(x):
                jac.append(None)
                continue
            data = x._data  # perturbed in place, element by element (works for non-contiguous views too)
            cols = [np.zeros((data.size, n)) for n in n_out]
            for j, idx in enumerate(np.ndindex(data.shape)):
                orig = data[idx].item()
                data[idx] = orig + eps
                plus = [o._data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
                data[idx] = orig - eps
                minus = [o._data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
                data[idx] = orig
                for c, p, mi in zip(cols, plus, minus):
                    c[j] = (p - mi) / (2 * eps)
            jac.append(cols)
    return jac


def get_analytical_jacobian(func, inputs) -> list:
    """``J[i][k]`` from backward: one vector-Jacobian product per output element."""
    from .._tensor import _new_tensor
    from . import grad
    inputs = _tensors(inputs)
    outs = _outputs(func, inputs)
    diff = [x for x in inputs if _differentiable(x)]
    jac = [[np.zeros((x._data.size, o._data.size)) for o in outs] if _differentiable(x) else None for x in inputs]
    rows = [j for j in jac if j is not None]
    for k, o in enumerate(outs):
        if not o._rg:
            continue
        v = np.zeros(o._data.size, o._data.dtype)
        for e in range(o._data.size):
            v[:] = 0
            v[e] = 1
            gs = grad(o, diff, _new_tensor(v.reshape(o._data.shape).copy(), False, None, 0), retain_graph=True, allow_unused=True)
            for r, g in zip(rows, gs):
                if g is not None:
                    r[k][:, e] = g._data.astype(np.float64).ravel()
    return jac


def _fmt(a: np.ndarray) -> str:
    if a.size <= _FULL_PRINT:
        return np.array2string(a, max_line_width=150, threshold=_FULL_PRINT + 1)
    return np.array2string(a, max_line_width=150) + f"  (shape {a.shape}, summarised)"


def _mismatch(i: int, k: int, n: np.ndarray, a: np.ndarray, bad: np.ndarray, x_shape: tuple, o_shape: tuple, what: str) -> str:
    r, c = map(int, np.argwhere(bad)[0])
    xi = np.unravel_index(r, x_shape) if x_shape else ()
    oi = np.unravel_index(c, o_shape) if o_shape else ()
    return (f"{what} mismatch for output {k} with respect to input {i},\n"
            f"{int(bad.sum())} of {bad.size} entries differ; first at input {i} element {tuple(map(int, xi))} (flat {r}), "
            f"output {k} element {tuple(map(int, oi))} (flat {c}): analytical {float(a[r, c])!r} vs numerical {float(n[r, c])!r}\n"
            f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n")


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check ``func``'s derivatives at ``inputs`` (float64 tensors that require grad) against finite differences.

    Backward (``check_backward_ad``) and forward mode (``check_forward_ad``) Jacobians are compared
    entry by entry with ``|analytical - numerical| <= atol + rtol * |numerical|``. On a mismatch it
    raises :class:`GradcheckError` naming the input, the output, the element, both values and both
    Jacobians (or returns False with ``raise_exception=False``).

    >>> import numpy as np, flambeau as torch
    >>> x = torch.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> torch.autograd.gradcheck(torch.exp, (x,), check_forward_ad=True)
    True
    """
    if check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck(check_batched_grad=True / check_batched_forward_grad=True) is not supported by flambeau")
    if masked:
        raise NotImplementedError("gradcheck(masked=True) is not supported by flambeau (no sparse tensors)")
    inputs = _tensors(inputs)
    if not any(_differentiable(x) for x in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True.")
    for i, x in enumerate(inputs):
        if _differentiable(x) and x._data.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check will likely fail "
                          "if all the inputs are not of double precision floating point. ", UserWarning, stacklevel=2)
    if fast_mode:
        return _fast_check(func, inputs, eps, atol, rtol, check_backward_ad, check_forward_ad, raise_exception)
    num = get_numerical_jacobian(func, inputs, eps)
    outs = _outputs(func, inputs)
    checks = []
    if check_backward_ad:
        checks.append(("Jacobian", get_analytical_jacobian(func, inputs)))
        if nondet_tol >= 0:
            again = get_analytical_jacobian(func, inputs)
            for a_i, b_i in zip(checks[0][1], again):
                for a, b in zip(a_i or (), b_i or ()):
                    if not np.allclose(a, b, rtol=0, atol=nondet_tol):
                        return _fail("Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
                                     f"gives different values, although analytical gradient matches numerical gradient. The tolerance "
                                     f"for nondeterminism was {nondet_tol}.", raise_exception)
    if check_forward_ad:
        from .forward_ad import forward_jacobian
        checks.append(("Forward AD Jacobian", forward_jacobian(func, inputs)))
    for what, ana in checks:
        for i, (n_i, a_i) in enumerate(zip(num, ana)):
            if n_i is None:
                continue
            for k, (n, a) in enumerate(zip(n_i, a_i)):
                bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
                if bad.any():
                    return _fail(_mismatch(i, k, n, a, bad, inputs[i]._data.shape, outs[k]._data.shape, what), raise_exception)
    return True


def _unit(rng, shape: tuple) -> np.ndarray:
    u = rng.standard_normal(shape).ravel()
    return u / (np.linalg.norm(u) or 1.0)


def _fast_check(func, inputs: tuple, eps: float, atol: float, rtol: float, backward: bool, forward: bool, raise_exception: bool) -> bool:
    """``fast_mode``: compare one number per (input, output) pair, ``vᵀ J u`` for random unit vectors ``u`` (input) and ``v``
    (output), instead of whole Jacobians: one directional finite difference and one vector-Jacobian product per input."""
    from .._tensor import _new_tensor
    from . import grad
    from .grad_mode import no_grad
    rng = np.random.default_rng(0)
    outs = _outputs(func, inputs)
    diff = [i for i, x in enumerate(inputs) if _differentiable(x)]
    us = {i: _unit(rng, inputs[i]._data.shape) for i in diff}
    vs = [_unit(rng, o._data.shape) for o in outs]
    numerical = {}
    with no_grad():
        for i in diff:
            data = inputs[i]._data
            orig = data.copy()
            step = (eps * us[i]).reshape(data.shape)
            data[...] = orig + step
            plus = [o._data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
            data[...] = orig - step
            minus = [o._data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
            data[...] = orig
            numerical[i] = [float(v @ ((p - m) / (2 * eps))) for v, p, m in zip(vs, plus, minus)]
    checks = []
    if backward:
        ana = {i: [0.0] * len(outs) for i in diff}
        for k, o in enumerate(outs):
            if o._rg:
                v = _new_tensor(vs[k].reshape(o._data.shape).astype(o._data.dtype), False, None, 0)
                gs = grad(o, [inputs[i] for i in diff], v, retain_graph=True, allow_unused=True)
                for i, g in zip(diff, gs):
                    if g is not None:
                        ana[i][k] = float(g._data.astype(np.float64).ravel() @ us[i])
        checks.append(("Jacobian", ana))
    if forward:
        from .forward_ad import forward_jvp
        ana = {}
        for i in diff:
            tans, _ = forward_jvp(func, inputs, i, us[i])
            ana[i] = [0.0 if t is None else float(v @ t) for v, t in zip(vs, tans)]
        checks.append(("Forward AD Jacobian", ana))
    for what, ana in checks:
        for i in diff:
            for k, (n, a) in enumerate(zip(numerical[i], ana[i])):
                if not abs(a - n) <= atol + rtol * abs(n):
                    return _fail(_fast_mismatch(func, inputs, eps, i, k, n, a, what), raise_exception)
    return True


def _fast_mismatch(func, inputs: tuple, eps: float, i: int, k: int, n: float, a: float, what: str) -> str:
    """The fast-mode report, followed by the full Jacobians of that pair (computed the slow way) to show where they differ."""
    num = get_numerical_jacobian(func, inputs, eps)[i][k]
    ana = get_analytical_jacobian(func, inputs)[i][k]
    return (f"{what} mismatch for output {k} with respect to input {i},\nnumerical:{n!r}\nanalytical:{a!r}\n\n"
            "These numbers are vᵀ·J·u for random unit vectors u and v (fast mode). The full Jacobians, computed element by element:\n\n"
            f"Numerical:\n{_fmt(num)}\nAnalytical:\n{_fmt(ana)}\n\n"
            f"The max per-element difference (slow mode) is: {float(np.max(np.abs(num - ana), initial=0.0))!r}.\n")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs)``.

    ``grad_outputs`` defaults to fixed random float64 tensors shaped like the outputs.

    >>> import numpy as np, flambeau as torch
    >>> x = torch.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> torch.autograd.gradgradcheck(lambda a: a @ a, (x,))
    True
    """
    from .._tensor import _new_tensor
    from . import grad
    from .grad_mode import enable_grad
    if check_fwd_over_rev:
        raise NotImplementedError("gradgradcheck(check_fwd_over_rev=True) is not supported by flambeau")
    inputs = _tensors(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if _differentiable(x)]
    outs = _outputs(func, inputs)
    diff_outs = [k for k, o in enumerate(outs) if o._rg]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_new_tensor(rng.standard_normal(outs[k]._data.shape).astype(outs[k]._data.dtype), True, None, 0)
                             for k in diff_outs)
        if gen_non_contig_grad_outputs:
            grad_outputs = tuple(_new_tensor(np.asfortranarray(g._data), True, None, 0) for g in grad_outputs)
    else:
        grad_outputs = _tensors(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        ins, gos = args[:n], args[n:]
        with enable_grad():
            out = _outputs(func, ins)
            got = grad([out[k] for k in diff_outs], [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in got if g is not None)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                     nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode, masked=masked)
