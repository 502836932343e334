"""Gradient checking: analytical gradients (backward) against central finite differences.

>>> import flambeau as torch
>>> x = torch.randn(3, dtype=torch.float64, requires_grad=True)
>>> torch.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "GradcheckError", "numerical_jacobian", "analytical_jacobian"]


class GradcheckError(RuntimeError):
    """The analytical and numerical gradients disagree (the message says where)."""


def _tensors(inputs) -> tuple:
    from .._tensor import Tensor
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(func, inputs: tuple) -> tuple:
    from .._tensor import Tensor
    out = func(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def numerical_jacobian(func, inputs: tuple, eps: float) -> list:
    """``J[i][k]``: d(output k)/d(input i) by central differences, shape ``(input numel, output numel)``."""
    from .grad_mode import no_grad
    jac = []
    with no_grad():
        for x in inputs:
            if not getattr(x, "_rg", False):
                jac.append(None)
                continue
            flat = x._data.reshape(-1)  # a view: perturb in place
            cols = []
            for j in range(flat.size):
                orig = flat[j].item()
                flat[j] = orig + eps
                plus = [o._data.astype(np.float64).ravel().copy() for o in _outputs(func, inputs)]
                flat[j] = orig - eps
                minus = [o._data.astype(np.float64).ravel().copy() for o in _outputs(func, inputs)]
                flat[j] = orig
                cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
            jac.append([np.stack([c[k] for c in cols]) if cols else np.zeros((0, 0)) for k in range(len(cols[0]) if cols else 0)])
    return jac


def analytical_jacobian(func, inputs: tuple) -> list:
    """``J[i][k]`` from backward: one vector-Jacobian product per output element."""
    from . import grad
    outs = _outputs(func, inputs)
    diff = [x for x in inputs if getattr(x, "_rg", False)]
    jac = [[np.zeros((x._data.size, o._data.size)) for o in outs] if getattr(x, "_rg", False) else None for x in inputs]
    for k, o in enumerate(outs):
        if not o._rg:
            continue
        for e in range(o._data.size):
            from .._tensor import _new_tensor
            v = np.zeros(o._data.size, o._data.dtype)
            v[e] = 1
            gs = grad(o, diff, _new_tensor(v.reshape(o._data.shape), False, None, 0), retain_graph=True, allow_unused=True)
            it = iter(gs)
            for i in range(len(inputs)):
                if jac[i] is not None:
                    g = next(it)
                    if g is not None:
                        jac[i][k][:, e] = g._data.astype(np.float64).ravel()
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True, fast_mode: bool = False, **kwargs) -> bool:
    """Check ``func``'s gradients at ``inputs`` (float64 tensors that require grad) against finite differences.

    On a mismatch it raises :class:`GradcheckError` naming the input, the output, the element, and
    both Jacobians (or returns False with ``raise_exception=False``).
    """
    if fast_mode:
        raise NotImplementedError("gradcheck(fast_mode=True) is not supported by flambeau; use the default full check")
    inputs = _tensors(inputs)
    for i, x in enumerate(inputs):
        if getattr(x, "_rg", False) and x._data.dtype != np.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check will likely fail "
                          "if all the inputs are not of double precision floating point.", UserWarning, stacklevel=2)
    num = numerical_jacobian(func, inputs, eps)
    ana = analytical_jacobian(func, inputs)
    for i, (n_i, a_i) in enumerate(zip(num, ana)):
        if n_i is None:
            continue
        for k, (n, a) in enumerate(zip(n_i, a_i)):
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                r, c = map(int, np.argwhere(bad)[0])
                msg = (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                       f"first mismatch at input element {r}, output element {c}: analytical {a[r, c]!r} vs numerical {n[r, c]!r}\n"
                       f"numerical:{n}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True
