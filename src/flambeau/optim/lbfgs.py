"""L-BFGS with an optional strong-Wolfe line search, on the parameters flattened into one NumPy vector."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, check_common

__all__ = ["LBFGS"]


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds`` (default: [x1, x2] sorted)."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1**2 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate: Callable, t, d: np.ndarray, f, g: np.ndarray, gtd, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions: bracket it, then zoom by cubic interpolation.

    ``evaluate(t)`` returns (loss, flat gradient) at x + t·d. Returns (loss, gradient, t, evaluations).
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals, ls_iter = 1, 0
    gtd_new = g_new.dot(d)
    prev = (0, f, g, gtd)  # (t, f, g, gtd) of the previous trial
    done = False
    bracket = None
    while ls_iter < max_ls:
        sufficient_decrease_fails = f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1])
        if not sufficient_decrease_fails and abs(gtd_new) <= -c2 * gtd:
            bracket, done = [(t, f_new, g_new, gtd_new)], True
            break
        if sufficient_decrease_fails or gtd_new >= 0:
            bracket = [prev, (t, f_new, g_new.copy(), gtd_new)]
            break
        t_next = _cubic_min(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = (t, f_new, g_new.copy(), gtd_new)
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [(0, f, g, None), (t, f_new, g_new, None)]
    # zoom: shrink the bracket [low, high] (low has the smaller loss) until the conditions hold
    insufficient = False
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not done and ls_iter < max_ls:
        (ta, fa, _, ga), (tb, fb, _, gb) = bracket
        if abs(tb - ta) * d_norm < tolerance_change:
            break
        t = _cubic_min(ta, fa, ga, tb, fb, gb)
        top, bottom = max(ta, tb), min(ta, tb)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        trial = (t, f_new, g_new.copy(), gtd_new)
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = trial
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = trial
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """Limited-memory BFGS (PyTorch's variant): ``step(closure)`` runs up to ``max_iter`` iterations.

    The closure must zero the gradients, compute the loss, call ``backward`` and return the loss.

    >>> import flambeau as torch
    >>> x = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    >>> opt = torch.optim.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad(); loss = ((x - 1) ** 2).sum(); loss.backward(); return loss
    >>> _ = opt.step(closure); [round(v, 4) for v in x.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100, line_search_fn: str | None = None) -> None:
        check_common(lr=lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                                  "tolerance_change": tolerance_change, "history_size": history_size, "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p.numel(), p._data.dtype) if p._grad is None else p._grad._data.reshape(-1) for p in self._params])

    def _add(self, t, d: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p._data += (d[offset:offset + n] * t).reshape(p.shape).astype(p._data.dtype, copy=False)
            p._version[0] += 1
            offset += n

    def _evaluate(self, closure: Callable) -> float:
        with enable_grad():
            return float(closure())

    def step(self, closure: Callable):
        """Run the L-BFGS iterations; returns the loss at the start."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change, history = group["tolerance_grad"], group["tolerance_change"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d, old_dirs, old_stps, ro, H_diag = -flat_grad, [], [], [], 1
                else:
                    y, s = flat_grad - prev_flat_grad, d * t
                    ys = y.dot(s)
                    if ys > 1e-10:
                        if len(old_dirs) == history:
                            old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                        old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)
                    # two-loop recursion: d = -H·g
                    al = [None] * len(old_dirs)
                    q = -flat_grad
                    for i in range(len(old_dirs) - 1, -1, -1):
                        al[i] = old_stps[i].dot(q) * ro[i]
                        q = q - al[i] * old_dirs[i]
                    d = q * H_diag
                    for i in range(len(old_dirs)):
                        be = old_dirs[i].dot(d) * ro[i]
                        d = d + (al[i] - be) * old_stps[i]
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
                gtd = flat_grad.dot(d)
                if gtd > -tol_change:
                    break
                ls_evals = 0
                if group["line_search_fn"] is not None:
                    if group["line_search_fn"] != "strong_wolfe":
                        raise RuntimeError("only 'strong_wolfe' is supported")
                    x0 = [p._data.copy() for p in self._params]

                    def evaluate(step, x0=x0, d=d):
                        self._add(step, d)
                        value = self._evaluate(closure)
                        g = self._flat_grad()
                        for p, x in zip(self._params, x0):
                            p._data[...] = x
                        return value, g
                    loss, flat_grad, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd)
                    self._add(t, d)
                    converged = np.abs(flat_grad).max() <= tol_grad
                else:
                    self._add(t, d)
                    converged = False
                    if n_iter != max_iter:
                        loss = self._evaluate(closure)
                        flat_grad = self._flat_grad()
                        converged = np.abs(flat_grad).max() <= tol_grad
                        ls_evals = 1
                evals += ls_evals
                state["func_evals"] += ls_evals
                if (n_iter == max_iter or evals >= max_eval or converged or np.abs(d * t).max() <= tol_change
                        or abs(loss - prev_loss) < tol_change):
                    break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag, prev_flat_grad=prev_flat_grad,
                     prev_loss=prev_loss)
        return orig_loss
