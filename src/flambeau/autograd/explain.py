"""The chain rule, shown: record each step of a backward pass with its values and formulas.

>>> import flambeau as torch
>>> x = torch.tensor([1., 2., 3.], requires_grad=True)
>>> y = x + 2
>>> z = (y * y * 3).mean()
>>> with torch.autograd.explain() as steps:
...     z.backward()
>>> [s.name for s in steps]
['MeanBackward0', 'MulBackward0', 'MulBackward0', 'AddBackward0', 'AccumulateGrad']
>>> print(steps)  # doctest: +SKIP
Backward, step by step (5 steps): ...

Each step holds the node the engine ran, the gradient arriving at it, what the forward saved for it,
the local derivative of each input as written in the op's own row (``defop(..., text=...)``), and
the gradient leaving toward each input. Recording happens only inside ``explain()``.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from .._messages import msg
from .._tensor import Tensor
from .function import AccumulateGrad
from .pitfalls import names_in

__all__ = ["explain", "Steps", "Step"]

#: Gradients that flowed along each node's input edges during the last recorded backward:
#: ``id(node) -> (weakref(node), (grad toward input 0, ...))``. Read by ``flambeau.viz.graph(show_grads=True)``.
EDGE_GRADS: dict = {}


# ---- reading a node ------------------------------------------------------------------------------------

def _array(v):
    return v._data if isinstance(v, Tensor) else v


def fmt(v, limit: int = 8) -> str:
    """A value in plain notation: ``3``, ``[6, 8, 10]``, ``[[1, 2], [3, 4]]``, or its shape and first values when large."""
    v = _array(v)
    if v is None:
        return "None"
    if not isinstance(v, np.ndarray):
        return _num(v) if isinstance(v, float | int | np.generic) and not isinstance(v, bool) else repr(v)
    if v.ndim == 0:
        return _num(v.item())
    if v.size <= limit:
        return _nested(v.tolist())
    first = ", ".join(_num(x) for x in v.reshape(-1)[:4].tolist())
    return f"shape {list(v.shape)} [{first}, …]"


def _num(x) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        if x == int(x) and abs(x) < 1e15:
            return str(int(x))
        return f"{x:.4g}"
    return str(x)


def _nested(x) -> str:
    return "[" + ", ".join(_nested(e) for e in x) + "]" if isinstance(x, list) else _num(x)


def _fwd_params(op) -> list:
    from ..ops import forward_params
    return forward_params(op.fwd)


def input_names(node) -> list:
    """The names of a node's inputs in its op's forward (``['a', 'b']``), or ``input 0 ...``."""
    op = getattr(node, "_op", None)
    n = len(node.next_functions)
    if op is not None:
        params = _fwd_params(op)[: op.n_in]
        if len(params) == n:
            return params
    return [msg("explain.input", i=i) for i in range(n)]


def saved_items(node, used_only: bool = True) -> list:
    """``[(name, value)]`` of what the forward saved for this node (``'freed'`` values once released).

    With ``used_only``, only what the formulas of the inputs that need a gradient read.
    """
    op = getattr(node, "_op", None)
    if op is None:
        return [(msg("explain.saved_n", i=i), t) for i, (t, _) in enumerate(getattr(node, "_saved", ()) or ()) if t is not None]
    params = _fwd_params(op)
    names = params[: op.n_in] + ["out"] + params[op.n_in:]
    wanted = set()
    for (f, plan), (nxt, _) in zip(op.rules, node.next_functions):
        if f is not None and (nxt is not None or not used_only):
            wanted.update(i for i in plan if i >= 0)
    values = list(node._saved) + [node._out[0] if node._out is not None else None] + list(node._attrs)
    items = []
    for i in sorted(wanted):
        if i < len(values) and i < len(names):
            v = values[i]
            if v is None and i <= op.n_in:
                v = "freed" if node._freed else None
            if v is not None:
                items.append((names[i], v))
    return items


def formulas(node) -> tuple:
    """The local derivative of each input as written in the op's row, or ``()``."""
    op = getattr(node, "_op", None)
    return op.formula_text if op is not None else ()


def _copy(g):
    g = _array(g)
    return None if g is None else np.array(g, copy=True)


# ---- recording ------------------------------------------------------------------------------------------

class Step:
    """One node run by the engine: ``node``, ``grads_in`` (arriving), ``saved``, ``formulas``, ``grads_out`` (leaving)."""

    __slots__ = ("index", "node", "name", "grads_in", "saved", "formulas", "grads_out", "targets", "target_nrs", "total")

    def __init__(self, index: int, node, grads_in: list, grads_out) -> None:
        self.index = index
        self.node = node
        self.name = node.name()
        self.grads_in = [_copy(g) for g in grads_in]
        self.grads_out = [_copy(g) for g in (grads_out or ())]
        self.saved = [(k, v if isinstance(v, str) else _copy(v) if isinstance(v, Tensor | np.ndarray) else v) for k, v in saved_items(node)]
        self.formulas = formulas(node)
        self.targets = [n for n, _ in node.next_functions]
        self.target_nrs = [nr for _, nr in node.next_functions]
        leaf = node.variable if type(node) is AccumulateGrad else None
        self.total = _copy(leaf._grad) if leaf is not None else None

    def lines(self, names: dict) -> list:
        """The step as text lines, naming tensors with ``names`` (``id(tensor) -> name``)."""
        node = self.node
        what = _label(node, names)
        out = [msg("explain.step", i=self.index, node=self.name, what=f"  ({what})" if what else "")]
        if type(node) is AccumulateGrad:
            out.append("    " + msg("explain.accumulate", leaf=what or msg("viz.leaf"), g=fmt(self.grads_in[0]), total=fmt(self.total)))
            return out
        out.append("    " + msg("explain.arriving", g=", ".join(fmt(g) for g in self.grads_in)))
        if self.saved:
            out.append("    " + msg("explain.saved", saved=", ".join(f"{k} = {v if isinstance(v, str) else fmt(v)}" for k, v in self.saved)))
        inames = input_names(node)
        for i, (g, target) in enumerate(zip(self.grads_out, self.targets)):
            if g is None or target is None:
                continue
            out.append("    " + msg("explain.local", formula=self.formulas[i] if i < len(self.formulas) else _no_formula(node)))
            to = _target_name(target, names)
            line = "    " + msg("explain.leaving", target=f"{inames[i]} = {to}" if len(self.grads_out) > 1 else to, g=fmt(g))
            shape = target._meta[2 * self.target_nrs[i]] if target._meta else None
            if shape is not None and tuple(shape) != g.shape:
                line += "  " + msg("explain.unbroadcast", shape=list(shape))
            out.append(line)
        return out


def _target_name(node, names: dict) -> str:
    """``x`` for a leaf's AccumulateGrad, ``AddBackward0 (y)`` for a node whose tensor has a name, else the node's name."""
    label = _label(node, names)
    if type(node) is AccumulateGrad:
        return label or node.name()
    return f"{node.name()} ({label})" if label else node.name()


def _no_formula(node) -> str:
    fn = getattr(node, "_fn", None)  # a custom Function's node
    return msg("explain.custom", fn=fn.__name__) if fn is not None else msg("explain.no_formula")


def _label(node, names: dict) -> str:
    """The user's name for what a node stands for: the leaf of an AccumulateGrad, or the tensor a node computed."""
    if type(node) is AccumulateGrad:
        return names.get(id(node.variable), "") if node.variable is not None else ""
    return names.get(("node", id(node)), "")


class Steps(list):
    """The steps of a recorded backward, in the engine's order; ``print(steps)`` explains them."""

    names: dict

    def __str__(self) -> str:
        lines = [msg("explain.title", n=len(self))]
        for s in self:
            lines.append("")
            lines.extend(s.lines(self.names))
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


class explain:
    """Record the next backward passes step by step; ``print()`` the result to see the chain rule at work.

    ``names`` (a dict name→tensor, or ``model.named_parameters()``) names the tensors; by default the
    variables of the code around the ``with`` block are used.

    >>> import flambeau as torch
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> with torch.autograd.explain() as steps:
    ...     (x * x).sum().backward()
    >>> steps[-1].total.tolist()
    [2.0, 4.0]
    """

    def __init__(self, names=None) -> None:
        self.steps = Steps()
        self.steps.names = {}
        self._names = names

    def __enter__(self) -> Steps:
        from .engine import RECORDERS
        EDGE_GRADS.clear()
        RECORDERS.append(self)
        return self.steps

    def __exit__(self, *exc) -> None:
        from .engine import RECORDERS
        RECORDERS.remove(self)
        self.steps.names = name_map(sys._getframe(1), self._names)

    # the engine's recorder interface
    def begin(self, roots: list, buffers: dict) -> None:
        pass

    def step(self, node, grads_in: list, grads_out) -> None:
        s = Step(len(self.steps) + 1, node, grads_in, grads_out)
        self.steps.append(s)
        EDGE_GRADS[id(node)] = (weakref.ref(node), tuple(s.grads_out))

    def end(self) -> None:
        pass


def name_map(frame, names=None) -> dict:
    """``{id(tensor): name, ('node', id(grad_fn)): name}`` from the variables of ``frame``, then ``names``."""
    found = names_in(frame)
    scope = {**frame.f_globals, **frame.f_locals} if frame is not None else {}
    tensors = [v for v in scope.values() if isinstance(v, Tensor)]
    if names is not None:
        pairs = list(names.items()) if isinstance(names, dict) else list(names)
        found.update((id(t), k) for k, t in pairs)
        tensors += [t for _, t in pairs]
    for t in tensors:
        if t._grad_fn is not None and id(t) in found:
            found[("node", id(t._grad_fn))] = found[id(t)]
    return found


def recorded_grads(node) -> tuple | None:
    """The gradients that left ``node`` toward its inputs in the last recorded backward, if any."""
    entry = EDGE_GRADS.get(id(node))
    if entry is None or entry[0]() is not node:
        return None
    return entry[1]
